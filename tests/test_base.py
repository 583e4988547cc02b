"""The GANModel plumbing: data splitting, EMA, compile, distribution."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers import tiny_data, tiny_model
from tfgan_models.models import DCGAN
from tfgan_models.models.dcgan import dcgan_generator


def test_each_discriminator_step_gets_fresh_data():
    model = tiny_model("wgan", discriminator_steps=3)
    batch = tf.reshape(tf.range(12, dtype=tf.float32), (12, 1))
    chunks = model.real_batches(batch)
    assert len(chunks) == 3
    seen = np.concatenate([c.numpy().ravel() for c in chunks])
    np.testing.assert_array_equal(np.sort(seen), np.arange(12))  # disjoint and complete
    assert model.data_batch_size(8) == 24
    with pytest.raises(ValueError, match="divisible by 3"):
        model.real_batches(tf.zeros((10, 1)))


def test_ema_tracks_the_generator_and_is_used_for_sampling():
    model = tiny_model("dcgan", ema_decay=0.5)
    start = [w.numpy().copy() for w in model.generator.trainable_weights]
    model.fit(tiny_data(model), epochs=1, steps_per_epoch=1, verbose=0)
    ema_trainable = [w for w in model.generator_ema.weights if "moving" not in w.path]
    gen_trainable = model.generator.trainable_weights
    for s, w, e in zip(start, gen_trainable, ema_trainable):
        np.testing.assert_allclose(e.numpy(), 0.5 * s + 0.5 * w.numpy(), atol=1e-6)
    z = np.random.RandomState(0).randn(3, model.latent_dim).astype("float32")
    np.testing.assert_array_equal(model.generate(z=z), model.generator_ema(z, training=False).numpy())
    assert model.inference_generator is model.generator_ema
    with pytest.raises(ValueError, match="ema_decay"):
        tiny_model("dcgan", ema_decay=1.5)


def test_compile_defaults_and_errors():
    model = tiny_model("dcgan")
    model.compile()
    assert type(model.g_optimizer).__name__ == "Adam" and model.g_optimizer.beta_1 == 0.5
    assert model.g_optimizer.built and model.d_optimizer.built
    opt = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="different optimizer object"):
        model.compile(g_optimizer=opt, d_optimizer=opt)
    model.compile(g_optimizer={"class_name": "SGD", "config": {"learning_rate": 0.1}})
    assert type(model.g_optimizer).__name__ == "SGD"


def test_bad_networks_are_rejected():
    with pytest.raises(ValueError, match="takes inputs of shape"):
        DCGAN(data_shape=(16, 16, 1), latent_dim=8, generator=dcgan_generator((16, 16, 1), latent_dim=9))
    with pytest.raises(ValueError, match="produces outputs of shape"):
        DCGAN(data_shape=(16, 16, 1), latent_dim=8, generator=dcgan_generator((32, 32, 1), latent_dim=8))
    with pytest.raises(ValueError, match="keras.Model"):
        DCGAN(data_shape=(16, 16, 1), latent_dim=8, generator="nope")


def test_generate_checks_its_input():
    model = tiny_model("dcgan")
    with pytest.raises(ValueError, match="n >= 1"):
        model.generate()
    with pytest.raises(ValueError, match=r"input .z. must have shape \(n, 8\)"):
        model.generate(z=np.zeros((2, 3)))
    np.testing.assert_array_equal(model.generate(4, seed=3), model.generate(4, seed=3))


def test_losses_scaled_by_global_batch_under_mirrored_strategy():
    """One step on 2 logical CPUs equals one step on one device (same global batch, seeds)."""
    script = os.path.join(os.path.dirname(__file__), "distributed_step.py")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(os.path.dirname(__file__))] + sys.path))
    out = subprocess.run([sys.executable, script], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    line = [l for l in out.stdout.splitlines() if l.startswith("MAXDIFF")][-1]
    diffs = dict(item.split("=") for item in line.split()[1:])
    for variant, diff in diffs.items():
        assert float(diff) <= 1e-5, (variant, diff)
    assert set(diffs) == {"gan", "dcgan", "wgan_gp", "dcgan_ema"}
