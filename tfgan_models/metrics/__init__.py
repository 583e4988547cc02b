"""Scores of generated samples: mode coverage on 2-D mixtures, classifier-based digits scores.

``DigitsEvaluator`` trains its classifier (a few seconds) the first time one is
built in a process, never at import time.
"""

from tfgan_models.metrics.digits import DigitsEvaluator, frechet_distance, frechet_distance_from_moments
from tfgan_models.metrics.mixtures import kl_to_uniform, mixture_scores

__all__ = ["DigitsEvaluator", "frechet_distance", "frechet_distance_from_moments", "kl_to_uniform",
           "mixture_scores"]
