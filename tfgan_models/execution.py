"""How a run executes: numeric precision, XLA, and the ``tf.distribute`` strategy.

None of this changes what a model computes (within rounding); it is recorded in
``config.json`` apart from the model's settings, so a run can resume on another
machine or another number of devices.

* ``mixed_precision``: ``None`` (float32), ``"float16"`` (``mixed_float16``:
  float16 compute, float32 variables, dynamic loss scaling) or ``"bfloat16"``
  (``mixed_bfloat16``: no loss scaling needed). Network outputs and
  discriminator logits stay float32.
* ``jit_compile``: ``"auto"`` (the variant's measured default, see
  ``GenerativeModel.jit_compile_auto``), ``"on"`` or ``"off"``.
* ``distribute``: ``None`` (one device), ``"mirrored"`` (all local GPUs),
  ``"multi_worker"`` (``MultiWorkerMirroredStrategy``; each worker reads its
  role from ``TF_CONFIG``) or ``"tpu"`` (``TPUStrategy``; the TPU named by
  ``TPU_NAME``, or the local one).
"""

import contextlib
import os

import keras
import tensorflow as tf

PRECISIONS = {None: "float32", "float32": "float32", "float16": "mixed_float16", "bfloat16": "mixed_bfloat16"}
JIT_CHOICES = ("auto", "on", "off")
STRATEGIES = ("mirrored", "multi_worker", "tpu")


def policy_name(mixed_precision):
    """The Keras dtype policy name of a ``mixed_precision`` setting."""
    if mixed_precision not in PRECISIONS:
        raise ValueError(f"--mixed-precision takes float16 or bfloat16, received {mixed_precision!r}.")
    return PRECISIONS[mixed_precision]


@contextlib.contextmanager
def precision(mixed_precision):
    """Builds layers under the dtype policy of ``mixed_precision`` inside the block, then restores the old one."""
    name = policy_name(mixed_precision)
    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)


def jit_compile(value):
    """``"auto"`` / ``"on"`` / ``"off"`` (or a bool) -> what ``GenerativeModel.compile`` takes."""
    if isinstance(value, bool):
        return value
    if value not in JIT_CHOICES:
        raise ValueError(f"--jit-compile takes auto, on or off, received {value!r}.")
    return {"auto": "auto", "on": True, "off": False}[value]


def strategy(name):
    """The ``tf.distribute`` strategy called ``name`` (``None``: the default one-device strategy).

    Create it first thing in the process: ``MultiWorkerMirroredStrategy`` must
    exist before any other TensorFlow op runs.
    """
    if name is None:
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError("--distribute multi_worker needs TF_CONFIG in the environment of every worker "
                             "(cluster addresses and this worker's task; see the README).")
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=os.environ.get("TPU_NAME", ""))
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
        except (ValueError, tf.errors.OpError) as err:
            raise ValueError(f"--distribute tpu: no TPU found ({str(err).splitlines()[0]}); set TPU_NAME or run on "
                             "a TPU VM.") from None
        return tf.distribute.TPUStrategy(resolver)
    raise ValueError(f"--distribute takes {', '.join(STRATEGIES)}, received {name!r}.")
