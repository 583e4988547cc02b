"""Gaussian and Laplacian image pyramids as TensorFlow ops (LAPGAN, Denton et al. 2015, sec. 2.2).

Denton, Chintala, Szlam & Fergus 2015, "Deep Generative Image Models using a Laplacian Pyramid of
Adversarial Networks" (arXiv:1506.05751), sec. 2.2, define

* ``d(I)``: blur then keep every second pixel (:func:`downsample`): here the separable binomial
  filter [1, 4, 6, 4, 1] / 16 (the classic Burt & Adelson kernel), symmetric padding, stride 2;
* ``u(I)``: x2 upsampling (:func:`upsample`): bilinear, ``tf.image.resize`` with half-pixel
  centres, the op ``keras.layers.UpSampling2D(2, interpolation="bilinear")`` runs and TFLite's
  builtin RESIZE_BILINEAR;
* the Gaussian pyramid ``I_0 = I``, ``I_{k+1} = d(I_k)`` (:func:`gaussian_pyramid`) and the
  Laplacian pyramid ``h_k = I_k - u(I_{k+1})`` for ``k < K`` plus the low-pass ``I_K``
  (:func:`laplacian_pyramid`); :func:`reconstruct` sums it back, ``I_k = u(I_{k+1}) + h_k``,
  which is exact whatever ``d`` and ``u`` are.

The authors' code (``facebook/eyescream:cifar/datasets/coarse_to_fine_cifar10.lua``) makes its one
coarse image with ``image.scale`` (bilinear down, then up) instead of the paper's blur: the paper's
``d`` is followed here. Every function takes NumPy arrays or tensors ``(B, H, W, C)`` (one image
``(H, W, C)`` is not accepted: give it a batch axis) and returns float tensors; the batch size may be
unknown (inside a ``tf.function``), H, W and C must be static.
"""

import numpy as np
import tensorflow as tf

BINOMIAL_TAPS = (1.0, 4.0, 6.0, 4.0, 1.0)  # / 16: the paper's Gaussian blur of d(.)


def _images(x, what):
    x = tf.convert_to_tensor(x)
    if not x.dtype.is_floating:
        x = tf.cast(x, tf.float32)
    if x.shape.rank != 4 or None in x.shape[1:]:
        raise ValueError(f"{what} takes images of shape (batch, H, W, C) with static H, W and C, "
                         f"received shape {tuple(x.shape)}.")
    return x


def binomial_kernel(channels, dtype=tf.float32):
    """The depthwise 5x5 kernel ``(5, 5, channels, 1)``: outer([1, 4, 6, 4, 1]) / 256 per channel."""
    taps = np.asarray(BINOMIAL_TAPS) / np.sum(BINOMIAL_TAPS)
    kernel = np.outer(taps, taps)[:, :, None, None]
    return tf.constant(np.tile(kernel, (1, 1, int(channels), 1)), dtype=dtype)


def downsample(x):
    """The paper's ``d(.)``: binomial blur (symmetric padding) then every second pixel; ``(B, H, W, C)`` ->
    ``(B, ceil(H / 2), ceil(W / 2), C)``. A constant image stays the same constant."""
    x = _images(x, "downsample")
    if x.shape[1] < 2 or x.shape[2] < 2:
        raise ValueError(f"downsample needs images of at least 2x2 pixels, received {x.shape[1]}x{x.shape[2]}.")
    pad = len(BINOMIAL_TAPS) // 2  # symmetric padding keeps the blur a weighted mean at the borders
    x = tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="SYMMETRIC")
    return tf.nn.depthwise_conv2d(x, binomial_kernel(x.shape[-1], x.dtype), strides=[1, 2, 2, 1], padding="VALID")


def upsample(x):
    """The paper's ``u(.)``: x2 bilinear upsampling ``(B, H, W, C)`` -> ``(B, 2H, 2W, C)`` (as
    ``keras.layers.UpSampling2D(2, interpolation="bilinear")``; TFLite RESIZE_BILINEAR)."""
    x = _images(x, "upsample")
    return tf.cast(tf.image.resize(x, (2 * x.shape[1], 2 * x.shape[2]), method="bilinear"), x.dtype)


def _check_levels(x, levels, what):
    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 0:
        raise ValueError(f"{what}: levels must be an integer >= 0, received {levels!r}.")
    h, w = x.shape[1], x.shape[2]
    if h % 2 ** levels or w % 2 ** levels:
        raise ValueError(f"{what}: {levels} levels need H and W divisible by {2 ** levels}, "
                         f"received {h}x{w}.")
    return int(levels)


def gaussian_pyramid(x, levels):
    """``[I_0 = x, I_1 = d(I_0), ..., I_levels]``, finest first."""
    x = _images(x, "gaussian_pyramid")
    pyramid = [x]
    for _ in range(_check_levels(x, levels, "gaussian_pyramid")):
        pyramid.append(downsample(pyramid[-1]))
    return pyramid


def laplacian_pyramid(x, levels):
    """``[h_0 (finest band), ..., h_{levels-1}, I_levels (coarsest low-pass)]`` with ``h_k = I_k - u(I_{k+1})``.

    ``levels`` = the number of band-pass images K; H and W must be divisible by 2^K.
    """
    gaussian = gaussian_pyramid(x, levels)
    bands = [fine - upsample(coarse) for fine, coarse in zip(gaussian[:-1], gaussian[1:])]
    return bands + [gaussian[-1]]


def reconstruct(pyramid):
    """The image a Laplacian pyramid encodes: ``I_K`` then ``I_k = u(I_{k+1}) + h_k`` up to ``I_0``."""
    pyramid = list(pyramid)
    if not pyramid:
        raise ValueError("reconstruct needs a pyramid [h_0, ..., h_{K-1}, I_K], received an empty list.")
    image = _images(pyramid[-1], "reconstruct")
    for band in reversed(pyramid[:-1]):
        band = _images(band, "reconstruct")
        if tuple(band.shape[1:3]) != (2 * image.shape[1], 2 * image.shape[2]):
            raise ValueError(f"reconstruct: each band must be twice the size of the next coarser image; a band of "
                             f"{band.shape[1]}x{band.shape[2]} follows {image.shape[1]}x{image.shape[2]}.")
        image = upsample(image) + tf.cast(band, image.dtype)
    return image
