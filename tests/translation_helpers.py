"""Shared checks of the image-translation variants' tests (Pix2Pix, CycleGAN, DiscoGAN)."""

import copy
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers import changed, weights_of
from tfgan_models import registry


def tiny(name, preset="tiny", **overrides):
    keras.utils.set_random_seed(0)
    return registry.get(name, preset, seed=0, **overrides)


def tiny_data(model, batch_size=2, seed=0):
    spec = registry.preset(model.variant_name, "tiny")["data"]
    ds, steps = model.training_dataset(spec, batch_size, seed)
    return ds


def networks(model):
    names = ["generator", "discriminator"]
    if model.two_way:
        names += ["reverse_generator", "reverse_discriminator"]
    return {n: getattr(model, n) for n in names}


def images(n=2, h=19, w=23, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, (n, h, w, 3)).astype("float32")


def check_fit(model, steps=2):
    """A few fit steps change every network and keep every loss finite."""
    before = {n: weights_of(net) for n, net in networks(model).items()}
    history = model.fit(tiny_data(model), epochs=1, steps_per_epoch=steps, verbose=0)
    for n, net in networks(model).items():
        assert changed(before[n], net), f"{n} weights did not change"
    for name, values in history.history.items():
        assert np.isfinite(values).all(), f"{name} is not finite: {values}"
    assert set(model.loss_names) <= set(history.history)
    assert int(model.g_optimizer.iterations) == steps and int(model.d_optimizer.iterations) == steps
    return history


def check_config_roundtrip(model):
    """``type(m).from_config(m.get_config()).get_config() == m.get_config()``, leaving its argument alone."""
    config = model.get_config()
    kept = copy.deepcopy(config)
    clone = type(model).from_config(config)
    assert config == kept, "from_config changed the config it was given"
    assert clone.get_config() == model.get_config()
    for n, net in networks(model).items():
        assert getattr(clone, n).count_params() == net.count_params(), n
    type(model).from_config(config)  # the same config can be used again


def as_json(config):
    return json.loads(json.dumps(config))


def directions(model):
    return ("a_to_b", "b_to_a") if model.two_way else ("a_to_b",)


def check_save_reload(model, tmp_path, compare=None):
    """save -> load_model gives identical translations (both ways) and keeps training.

    ``compare(model, loaded)`` runs right after loading, before any further training.
    """
    path = os.path.join(str(tmp_path), "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    if compare is not None:
        compare(model, loaded)
    assert type(loaded) is type(model)
    assert as_json(loaded.get_config()) == as_json(model.get_config())  # tuples come back as lists
    x = images()
    for direction in directions(model):
        np.testing.assert_array_equal(model.translate(x, direction), loaded.translate(x, direction))
    assert int(loaded.g_optimizer.iterations) == int(model.g_optimizer.iterations)
    for a, b in zip(model.d_optimizer.variables, loaded.d_optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    before = {n: weights_of(net) for n, net in networks(loaded).items()}
    start = int(loaded.g_optimizer.iterations)
    loaded.run_eagerly = True  # graph-mode steps were checked before saving; eager keeps this check quick
    loaded.fit(tiny_data(loaded, seed=1), epochs=1, steps_per_epoch=1, verbose=0)
    assert int(loaded.g_optimizer.iterations) == start + 1
    for n, net in networks(loaded).items():
        assert changed(before[n], net), f"{n} weights did not change after reloading"
    return loaded


def check_translate(model):
    """Any size in, the same size out, in [-1, 1]; bad directions, shapes and generate() are refused."""
    x = images()
    for direction in directions(model):
        y = model.translate(x, direction)
        assert y.shape == x.shape and y.dtype == np.float32
        assert np.isfinite(y).all() and y.min() >= -1.0 and y.max() <= 1.0
        # one image at a time gives the same as the batch (no batch statistics at inference)
        np.testing.assert_allclose(model.translate(x[:1], direction), y[:1], atol=1e-5)
    if not model.two_way:
        with pytest.raises(ValueError, match="direction"):
            model.translate(x, "b_to_a")
    for bad in ("backwards", "A_TO_B", None):
        with pytest.raises(ValueError, match="direction"):
            model.translate(x, bad)
    for shape in ((2, 16, 16, 1), (16, 16, 3), (2, 16, 16, 4)):
        with pytest.raises(ValueError, match=r"\(N, H, W, 3\)"):
            model.translate(np.zeros(shape, "float32"))
    with pytest.raises(ValueError, match="translate"):
        model.generate(4)
    with pytest.raises(ValueError, match="translate"):
        model.generate(z=np.zeros((1, 1), "float32"))


def check_wrong_data(model, size=16):
    """Fitting on something other than (a, b) batches of the model's crop size is a clear ValueError."""
    right = np.zeros((2, size, size, 3), "float32")
    wrong = np.zeros((2, 2 * size, 2 * size, 3), "float32")
    with pytest.raises(ValueError, match="image pairs"):
        model.fit(right, epochs=1, steps_per_epoch=1, verbose=0)
    with pytest.raises(ValueError, match="image pairs"):
        model.fit(tf.data.Dataset.from_tensors((right, right, right)), epochs=1, verbose=0)
    for pair in ((right, wrong), (wrong, right), (right, right[..., :1])):
        with pytest.raises(ValueError, match=rf"batches of shape \(batch, {size}, {size}, 3\)"):
            model.fit(tf.data.Dataset.from_tensors(pair), epochs=1, verbose=0)
