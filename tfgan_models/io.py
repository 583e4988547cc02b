"""Atomic file writes: a reader never sees a half-written file."""

import json
import os
import tempfile
from contextlib import contextmanager


TEMPORARY_PREFIX = ".tmp-"  # files being written; a killed writer leaves one behind, never the file itself


@contextmanager
def atomic_path(path):
    """Yields a temporary path beside ``path``; on success it replaces ``path`` in one step.

    On error the temporary file is removed and ``path`` is left as it was.
    The suffix is kept so writers that infer the format from it (``.keras``,
    ``.png``) still work.
    """
    directory = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(directory, exist_ok=True)
    base = os.path.basename(path)
    fd, tmp = tempfile.mkstemp(prefix=f"{TEMPORARY_PREFIX}{base}.", suffix=os.path.splitext(base)[1] or ".tmp",
                               dir=directory)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _read_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once at import: os.umask is process-wide and not thread-safe


def _umask():
    return _UMASK


def write_bytes(path, data):
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)


def write_json(path, obj):
    write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n").encode())


def read_json(path):
    with open(path) as f:
        return json.load(f)


def _jsonable(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def remove_temporaries(directory):
    """Deletes the temporary files of writers that were killed (``.tmp-*`` under ``directory``)."""
    if not os.path.isdir(directory):
        return
    for root, _, files in os.walk(directory):
        for name in files:
            if name.startswith(TEMPORARY_PREFIX):
                os.remove(os.path.join(root, name))
