"""Training collapse: detect it and stop, keeping the last weights from before it; standing statistics.

BigGAN's users report collapse that comes without warning after hours of
training (ajbrock/BigGAN-PyTorch#75, #91, #92); the authors keep checkpoints
"taken just before collapse". The signature (Brock et al. 2018, sec. 4.1):
the discriminator's loss falls to (near) zero, i.e. it separates real from
fake with margin, while the generator's loss keeps rising.
"""

import math
import os
import shutil

import keras


class TrainingCollapseError(RuntimeError):
    """Training collapsed (see :class:`CollapseDetector`); training stopped before saving the collapsed epoch."""


class CollapseDetector(keras.callbacks.Callback):
    """Stops training when the GAN collapses: ``d_loss <= d_floor`` with ``g_loss`` rising, ``patience`` epochs running.

    At the end of every epoch (before the checkpoint callbacks that follow it
    in the list write that epoch), an epoch is *suspect* when its mean
    ``d_loss`` is at most ``d_floor`` and its mean ``g_loss`` exceeds the
    previous epoch's. When a run of suspect epochs starts and ``checkpoint_dir``
    holds ``model.keras`` / ``generator.keras`` (the previous, healthy epoch),
    they are copied to ``checkpoint_dir/before_collapse/``. After ``patience``
    suspect epochs in a row it raises :class:`TrainingCollapseError`, naming
    the epochs, the losses and the kept copy; with ``stop=False`` it only
    warns and records ``collapsed_at`` (1-based epoch) instead.
    """

    FILES = ("model.keras", "generator.keras")

    def __init__(self, patience=3, d_floor=0.05, checkpoint_dir=None, stop=True, d_key="d_loss", g_key="g_loss"):
        super().__init__()
        if int(patience) < 1:
            raise ValueError(f"patience must be >= 1, received {patience!r}.")
        self.patience, self.d_floor, self.stop = int(patience), float(d_floor), bool(stop)
        self.checkpoint_dir, self.d_key, self.g_key = checkpoint_dir, d_key, g_key
        self.streak, self.previous_g, self.collapsed_at, self.kept = [], None, None, None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.d_key not in logs or self.g_key not in logs:
            return
        d_loss, g_loss = float(logs[self.d_key]), float(logs[self.g_key])
        rising = self.previous_g is not None and g_loss > self.previous_g
        self.previous_g = g_loss
        if not (math.isfinite(d_loss) and d_loss <= self.d_floor and rising):
            self.streak = []
            return
        if not self.streak:
            self.kept = self._keep_healthy()
        self.streak.append((epoch + 1, d_loss, g_loss))
        if len(self.streak) < self.patience or self.collapsed_at is not None:
            return
        self.collapsed_at = self.streak[0][0]
        first, last = self.streak[0], self.streak[-1]
        message = (f"training collapsed: {self.d_key} <= {self.d_floor:g} with {self.g_key} rising for "
                   f"{len(self.streak)} epochs (epochs {first[0]}-{last[0]}: {self.d_key} {last[1]:.4f}, "
                   f"{self.g_key} {first[2]:.3f} -> {last[2]:.3f}).")
        if self.kept:
            message += f" The weights from before it are kept in {self.kept}."
        if self.stop:
            self.model.stop_training = True
            raise TrainingCollapseError(message)
        print(f"warning: {message}")

    def _keep_healthy(self):
        if not self.checkpoint_dir or not os.path.exists(os.path.join(self.checkpoint_dir, self.FILES[0])):
            return None
        target = os.path.join(self.checkpoint_dir, "before_collapse")
        os.makedirs(target, exist_ok=True)
        for name in self.FILES:
            source = os.path.join(self.checkpoint_dir, name)
            if os.path.exists(source):
                shutil.copyfile(source, os.path.join(target, name + ".tmp"))
                os.replace(os.path.join(target, name + ".tmp"), os.path.join(target, name))
        return target


class StandingStatistics(keras.callbacks.Callback):
    """Recomputes the inference generator's batch-norm statistics over ``samples`` draws at every epoch end
    (``model.standing_statistics``; BigGAN app. C.1), before the checkpoint callbacks after it save it."""

    def __init__(self, samples=2048):
        super().__init__()
        self.samples = int(samples)

    def on_epoch_end(self, epoch, logs=None):
        self.model.standing_statistics(self.samples)
