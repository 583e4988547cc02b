"""Inpainting scores and likelihood baselines against closed forms and the recipes' published anchors."""

import numpy as np
import pytest

from tfgan_models.metrics import inpainting, likelihood


def test_hole_scores_closed_form():
    x = np.zeros((2, 4, 4, 1), "float32") - 1.0           # black on [0, 1]
    y = x.copy()
    masks = np.zeros((2, 4, 4, 1), "float32")
    masks[:, 1:3, 1:3] = 1.0
    y[0][masks[0] > 0] = 0.0                             # error 0.5 in image 0's hole
    y[1][masks[1] > 0] = 1.0                             # error 1.0 in image 1's hole
    y[:, 0, 0] = 1.0                                     # errors outside the hole do not count
    scores = inpainting.hole_scores(x, y, masks)
    assert scores["l1_percent"] == pytest.approx(75.0)
    assert scores["l2_percent"] == pytest.approx(100 * (0.25 + 1.0) / 2)
    assert scores["psnr"] == pytest.approx((10 * np.log10(1 / 0.25) + 0.0) / 2)
    assert scores["psnr_of_mean_mse"] == pytest.approx(10 * np.log10(1 / 0.625))


def test_fills_keep_the_context_and_biharmonic_fills_a_smooth_ramp():
    ramp = np.tile(np.linspace(-1, 1, 16, dtype="float32"), (16, 1))[None, ..., None]
    masks = np.zeros_like(ramp)
    masks[:, 5:11, 5:11] = 1.0
    filled = inpainting.biharmonic_fill(ramp, masks)
    np.testing.assert_array_equal(filled[masks == 0], ramp[masks == 0])
    assert np.abs(filled - ramp).max() < 1e-3             # a linear ramp is harmonic: recovered exactly
    mean = inpainting.mean_fill(ramp, masks, np.zeros((3, 16, 16, 1)))
    assert (mean[masks > 0] == 0).all() and (mean[masks == 0] == ramp[masks == 0]).all()
    assert inpainting.sharpness(filled, masks) > inpainting.sharpness(mean, masks)


def test_likelihood_baselines_match_the_recipes_anchors():
    from sklearn.datasets import load_digits

    bits = load_digits().images >= 8                      # the recipes' split: seed-0 permutation, 1347 / 450
    order = np.random.RandomState(0).permutation(len(bits))
    train, test = bits[order[:1347]], bits[order[1347:]]
    assert likelihood.bernoulli_nll(train, test) == pytest.approx(25.35, abs=0.01)
    assert likelihood.neighbour_count_nll(train, test) == pytest.approx(20.07, abs=0.01)


def test_neighbour_count_model_is_causal_and_normalised():
    rng = np.random.RandomState(0)
    train = rng.rand(200, 3, 3) > 0.5
    every = np.array([[int(b) for b in np.binary_repr(i, 9)] for i in range(512)], bool).reshape(512, 3, 3)
    nll = [likelihood.neighbour_count_nll(train, every[i : i + 1]) for i in range(512)]
    assert np.exp(-np.asarray(nll)).sum() == pytest.approx(1.0, abs=1e-9)  # a distribution over all 2^9 images
