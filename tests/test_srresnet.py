import json
import os

import keras
import numpy as np
import pytest

from sr_helpers import (check_config_roundtrip, check_fit, check_save_reload, check_shapes, tiny_pairs, tiny_sr,
                        train_tiny_run)
from tfgan_models import export, runs
from tfgan_models.metrics.sr import evaluate_sr
from tfgan_models.models.srresnet import SRResNet, abpn_generator, srresnet_generator


def test_standard(tmp_path):
    model = tiny_sr("srresnet")
    assert model.discriminator is None
    check_shapes(model)
    check_config_roundtrip(model)
    check_fit(model, discriminator=False)
    check_save_reload(model, tmp_path)


def test_generator_follows_the_paper():
    g = srresnet_generator(4, blocks=16, filters=64)
    assert g.get_layer("head").kernel_size == (9, 9) and g.get_layer("sr").kernel_size == (9, 9)
    assert sum(isinstance(l, keras.layers.PReLU) for l in g.layers) == 1 + 16 + 2
    assert sum(isinstance(l, keras.layers.BatchNormalization) for l in g.layers) == 2 * 16 + 1
    assert [g.get_layer(f"up_{i}_conv").filters for i in range(2)] == [256, 256]  # sub-pixel x2, twice
    assert 1.5e6 < g.count_params() < 1.6e6  # MSRResNet (no BN) has 1.52M
    assert g.output.shape[1:] == (None, None, 3)
    x2 = srresnet_generator(2, blocks=1, filters=4)
    assert x2(np.zeros((1, 5, 6, 3), "float32")).shape == (1, 10, 12, 3)


@pytest.mark.parametrize("build", [lambda: abpn_generator(4, blocks=5, filters=28),
                                   lambda: srresnet_generator(4, blocks=1, filters=4, global_residual=True)])
def test_anchor_starts_as_nearest_neighbour_upsampling(build):
    g = build()
    x = np.random.RandomState(0).uniform(-1, 1, (1, 6, 5, 3)).astype("float32")
    nearest = np.repeat(np.repeat(x, 4, axis=1), 4, axis=2)
    np.testing.assert_allclose(np.asarray(g(x)), nearest, atol=1e-6)  # zero-initialised last conv


def test_residual_init_scale_starts_the_blocks_near_identity_as_basicsr():
    fan_in = 3 * 3 * 64
    scaled = srresnet_generator(4, blocks=2, filters=64, batch_norm=False, residual_init_scale=0.1)
    plain = srresnet_generator(4, blocks=2, filters=64, batch_norm=False)
    for name in ("res_0_conv1", "res_1_conv2"):
        std = float(np.std(scaled.get_layer(name).kernel.numpy()))
        assert std == pytest.approx(0.1 * np.sqrt(2.0 / fan_in), rel=0.05)  # He-normal x 0.1
        assert std < 0.2 * float(np.std(plain.get_layer(name).kernel.numpy()))
    # Only the residual blocks are scaled: the trunk and the upsampling keep Keras's default.
    assert np.std(scaled.get_layer("trunk_conv").kernel.numpy()) == pytest.approx(
        np.std(plain.get_layer("trunk_conv").kernel.numpy()), rel=0.1)
    model = tiny_sr("srresnet", residual_init_scale=0.1)
    check_config_roundtrip(model)
    assert runs.run_settings("srresnet", "demo")["model"]["residual_init_scale"] == 0.1
    assert "residual_init_scale" not in runs.run_settings("srresnet", "paper")["model"]
    for bad in (dict(residual_init_scale=0.0), dict(residual_init_scale=0.1, architecture="abpn")):
        with pytest.raises(ValueError, match="residual_init_scale must be > 0"):
            SRResNet(scale=4, data_shape=(16, 16, 3), blocks=1, filters=4, **bad)


def test_mobile_is_abpn_sized():
    assert 40_000 < abpn_generator(4, blocks=5, filters=28).count_params() < 60_000


def test_demo_preset_has_no_bn_and_anneals_to_zero_at_its_last_step():
    settings = runs.run_settings("srresnet", "demo")
    run = settings["run"]
    total = run["epochs"] * run["steps_per_epoch"]
    assert total == 3400 and settings["model"]["batch_norm"] is False
    assert run["data"] == "photos:train+extra"
    json.dumps(settings)  # the schedule is recorded in config.json as plain JSON
    model = runs.build_model(settings)
    assert not any(isinstance(l, keras.layers.BatchNormalization) for l in model.generator.layers)
    assert 240_000 < model.generator.count_params() < 250_000
    opt = model.optimizers_by_name()["generator"]
    learning_rate = lambda step: (opt.iterations.assign(step), float(opt.learning_rate))[1]  # noqa: E731
    assert learning_rate(0) == pytest.approx(2e-3)
    assert learning_rate(total // 2) == pytest.approx(1e-3, rel=1e-4)  # cosine: half-way is half
    assert learning_rate(total) == pytest.approx(0.0, abs=1e-9)


def test_scale_2_and_wrong_data_are_clear():
    model = tiny_sr("srresnet", scale=2)
    lr, hr = next(iter(tiny_pairs(model)))
    assert lr.shape == (2, 8, 8, 3) and hr.shape == (2, 16, 16, 3)
    check_fit(model, steps=1, discriminator=False)
    with pytest.raises(ValueError, match=r"expects LR of shape \(batch, 8, 8, 3\)"):
        model.fit(np.zeros((2, 4, 4, 3), "float32"), np.zeros((2, 16, 16, 3), "float32"), verbose=0)
    with pytest.raises(ValueError, match="multiple of the scale"):
        SRResNet(scale=4, data_shape=(30, 30, 3), blocks=1, filters=4)


def test_run_sample_eval_and_export(tmp_path):
    run = train_tiny_run("srresnet", tmp_path / "run")
    picture = runs.sample(run, out=str(tmp_path / "before_after.png"))
    assert picture.shape == (192, 4 * 192 + 3 * 2, 3) and os.path.getsize(tmp_path / "before_after.png") > 0
    assert os.listdir(os.path.join(run, "samples")) == ["epoch_0001.png"]
    result = evaluate_sr(run, data="photos:test", limit=1)
    assert result["images"][0]["image"] == "astronaut"
    assert result["mean"]["bicubic_psnr_y"] == pytest.approx(26.84, abs=0.01)
    # The model's PSNR-Y, recomputed on the whole image with scikit-image's BT.601 Y and PSNR.
    from skimage.color import rgb2ycbcr
    from skimage.metrics import peak_signal_noise_ratio

    from tfgan_models.data.paired import eval_images
    from tfgan_models.metrics.sr import upscale

    (_, lr, hr), = eval_images("photos:test", scale=4, limit=1)
    sr = upscale(keras.models.load_model(os.path.join(run, "generator.keras")), lr, 4)
    y = lambda image: rgb2ycbcr(image)[4:-4, 4:-4, 0]  # noqa: E731  16-235 luma, 4-pixel border cut
    assert result["mean"]["psnr_y"] == pytest.approx(peak_signal_noise_ratio(y(hr), y(sr), data_range=255), abs=0.02)
    json.dumps(result)
    entry = export.export_run(run, str(tmp_path / "export"), quantizations=("none", "fp16"), input_size=16)
    assert entry["generator"]["kind"] == "image" and entry["generator"]["scale"] == 4
    assert entry["saved_model"]["gate"]["passed"]
    assert all(e["gate"]["passed"] for e in entry["tflite"].values())
    assert entry["tflite"]["none"]["io"]["outputs"]["images"]["shape"] == [1, 64, 64, 3]


def test_building_a_run_leaves_its_settings_unchanged():
    """keras.optimizers.get edits a config dict in place; the preset's schedule must survive (resume compares it)."""
    import copy

    from tfgan_models import runs

    settings = runs.run_settings("srresnet", "demo", epochs=1, steps_per_epoch=1)
    before = copy.deepcopy(settings)
    runs.build_model(settings)
    assert settings == before
