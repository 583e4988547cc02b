"""Scores of generated samples: FID, KID, Inception Score, precision/recall, conditional accuracy,
mode coverage on 2-D mixtures, classifier-based digits scores.

Feature extractors (Inception, the digits classifier) are built the first time
a metric needs them, never at import time.
"""

from tfgan_models.metrics.classifier_scores import ConditionalAccuracy, InceptionScore
from tfgan_models.metrics.digits import DigitsEvaluator, frechet_distance, frechet_distance_from_moments
from tfgan_models.metrics.digits_judge import IndependentDigitsJudge
from tfgan_models.metrics.fid import FrechetInceptionDistance
from tfgan_models.metrics.fid_inception import FIDInceptionFeatures
from tfgan_models.metrics.kid import KernelInceptionDistance
from tfgan_models.metrics.mixtures import kl_to_uniform, mixture_scores
from tfgan_models.metrics.mnist import IndependentMnistJudge, MnistEvaluator
from tfgan_models.metrics.precision_recall import PrecisionRecall

__all__ = ["ConditionalAccuracy", "DigitsEvaluator", "FIDInceptionFeatures", "FrechetInceptionDistance", "InceptionScore",
           "IndependentDigitsJudge", "IndependentMnistJudge", "KernelInceptionDistance", "MnistEvaluator", "PrecisionRecall",
           "frechet_distance", "frechet_distance_from_moments", "kl_to_uniform", "mixture_scores"]
