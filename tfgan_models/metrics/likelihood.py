"""Closed-form likelihood baselines for binary images: what an autoregressive model must beat.

Both are fitted on training images and scored on held-out ones, in nats per
image (the unit of binarized-MNIST likelihoods, van den Oord et al. 2016):

* :func:`bernoulli_nll`: every pixel an independent Bernoulli with its own
  Laplace-smoothed (+1 / +2) frequency;
* :func:`neighbour_count_nll`: a causal, position-specific table of
  p(x_ij = 1 | up-left, up, up-right, left) with additive smoothing alpha = 0.5
  (neighbours outside the image count as 0): the simplest autoregressive model.
"""

import numpy as np

LN2 = float(np.log(2.0))


def _bits(images):
    """[-1, 1] (or {0, 1}) images (N, H, W[, 1]) -> bool (N, H, W)."""
    x = np.asarray(images)
    if x.ndim == 4:
        if x.shape[-1] != 1:
            raise ValueError(f"binary baselines take one channel, received {x.shape}.")
        x = x[..., 0]
    return x > (0.0 if x.min() < 0 else 0.5)


def bernoulli_nll(train, test):
    """Mean NLL (nats / image) of ``test`` under per-pixel Bernoulli frequencies of ``train``."""
    a, b = _bits(train), _bits(test)
    p = (a.sum(axis=0) + 1.0) / (len(a) + 2.0)
    ll = np.where(b, np.log(p), np.log1p(-p)).reshape(len(b), -1).sum(axis=1)
    return float(-ll.mean())


def _context(bits):
    """(N, H, W) bool -> (N, H, W) int in 0..15: the up-left, up, up-right and left neighbours as 4 bits."""
    padded = np.pad(bits, ((0, 0), (1, 0), (1, 1))).astype("int64")  # a zero row above, zero columns beside
    h, w = bits.shape[1:]
    up_left, up, up_right = padded[:, :h, :w], padded[:, :h, 1 : w + 1], padded[:, :h, 2 : w + 2]
    left = padded[:, 1:, :w]
    return up_left * 8 + up * 4 + up_right * 2 + left


def neighbour_count_nll(train, test, alpha=0.5):
    """Mean NLL (nats / image) of ``test`` under a causal 4-neighbour count model fitted on ``train``."""
    a, b = _bits(train), _bits(test)
    h, w = a.shape[1:]
    ctx_a, ctx_b = _context(a), _context(b)
    ones = np.zeros((h, w, 16))
    totals = np.zeros((h, w, 16))
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    for image, ctx in zip(a, ctx_a):
        np.add.at(totals, (rows, cols, ctx), 1.0)
        np.add.at(ones, (rows, cols, ctx), image.astype("float64"))
    p = (ones + alpha) / (totals + 2.0 * alpha)
    p_b = p[rows[None], cols[None], ctx_b]  # (N, H, W)
    ll = np.where(b, np.log(p_b), np.log1p(-p_b)).reshape(len(b), -1).sum(axis=1)
    return float(-ll.mean())


def bits_per_dim(nll_nats, dims):
    """Nats per image -> bits per dimension."""
    return float(nll_nats) / (float(dims) * LN2)
