"""Binary images for likelihood models (PixelRNN): binarized MNIST and binarized embedded digits.

* ``binarized_mnist``: every MNIST pixel drawn once as Bernoulli(intensity / 255)
  with a fixed seed, the stochastic binarisation of the likelihood literature
  (Salakhutdinov & Murray 2008; Larochelle & Murray 2011's fixed copy). Splits:
  ``train`` the first 50,000 MNIST training images, ``valid`` the last 10,000
  (early stopping), ``test`` the 10,000 MNIST test images, never trained on.
  Published NLLs (van den Oord et al. 2016) are on that 50k/10k/10k protocol.
  Our draw is not Larochelle's file (which is not on the registries), so
  figures are comparable up to the binarisation's noise.
* ``binarized_digits``: scikit-learn's 8x8 digits thresholded at >= 8 of 16, as
  in the recipes' offline protocol; ``train`` / ``valid`` split the package's
  1,400 training digits 1,260 / 140, ``test`` is the 397 held-out digits.

Arrays are uint8 ``(N, H, W)`` holding 0 or 255 (so :func:`~tfgan_models.data.load`
gives exactly -1 or +1) and int labels.
"""

import functools

import numpy as np

from tfgan_models.data.embedded import digits_arrays
from tfgan_models.data.mnist import mnist_arrays

BINARIZED_SPLITS = ("train", "valid", "test")
BINARIZE_SEED = 20160125  # the PixelRNN paper's arXiv date: any fixed value, never changed
MNIST_VALID = 10_000
DIGITS_VALID = 140


def _check(name, split):
    split = split or "train"
    if split not in BINARIZED_SPLITS:
        raise ValueError(f"{name} has splits {', '.join(repr(s) for s in BINARIZED_SPLITS)}; received {split!r}.")
    return split


@functools.lru_cache(maxsize=2)
def _binarized_mnist(part):
    images, labels = mnist_arrays(part)
    rng = np.random.RandomState(BINARIZE_SEED + (part == "test"))  # one draw per MNIST part, fixed
    bits = rng.uniform(size=images.shape) < images / 255.0
    out = (bits * 255).astype("uint8"), np.asarray(labels, "int32")
    for array in out:
        array.flags.writeable = False
    return out


def binarized_mnist_arrays(split="train"):
    """Binarized MNIST: uint8 ``(N, 28, 28)`` in {0, 255} and labels; 50k / 10k / 10k."""
    split = _check("binarized_mnist", split)
    if split == "test":
        return _binarized_mnist("test")
    images, labels = _binarized_mnist("train")
    keep = slice(None, -MNIST_VALID) if split == "train" else slice(-MNIST_VALID, None)
    return images[keep], labels[keep]


def binarized_digits_arrays(split="train"):
    """Binarized 8x8 digits: uint8 ``(N, 8, 8)`` in {0, 255} and labels; 1,260 / 140 / 397."""
    split = _check("binarized_digits", split)
    images, labels = digits_arrays("test" if split == "test" else "train", image_size=8)
    bits = (images[..., 0] >= 0.0).astype("uint8") * 255  # [-1, 1] from v / 16: v >= 8 <=> x >= 0
    if split != "test":
        keep = slice(None, -DIGITS_VALID) if split == "train" else slice(-DIGITS_VALID, None)
        bits, labels = bits[keep], labels[keep]
    return bits, labels.astype("int32")
