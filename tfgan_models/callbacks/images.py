"""Turning samples into pictures: image grids and point scatter rasters."""

import math

import numpy as np
import tensorflow as tf

from tfgan_models.data.images import to_uint8


def image_grid(images, cols=None):
    """uint8 ``(N, H, W, C)`` -> one uint8 ``(rows*H, cols*W, C)`` grid (1 px gaps)."""
    images = np.asarray(images)
    n, h, w, c = images.shape
    cols = cols or int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / cols))
    grid = np.zeros((rows * (h + 1) - 1, cols * (w + 1) - 1, c), dtype="uint8")
    for i, image in enumerate(images):
        r, q = divmod(i, cols)
        grid[r * (h + 1) : r * (h + 1) + h, q * (w + 1) : q * (w + 1) + w] = image
    return grid


def scatter_raster(points, size=256, extent=None):
    """2-D points -> a uint8 ``(size, size, 1)`` picture (dark dots on white)."""
    points = np.asarray(points, dtype="float32")
    if extent is None:
        extent = max(1.5, float(np.percentile(np.abs(points), 99)) * 1.2)
    picture = np.full((size, size, 1), 255, dtype="uint8")
    cols = ((points[:, 0] + extent) / (2 * extent) * (size - 1)).round().astype(int)
    rows = ((extent - points[:, 1]) / (2 * extent) * (size - 1)).round().astype(int)
    keep = (cols >= 0) & (cols < size) & (rows >= 0) & (rows < size)
    picture[rows[keep], cols[keep]] = 0
    return picture


def samples_picture(samples, cols=None):
    """Samples in the model's range -> a uint8 picture: a grid of images or a scatter of points."""
    samples = np.asarray(samples)
    if samples.ndim == 2:
        return scatter_raster(samples)
    return image_grid(to_uint8(samples), cols=cols)


def encode_png(picture):
    return tf.io.encode_png(picture).numpy()
