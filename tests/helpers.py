"""Shared checks every variant's test file runs."""

import os

import keras
import numpy as np

from tfgan_models import data, registry


def tiny_model(name, preset="tiny", **overrides):
    keras.utils.set_random_seed(0)
    return registry.get(name, preset, seed=0, **overrides)


def tiny_data(model, batch_size=8):
    kwargs = dict(image_size=model.data_shape[:2], channels=model.data_shape[2]) if len(model.data_shape) == 3 else {}
    spec = "digits" if len(model.data_shape) == 3 else "ring8"
    return data.load(spec, batch_size=model.data_batch_size(batch_size), repeat=True, seed=0,
                     with_labels=getattr(model, "requires_labels", False), **kwargs)


def discriminate(model, images):
    """The discriminator's first output; conditional discriminators get labels 0..K-1 cycled."""
    inputs = images
    if len(model.discriminator.inputs) == 2:
        inputs = [images, np.arange(len(images)) % model.num_classes]
    out = model.discriminator(inputs)
    return (out[0] if isinstance(out, (list, tuple)) else out).numpy()


def weights_of(network):
    return [w.numpy().copy() for w in network.trainable_weights]


def changed(before, network):
    return any(not np.allclose(a, b.numpy()) for a, b in zip(before, network.trainable_weights))


def check_shapes(model):
    samples = model.generate(5, seed=1)
    assert samples.shape == (5,) + model.data_shape
    assert np.isfinite(samples).all()
    assert np.std(samples, axis=0).mean() > 1e-4, "the samples do not depend on the generator's inputs"
    np.testing.assert_array_equal(samples, model.generate(5, seed=1))  # a seed fixes every input
    assert discriminate(model, samples).shape[0] == 5


def check_config_roundtrip(model):
    config = model.get_config()
    clone = type(model).from_config(config)
    assert clone.get_config() == config
    assert clone.generator.count_params() == model.generator.count_params()
    assert clone.discriminator.count_params() == model.discriminator.count_params()


def check_fit_changes_both(model, steps=3):
    """A few fit steps change both networks and keep every loss finite."""
    g_before, d_before = weights_of(model.generator), weights_of(model.discriminator)
    history = model.fit(tiny_data(model), epochs=1, steps_per_epoch=steps, verbose=0)
    assert changed(g_before, model.generator), "generator weights did not change"
    assert changed(d_before, model.discriminator), "discriminator weights did not change"
    for name, values in history.history.items():
        assert np.isfinite(values).all(), f"{name} is not finite: {values}"
    assert set(model.loss_names) <= set(history.history)
    assert int(model.g_optimizer.iterations) == steps
    assert int(model.d_optimizer.iterations) == steps * model.discriminator_steps
    return history


def check_save_reload(model, tmp_path):
    """model.save -> load_model gives identical samples and can keep training."""
    model.fit(tiny_data(model), epochs=1, steps_per_epoch=1, verbose=0)
    path = os.path.join(str(tmp_path), "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is type(model)
    z = np.random.RandomState(0).randn(4, model.latent_dim).astype("float32")
    np.testing.assert_array_equal(model.generate(z=z), loaded.generate(z=z))
    np.testing.assert_allclose(discriminate(model, model.generate(z=z)), discriminate(loaded, model.generate(z=z)),
                               rtol=0, atol=1e-6)
    assert int(loaded.g_optimizer.iterations) == int(model.g_optimizer.iterations)
    for a, b in zip(model.d_optimizer.variables, loaded.d_optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    check_fit_changes_both_after_reload(loaded)


def check_fit_changes_both_after_reload(loaded):
    g_before, d_before = weights_of(loaded.generator), weights_of(loaded.discriminator)
    start = int(loaded.g_optimizer.iterations)
    loaded.fit(tiny_data(loaded), epochs=1, steps_per_epoch=2, verbose=0)
    assert changed(g_before, loaded.generator) and changed(d_before, loaded.discriminator)
    assert int(loaded.g_optimizer.iterations) == start + 2


def check_points(name):
    """The variant also trains on 2-D points with the PacGAN MLPs."""
    model = tiny_model(name, "ring8")
    assert model.data_shape == (2,)
    check_fit_changes_both(model, steps=2)
    assert model.generate(10, seed=0).shape == (10, 2)


def check_standard_behaviour(name, tmp_path):
    model = tiny_model(name)
    check_shapes(model)
    check_config_roundtrip(model)
    check_fit_changes_both(model)
    check_save_reload(tiny_model(name), tmp_path)
