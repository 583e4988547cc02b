"""Scores of generated samples: mode coverage on 2-D mixtures, classifier-based digits scores.

``DigitsEvaluator`` imports TensorFlow and trains its classifier on first use,
never at import time.
"""

from tfgan_models.metrics.digits import DigitsEvaluator, frechet_distance
from tfgan_models.metrics.mixtures import kl_to_uniform, mixture_scores

__all__ = ["DigitsEvaluator", "frechet_distance", "kl_to_uniform", "mixture_scores"]
