"""`load(spec)`: one entry point from a data spec string to a training pipeline."""

import numpy as np
import tensorflow as tf

from tfgan_models.data.embedded import digits_arrays
from tfgan_models.data.folder import scan_folder
from tfgan_models.data.images import center_crop_resize, image_size_pair, set_channels, to_model_range
from tfgan_models.data.mixtures import sample_mixture
from tfgan_models.data.tfds_source import load_tfds, parse_tfds_spec

SPEC_HELP = (
    "digits[:train|test], photos[:train|test|all], ring8, grid25, tfds:NAME[/CONFIG][:SPLIT], folder:PATH"
)
SHUFFLE_BUFFER = 10_000


def parse_spec(spec):
    """``spec`` -> ``(kind, argument)``; ``ValueError`` listing the known kinds otherwise."""
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"a data spec must be a non-empty string ({SPEC_HELP}); received {spec!r}.")
    kind, _, arg = spec.partition(":")
    if kind in ("digits", "ring8", "grid25") and (kind == "digits" or not arg):
        return kind, arg or None
    if kind in ("tfds", "folder") and arg:
        return kind, arg
    if kind == "photos" and arg in ("", "train", "test", "all"):
        return kind, arg or None
    raise ValueError(f"unknown data spec {spec!r}; known specs: {SPEC_HELP}.")


def load(spec, batch_size=64, image_size=None, channels=None, with_labels=False, shuffle=True,
         repeat=False, seed=None, drop_remainder=True):
    """A shuffled, batched, prefetched ``tf.data.Dataset`` for a data spec.

    Specs:
        ``digits[:train|test]``  scikit-learn's 8x8 digits, resized (default 32x32),
                                 1 channel; split 1400/397 (default: all 1,797).
        ``photos[:train|test|all]``  the 9 embedded colour photographs (default
                                 all; splits of :mod:`tfgan_models.data.paired`),
                                 centre-cropped and resized (default 128x128).
                                 Super-resolution variants pair them themselves.
        ``ring8``, ``grid25``    PacGAN's 2-D Gaussian mixtures (100k points).
        ``tfds:NAME[/CONFIG][:SPLIT]``  any TFDS image set (default split train).
        ``folder:PATH``          a recursive jpg/png folder; labels from subfolders.

    Args:
        batch_size: examples per batch (``model.data_batch_size(B)`` for
            models with several discriminator steps).
        image_size: int or (H, W); images are centre-cropped and resized.
            Default: 32 for digits, the native size for TFDS, 64 for folders.
        channels: 1 or 3 to convert grey <-> RGB; default: the source's.
        with_labels: yield ``(images, labels)`` (int32; -1 when unlabelled).
        repeat: repeat forever (then pass ``steps_per_epoch`` to ``fit``).
    Returns:
        Batches of float32 images ``(B, H, W, C)`` in [-1, 1] (points: ``(B, 2)``).
    """
    kind, arg = parse_spec(spec)
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1, received {batch_size!r}.")
    size = image_size_pair(image_size)
    if kind == "digits":
        images, labels = digits_arrays(arg, image_size=size or 32)
        if channels is not None:
            images = set_channels(tf.constant(images), channels).numpy()
        ds = tf.data.Dataset.from_tensor_slices((images, labels))
        count = len(labels)
    elif kind == "photos":
        from tfgan_models.data.paired import photo, photo_names

        read = _decoder(size or (128, 128), channels)
        images = [read(photo(n), -1)[0].numpy() for n in photo_names(arg or "all")]
        ds = tf.data.Dataset.from_tensor_slices((np.stack(images), np.full(len(images), -1, "int32")))
        count = len(images)
    elif kind in ("ring8", "grid25"):
        points, labels = sample_mixture(kind, seed=0)  # one fixed training set, as PacGAN; seed shuffles
        ds = tf.data.Dataset.from_tensor_slices((points, labels))
        count = len(labels)
    elif kind == "tfds":
        raw, feature = load_tfds(*parse_tfds_spec(arg))
        if size is None and None in tuple(feature.shape[:2]):
            raise ValueError(f"TFDS images of {arg!r} vary in size: pass image_size.")
        ds = raw.map(_decoder(size, channels), num_parallel_calls=tf.data.AUTOTUNE)
        count = None
    else:
        files, labels, _ = scan_folder(arg)
        ds = tf.data.Dataset.from_tensor_slices((files, np.asarray(labels, "int32")))
        read = _decoder(size or (64, 64), channels or 3)
        ds = ds.map(lambda f, y: read(tf.io.read_file(f), y, encoded=True),
                    num_parallel_calls=tf.data.AUTOTUNE)
        count = len(files)
    if shuffle:
        # Shuffling after decoding keeps folder/TFDS reads sequential; the buffer
        # is capped so large sets do not fill memory.
        ds = ds.shuffle(min(count or SHUFFLE_BUFFER, SHUFFLE_BUFFER), seed=seed,
                        reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    if not with_labels:
        ds = ds.map(lambda x, y: x)
    return ds.batch(int(batch_size), drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


def _decoder(size, channels):
    """A map function: (uint8 image or encoded bytes, label) -> (float [-1, 1] image, label)."""

    def decode(image, label, encoded=False):
        if encoded:
            image = tf.io.decode_image(image, channels=channels or 0, expand_animations=False)
        image = to_model_range(image)
        image = set_channels(image, channels)
        image = center_crop_resize(image, size)
        if size is not None:
            image = tf.ensure_shape(image, (size[0], size[1], image.shape[-1]))
        return image, label

    return decode
