import warnings

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from PIL import Image

from tfgan_models import data


def first(ds):
    return next(iter(ds))


def test_digits_default_pipeline():
    images, labels = first(data.load("digits", batch_size=32, with_labels=True))
    assert images.shape == (32, 32, 32, 1) and images.dtype == tf.float32
    assert -1.0 <= float(tf.reduce_min(images)) and float(tf.reduce_max(images)) <= 1.0
    assert labels.dtype == tf.int32 and set(labels.numpy()) <= set(range(10))
    assert int(data.load("digits", batch_size=64).cardinality()) == 1797 // 64


def test_digits_splits_are_disjoint_and_fixed():
    train, _ = data.digits_arrays("train", image_size=8)
    test, _ = data.digits_arrays("test", image_size=8)
    assert len(train) == 1400 and len(test) == 397
    again, _ = data.digits_arrays("test", image_size=8)
    np.testing.assert_array_equal(test, again)
    with pytest.raises(ValueError, match="splits"):
        data.digits_arrays("validation")


def test_digits_resize_and_channels():
    images = first(data.load("digits", batch_size=4, image_size=16, channels=3))
    assert images.shape == (4, 16, 16, 3)


def test_mixtures_follow_pacgan():
    means, sigma = data.mixture("ring8")
    assert len(np.unique(np.round(means, 6), axis=0)) == 8  # no duplicated endpoint
    np.testing.assert_allclose(np.linalg.norm(means, axis=1), 1.0, rtol=1e-6)
    assert sigma == 0.01
    means, sigma = data.mixture("grid25")
    assert sorted(set(means[:, 0])) == [-4, -2, 0, 2, 4] and sigma == 0.05
    points, comp = data.sample_mixture("grid25", n=20000, seed=0)
    assert (points - means[comp]).std() == pytest.approx(0.05, rel=0.05)
    batch = first(data.load("ring8", batch_size=100))
    assert batch.shape == (100, 2)


def test_tfds_pipeline_offline():
    with tfds.testing.mock_data(num_examples=20):
        images, labels = first(data.load("tfds:mnist", batch_size=4, image_size=32, with_labels=True))
        assert images.shape == (4, 32, 32, 1) and labels.shape == (4,)
        images = first(data.load("tfds:mnist:test", batch_size=4))
        assert images.shape == (4, 28, 28, 1)
        images = first(data.load("tfds:cycle_gan/horse2zebra:trainA", batch_size=2, image_size=16))
        assert images.shape == (2, 16, 16, 3)
        with pytest.raises(ValueError, match="vary in size"):
            data.load("tfds:cycle_gan/horse2zebra:trainA", batch_size=2)


def _write_png(path, size=(20, 30), value=128):
    Image.fromarray(np.full(size + (3,), value, "uint8")).save(path)


def test_folder_pipeline_skips_bad_files(tmp_path):
    (tmp_path / "cats").mkdir()
    (tmp_path / "dogs").mkdir()
    for i in range(3):
        _write_png(tmp_path / "cats" / f"{i}.png")
        _write_png(tmp_path / "dogs" / f"{i}.jpg", value=10)
    (tmp_path / "dogs" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (tmp_path / "notes.txt").write_text("hello")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = data.load(f"folder:{tmp_path}", batch_size=6, image_size=16, with_labels=True)
    messages = " ".join(str(w.message) for w in caught)
    assert "broken.png" in messages and "notes.txt" in messages
    images, labels = first(ds)
    assert images.shape == (6, 16, 16, 3)
    assert sorted(labels.numpy().tolist()) == [0, 0, 0, 1, 1, 1]


def test_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data.load(f"folder:{tmp_path / 'missing'}")
    with pytest.raises(ValueError, match="no readable"):
        data.load(f"folder:{tmp_path}")


@pytest.mark.parametrize("spec", ["", "emnist", "tfds:", "folder:", "ring8:x", 3])
def test_unknown_specs(spec):
    with pytest.raises(ValueError, match="spec"):
        data.load(spec)


def test_bad_batch_size():
    with pytest.raises(ValueError, match="batch_size"):
        data.load("digits", batch_size=0)


def test_uint8_conversion_roundtrip():
    x = np.array([-1.0, 0.0, 1.0, 2.0], "float32")
    np.testing.assert_array_equal(data.to_uint8(x), [0, 128, 255, 255])
    np.testing.assert_allclose(data.to_model_range(np.array([0, 255], "uint8")).numpy(), [-1, 1])
