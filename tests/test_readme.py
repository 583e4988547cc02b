"""Executes every ```python block of README.md.

Rules (what a README block must satisfy):

- **Each block runs on its own, in a fresh namespace**, in README order: it
  must work when pasted into a new Python session, so it does its own imports
  and builds its own inputs (from embedded data: ``tfgan_models.data``,
  scikit-learn, scikit-image). No block relies on names defined by another.
- Only ```python fences run; ```bash / ```text are not Python.
- The working directory is a temporary folder, so files a block writes
  (``model.save("x.keras")``) land there.
- Training is capped for speed: ``keras.Model.fit`` is wrapped to run one
  epoch of at most two steps (validation: at most two steps), whatever the
  block asks. Everything else runs as written.
- Nothing may be downloaded: outbound network connections raise, so a block
  that would fetch a data set or weights fails loudly instead of hanging.
- A block needing an optional resource that cannot be embedded starts with a
  marker line ``# needs: RESOURCE``, where RESOURCE is a key of ``RESOURCES``
  below. The block runs when the resource is present and is reported as a
  *skip naming the resource* when it is not. An unknown RESOURCE fails the
  test: a failure is never silenced by a marker that nothing checks.

Test ids are ``block<N>-<first line>``; a failure names its README.md line.
"""

import ast
import linecache
import os
import re
import socket
import traceback

import keras
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")

MAX_EPOCHS = 1
MAX_STEPS = 2

FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[ \t]*$")
NEEDS = re.compile(r"^#\s*needs:\s*(?P<names>.+?)\s*$")


def _keras_home():
    return os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))


def _vgg19_weights():
    path = os.path.join(_keras_home(), "models", "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5")
    return os.path.exists(path), f"ImageNet VGG19 weights not in Keras's cache ({path})"


def _tfds_prepared(name):
    def check():
        import tensorflow_datasets as tfds

        builder = tfds.builder(name)  # reads local metadata only
        return builder.is_prepared(), f"TFDS set {name!r} is not prepared in {builder.data_dir} (needs a download)"

    return check


# RESOURCE name -> check() returning (available, reason shown when skipped).
RESOURCES = {
    "vgg19-weights": _vgg19_weights,
    "tfds:celeb_a": _tfds_prepared("celeb_a"),
}


def python_blocks(path=README):
    """``(index, first_line_number, source)`` of each ```python block; ``source`` is
    dedented to the fence's indentation. Line numbers are 1-based README lines."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    blocks, i = [], 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening or not opening.group("lang"):
            i += 1
            continue
        indent, lang, start = opening.group("indent"), opening.group("lang"), i + 1
        i += 1
        while i < len(lines) and not (FENCE.match(lines[i]) and not FENCE.match(lines[i]).group("lang")):
            i += 1
        if i == len(lines):
            raise ValueError(f"README.md:{start}: ```{lang} block is never closed")
        if lang == "python":
            body = [line[len(indent):] if line.startswith(indent) else line.lstrip() for line in lines[start:i]]
            blocks.append((len(blocks), start + 1, "\n".join(body) + "\n"))
        i += 1
    return blocks


def _block_id(block):
    index, _, source = block
    first = next((line.strip() for line in source.splitlines() if line.strip()), "(empty)")
    first = re.sub(r"\s+", " ", first)
    return f"block{index}-{first[:50]}"


BLOCKS = python_blocks()


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 3, "README.md lost its Python examples"


def _needs(source):
    first = source.lstrip("\n").splitlines()[0] if source.strip() else ""
    match = NEEDS.match(first.strip())
    return [name.strip() for name in match.group("names").split(",")] if match else []


def _capped_fit(original, calls):
    def fit(self, *args, **kwargs):
        calls.append(type(self).__name__)
        if len(args) > 3:  # fit(x, y, batch_size, epochs, ...): make epochs a keyword
            kwargs["epochs"] = args[3]
            args = args[:3] + args[4:]
        kwargs["epochs"] = min(kwargs.get("epochs", 1), kwargs.get("initial_epoch", 0) + MAX_EPOCHS)
        kwargs["steps_per_epoch"] = min(kwargs.get("steps_per_epoch") or MAX_STEPS, MAX_STEPS)
        if kwargs.get("validation_data") is not None:
            kwargs["validation_steps"] = min(kwargs.get("validation_steps") or MAX_STEPS, MAX_STEPS)
        return original(self, *args, **kwargs)

    return fit


def _no_network(monkeypatch):
    connect = socket.socket.connect

    def guarded(sock, address, *args, **kwargs):
        host = address[0] if isinstance(address, tuple) else address
        if sock.family in (socket.AF_INET, socket.AF_INET6) and host not in ("127.0.0.1", "::1", "localhost"):
            raise RuntimeError(f"README snippet tried to reach the network ({address!r}); nothing may be downloaded")
        return connect(sock, address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.mark.parametrize("block", BLOCKS, ids=[_block_id(b) for b in BLOCKS])
def test_readme_block(block, tmp_path, monkeypatch):
    index, line, source = block
    _no_network(monkeypatch)
    for name in _needs(source):
        if name not in RESOURCES:
            pytest.fail(f"README.md:{line}: block {index} marks an unknown resource {name!r}; "
                        f"known: {', '.join(sorted(RESOURCES))}")
        available, reason = RESOURCES[name]()
        if not available:
            pytest.skip(f"README.md:{line} (block {index}) needs {name}: {reason}")

    monkeypatch.chdir(tmp_path)
    fit_calls = []
    monkeypatch.setattr(keras.Model, "fit", _capped_fit(keras.Model.fit, fit_calls))
    keras.backend.clear_session()
    filename = f"README.md block {index} (line {line})"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # tracebacks show it
    namespace = {"__name__": f"readme_block{index}"}
    try:
        exec(compile(source, filename, "exec"), namespace)
    except Exception as error:
        frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
        if frames:
            error.add_note(f"at README.md:{line + frames[-1].lineno - 1}")
        raise
    # The block ran to its end: every name it assigns at top level exists, and it trained what it says.
    assigned = {t.id for node in ast.parse(source).body if isinstance(node, ast.Assign)
                for target in node.targets for t in ast.walk(target) if isinstance(t, ast.Name)}
    missing = sorted(assigned - set(namespace))
    assert not missing, f"README.md:{line}: block {index} never assigned {missing}"
    assert len(fit_calls) >= source.count(".fit("), f"README.md:{line}: block {index} trained {fit_calls}"


def test_block_parser(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("x\n```python\na = 1\n```\n\n1. item\n\n   ```python\n   b = 2\n   ```\n"
                      "```bash\nls\n```\n```\nplain\n```\n")
    assert python_blocks(str(readme)) == [(0, 3, "a = 1\n"), (1, 9, "b = 2\n")]
    assert _needs("# needs: vgg19-weights\nx = 1\n") == ["vgg19-weights"]
    assert _needs("x = 1  # needs: nothing\n") == []
