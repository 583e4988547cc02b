"""Callbacks for GAN training: sample grids, NaN guard, atomic checkpoints, history."""

import math
import os

import keras
import tensorflow as tf

from tfgan_models.callbacks.images import encode_png, samples_picture
from tfgan_models.io import atomic_path, read_json, write_bytes, write_json


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or infinite; training was stopped before saving anything of it."""


class SampleGrid(keras.callbacks.Callback):
    """Writes a PNG of samples from *fixed* generator inputs after every ``every`` epochs.

    The inputs are ``model.generate(n, seed=seed)``'s: every input the model
    declares, drawn from its prior with the same seed each time.

    Files go to ``directory/epoch_0001.png`` ...; with ``log_dir`` the picture
    is also logged to TensorBoard as ``samples``. Images become a grid, 2-D
    points a scatter picture.
    """

    def __init__(self, directory, n=64, seed=0, every=1, log_dir=None):
        super().__init__()
        self.directory, self.n, self.seed, self.every, self.log_dir = directory, n, seed, every, log_dir
        self._writer = None

    def on_train_begin(self, logs=None):
        if self.log_dir:
            self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, "samples"))

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        if hasattr(self.model, "sample_picture"):  # image-to-image variants: a before/after picture
            picture = self.model.sample_picture(seed=self.seed)
        else:
            picture = samples_picture(self.model.generate(self.n, seed=self.seed))
        write_bytes(os.path.join(self.directory, f"epoch_{epoch + 1:04d}.png"), encode_png(picture))
        if self._writer is not None:
            with self._writer.as_default():
                tf.summary.image("samples", picture[None], step=epoch + 1)
            self._writer.flush()


class NaNGuard(keras.callbacks.Callback):
    """Stops training at the first non-finite loss, naming the step.

    It raises :class:`NonFiniteLossError` from the batch end, so no later
    callback (checkpoint, sample grid, backup) ever writes the diverged
    weights: the last good checkpoint stays as it was.
    """

    def __init__(self, checkpoint_hint=""):
        super().__init__()
        self.checkpoint_hint = checkpoint_hint
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        for name, value in (logs or {}).items():
            value = float(value)
            if not math.isfinite(value):
                step = int(self.model.g_optimizer.iterations.numpy())
                self.model.stop_training = True
                raise NonFiniteLossError(
                    f"{name} became {value} at training step {step} (epoch {self.epoch + 1}, "
                    f"batch {batch + 1}); training stopped. {self.checkpoint_hint}".strip()
                )


class AtomicCheckpoint(keras.callbacks.Callback):
    """Saves the whole GAN and its inference generator after every epoch, atomically.

    ``model_path`` (e.g. ``run/model.keras``) can be reloaded with
    ``keras.models.load_model`` and trained further; ``generator_path`` holds
    the generator used for sampling and export (the EMA one when enabled).
    """

    def __init__(self, model_path, generator_path=None):
        super().__init__()
        self.model_path, self.generator_path = model_path, generator_path

    def on_epoch_end(self, epoch, logs=None):
        with atomic_path(self.model_path) as tmp:
            self.model.save(tmp)
        if self.generator_path:
            with atomic_path(self.generator_path) as tmp:
                self.model.inference_generator.save(tmp)
            if getattr(self.model, "two_way", False):  # translation both ways: b -> a beside a -> b
                with atomic_path(reverse_generator_path(self.generator_path)) as tmp:
                    self.model.inference_reverse_generator.save(tmp)


def reverse_generator_path(generator_path):
    """``run/generator.keras`` -> ``run/generator_b_to_a.keras`` (two-way translation runs)."""
    root, ext = os.path.splitext(generator_path)
    return f"{root}_b_to_a{ext}"


class LinearDecay(keras.callbacks.Callback):
    """CycleGAN's schedule: both optimizers keep their learning rate for ``constant_epochs``, then it
    decays linearly to 0 over ``decay_epochs`` (Zhu et al. 2017, sec. 4: 100 + 100 epochs).

    The rate of epoch ``e`` (0-based) is ``lr0 * (1 - max(0, e + 1 - constant_epochs) / (decay_epochs + 1))``
    as in the authors' code, so the last epoch still trains; it is set from the epoch index, so a
    resumed run continues on the same schedule.
    """

    def __init__(self, constant_epochs, decay_epochs):
        super().__init__()
        if int(constant_epochs) < 0 or int(decay_epochs) < 0:
            raise ValueError(f"epochs must be >= 0, received {constant_epochs} and {decay_epochs}.")
        self.constant_epochs, self.decay_epochs = int(constant_epochs), int(decay_epochs)
        self.initial = None

    def factor(self, epoch):
        return 1.0 - max(0, epoch + 1 - self.constant_epochs) / float(self.decay_epochs + 1)

    def on_epoch_begin(self, epoch, logs=None):
        if self.initial is None:  # the rates now were set for the previous epoch (or restored from a backup)
            before = self.factor(epoch - 1) if epoch else 1.0
            self.initial = [float(opt.learning_rate) / before
                            for opt in (self.model.g_optimizer, self.model.d_optimizer)]
        for opt, lr in zip((self.model.g_optimizer, self.model.d_optimizer), self.initial):
            opt.learning_rate.assign(lr * self.factor(epoch))


class HistoryLog(keras.callbacks.Callback):
    """Appends each epoch's logs to a JSON list, atomically; keeps earlier epochs on resume.

    ``extra`` (e.g. ``{"phase": "4x4"}``) is added to every row written.
    """

    def __init__(self, path, extra=None):
        super().__init__()
        self.path, self.extra = path, dict(extra or {})

    def on_train_begin(self, logs=None):
        self.rows = read_json(self.path) if os.path.exists(self.path) else []

    def on_epoch_end(self, epoch, logs=None):
        self.rows = [r for r in self.rows if r["epoch"] < epoch + 1]  # an epoch redone after a crash
        self.rows.append({"epoch": epoch + 1, **self.extra, **{k: float(v) for k, v in (logs or {}).items()}})
        write_json(self.path, self.rows)
