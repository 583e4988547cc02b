"""Run by test_distribute.py in a fresh process (logical devices must be set before TF starts).

Trains the same steps on one device and under MirroredStrategy over two
logical CPUs, from identical weights, optimizer state, data and seeds, and
prints one line per check, ``CHECK name key=value ...``:

* ``bn_sync`` / ``bn_local``: DCGAN with and without ``sync_batch_norm``:
  the largest difference of the batch-norm moving statistics and of all
  weights after one step (synchronised statistics are the global batch's).
* ``jit``: XLA is off over two CPU replicas (it has no CPU collectives).
* ``pool``: CycleGAN (image history of 2, global batch 2, two steps, so the
  history fills and then swaps): the largest difference of the trained
  weights, of the histories, and between the two replicas' copies.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402

from tfgan_models import execution, registry  # noqa: E402


def single():
    return tf.distribute.OneDeviceStrategy("/cpu:0")


def mirrored():
    # ReductionToOneDevice: CPU collectives may reorder two optimizers' all-reduces between replicas.
    return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"], cross_device_ops=tf.distribute.ReductionToOneDevice())


def trained(strategy, make, data, steps, weights=None):
    with strategy.scope():
        keras.utils.set_random_seed(0)
        model = make()
        model.compile(g_optimizer=keras.optimizers.SGD(0.05), d_optimizer=keras.optimizers.SGD(0.05))
        if weights is not None:
            model.set_weights(weights)
    start = model.get_weights()
    model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)
    return start, model


def maxdiff(a, b):
    return max(float(np.abs(np.asarray(x, "float64") - np.asarray(y, "float64")).max()) for x, y in zip(a, b))


def trainable(weights, model):
    """The entries of ``model.get_weights()``-ordered ``weights`` that are trainable weights."""
    ids = {id(w) for w in model.trainable_weights}
    return [value for value, w in zip(weights, model.weights) if id(w) in ids]


def moving_statistics(model):
    return [w.numpy() for net in (model.generator, model.discriminator) for w in net.weights
            if "moving_" in w.path]


def check_batch_norm(sync):
    make = lambda: registry.get("dcgan", "tiny", data_shape=(16, 16, 1), width=4, seed=3,  # noqa: E731
                                sync_batch_norm=sync)
    rng = np.random.RandomState(0)
    # Halves with different statistics, so per-replica statistics differ from the global batch's.
    x = np.tanh(rng.randn(16, 16, 16, 1) + np.repeat([-1.0, 1.0], 8)[:, None, None, None]).astype("float32")
    data = tf.data.Dataset.from_tensor_slices(x).batch(16, drop_remainder=True)
    start, one = trained(single(), make, data, 1)
    _, two = trained(mirrored(), make, data, 1, weights=start)
    stats_one, stats_two = moving_statistics(one), moving_statistics(two)
    assert len(stats_one) == 6, [w.path for w in one.generator.weights + one.discriminator.weights]
    moved = maxdiff(stats_one, moving_statistics(make()))  # from their initial values
    print(f"CHECK bn_{'sync' if sync else 'local'} stats={maxdiff(stats_one, stats_two):.3g} "
          f"weights={maxdiff(one.get_weights(), two.get_weights()):.3g} stats_moved={moved:.3g}")


def check_pool():
    make = lambda: registry.get("cyclegan", "tiny", pool_size=2, seed=5)  # noqa: E731
    rng = np.random.RandomState(1)
    a, b = (np.tanh(rng.randn(4, 16, 16, 3)).astype("float32") for _ in range(2))
    data = tf.data.Dataset.from_tensor_slices((a, b)).batch(2, drop_remainder=True)
    start, one = trained(single(), make, data, 2)
    _, two = trained(mirrored(), make, data, 2, weights=start)
    pools = [(m.pool_a.images, m.pool_b.images) for m in (one, two)]
    history = maxdiff([p.numpy() for p in pools[0]], [p.numpy() for p in pools[1]])
    replicas = [[c.numpy() for c in p.value.values] for p in pools[1]]  # each replica's copy
    between = max(maxdiff(r[:1], r[1:]) for r in replicas)
    filled = min(int(m.pool_a.count.numpy()) for m in (one, two))
    trained_one, trained_two = ([w.numpy() for w in m.trainable_weights] for m in (one, two))
    print(f"CHECK pool weights={maxdiff(trained_one, trained_two):.3g} history={history:.3g} "
          f"replicas={between:.3g} copies={len(replicas[0])} filled={filled} "
          f"moved={maxdiff(trainable(start, one), trained_one):.3g}")


def check_jit():
    """XLA has no collectives for CPU devices: ``auto`` is off over two CPU replicas, ``on`` refused."""
    two = mirrored()
    try:
        execution.jit_compile("on", two)
        refused = 0
    except ValueError:
        refused = 1
    print(f"CHECK jit auto_off={int(execution.jit_compile('auto', two) is False)} refused={refused} "
          f"one_device_on={int(execution.jit_compile('on', single()) is True)}")


check_jit()
check_batch_norm(True)
check_batch_norm(False)
check_pool()
