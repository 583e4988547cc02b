"""Run by test_biggan.py in a fresh process (logical devices must be set before TF starts).

BigGAN's cross-replica batch norm: the generator run in training mode over two
replicas (MirroredStrategy on two logical CPUs) gives each replica exactly its
slice of the single-device output on the global batch when ``cross_replica_bn``
is on, and not when it is off (each replica then normalises with its own half).
Then one full training step runs under the strategy. Prints one line per setting.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402

from tfgan_models import data, registry  # noqa: E402

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"],
                                          cross_device_ops=tf.distribute.ReductionToOneDevice())
rng = np.random.RandomState(0)
z = rng.randn(8, 12).astype("float32")
labels = (np.arange(8) % 10).astype("int32")
for synced in (True, False):
    with strategy.scope():
        keras.utils.set_random_seed(0)
        model = registry.get("biggan", "tiny", seed=0, cross_replica_bn=synced, ema_decay=None)
    weights = model.generator.get_weights()
    single = model.generator([z, labels], training=True).numpy()
    model.generator.set_weights(weights)  # undo the spectral-norm update of that call
    dataset = tf.data.Dataset.from_tensors((z, labels))
    batch = next(iter(strategy.experimental_distribute_dataset(dataset)))
    per_replica = strategy.run(lambda zz, yy: model.generator([zz, yy], training=True), args=batch)
    mirrored = np.concatenate([t.numpy() for t in strategy.experimental_local_results(per_replica)])
    print(f"SYNCED={synced} MAXDIFF={float(np.abs(single - mirrored).max()):.3g}")
    if synced:
        ds = data.load("digits", batch_size=model.data_batch_size(8), image_size=(16, 16), with_labels=True,
                       repeat=True, seed=0)
        history = model.fit(ds, epochs=1, steps_per_epoch=2, verbose=0).history
        print("FIT " + " ".join(f"{k}={v[-1]:.4g}" for k, v in sorted(history.items())))
