"""Pixel conversions and resizing shared by every image source.

Models see float32 pixels in [-1, 1]; uint8 exists only at the edges.
"""

import numpy as np
import tensorflow as tf


MIN_CROP_MEAN, MIN_CROP_STD = 24.0, 8.0  # grey level and contrast (of 255) a photo crop needs; see informative()


def informative(crop):
    """False for crops that are nearly black or flat (float (S, S, 3) in [0, 255]): the black
    backgrounds of retina and hubble_deep_field, three quarters of the embedded photos' area,
    carry nothing to learn (no colour for a translator, which they let collapse to black; no
    detail for a super-resolver)."""
    grey = tf.reduce_mean(crop, axis=-1)
    return tf.logical_and(tf.reduce_mean(grey) > MIN_CROP_MEAN, tf.math.reduce_std(grey) > MIN_CROP_STD)


def to_model_range(images_uint8):
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return tf.cast(images_uint8, tf.float32) / 127.5 - 1.0


def to_uint8(images):
    """float [-1, 1] -> uint8 [0, 255] (NumPy in, NumPy out), rounding and clipping."""
    images = np.asarray(images, dtype="float32")
    return np.clip(np.round((images + 1.0) * 127.5), 0, 255).astype("uint8")


def image_size_pair(image_size):
    """``32`` or ``(32, 32)`` -> ``(32, 32)``; a clear error otherwise."""
    if image_size is None:
        return None
    if isinstance(image_size, int):
        size = (image_size, image_size)
    else:
        size = tuple(int(s) for s in image_size)
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f"image_size must be an int or (height, width), received {image_size!r}.")
    return size


def set_channels(images, channels):
    """(…, H, W, C) -> (…, H, W, channels): grey <-> RGB conversion, alpha dropped."""
    have = images.shape[-1]
    if channels is None or have == channels:
        return images
    if have == 4:
        images, have = images[..., :3], 3
        if channels == 3:
            return images
    if have == 1 and channels == 3:
        return tf.repeat(images, 3, axis=-1)
    if have == 3 and channels == 1:
        import warnings

        warnings.warn("converting colour images to grey (channels=1): pass channels=3 (--channels 3) to keep "
                      "their colour", stacklevel=2)
        return tf.image.rgb_to_grayscale(images)
    raise ValueError(f"cannot convert images with {have} channels to {channels}.")


def center_crop_resize(image, size):
    """Central square crop, then an antialiased bilinear resize to ``size`` (H, W).

    Input and output are float32 [-1, 1] ``(H, W, C)``.
    """
    if size is None:
        return image
    shape = tf.shape(image)
    side = tf.minimum(shape[0], shape[1])
    top, left = (shape[0] - side) // 2, (shape[1] - side) // 2
    image = image[top : top + side, left : left + side]
    return tf.image.resize(image, size, method="bilinear", antialias=True)
