"""Run by test_base.py in a fresh process (logical devices must be set before TF starts).

Trains one step on one device and one step under MirroredStrategy over two
logical CPUs from identical weights, optimizer state, data and seeds, and
prints the largest weight difference per variant.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402

from tfgan_models import registry  # noqa: E402
from tfgan_models.models.gan import mlp_discriminator, mlp_generator  # noqa: E402


def batch_for(model, n=16):
    rng = np.random.RandomState(0)
    x = np.tanh(rng.randn(model.data_batch_size(n), *model.data_shape)).astype("float32")
    return tf.data.Dataset.from_tensor_slices(x).batch(model.data_batch_size(n), drop_remainder=True)


def one_step(name, strategy, weights=None, **overrides):
    with strategy.scope():
        keras.utils.set_random_seed(0)
        # Networks without batch norm or dropout: per-replica batch statistics and
        # per-replica dropout masks differ from single-device ones by design; this
        # test isolates what the base class controls (loss scaling, noise, n_critic).
        shape, latent = registry.preset(name, "tiny")["data_shape"], 8
        networks = dict(generator=mlp_generator(shape, latent, width=16, depth=2),
                        discriminator=mlp_discriminator(shape, width=8, depth=1, pieces=2, dropout=0.0))
        model = registry.get(name, "tiny", seed=7, latent_dim=latent, **networks, **overrides)
        # Plain SGD: Adam's normalisation would hide a gradient scaled by a constant factor.
        # XLA off in both: its random-number kernels draw other values than the plain ones from the same seed,
        # and XLA is off over CPU replicas anyway.
        model.compile(g_optimizer=keras.optimizers.SGD(0.01), d_optimizer=keras.optimizers.SGD(0.01),
                      jit_compile=False)
        if weights is not None:
            model.set_weights(weights)
    start = model.get_weights()
    model.fit(batch_for(model), epochs=1, steps_per_epoch=1, verbose=0)
    return start, model


results = {}
for label, name, overrides in (("gan", "gan", {}), ("dcgan", "dcgan", {}), ("wgan_gp", "wgan_gp", {}),
                               ("dcgan_ema", "dcgan", {"ema_decay": 0.9})):
    start, single = one_step(name, tf.distribute.OneDeviceStrategy("/cpu:0"), **overrides)
    # CPU collectives can reorder the two optimizers' all-reduces between replicas
    # (a "shape mismatch in the collective instance" abort), so reduce to one device.
    mirrored_strategy = tf.distribute.MirroredStrategy(
        ["/cpu:0", "/cpu:1"], cross_device_ops=tf.distribute.ReductionToOneDevice())
    _, mirrored = one_step(name, mirrored_strategy, weights=start, **overrides)
    moved = max(float(np.abs(a - b).max()) for a, b in zip(start, single.get_weights()))
    assert 1e-4 < moved < 1.0, f"{name}: the step did not move the weights"
    results[label] = max(float(np.abs(a - b).max()) for a, b in zip(single.get_weights(), mirrored.get_weights()))
print("MAXDIFF " + " ".join(f"{k}={v:.3g}" for k, v in results.items()))
