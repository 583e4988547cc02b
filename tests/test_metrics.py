"""Metrics against hand-computed values: Fréchet distance, mixture scores, digits classifier."""

import itertools
import math

import numpy as np
import pytest

from tfgan_models import data
from tfgan_models.metrics import (DigitsEvaluator, frechet_distance, frechet_distance_from_moments,
                                  kl_to_uniform, mixture_scores)


# ------------------------------------------------------------ Fréchet distance
def _factorial_design(dims):
    """All 2^dims rows of {-1, +1}^dims: sample mean exactly 0, sample covariance exactly c * I."""
    return np.array(list(itertools.product((-1.0, 1.0), repeat=dims)))


def test_frechet_distance_of_identical_features_is_zero(rng):
    features = rng.randn(300, 16)
    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_matches_closed_form_for_diagonal_covariances():
    # a = mu_a + X * sd_a, b = mu_b + X * sd_b with X a full factorial design, so
    # the sample covariances are exactly c * diag(sd^2), c = n / (n - 1), and
    # d^2 = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))
    #     = ||mu_a - mu_b||^2 + c * sum((sd_a - sd_b)^2).
    x = _factorial_design(3)
    c = len(x) / (len(x) - 1)
    mu_a, mu_b = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.0])
    sd_a, sd_b = np.array([1.0, 2.0, 0.5]), np.array([3.0, 2.0, 1.5])
    expected = np.sum((mu_a - mu_b) ** 2) + c * np.sum((sd_a - sd_b) ** 2)  # 5 + c * 5
    got = frechet_distance(mu_a + x * sd_a, mu_b + x * sd_b)
    assert got == pytest.approx(expected, rel=1e-9)
    assert got == pytest.approx(5.0 + 5.0 * 8.0 / 7.0, rel=1e-9)


def test_frechet_distance_of_sampled_gaussians_approaches_the_population_value(rng):
    # N(0, I) vs N(m, diag(s^2)): m^2 + sum (1 - s)^2 = 1 + 0.25 + 1 = 2.25.
    a = rng.randn(200_000, 2)
    b = np.array([1.0, 0.0]) + rng.randn(200_000, 2) * np.array([1.5, 2.0])
    assert frechet_distance(a, b) == pytest.approx(2.25, abs=0.03)


def test_frechet_distance_from_moments_matches_hand_values(rng):
    # 1-D: N(0, 1) vs N(1, 2^2): (0 - 1)^2 + 1 + 4 - 2 * sqrt(1 * 4) = 2.
    assert frechet_distance_from_moments([0.0], [[1.0]], [1.0], [[4.0]]) == pytest.approx(2.0)
    a, b = rng.randn(40, 3), rng.randn(60, 3) * 2.0
    from_moments = frechet_distance_from_moments(a.mean(0), np.cov(a, rowvar=False),
                                                 b.mean(0), np.cov(b, rowvar=False))
    assert from_moments == pytest.approx(frechet_distance(a, b), rel=1e-12)
    with pytest.raises(ValueError, match="one D"):
        frechet_distance_from_moments(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


def test_frechet_distance_is_finite_for_singular_covariances(rng):
    # Dead ReLU units give constant feature columns and singular covariances.
    a, b = rng.randn(50, 4), rng.randn(50, 4) + 1.0
    a[:, 0] = b[:, 0] = 0.0
    value = frechet_distance(a, b)
    # A dead unit shared by both sets adds nothing: the distance is that of the live units alone.
    live_a, live_b = a[:, 1:], b[:, 1:]
    assert value == pytest.approx(frechet_distance(live_a, live_b), rel=1e-6)
    # ... and that one by an independent route: Tr (S_a S_b)^(1/2) = sum of sqrt(eigenvalues of S_a S_b).
    s_a, s_b = np.cov(live_a, rowvar=False), np.cov(live_b, rowvar=False)
    root_trace = np.sum(np.sqrt(np.clip(np.linalg.eigvals(s_a @ s_b).real, 0, None)))
    diff = live_a.mean(0) - live_b.mean(0)
    assert value == pytest.approx(diff @ diff + np.trace(s_a) + np.trace(s_b) - 2 * root_trace, rel=1e-6)


def test_frechet_distance_rejects_mismatched_features(rng):
    with pytest.raises(ValueError, match="same D"):
        frechet_distance(rng.randn(10, 3), rng.randn(10, 4))
    with pytest.raises(ValueError, match="N >= 2"):
        frechet_distance(rng.randn(1, 3), rng.randn(10, 3))


# --------------------------------------------------------------- mixtures
def test_samples_on_every_mean_capture_all_modes_at_full_quality():
    for name, k in (("ring8", 8), ("grid25", 25)):
        means, _ = data.mixture(name)
        scores = mixture_scores(np.repeat(means, 10, axis=0), name)
        assert scores["modes"] == k and scores["num_modes"] == k
        assert scores["hq_percent"] == 100.0
        assert scores["reverse_kl"] == pytest.approx(0.0, abs=1e-12)  # uniform assignment
        assert scores["num_samples"] == 10 * k


def test_points_far_from_every_mean_capture_no_mode():
    scores = mixture_scores(np.full((100, 2), 50.0), "grid25")
    assert scores["modes"] == 0 and scores["hq_percent"] == 0.0
    # All far points still have a nearest mode, one here: reverse KL is log K.
    assert scores["reverse_kl"] == pytest.approx(math.log(25))


def test_high_quality_threshold_is_three_sigma():
    means, sigma = data.mixture("ring8")  # means[0] = (1, 0), sigma = 0.01
    inside = means[0] + np.array([2.9 * sigma, 0.0])
    outside = means[0] + np.array([3.1 * sigma, 0.0])
    scores = mixture_scores(np.stack([inside, outside]), "ring8")
    assert scores["hq_percent"] == 50.0 and scores["modes"] == 1
    assert scores["mode_counts"][0] == 1


def test_reverse_kl_of_a_collapsed_and_a_skewed_generator():
    means, _ = data.mixture("ring8")
    collapsed = mixture_scores(np.repeat(means[:1], 40, axis=0), "ring8")
    assert collapsed["modes"] == 1 and collapsed["reverse_kl"] == pytest.approx(math.log(8))
    # Two modes at 3:1 out of 4 -> p = (3/4, 1/4, 0, 0): KL = 3/4 log 3 + 1/4 log 1.
    assert kl_to_uniform([3, 1, 0, 0]) == pytest.approx(0.75 * math.log(3))


def test_mixture_scores_rejects_bad_input():
    with pytest.raises(ValueError, match="shape"):
        mixture_scores(np.zeros((10, 3)), "ring8")
    with pytest.raises(ValueError, match="unknown mixture"):
        mixture_scores(np.zeros((10, 2)), "ring9")
    with pytest.raises(ValueError, match="means and sigma"):
        mixture_scores(np.zeros((10, 2)))


def test_mixture_scores_with_explicit_means():
    means = np.array([[0.0, 0.0], [10.0, 0.0]])
    scores = mixture_scores(np.array([[0.0, 0.1], [10.0, 5.0]]), means=means, sigma=0.1)
    assert scores["modes"] == 1 and scores["hq_percent"] == 50.0


# ----------------------------------------------------------------- digits
@pytest.fixture(scope="module")
def evaluator():
    return DigitsEvaluator(32)


def test_digits_classifier_reaches_97_percent_on_the_test_split(evaluator):
    assert evaluator.test_accuracy >= 0.97


def test_real_test_digits_score_like_real_data(evaluator):
    images, labels = data.digits_arrays("test", 32)
    scores = evaluator.score(images)
    shares = np.array(scores["class_shares"])
    assert len(shares) == 10 and shares.sum() == pytest.approx(1.0)
    assert np.all(np.abs(shares - 0.1) < 0.04)  # true shares of the split are 7.6%-11.6%
    assert scores["classes_over_5pct"] == 10
    assert scores["kl_to_uniform"] < 0.05
    assert scores["mean_confidence"] > 0.9
    # Test vs train is exactly the floor's definition.
    assert scores["frechet_distance"] == pytest.approx(scores["real_vs_real_floor"], rel=1e-6)
    assert np.mean(np.argmax(evaluator.predict(images), axis=1) == labels) == scores["test_accuracy"]


def test_noise_and_collapsed_samples_score_far_from_real(evaluator, rng):
    floor = evaluator.real_vs_real_floor
    noise = rng.uniform(-1, 1, (500, 32, 32, 1)).astype("float32")
    assert evaluator.score(noise)["frechet_distance"] > 20 * floor
    one_digit = np.repeat(data.digits_arrays("test", 32)[0][:1], 200, axis=0)
    collapsed = evaluator.score(one_digit)
    assert collapsed["classes_over_5pct"] == 1
    assert collapsed["kl_to_uniform"] == pytest.approx(math.log(10))


def test_digits_evaluator_accepts_uint8_and_other_sizes(evaluator):
    images = data.digits_arrays("test", 32)[0][:50]
    small = data.digits_arrays("test", 16)[0][:50]
    as_uint8 = data.to_uint8(images)
    np.testing.assert_allclose(evaluator.features(as_uint8), evaluator.features(images), atol=0.1)
    assert evaluator.features(small).shape == (50, 64)
    assert DigitsEvaluator(32).classifier is evaluator.classifier  # trained once per process


def test_digits_evaluator_rejects_bad_input(evaluator):
    with pytest.raises(ValueError, match=r"\(N, H, W, 1\)"):
        evaluator.features(np.zeros((4, 32, 32, 3), "float32"))
    with pytest.raises(ValueError, match="image_size"):
        DigitsEvaluator(4)
