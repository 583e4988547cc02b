"""Data that ships inside pip packages: scikit-learn's 8x8 digits."""

import numpy as np
import tensorflow as tf

from tfgan_models.data.images import image_size_pair

DIGITS_TRAIN_SIZE = 1400  # the rest (397) is the held-out split
DIGITS_SPLIT_SEED = 0


def digits_arrays(split=None, image_size=32):
    """Embedded digits as ``(images, labels)`` NumPy arrays.

    Images are float32 ``(N, H, W, 1)`` in [-1, 1], bilinearly resized from 8x8;
    labels are int32 in 0..9. ``split``: ``None``/``"all"`` (1,797),
    ``"train"`` (1,400) or ``"test"`` (397), from a fixed permutation.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = bunch.images.astype("float32")[..., None] / 16.0 * 2.0 - 1.0  # (N, 8, 8, 1)
    labels = bunch.target.astype("int32")
    if split not in (None, "all", "train", "test"):
        raise ValueError(f"digits has splits 'train', 'test' and 'all'; received {split!r}.")
    if split in ("train", "test"):
        order = np.random.RandomState(DIGITS_SPLIT_SEED).permutation(len(labels))
        keep = order[:DIGITS_TRAIN_SIZE] if split == "train" else order[DIGITS_TRAIN_SIZE:]
        images, labels = images[keep], labels[keep]
    size = image_size_pair(image_size) or (32, 32)
    if size != (8, 8):
        images = tf.image.resize(images, size, method="bilinear").numpy()
    return np.clip(images, -1.0, 1.0), labels
