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

from tfgan_models.models.generative import replicas_on_cpu

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


def jit_compile(value, strategy=None):
    """``"auto"`` / ``"on"`` / ``"off"`` (or a bool) -> what ``GenerativeModel.compile`` takes.

    With a ``strategy`` that syncs several replicas on CPUs (two workers on CPU, logical CPU devices), XLA
    is off: it has no collectives for CPU devices ("not yet implemented", b/194942685), so ``auto`` means
    off and ``on`` is refused.
    """
    if not isinstance(value, bool) and value not in JIT_CHOICES:
        raise ValueError(f"--jit-compile takes auto, on or off, received {value!r}.")
    choice = value if isinstance(value, bool) else {"auto": "auto", "on": True, "off": False}[value]
    if choice is not False and strategy is not None and replicas_on_cpu(strategy):
        if choice is True:
            raise ValueError("--jit-compile on cannot run with --distribute over CPU devices: XLA has no "
                             "collective ops for CPUs; use --jit-compile off (or auto) there.")
        return False
    return choice


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
        try:
            return _MultiWorkerStrategy()
        except RuntimeError as err:  # "Collective ops must be configured at program startup"
            raise ValueError("--distribute multi_worker: the strategy must exist before any TensorFlow op runs "
                             "in the process; in Python, call execution.strategy('multi_worker') first and pass "
                             f"it on ({err}).") from None
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


class _MultiWorkerStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """``MultiWorkerMirroredStrategy`` whose ``reduce`` accepts scalars with ``axis=0``.

    Keras 3's ``fit`` reduces the step's logs across workers with
    ``strategy.reduce("MEAN", value, axis=0)``; the logs are scalars, so every
    multi-worker ``fit`` fails with "Invalid reduction dimension 0 for input
    with 0 dimensions" (tensorflow/tensorflow#72388). A scalar has nothing to
    reduce along an axis: it is reduced across workers only.
    """

    def reduce(self, reduce_op, value, axis):
        if axis is not None:
            local = self.experimental_local_results(value)
            if all(getattr(getattr(v, "shape", None), "rank", None) == 0 for v in local):
                axis = None
        return super().reduce(reduce_op, value, axis)


def is_chief(strategy):
    """Whether this process writes the run's files: always, but for the non-chief workers of
    ``multi_worker`` (the chief is task ``chief``, or worker 0 when the cluster has no ``chief``)."""
    return bool(strategy.extended.should_checkpoint)


def worker_directory(out, strategy):
    """Where this process writes its run files: ``out`` for the chief (and any one-process run);
    ``out/.worker_<i>`` for the other workers of a ``multi_worker`` run.

    Keras's multi-worker convention: every worker runs the callbacks (saving
    may need all of them), but only the chief's files are the run's. Each
    other worker keeps its own checkpoints, backups and logs in a hidden
    folder, so workers sharing one file system never write the same file, and
    each resumes from its own backup after a crash, at the chief's epoch.
    """
    if is_chief(strategy):
        return out
    return os.path.join(out, f".worker_{int(strategy.cluster_resolver.task_id)}")


def shard_by_examples(dataset):
    """``dataset`` with the ``tf.data`` auto-shard policy ``DATA``: under ``multi_worker`` each worker
    iterates the same (seeded) pipeline and keeps its replicas' slices of every global batch.

    So N workers train on exactly the batches one process would. The default
    policy (``AUTO``) would shard a file-based pipeline (TFDS) by files, giving
    each worker different examples (and failing with fewer files than workers).
    Other strategies ignore the option.
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)
