"""Shared checks of the super-resolution variants' tests."""

import os

import keras
import numpy as np

from helpers import changed, weights_of
from tfgan_models import registry, runs
from tfgan_models.data.paired import load_pairs


def tiny_sr(name, preset="tiny", **overrides):
    keras.utils.set_random_seed(0)
    return registry.get(name, preset, seed=0, **overrides)


def tiny_pairs(model, batch_size=2):
    return load_pairs("photos", scale=model.scale, hr_crop=model.data_shape[0], batch_size=batch_size, seed=0)


def lr_images(model, n=2, size=(9, 7)):
    return np.random.RandomState(0).uniform(-1, 1, (n, *size, 3)).astype("float32")


def check_shapes(model):
    out = model.upscale(lr_images(model))
    assert out.shape == (2, 9 * model.scale, 7 * model.scale, 3)
    assert np.isfinite(out).all()


def check_config_roundtrip(model):
    config = model.get_config()
    clone = type(model).from_config(config)
    assert clone.get_config() == config
    assert clone.generator.count_params() == model.generator.count_params()


def check_fit(model, steps=3, discriminator=True):
    """A few fit steps change the trained networks and keep every loss finite."""
    g_before = weights_of(model.generator)
    d_before = weights_of(model.discriminator) if discriminator else None
    history = model.fit(tiny_pairs(model), epochs=1, steps_per_epoch=steps, verbose=0)
    assert changed(g_before, model.generator), "generator weights did not change"
    if discriminator:
        assert changed(d_before, model.discriminator), "discriminator weights did not change"
    for name, values in history.history.items():
        assert np.isfinite(values).all(), f"{name} is not finite: {values}"
    assert set(model.loss_names) == set(history.history)
    assert int(model.g_optimizer.iterations) == steps
    return history


def check_save_reload(model, tmp_path):
    """save -> load_model gives identical outputs and keeps training."""
    path = os.path.join(str(tmp_path), "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is type(model)
    x = lr_images(model)
    np.testing.assert_array_equal(model.upscale(x), loaded.upscale(x))
    assert int(loaded.g_optimizer.iterations) == int(model.g_optimizer.iterations)
    before = weights_of(loaded.generator)
    loaded.fit(tiny_pairs(loaded), epochs=1, steps_per_epoch=1, verbose=0)
    assert changed(before, loaded.generator)
    return loaded


def train_tiny_run(name, out, preset="tiny", **model_overrides):
    settings = runs.run_settings(name, preset, model_overrides=model_overrides)
    runs.train(settings, str(out), verbose=0)
    return str(out)
