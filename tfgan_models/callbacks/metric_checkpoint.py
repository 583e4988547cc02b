"""`BestMetricCheckpoint`: score the generator every N epochs and keep the best model.

GAN losses do not say when samples are good, and quality is not monotone in
training time: StudioGAN's DCGAN (CIFAR-10) log reaches FID 49 at its best
step and ends at 137, so the last checkpoint is not the best one. This
callback scores the model with a chosen metric every few epochs, puts the
value in the epoch logs (History, ``history.json``, TensorBoard) and saves the
model whenever the value improves.
"""

import math
import os

import keras
import tensorflow as tf

from tfgan_models.io import atomic_path, read_json, write_json


class BestMetricCheckpoint(keras.callbacks.Callback):
    """Computes ``metric_fn(model)`` every ``every`` epochs; saves the model when it improves.

    Why: "last" is not "best" for GANs (StudioGAN's DCGAN log: FID 49 at the
    best step, 137 at the end), and a metric computed on the fly is the only
    way to know which epoch to keep.

    * The value goes into the epoch ``logs`` under ``name``, so callbacks after
      this one (History, ``HistoryLog`` -> ``history.json``, Keras's
      TensorBoard) see it. Place it *before* them in the callback list; in
      ``model.fit(callbacks=[...])`` Keras's own History always comes last.
      Epochs in between have no entry.
    * With ``log_dir``, the value is also written as the TensorBoard scalar
      ``name`` under ``log_dir/metrics`` at step ``epoch + 1``.
    * With ``filepath`` (e.g. ``run/best.keras``), the whole model is saved
      there atomically (a reader never sees half a file) when the value
      improves on the best so far, and ``<filepath minus .keras>.json`` records
      ``{"metric", "mode", "value", "epoch"}``. That record is read back at
      the start of training, so a resumed run (``BackupAndRestore``) does not
      overwrite a better checkpoint with a worse one.
    * A NaN value is logged but never counts as an improvement.

    Args:
        metric_fn: ``model -> float``, e.g. :func:`digits_fid_metric` or
            :func:`generator_metric`.
        every: compute it after epochs ``every``, ``2 * every``, ...
        mode: ``"min"`` (FID, KID) or ``"max"`` (IS, precision, accuracy).
        filepath: where to keep the best model; ``None`` only logs.
        name: the key in the logs and the TensorBoard tag.
        log_dir: TensorBoard directory (e.g. ``run/logs``), or ``None``.
        verbose: 1 prints each value and each save.
    """

    def __init__(self, metric_fn, every=1, mode="min", filepath=None, name="fid", log_dir=None, verbose=0):
        super().__init__()
        if not callable(metric_fn):
            raise ValueError(f"metric_fn must be a callable model -> float, received {metric_fn!r}.")
        if int(every) < 1:
            raise ValueError(f"every must be >= 1 (epochs), received {every!r}.")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', received {mode!r}.")
        if filepath is not None and not str(filepath).endswith(".keras"):
            raise ValueError(f"filepath must end in .keras, received {filepath!r}.")
        self.metric_fn, self.every, self.mode, self.filepath = metric_fn, int(every), mode, filepath
        self.name, self.log_dir, self.verbose = name, log_dir, verbose
        self.record_path = None if filepath is None else os.path.splitext(filepath)[0] + ".json"
        self.best, self.best_epoch = None, None
        self._writer = None

    def on_train_begin(self, logs=None):
        self.best, self.best_epoch = None, None
        if self.record_path and os.path.exists(self.record_path) and os.path.exists(self.filepath):
            record = read_json(self.record_path)
            if record.get("metric") == self.name and record.get("mode") == self.mode:
                self.best, self.best_epoch = float(record["value"]), int(record["epoch"])
        if self.log_dir and self._writer is None:
            self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, "metrics"))

    def improved(self, value):
        if not math.isfinite(value):
            return False
        if self.best is None:
            return True
        return value < self.best if self.mode == "min" else value > self.best

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        value = float(self.metric_fn(self.model))
        if logs is not None:
            logs[self.name] = value
        if self._writer is not None:
            with self._writer.as_default():
                tf.summary.scalar(self.name, value, step=epoch + 1)
            self._writer.flush()
        message = f"epoch {epoch + 1}: {self.name} = {value:.4g}"
        if self.improved(value):
            self.best, self.best_epoch = value, epoch + 1
            if self.filepath:
                with atomic_path(self.filepath) as tmp:
                    self.model.save(tmp)
                write_json(self.record_path, {"metric": self.name, "mode": self.mode, "value": value,
                                              "epoch": epoch + 1})
                message += f" (best so far; saved {self.filepath})"
        else:
            message += f" (best {self.best:.4g} at epoch {self.best_epoch})" if self.best is not None else ""
        if self.verbose:
            print(message)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def generator_metric(metric, real=None, n=1000, seed=0, key=None, batch_size=500):
    """A ``metric_fn(model)`` scoring ``n`` samples of ``model.generate`` with a package metric.

    Args:
        metric: a metric of :mod:`tfgan_models.metrics` taking ``update_state(real=, fake=)``
            (FID, KID, precision/recall), or ``update_state(fake)`` when ``real`` is
            ``None`` (Inception Score).
        real: real images ``(N, H, W, C)`` in [-1, 1]; their features are
            extracted once, at the first call, and kept (``reset_fake_state``).
        n, seed: the same ``n`` latents (from ``seed``) at every call, so the
            values of successive epochs differ by the generator, not by the draw.
            Conditional models cycle their labels, InfoGAN draws its codes.
        key: the entry to return when ``metric.result()`` is a dict
            (``"precision"`` or ``"recall"``).
    """
    state = {"real_done": False}

    def metric_fn(model):
        if real is None:
            metric.reset_state()
        elif not state["real_done"]:
            metric.reset_state()
            for i in range(0, len(real), batch_size):
                metric.update_state(real=real[i : i + batch_size])
            state["real_done"] = True
        else:
            metric.reset_fake_state()
        samples = model.generate(int(n), seed=seed)
        for i in range(0, len(samples), batch_size):
            chunk = samples[i : i + batch_size]
            metric.update_state(chunk) if real is None else metric.update_state(fake=chunk)
        value = metric.result()
        if isinstance(value, dict):
            if key not in value:
                raise ValueError(f"{metric.name} returns {sorted(value)}: pass key= one of them.")
            value = value[key]
        return float(value)

    metric_fn.__name__ = f"{metric.name}_of_generator"
    return metric_fn


def digits_fid_metric(n=1000, seed=0, image_size=None):
    """A ``metric_fn(model)``: the digits Fréchet distance of ``n`` samples vs the digits train split.

    Uses the package's offline digits features
    (:class:`~tfgan_models.metrics.features.DigitsFeatures`) at the model's
    image size (or ``image_size``); the real features are computed once per
    size. Works for every 1-channel image variant; conditional models'
    ``generate(n)`` cycles through the labels, so all classes are scored.
    """
    from tfgan_models.data import digits_arrays
    from tfgan_models.metrics.features import DigitsFeatures
    from tfgan_models.metrics.fid import FrechetInceptionDistance

    per_size = {}

    def metric_fn(model):
        shape = tuple(model.data_shape)
        if len(shape) != 3 or shape[-1] != 1 or shape[0] != shape[1]:
            raise ValueError(f"digits_fid_metric scores square 1-channel images; {model.name} "
                             f"generates {shape}.")
        size = int(image_size or shape[0])
        if size not in per_size:
            fid = FrechetInceptionDistance(features=DigitsFeatures(size), name="digits_fid")
            per_size[size] = generator_metric(fid, real=digits_arrays("train", size)[0], n=n, seed=seed)
        return per_size[size](model)

    metric_fn.__name__ = "digits_fid"
    return metric_fn

