"""Run directories under stress: a real SIGKILL, a damaged backup, divergence, zero steps, --overwrite,
extending a finished run, and plain logs when stdout is not a terminal."""

import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import keras
import numpy as np
import pytest

import tfgan_models.models  # noqa: F401  registers the classes keras.models.load_model needs
from tfgan_models import runs
from tfgan_models.callbacks import DivergenceError, NaNGuard

TFGAN = [sys.executable, "-m", "tfgan_models.cli"]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}


def _history(out):
    path = os.path.join(out, "history.json")
    try:
        return json.load(open(path)) if os.path.exists(path) else []
    except ValueError:
        return []


def _check_no_partial_file(out, temporaries_allowed=False):
    """Every file of the run is complete: JSON parses, .keras / .h5 are whole archives, PNGs end with IEND.
    A killed writer may leave a ``.tmp-*`` file or an ``epoch_N.partial`` backup folder (never read, removed
    by the next run) but never a damaged file."""
    for root, _, files in os.walk(out):
        for name in files:
            path = os.path.join(root, name)
            if temporaries_allowed and (name.startswith(".tmp-") or root.endswith(".partial")):
                continue
            assert not name.startswith(".tmp-"), f"a half-written temporary file is left: {path}"
            if name.endswith(".json"):
                json.load(open(path))
            elif name.endswith(".keras"):
                assert zipfile.ZipFile(path).testzip() is None
            elif name.endswith(".h5"):
                import h5py

                h5py.File(path, "r").close()
            elif name.endswith(".png"):
                assert open(path, "rb").read()[-8:-4] == b"IEND", path


def test_sigkill_mid_epoch_resumes_from_the_last_finished_epoch(tmp_path):
    out = str(tmp_path / "run")
    cmd = TFGAN + ["train", "dcgan", "--preset", "tiny", "--epochs", "5", "--steps-per-epoch", "150",
                   "--batch-size", "4", "--out", out]
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while len(_history(out)) < 2 and proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, f"training ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
        assert len(_history(out)) == 2, "two epochs did not finish in time"
        time.sleep(0.3)  # inside epoch 3 (an epoch takes a few seconds)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    finished = len(_history(out))
    assert finished in (2, 3)
    assert json.load(open(os.path.join(out, "config.json")))["status"] == "running"
    _check_no_partial_file(out, temporaries_allowed=True)
    # The resume point is the newest complete backup. The backup is the last thing an epoch writes, so a kill
    # between history.json and the backup's rename leaves it one epoch behind history: that epoch is redone
    # (and its history row replaced), so at most the epoch the kill landed in is lost.
    newest = sorted(n for n in os.listdir(os.path.join(out, "backup")) if not n.endswith(".partial"))[-1]
    backup = json.load(open(os.path.join(out, "backup", newest, "epoch.json")))["epoch"]
    assert newest == f"epoch_{backup:04d}" and backup in (finished - 1, finished)
    again = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=240)
    assert again.returncode == 0, again.stderr[-3000:]
    history = _history(out)
    assert [r["epoch"] for r in history] == [1, 2, 3, 4, 5]
    assert json.load(open(os.path.join(out, "config.json")))["status"] == "complete"
    model = keras.models.load_model(os.path.join(out, "model.keras"))
    assert int(model.g_optimizer.iterations) == 5 * 150  # no step done twice or skipped
    assert not os.path.exists(os.path.join(out, "backup"))
    _check_no_partial_file(out)


def test_damaged_backup_falls_back_with_a_warning(tmp_path):
    """A truncated backup file (the state a Ctrl-C left before writes were atomic) is not fatal."""
    settings = runs.run_settings("dcgan", "tiny", epochs=3)
    out = str(tmp_path / "run")

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        runs.train(settings, out, callbacks=[Interrupt()])
    newest = os.path.join(out, "backup", "epoch_0002", "state.weights.h5")
    data = open(newest, "rb").read()
    open(newest, "wb").write(data[: len(data) // 3])
    with pytest.warns(UserWarning, match="cannot be restored"):
        runs.train(settings, out)
    assert [r["epoch"] for r in _history(out)] == [1, 2, 3]
    model = keras.models.load_model(os.path.join(out, "model.keras"))
    assert int(model.g_optimizer.iterations) == 3 * 2  # epoch 2 redone from the epoch-1 backup


def test_divergence_stops_and_keeps_the_checkpoint_from_before(tmp_path):
    """At a learning rate of 1e9 the losses explode while staying finite: the guard stops, the run is not marked
    complete, and model.keras is the last epoch before the explosion."""

    class Explode(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                for opt in (self.model.g_optimizer, self.model.d_optimizer):
                    opt.learning_rate.assign(1e9)

    settings = runs.run_settings("dcgan", "tiny", epochs=4, steps_per_epoch=3)
    out = str(tmp_path / "run")
    with pytest.raises(DivergenceError, match="exploded"):
        runs.train(settings, out, callbacks=[Explode()], guard={"check_every": 1})
    model = keras.models.load_model(os.path.join(out, "model.keras"))
    assert int(model.g_optimizer.iterations) == 3
    assert json.load(open(os.path.join(out, "config.json")))["status"] == "running"


def test_guard_reads_the_losses_only_every_n_steps():
    """The guard converts logs to numbers (a host sync) only at its checks, and finds NaN from running means."""
    reads = []
    guard = NaNGuard(check_every=10)
    guard.set_model(keras.Sequential())
    guard.on_epoch_begin(0)
    logs = {"d_loss": 1.0}

    class Spy(dict):
        def items(self):
            reads.append(1)
            return super().items()

    for step in range(25):
        guard.on_train_batch_end(step, Spy(logs))
    assert len(reads) == 2  # after steps 10 and 20
    guard.on_train_batch_end(25, Spy({"d_loss": float("nan")}))
    with pytest.raises(Exception, match="became nan"):
        guard.on_epoch_end(0, {"d_loss": float("nan")})


def test_zero_steps_is_an_error_not_a_finished_run(tmp_path):
    settings = runs.run_settings("dcgan", "tiny", batch_size=4096, steps_per_epoch=2)
    with pytest.raises(ValueError, match="fewer than one batch"):
        runs.train(settings, str(tmp_path / "run"))
    assert not os.path.exists(os.path.join(tmp_path, "run", "model.keras"))


def test_overwrite_cleans_the_old_run_and_a_finished_run_can_be_extended(tmp_path):
    out = str(tmp_path / "run")
    runs.train(runs.run_settings("dcgan", "tiny", epochs=2), out)
    open(os.path.join(out, "notes.txt"), "w").write("mine")
    with pytest.raises(runs.RunError, match="larger --epochs"):
        runs.train(runs.run_settings("dcgan", "tiny", epochs=2), out)
    runs.train(runs.run_settings("dcgan", "tiny", epochs=3), out)  # continues: epoch 3 only
    assert [r["epoch"] for r in _history(out)] == [1, 2, 3]
    model = keras.models.load_model(os.path.join(out, "model.keras"))
    assert int(model.g_optimizer.iterations) == 3 * 2
    assert sorted(os.listdir(os.path.join(out, "samples"))) == [f"epoch_000{i}.png" for i in (1, 2, 3)]
    runs.train(runs.run_settings("dcgan", "tiny", epochs=1), out, overwrite=True)
    assert sorted(os.listdir(os.path.join(out, "samples"))) == ["epoch_0001.png"]
    assert [r["epoch"] for r in _history(out)] == [1]
    assert len(os.listdir(os.path.join(out, "logs", "train"))) == 1  # one TensorBoard event file, the new run's
    assert open(os.path.join(out, "notes.txt")).read() == "mine"  # files the run did not write stay


def test_plain_log_lines_when_stdout_is_not_a_terminal(tmp_path):
    out = str(tmp_path / "run")
    result = subprocess.run(TFGAN + ["train", "dcgan", "--preset", "tiny", "--epochs", "2", "--out", out],
                            env=ENV, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "\r" not in result.stdout and "\x1b" not in result.stdout
    epochs = [line for line in result.stdout.splitlines() if line.startswith("Epoch ")]
    assert len(epochs) == 2 and len(result.stdout) < 2000
    np.testing.assert_equal(len(_history(out)), 2)
