import json
import os

import keras
import numpy as np
import pytest

from sr_helpers import check_config_roundtrip, check_fit, check_save_reload, check_shapes, tiny_sr, train_tiny_run
from tfgan_models.losses import relativistic_average_discriminator_loss, relativistic_average_generator_loss
from tfgan_models.models.esrgan import rrdb_generator
from tfgan_models.runs import interpolate


def test_standard(tmp_path):
    model = tiny_sr("esrgan", vgg_weights="random")
    check_shapes(model)
    check_config_roundtrip(model)
    check_fit(model)
    check_save_reload(model, tmp_path)


def test_psnr_stage_trains_g_alone_with_l1():
    model = tiny_sr("esrgan", stage="psnr")
    assert model.discriminator is None and model.loss_names == ("pixel_loss",)
    check_fit(model, steps=2, discriminator=False)


def test_generator_follows_the_paper():
    g = rrdb_generator(4)  # 23 RRDBs x 64, growth 32: the published 16.7M parameters
    assert g.count_params() == pytest.approx(16.70e6, rel=0.002)
    assert not any(isinstance(l, keras.layers.BatchNormalization) for l in g.layers)
    betas = [l.scale for l in g.layers if isinstance(l, keras.layers.Rescaling)]
    assert len(betas) == 23 * 4 and set(betas) == {0.2}


def _softplus(x):
    return np.log1p(np.exp(x))


def test_relativistic_losses_match_hand_values():
    real, fake = np.array([[1.0], [2.0]]), np.array([[0.0], [-1.0]])
    # D_Ra(x_r, x_f) = sigmoid(C(x_r) - mean C(x_f)): mean fake -0.5, mean real 1.5.
    d = np.mean(_softplus(-(real + 0.5))) + np.mean(_softplus(fake - 1.5))
    g = np.mean(_softplus(real + 0.5)) + np.mean(_softplus(-(fake - 1.5)))
    assert float(relativistic_average_discriminator_loss(real, fake)) == pytest.approx(d, rel=1e-6)
    assert float(relativistic_average_generator_loss(real, fake)) == pytest.approx(g, rel=1e-6)


def test_network_interpolation(tmp_path):
    psnr_run = train_tiny_run("esrgan", tmp_path / "psnr", stage="psnr")
    gan_run = train_tiny_run("esrgan", tmp_path / "gan", vgg_weights="random", init=psnr_run)
    a = keras.models.load_model(f"{psnr_run}/generator.keras").get_weights()
    b = keras.models.load_model(f"{gan_run}/generator.keras").get_weights()
    out = interpolate(psnr_run, gan_run, 0.8, str(tmp_path / "interp"))
    mixed = keras.models.load_model(f"{out}/generator.keras").get_weights()
    assert any(not np.allclose(x, y) for x, y in zip(a, b))
    for x, y, m in zip(a, b, mixed):
        np.testing.assert_allclose(m, 0.2 * x + 0.8 * y, rtol=1e-5, atol=1e-6)
    with open(os.path.join(out, "config.json")) as f:
        assert json.load(f)["interpolation"]["alpha"] == 0.8
    assert os.path.exists(os.path.join(out, "samples", "interpolated.png"))
    with pytest.raises(ValueError, match="already holds a run"):
        interpolate(psnr_run, gan_run, 0.5, out)
    with pytest.raises(ValueError, match="alpha"):
        interpolate(psnr_run, gan_run, 1.5, str(tmp_path / "other"))


def test_paper_presets_follow_the_papers_schedules():
    """Sec. 4.1: PSNR stage Adam 2e-4 halved every 2 x 10^5 updates; GAN stage 1e-4 halved at 50k/100k/200k/300k."""
    from tfgan_models import registry
    from tfgan_models.models.esrgan import paper_optimizers

    gan, psnr = registry.preset("esrgan", "paper"), registry.preset("esrgan", "psnr")
    assert gan["epochs"] * gan["steps_per_epoch"] == gan["total_steps"] == 400_000
    assert gan["batch_size"] == psnr["batch_size"] == 16
    for opt in paper_optimizers("gan", gan["total_steps"]):  # ESRGAN.default_optimizers
        assert (opt.beta_1, opt.beta_2) == (0.9, 0.999)
        rates = [float(opt._learning_rate(step)) for step in (0, 49_000, 51_000, 101_000, 201_000, 399_999)]
        np.testing.assert_allclose(rates, [1e-4, 1e-4, 5e-5, 2.5e-5, 1.25e-5, 6.25e-6], rtol=1e-6)
    (opt,) = paper_optimizers("psnr", psnr["total_steps"])
    rates = [float(opt._learning_rate(step)) for step in (0, 200_000, 200_001, 450_000, 999_999)]
    np.testing.assert_allclose(rates, [2e-4, 2e-4, 1e-4, 5e-5, 1.25e-5], rtol=1e-6)
