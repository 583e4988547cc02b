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


class DivergenceError(NonFiniteLossError):
    """A loss exploded (finite but beyond the guard's bound, or a sudden jump); training was stopped."""


class NaNGuard(keras.callbacks.Callback):
    """Stops training at a non-finite or exploding loss, before any later callback saves the weights.

    The logs are read every ``check_every`` steps and at each epoch's end, not
    every step: reading a loss waits for the device (a host sync), which slows
    training. A loss is *exploding* when the mean of a window of steps exceeds
    ``max_loss`` in magnitude, or ``jump`` times the largest magnitude of the
    earlier windows of the run (at least 1). Either raises from the batch or
    epoch end (:class:`NonFiniteLossError`, :class:`DivergenceError`), so no
    checkpoint, sample grid or backup of that epoch is written: the last
    checkpoint is the one of the last epoch whose every window was healthy.
    """

    def __init__(self, checkpoint_hint="", check_every=100, max_loss=1e6, jump=1e3):
        super().__init__()
        if int(check_every) < 1:
            raise ValueError(f"check_every must be >= 1, received {check_every!r}.")
        self.checkpoint_hint, self.check_every = checkpoint_hint, int(check_every)
        self.max_loss, self.jump = float(max_loss), float(jump)
        self.epoch, self.scale = 0, {}

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.seen, self.batches, self.last = epoch, 0, 0, {}

    def on_train_batch_end(self, batch, logs=None):
        self.batches = batch + 1  # a Python int: no host sync
        if self.batches - self.seen >= self.check_every:
            self.check(logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.batches > self.seen:
            self.check({k: v for k, v in (logs or {}).items() if not k.startswith("val_")})

    def check(self, logs):
        """Reads the epoch's running means in ``logs`` after ``self.batches`` steps: one host sync."""
        steps, where = self.batches, f"epoch {self.epoch + 1}, steps {self.seen + 1}-{self.batches}"
        for name, value in (logs or {}).items():
            if name == "skipped_steps":  # a count, not a loss
                continue
            mean = float(value)
            if not math.isfinite(mean):
                self.stop(NonFiniteLossError, f"{name} became {mean} ({where})")
            before, n = self.last.get(name, (0.0, 0))
            window = (mean * steps - before * n) / max(steps - n, 1)  # this window's mean, from running means
            limit = self.max_loss if name not in self.scale else min(self.max_loss, self.jump * max(1.0, self.scale[name]))
            if abs(window) > limit:
                self.stop(DivergenceError, f"{name} exploded to {window:.3g} ({where}; limit {limit:.3g})")
            self.last[name] = (mean, steps)
            self.scale[name] = max(self.scale.get(name, 0.0), abs(window))
        self.seen = steps

    def stop(self, error, what):
        self.model.stop_training = True
        raise error(f"{what}; training stopped. {self.checkpoint_hint}".strip())


class AtomicBackup(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` whose state survives a kill at any instant, with a fallback when it is damaged.

    Each epoch's state (weights, optimizer states, epoch) is written to
    ``backup_dir/epoch_NNNN.partial/`` and then renamed to ``epoch_NNNN/`` in
    one step by :meth:`writer`, the run's last callback; the previous folder is kept until the next one is
    complete. On
    resume the newest complete folder is restored; if it cannot be loaded, the
    one before it, and then ``fallback`` (the run's ``model.keras``, at the
    epoch of the last row of ``history``), each with a warning. The folder is
    removed when training ends.
    """

    def __init__(self, backup_dir, fallback=None, history=None):
        super().__init__(backup_dir, save_freq="epoch", delete_checkpoint=True)
        self.fallback, self.history = fallback, history

    def _folders(self):
        """Complete backups, newest first."""
        if not os.path.isdir(self.backup_dir):
            return []
        names = [n for n in os.listdir(self.backup_dir) if n.startswith("epoch_") and n[6:].isdigit()]
        return [os.path.join(self.backup_dir, n) for n in sorted(names, reverse=True)]

    def on_train_begin(self, logs=None):
        import shutil
        import warnings

        folders = self._folders()
        for i, folder in enumerate(folders):
            try:
                self.model.load_weights(os.path.join(folder, "state.weights.h5"))
                self.model._initial_epoch = int(read_json(os.path.join(folder, "epoch.json"))["epoch"])
                return
            except Exception as err:  # a damaged file: any reader error
                following = "an older backup" if i + 1 < len(folders) else "the last checkpoint"
                warnings.warn(f"backup {folder} cannot be restored ({type(err).__name__}: "
                              f"{str(err).splitlines()[0] if str(err) else ''}); trying {following}.", stacklevel=2)
                shutil.rmtree(folder, ignore_errors=True)
        if folders and self.fallback and os.path.exists(self.fallback):
            rows = read_json(self.history) if self.history and os.path.exists(self.history) else []
            self.model.load_weights(self.fallback)
            self.model._initial_epoch = int(rows[-1]["epoch"]) if rows else 0
            warnings.warn(f"resuming from {self.fallback} at epoch {self.model._initial_epoch}.", stacklevel=2)

    def on_epoch_end(self, epoch, logs=None):
        pass  # saved by writer(), the last callback: the resume point never runs ahead of the checkpoint or history

    def writer(self):
        """The callback that saves the backup; put it after every other callback."""
        backup = self

        class Writer(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                backup.save(epoch)

        return Writer()

    def save(self, epoch):
        import shutil

        final = os.path.join(self.backup_dir, f"epoch_{epoch + 1:04d}")
        partial = final + ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        os.makedirs(partial)
        self.model.save_weights(os.path.join(partial, "state.weights.h5"))
        write_json(os.path.join(partial, "epoch.json"), {"epoch": epoch + 1})
        shutil.rmtree(final, ignore_errors=True)
        os.replace(partial, final)  # a complete backup appears in one step
        for old in self._folders()[2:]:  # keep this one and the one before it
            shutil.rmtree(old, ignore_errors=True)
        for name in os.listdir(self.backup_dir):
            if name.endswith(".partial"):
                shutil.rmtree(os.path.join(self.backup_dir, name), ignore_errors=True)


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
