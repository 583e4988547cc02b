"""The tfgan command line and run directories, end to end on tiny presets."""

import json
import os

import keras
import numpy as np
import pytest
from PIL import Image

from tfgan_models import runs
from tfgan_models.callbacks import NonFiniteLossError
from tfgan_models.cli import main


def train_args(out, *extra):
    return ["train", "dcgan", "--preset", "tiny", "--epochs", "2", "--out", str(out), *extra]


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("gan", "dcgan", "lsgan", "wgan", "wgan_gp"):
        assert f"\n{name} " in "\n" + out
    assert "tiny" in out and "(default)" in out


def test_train_writes_the_run_directory(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(train_args(out)) == 0
    for name in ("model.keras", "generator.keras", "history.json", "config.json",
                 "samples/epoch_0001.png", "samples/epoch_0002.png"):
        assert (out / name).exists(), name
    assert not (out / "backup").exists()
    history = json.loads((out / "history.json").read_text())
    assert [r["epoch"] for r in history] == [1, 2]
    assert all(np.isfinite(r["d_loss"]) and np.isfinite(r["g_loss"]) for r in history)
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "complete" and config["settings"]["variant"] == "dcgan"
    model = keras.models.load_model(out / "model.keras")
    assert int(model.g_optimizer.iterations) == 4  # 2 epochs x 2 steps
    # A finished run is not silently retrained; --overwrite does it.
    assert main(train_args(out)) == 2
    assert "finished run" in capsys.readouterr().err
    assert main(train_args(out, "--overwrite")) == 0


def test_sample_png_and_npy(tmp_path):
    out = tmp_path / "run"
    assert main(train_args(out)) == 0
    assert main(["sample", str(out), "--n", "6", "--seed", "1", "--out", str(tmp_path / "s.npy")]) == 0
    array = np.load(tmp_path / "s.npy")
    assert array.shape == (6, 8, 8, 1) and array.dtype == np.uint8
    assert main(["sample", str(out), "--n", "6", "--seed", "1", "--out", str(tmp_path / "s2.npy")]) == 0
    np.testing.assert_array_equal(array, np.load(tmp_path / "s2.npy"))
    assert main(["sample", str(out), "--n", "9", "--out", str(tmp_path / "grid.png")]) == 0
    assert Image.open(tmp_path / "grid.png").size == (3 * 9 - 1, 3 * 9 - 1)


@pytest.mark.parametrize("argv, message", [
    (["train", "nope"], "unknown variant"),
    (["train", "dcgan", "--preset", "nope"], "unknown preset"),
    (["train", "dcgan", "--data", "bogus"], "unknown data spec"),
    (["train", "dcgan", "--data", "folder:/does/not/exist", "--out", "{tmp}/r"], "does not exist"),
    (["train", "dcgan", "--image-size", "30", "--out", "{tmp}/r"], "4 * 2^k"),
    (["train", "dcgan", "--epochs", "0"], "epochs must be >= 1"),
    (["sample", "{tmp}/missing", "--out", "{tmp}/x.png"], "does not exist"),
    (["sample", "{tmp}", "--out", "{tmp}/x.gif"], ".png or .npy"),
    (["bench", "nope"], "unknown benchmark suite"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, tmp_path, capsys):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "Traceback" not in err and len(err.splitlines()) == 1


class Interrupt(keras.callbacks.Callback):
    """Simulates a kill in the middle of epoch ``epoch`` (1-based)."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._epoch + 1 == self.epoch:
            raise KeyboardInterrupt

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch


def test_interrupted_run_resumes(tmp_path):
    settings = runs.run_settings("dcgan", "tiny", epochs=3)
    out = str(tmp_path / "run")
    with pytest.raises(KeyboardInterrupt):
        runs.train(settings, out, callbacks=[Interrupt(epoch=3)])
    assert os.path.isdir(os.path.join(out, "backup"))
    assert json.load(open(os.path.join(out, "config.json")))["status"] == "running"
    runs.train(settings, out)
    history = json.load(open(os.path.join(out, "history.json")))
    assert [r["epoch"] for r in history] == [1, 2, 3]
    model = keras.models.load_model(os.path.join(out, "model.keras"))
    assert int(model.g_optimizer.iterations) == 3 * 2  # no step done twice or skipped
    # Different settings in the same directory are refused, not mixed.
    with pytest.raises(runs.RunError, match="different run"):
        runs.train(runs.run_settings("wgan", "tiny"), out)


class Poison(keras.callbacks.Callback):
    """Makes the discriminator diverge at the start of epoch 2."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            w = self.model.discriminator.trainable_weights[0]
            w.assign(np.full(w.shape, np.nan, "float32"))


def test_nan_guard_names_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    settings = runs.run_settings("dcgan", "tiny", epochs=3)
    out = str(tmp_path / "run")
    with pytest.raises(NonFiniteLossError, match=r"became nan \(epoch 2, steps 1-2\)"):
        runs.train(settings, out, callbacks=[Poison()])
    model = keras.models.load_model(os.path.join(out, "model.keras"))
    assert int(model.g_optimizer.iterations) == 2  # the epoch-1 checkpoint
    assert all(np.isfinite(w.numpy()).all() for w in model.weights)
    history = json.load(open(os.path.join(out, "history.json")))
    assert [r["epoch"] for r in history] == [1]


# ------------------------------------------------- colour, classes, overrides, errors
def _image_folder(root, classes, per_class=3, mode="RGB", size=12):
    rng = np.random.RandomState(0)
    for c in range(classes):
        folder = root / f"class_{c:02d}" if classes > 1 else root
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = rng.randint(0, 256, (size, size, 3), dtype=np.uint8)
            Image.fromarray(pixels).convert(mode).save(folder / f"{i}.png")
    return root


def test_rgb_folder_trains_an_rgb_model_and_set_is_validated_and_recorded(tmp_path, capsys):
    folder = _image_folder(tmp_path / "rgb", classes=1, per_class=16)
    out = tmp_path / "run"
    assert main(train_args(out, "--epochs", "1", "--data", f"folder:{folder}", "--set", "width=6",
                           "--set", "ema_decay=0.9")) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["settings"]["model"]["data_shape"] == [8, 8, 3]
    assert config["settings"]["overrides"] == {"width": 6, "ema_decay": 0.9}
    assert config["inputs"][0]["name"] == "z" and config["inputs"][0]["prior"] == "normal"
    model = keras.models.load_model(out / "model.keras")
    assert model.width == 6 and model.generate(2, seed=0).shape == (2, 8, 8, 3)
    # --channels 1 converts the colour to grey, and says so
    with pytest.warns(UserWarning, match="converting colour images of .* to grey"):
        assert main(train_args(tmp_path / "grey", "--epochs", "1", "--data", f"folder:{folder}",
                               "--channels", "1")) == 0
    assert json.loads((tmp_path / "grey" / "config.json").read_text())["settings"]["model"]["data_shape"] == [8, 8, 1]
    capsys.readouterr()
    assert main(train_args(tmp_path / "bad", "--set", "widht=6")) == 2
    err = capsys.readouterr().err.strip()
    assert "no constructor argument 'widht'" in err and "width" in err and len(err.splitlines()) == 1


def test_conditional_model_takes_the_number_of_classes_of_the_data(tmp_path, capsys):
    folder = _image_folder(tmp_path / "twelve", classes=12, per_class=2, mode="L")
    out = tmp_path / "run"
    assert main(["train", "cgan", "--preset", "tiny", "--data", f"folder:{folder}", "--out", str(out),
                 "--epochs", "1", "--steps-per-epoch", "1"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["settings"]["model"]["num_classes"] == 12 and config["settings"]["model"]["data_shape"][-1] == 1
    assert config["inputs"][1] == {**config["inputs"][1], "name": "labels", "classes": 12}
    assert main(["sample", str(out), "--n", "4", "--labels", "11", "--out", str(tmp_path / "s.npy")]) == 0
    capsys.readouterr()
    # labels outside the range, unlabelled data: one line, exit 2, nothing trained
    for argv, message in (
            (["--num-classes", "5"], "has 12 classes but the model has num_classes=5"),
            (["--data", f"folder:{_image_folder(tmp_path / 'flat', classes=1)}"], "has no labels")):
        assert main(["train", "cgan", "--preset", "tiny", "--data", f"folder:{folder}", "--out",
                     str(tmp_path / "r2"), *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1
        assert not (tmp_path / "r2" / "model.keras").exists()
    assert main(["sample", str(out), "--n", "2", "--labels", "12", "--out", str(tmp_path / "x.npy")]) == 2
    assert "input 'labels' takes class indices in [0, 11]" in capsys.readouterr().err


def test_internal_errors_keep_their_traceback_and_exit_1(tmp_path, monkeypatch):
    """A ValueError raised inside Keras or TensorFlow is a bug or an internal failure, not bad input."""
    def broken(self, *args, **kwargs):
        return keras.layers.Dense(3)(np.zeros((2, 2, 2, 2, 2), "float32"), bogus_argument=1)

    monkeypatch.setattr(keras.Model, "fit", broken)
    with pytest.raises(Exception) as info:
        main(train_args(tmp_path / "run"))
    assert "tfgan_models" not in info.traceback[-1].path.as_posix()
    import subprocess
    import sys

    script = ("import keras, numpy as np, sys\nfrom tfgan_models import cli\n"
              "keras.Model.fit = lambda *a, **k: np.reshape(np.zeros(3), (7,))\n"
              f"sys.exit(cli.main({train_args(tmp_path / 'run2')!r}))\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 1 and "Traceback" in proc.stderr and "cannot reshape" in proc.stderr


def test_damaged_run_files_are_one_line_and_exit_2(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(train_args(out, "--epochs", "1")) == 0
    capsys.readouterr()
    data = (out / "model.keras").read_bytes()
    (out / "model.keras").write_bytes(data[: len(data) // 2])  # truncated, as a disk-full write would leave it
    assert main(["sample", str(out), "--out", str(tmp_path / "s.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert "model.keras" in err and "damaged" in err and len(err.splitlines()) == 1
    (out / "config.json").write_text("{not json")
    assert main(["sample", str(out), "--out", str(tmp_path / "s.png")]) == 2
    assert "config.json" in capsys.readouterr().err
    assert not (tmp_path / "s.png").exists()
