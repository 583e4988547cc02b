"""Data pipelines: a spec string in, a batched ``tf.data.Dataset`` in [-1, 1] out."""

from tfgan_models.data.embedded import digits_arrays
from tfgan_models.data.images import to_model_range, to_uint8
from tfgan_models.data.mixtures import mixture, sample_mixture
from tfgan_models.data.pipeline import SPEC_HELP, load, parse_spec

__all__ = ["SPEC_HELP", "digits_arrays", "load", "mixture", "parse_spec", "sample_mixture",
           "to_model_range", "to_uint8"]
