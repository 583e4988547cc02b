import keras
import numpy as np
import pytest

from helpers import check_points, check_standard_behaviour, tiny_data, tiny_model
from tfgan_models.models import WGANGP


def test_standard(tmp_path):
    check_standard_behaviour("wgan_gp", tmp_path)


def test_points():
    check_points("wgan_gp")


def test_paper_defaults():
    model = WGANGP(data_shape=(16, 16, 1), latent_dim=8, width=4)
    model.compile()
    assert model.discriminator_steps == 5 and model.gradient_penalty_weight == 10.0
    opt = model.d_optimizer
    assert type(opt).__name__ == "Adam"
    assert (float(opt.learning_rate), opt.beta_1, opt.beta_2) == (np.float32(1e-4), 0.0, 0.9)
    # Per-sample penalty: no batch norm in the critic (sec. 4).
    assert not any(isinstance(l, keras.layers.BatchNormalization) for l in model.discriminator.layers)


@pytest.mark.parametrize("weight", [10.0, 3.0])
def test_penalty_is_reported_and_weighted(weight):
    model = tiny_model("wgan_gp", gradient_penalty_weight=weight)
    history = model.fit(tiny_data(model), epochs=1, steps_per_epoch=2, verbose=0).history
    penalty, estimate = history["gradient_penalty"][-1], history["wasserstein_estimate"][-1]
    assert penalty > 1e-3  # an untrained critic's gradient norm is far from 1
    # Algorithm 1: L = D(x~) - D(x) + lambda GP, and the estimate is E[D(x)] - E[D(x~)] (epoch means: linear).
    assert history["d_loss"][-1] == pytest.approx(-estimate + weight * penalty, rel=1e-4, abs=1e-5)
