"""Images from a folder tree (jpg, jpeg, png, bmp, gif), with integrity checks."""

import os
import warnings

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


def scan_folder(path):
    """Readable images under ``path``, recursively, with labels from the top-level subfolder.

    Returns ``(files, labels, class_names)``. Every candidate is fully decoded
    once with Pillow: a corrupt or non-image file is skipped with a warning
    naming it, so training never stops on a bad file halfway through an epoch.
    Raises ``FileNotFoundError`` for a missing folder and ``ValueError`` when no
    readable image is found.
    """

    if not os.path.exists(path):
        raise FileNotFoundError(f"image folder {path!r} does not exist.")
    if not os.path.isdir(path):
        raise ValueError(f"{path!r} is not a folder.")
    candidates = []
    for root, dirs, names in os.walk(path):
        dirs.sort()
        for name in sorted(names):
            if name.startswith("."):
                continue
            full = os.path.join(root, name)
            if name.lower().endswith(IMAGE_EXTENSIONS):
                candidates.append(full)
            else:
                warnings.warn(f"skipping {full}: not a jpg/png/bmp/gif image file", stacklevel=2)
    files = []
    for full in candidates:
        error = _decode_error(full)
        if error is not None:
            warnings.warn(f"skipping {full}: cannot be decoded as an image ({error})", stacklevel=2)
            continue
        files.append(full)
    if not files:
        raise ValueError(f"image folder {path!r} holds no readable jpg/png/bmp/gif image.")
    tops = [os.path.relpath(f, path).split(os.sep)[0] for f in files]
    class_names = sorted({t for t, f in zip(tops, files) if t != os.path.basename(f)})
    index = {name: i for i, name in enumerate(class_names)}
    labels = [index.get(t, -1) for t in tops]
    return files, labels, class_names


_VERDICTS = {}  # (path, size, mtime) -> decode error or None: a run scans its folder twice (info, pipeline)


def _decode_error(path):
    """``None`` when Pillow fully decodes ``path``, else the error; remembered while the file is unchanged."""
    from PIL import Image

    stat = os.stat(path)
    key = (path, stat.st_size, stat.st_mtime_ns)
    if key not in _VERDICTS:
        try:
            with Image.open(path) as image:
                image.load()
            _VERDICTS[key] = None
        except Exception as err:  # Pillow raises many types for bad files
            _VERDICTS[key] = err
    return _VERDICTS[key]
