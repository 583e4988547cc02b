"""Binarized MNIST and binarized digits: the likelihood data of PixelRNN."""

import numpy as np
import pytest

from tfgan_models import data
from tfgan_models.data.binarized import binarized_digits_arrays, binarized_mnist_arrays


def test_binarized_mnist_splits_are_fixed_binary_and_follow_the_intensities():
    sizes = {split: len(binarized_mnist_arrays(split)[0]) for split in ("train", "valid", "test")}
    assert sizes == {"train": 50_000, "valid": 10_000, "test": 10_000}
    bits, labels = binarized_mnist_arrays("test")
    again, _ = binarized_mnist_arrays("test")
    np.testing.assert_array_equal(bits, again)
    assert set(np.unique(bits)) == {0, 255}
    grey, grey_labels = data.mnist_arrays("test")
    np.testing.assert_array_equal(labels, grey_labels)
    assert not bits[grey == 0].any() and bits[grey == 255].all()  # Bernoulli(intensity / 255): 0 and 1 are sure
    assert abs(bits.mean() / 255 - grey.mean() / 255) < 0.005     # and on average as bright as the digits
    train, _ = binarized_mnist_arrays("train")
    valid, _ = binarized_mnist_arrays("valid")
    whole, _ = data.mnist_arrays("train")
    assert not (np.concatenate([train, valid])[whole == 0]).any()  # train + valid = MNIST's train split, in order
    np.testing.assert_array_equal(binarized_mnist_arrays("valid")[1], data.mnist_arrays("train")[1][-10_000:])


def test_binarized_digits_threshold_the_raw_digits_at_8():
    sizes = {split: len(binarized_digits_arrays(split)[0]) for split in ("train", "valid", "test")}
    assert sizes == {"train": 1260, "valid": 140, "test": 397}
    raw, _ = data.digits_arrays("test", image_size=8)
    bits, _ = binarized_digits_arrays("test")
    np.testing.assert_array_equal(bits > 0, raw[..., 0] >= 0.0)  # v / 16 * 2 - 1 >= 0  <=>  v >= 8


def test_load_gives_exactly_minus_one_and_one():
    batch = next(iter(data.load("binarized_digits:valid", batch_size=140, shuffle=False))).numpy()
    assert batch.shape == (140, 8, 8, 1) and set(np.unique(batch)) == {-1.0, 1.0}
    from tfgan_models.data.info import spec_info

    assert spec_info("binarized_mnist") == {"channels": 1, "num_classes": 10, "labelled": True}


@pytest.mark.parametrize("spec", ["binarized_mnist:all", "binarized_digits:nope"])
def test_unknown_split_is_a_clear_error(spec):
    with pytest.raises(ValueError, match="spec"):
        data.parse_spec(spec)
