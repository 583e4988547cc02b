"""Mixed precision: float16 compute with loss scaling moves the weights as float32 does, and an overflow skips the step.

Each check trains one step of a tiny preset from the same weights, the same batch and the same noise, once under
``float32`` and once under ``mixed_float16``, and compares the weight updates of every network. The check uses SGD,
whose update is the gradient itself: Adam's first step is lr * sign(g) for every weight, which turns the rounding noise
of weights whose gradient is ~0 in both precisions (a bias before instance norm) into full-size updates of random sign.
"""

import keras
import numpy as np
import pytest

from tfgan_models import runs


def _one_step(name, mixed_precision, start=None, optimizers=None):
    settings = runs.run_settings(name, "tiny", mixed_precision=mixed_precision)
    keras.utils.set_random_seed(0)
    model = runs.build_model(settings)
    # From a settled scale: the default first scale, 2^15, overflows cyclegan's first G step, which is then
    # skipped (as it should be) and counted in skipped_steps.
    optimizers = optimizers or {n: keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.01), initial_scale=2.0**10)
                                if mixed_precision else keras.optimizers.SGD(0.01) for n in model.optimizer_names}
    model.compile(optimizers=optimizers)
    nets = model._networks()
    if start is not None:
        for net, weights in zip(nets, start):
            net.set_weights(weights)
    before = [[v.numpy() for v in net.trainable_weights] for net in nets]
    start = [net.get_weights() for net in nets]
    dataset, _ = runs.training_data(model, settings)
    history = model.fit(dataset, epochs=1, steps_per_epoch=1, verbose=0)
    after = [[v.numpy() for v in net.trainable_weights] for net in nets]
    return model, start, before, after, history.history


def _update(before, after):
    return np.concatenate([(a - b).ravel() for bs, as_ in zip(before, after) for b, a in zip(bs, as_)])


@pytest.mark.parametrize("name", ["dcgan", "wgan_gp", "cyclegan"])
def test_mixed_float16_step_moves_the_weights_like_float32(name):
    _, start, before32, after32, _ = _one_step(name, None)
    model, _, before16, after16, logs = _one_step(name, "float16", start=start)
    assert all(isinstance(o, keras.optimizers.LossScaleOptimizer) for o in model.optimizers_by_name().values())
    assert model.generator.compute_dtype == "float16" and model.generator.variable_dtype == "float32"
    assert model.generator.output.dtype == "float32"  # images and logits leave the networks in float32
    assert model.discriminator.output.dtype == "float32"
    u32, u16 = _update(before32, after32), _update(before16, after16)
    assert np.isfinite(u16).all() and np.abs(u16).max() > 0
    cosine = float(u32 @ u16 / (np.linalg.norm(u32) * np.linalg.norm(u16)))
    assert cosine >= 0.9, f"{name}: cosine of float32 and mixed_float16 updates {cosine:.3f}"
    assert logs["skipped_steps"] == [0.0]


def test_loss_scale_overflow_skips_the_step_and_keeps_the_weights():
    """A scale of 2^60 overflows float16 at once (the gradient-penalty's inner gradient included): the step is
    skipped, the weights stay as they were, the scale is halved and the step is counted, not reported as NaN."""
    huge = {n: keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(1e-4), initial_scale=2.0**60)
            for n in ("generator", "discriminator")}
    model, _, before, after, logs = _one_step("wgan_gp", "float16", optimizers=huge)
    for bs, as_ in zip(before, after):
        for b, a in zip(bs, as_):
            np.testing.assert_array_equal(a, b)
    assert float(model.d_optimizer.dynamic_scale.numpy()) < 2.0**60
    assert logs["skipped_steps"] == [1.0]
    assert all(np.isfinite(v[0]) for v in logs.values())
