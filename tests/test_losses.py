"""Every loss against values computed by hand."""

import math

import keras
import numpy as np
import pytest

from tfgan_models import losses

REAL = np.array([2.0, -1.0], "float32")
FAKE = np.array([0.0, 3.0], "float32")


def sig(x):
    return 1.0 / (1.0 + math.exp(-x))


def test_minimax_and_non_saturating():
    d = -(math.log(sig(2)) + math.log(sig(-1))) / 2 - (math.log(1 - sig(0)) + math.log(1 - sig(3))) / 2
    assert float(losses.minimax_discriminator_loss(REAL, FAKE)) == pytest.approx(d, rel=1e-5)
    assert losses.non_saturating_discriminator_loss is losses.minimax_discriminator_loss
    g_minimax = (math.log(1 - sig(0)) + math.log(1 - sig(3))) / 2
    assert float(losses.minimax_generator_loss(FAKE)) == pytest.approx(g_minimax, rel=1e-5)
    g_ns = -(math.log(sig(0)) + math.log(sig(3))) / 2
    assert float(losses.non_saturating_generator_loss(FAKE)) == pytest.approx(g_ns, rel=1e-5)


def test_minimax_is_exact_for_large_logits():
    assert float(losses.minimax_discriminator_loss(np.array([100.0]), np.array([-100.0]))) == pytest.approx(0, abs=1e-6)
    assert float(losses.non_saturating_generator_loss(np.array([-100.0]))) == pytest.approx(100, rel=1e-6)


def test_least_squares():
    # a=0, b=1: 1/2 mean((2-1)^2, (-1-1)^2) + 1/2 mean((0-0)^2, (3-0)^2) = 1/2*2.5 + 1/2*4.5
    assert float(losses.least_squares_discriminator_loss(REAL, FAKE)) == pytest.approx(3.5)
    # a=-1, b=1: 1/2*2.5 + 1/2 mean(1, 16)
    assert float(losses.least_squares_discriminator_loss(REAL, FAKE, a=-1.0, b=1.0)) == pytest.approx(1.25 + 4.25)
    assert float(losses.least_squares_generator_loss(FAKE)) == pytest.approx(0.5 * (1 + 4) / 2)
    assert float(losses.least_squares_generator_loss(FAKE, c=0.0)) == pytest.approx(0.5 * 9 / 2)


def test_wasserstein_and_hinge():
    assert float(losses.wasserstein_discriminator_loss(REAL, FAKE)) == pytest.approx(1.5 - 0.5)
    assert float(losses.wasserstein_generator_loss(FAKE)) == pytest.approx(-1.5)
    # relu(1-2)=0, relu(1+1)=2 -> 1;  relu(1+0)=1, relu(1+3)=4 -> 2.5
    assert float(losses.hinge_discriminator_loss(REAL, FAKE)) == pytest.approx(3.5)
    assert float(losses.hinge_generator_loss(FAKE)) == pytest.approx(-1.5)


def test_losses_take_logits_of_any_rank():
    patch = np.zeros((2, 4, 4, 1), "float32")
    assert float(losses.minimax_discriminator_loss(patch, patch)) == pytest.approx(2 * math.log(2), rel=1e-5)
    assert float(losses.least_squares_generator_loss(patch)) == pytest.approx(0.5)


def test_gradient_penalty_by_hand():
    # D(x) = w . x has gradient w everywhere: penalty = (||w|| - 1)^2.
    inputs = keras.Input((2,))
    critic = keras.Model(inputs, keras.layers.Dense(1, use_bias=False)(inputs))
    critic.layers[-1].kernel.assign(np.array([[3.0], [4.0]], "float32"))
    real = np.random.RandomState(0).randn(5, 2).astype("float32")
    fake = np.random.RandomState(1).randn(5, 2).astype("float32")
    assert float(losses.gradient_penalty(critic, real, fake, seed=0)) == pytest.approx(16.0, rel=1e-5)


def test_gradient_penalty_interpolates_per_sample():
    # D(x) = sum(x^2)/2 has gradient x: the norm at x_hat depends on epsilon per sample.
    inputs = keras.Input((1,))
    critic = keras.Model(inputs, keras.layers.Lambda(lambda x: 0.5 * x**2)(inputs))
    real, fake = np.array([[2.0], [2.0]], "float32"), np.array([[0.0], [0.0]], "float32")
    eps = np.array([0.25, 1.0], "float32")  # x_hat = 0.5 and 2.0 -> (0.5-1)^2=0.25, (2-1)^2=1
    assert float(losses.gradient_penalty(critic, real, fake, epsilon=eps)) == pytest.approx(0.625, rel=1e-5)
