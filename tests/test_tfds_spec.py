"""The ``tfds:`` spec on a fresh install: TFDS imports ``importlib_resources`` without declaring it.

``setup.py`` declares it; without it ``tfds.load`` fails with
``No module named 'importlib_resources'``. Data are mocked (``tfds.testing.mock_data``).
"""

import pathlib
import sys

import tensorflow as tf
import tensorflow_datasets as tfds

from tfgan_models import data


def test_importlib_resources_is_installed_and_declared():
    import importlib_resources  # what tensorflow_datasets.core.dataset_builder imports lazily

    assert hasattr(importlib_resources, "files")
    setup_py = pathlib.Path(__file__).resolve().parents[1] / "setup.py"
    assert '"importlib_resources>=6"' in setup_py.read_text()


def test_tfds_mnist_spec_under_mock_data():
    with tfds.testing.mock_data(num_examples=12):
        ds = data.load("tfds:mnist:test", batch_size=12, shuffle=False, drop_remainder=False, with_labels=True)
        batches = list(ds)
        # mock_data skips download_and_prepare, the step that fails on a fresh install: it reads the
        # builder's code_path, whose lazy `import importlib_resources` is exercised here explicitly.
        code_path = tfds.builder_cls("mnist").code_path
    assert code_path is not None and str(code_path).endswith("mnist.py")
    assert sys.modules.get("importlib_resources") is not None
    assert len(batches) == 1
    images, labels = batches[0]
    assert images.shape == (12, 28, 28, 1) and images.dtype == tf.float32
    assert -1.0 <= float(tf.reduce_min(images)) and float(tf.reduce_max(images)) <= 1.0
    assert labels.shape == (12,) and labels.dtype == tf.int32
    assert set(labels.numpy().tolist()) <= set(range(10))
