"""Data pipelines: a spec string in, a batched ``tf.data.Dataset`` in [-1, 1] out."""

from tfgan_models.data.embedded import digits_arrays
from tfgan_models.data.images import to_model_range, to_uint8
from tfgan_models.data.mixtures import mixture, sample_mixture
from tfgan_models.data.mnist import (FASHION_MNIST_CLASSES, fashion_mnist_arrays, mnist_arrays,
                                     stacked_mnist_arrays)
from tfgan_models.data.pipeline import DATA_SPECS, SPEC_HELP, load, parse_spec

__all__ = ["DATA_SPECS", "FASHION_MNIST_CLASSES", "SPEC_HELP", "digits_arrays", "fashion_mnist_arrays",
           "load", "mixture", "mnist_arrays", "parse_spec", "sample_mixture", "stacked_mnist_arrays",
           "to_model_range", "to_uint8"]
