"""Translation runs end to end: the LinearDecay schedule, the tfgan CLI, two-way exports, mocked CelebA."""

import json
import os
import types

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from ai_edge_litert.interpreter import Interpreter
from PIL import Image

from tfgan_models import export, runs
from tfgan_models.callbacks import LinearDecay
from tfgan_models.callbacks.training import reverse_generator_path
from tfgan_models.cli import main
from tfgan_models.data import to_uint8

TWO_WAY_SIGNATURES = {"serving_default", "bytes", "a_to_b", "a_to_b_bytes", "b_to_a", "b_to_a_bytes"}


# ----------------------------------------------------------------- LinearDecay
def stub(g_lr=2e-4, d_lr=1e-4):
    return types.SimpleNamespace(g_optimizer=keras.optimizers.Adam(g_lr), d_optimizer=keras.optimizers.Adam(d_lr))


def rates(model):
    return float(model.g_optimizer.learning_rate), float(model.d_optimizer.learning_rate)


def test_linear_decay_schedule_and_resume():
    model, decay = stub(), LinearDecay(2, 2)
    decay.set_model(model)
    seen = []
    for epoch in range(4):
        decay.on_epoch_begin(epoch)
        seen.append(rates(model))
    np.testing.assert_allclose(seen, [(f * 2e-4, f * 1e-4) for f in (1, 1, 2 / 3, 1 / 3)], rtol=1e-6)
    # Resumed in the middle (a fresh callback; the optimizers hold the rate of epoch 2 from a backup):
    model = stub(2e-4 * 2 / 3, 1e-4 * 2 / 3)
    resumed = LinearDecay(2, 2)
    resumed.set_model(model)
    resumed.on_epoch_begin(3)
    np.testing.assert_allclose(resumed.initial, [2e-4, 1e-4], rtol=1e-6)  # the base rates are recovered
    np.testing.assert_allclose(rates(model), (2e-4 / 3, 1e-4 / 3), rtol=1e-6)
    # the paper's 100 + 100 epochs: the last epoch still trains, nothing before epoch 100 decays
    paper = LinearDecay(100, 100)
    # (the authors' lambda_rule: 1 - max(0, epoch + 1 - n_epochs) / (n_epochs_decay + 1), epochs from 0)
    assert paper.factor(0) == paper.factor(99) == 1.0
    assert paper.factor(100) == pytest.approx(100 / 101) and paper.factor(150) == pytest.approx(50 / 101)
    assert paper.factor(199) == pytest.approx(1 / 101)
    with pytest.raises(ValueError, match=">= 0"):
        LinearDecay(-1, 2)


def test_runs_add_linear_decay_for_cyclegan_only():
    from tfgan_models import registry

    (schedule,) = runs._schedule(registry.get("cyclegan", "tiny", compile=False), 5)
    assert isinstance(schedule, LinearDecay) and (schedule.constant_epochs, schedule.decay_epochs) == (3, 2)
    assert runs._schedule(registry.get("pix2pix", "tiny", compile=False), 5) == []


def test_reverse_generator_path():
    assert reverse_generator_path(os.path.join("run", "generator.keras")) == os.path.join(
        "run", "generator_b_to_a.keras")


# ------------------------------------------------------------------ CLI runs
@pytest.fixture(scope="module")
def cyclegan_run(tmp_path_factory):
    run = str(tmp_path_factory.mktemp("cli") / "cyclegan")
    assert main(["train", "cyclegan", "--preset", "tiny", "--out", run]) == 0
    return run


@pytest.fixture(scope="module")
def pix2pix_run(tmp_path_factory):
    run = str(tmp_path_factory.mktemp("cli") / "pix2pix")
    assert main(["train", "pix2pix", "--preset", "tiny", "--steps-per-epoch", "1", "--out", run]) == 0
    return run


def write_png(path, h=19, w=23, seed=0):
    image = np.random.RandomState(seed).randint(0, 256, (h, w, 3), dtype=np.uint8)
    Image.fromarray(image).save(path)
    return image


def test_cli_train_writes_both_generators(cyclegan_run):
    for name in ("model.keras", "generator.keras", "generator_b_to_a.keras", "history.json", "config.json",
                 "samples/epoch_0001.png"):
        assert os.path.exists(os.path.join(cyclegan_run, name)), name
    assert not os.path.exists(os.path.join(cyclegan_run, "backup"))
    config = json.load(open(os.path.join(cyclegan_run, "config.json")))
    assert config["status"] == "complete" and config["settings"]["run"]["data"] == "unpaired:photos,hue:photos"
    history = json.load(open(os.path.join(cyclegan_run, "history.json")))
    assert [r["epoch"] for r in history] == [1]
    assert {"d_loss", "g_loss", "adversarial_loss", "cycle_loss", "identity_loss"} <= set(history[0])
    assert all(np.isfinite(v) for v in history[0].values())
    model, _ = runs.load_model(cyclegan_run)
    assert int(model.g_optimizer.iterations) == 2
    assert float(model.g_optimizer.learning_rate) == pytest.approx(2e-4)  # 1 epoch: LinearDecay(1, 0) keeps it
    forward = keras.models.load_model(os.path.join(cyclegan_run, "generator.keras"))
    backward = keras.models.load_model(os.path.join(cyclegan_run, "generator_b_to_a.keras"))
    x = np.random.RandomState(0).uniform(-1, 1, (1, 16, 16, 3)).astype("float32")
    np.testing.assert_array_equal(np.asarray(forward(x)), np.asarray(model.generator(x)))
    np.testing.assert_array_equal(np.asarray(backward(x)), np.asarray(model.reverse_generator(x)))


def test_cli_sample_and_translate(cyclegan_run, tmp_path, capsys):
    assert main(["sample", cyclegan_run, "--out", str(tmp_path / "pic.png")]) == 0
    picture = Image.open(tmp_path / "pic.png")
    assert picture.format == "PNG" and picture.size == (260, 260)  # 3 rows of a | G(a) | F(G(a)), zoomed x5
    image = write_png(tmp_path / "in.png")
    model, _ = runs.load_model(cyclegan_run)
    for direction in ("a_to_b", "b_to_a"):
        out = tmp_path / f"out_{direction}.png"
        assert main(["translate", cyclegan_run, str(tmp_path / "in.png"), "--out", str(out),
                     "--direction", direction]) == 0
        got = np.asarray(Image.open(out))
        assert got.shape == image.shape  # any size in, the same size out
        expected = to_uint8(model.translate(image[None].astype("float32") / 127.5 - 1.0, direction))[0]
        np.testing.assert_array_equal(got, expected)
    # several inputs: one file each in the --out folder
    write_png(tmp_path / "second.png", 12, 30, seed=1)
    assert main(["translate", cyclegan_run, str(tmp_path / "in.png"), str(tmp_path / "second.png"),
                 "--out", str(tmp_path / "many")]) == 0
    assert Image.open(tmp_path / "many" / "second.png").size == (30, 12)
    assert Image.open(tmp_path / "many" / "in.png").size == (23, 19)
    capsys.readouterr()


def test_cli_translate_bad_input(cyclegan_run, pix2pix_run, tmp_path, capsys):
    write_png(tmp_path / "in.png")
    (tmp_path / "bad.png").write_bytes(b"not an image")
    # a latent GAN's run directory (saved without training: nothing here needs its weights trained)
    dcgan = tmp_path / "dcgan"
    os.makedirs(dcgan)
    settings = runs.run_settings("dcgan", "tiny")
    runs.build_model(settings).save(str(dcgan / "model.keras"))
    (dcgan / "config.json").write_text(json.dumps({"settings": settings, "status": "complete"}))
    cases = [
        ([cyclegan_run, str(tmp_path / "missing.png"), "--out", str(tmp_path / "o.png")], "does not exist"),
        ([cyclegan_run, str(tmp_path / "bad.png"), "--out", str(tmp_path / "o.png")], "cannot decode"),
        ([cyclegan_run, str(tmp_path / "in.png"), "--out", str(tmp_path / "o.jpg")], ".png"),
        ([str(dcgan), str(tmp_path / "in.png"), "--out", str(tmp_path / "o.png")], "not an image-translation run"),
        ([pix2pix_run, str(tmp_path / "in.png"), "--out", str(tmp_path / "o.png"), "--direction", "b_to_a"],
         "direction"),
        ([str(tmp_path / "nowhere"), str(tmp_path / "in.png"), "--out", str(tmp_path / "o.png")], "does not exist"),
    ]
    for argv, message in cases:
        capsys.readouterr()
        assert main(["translate", *argv]) == 2, argv
        err = capsys.readouterr().err.strip()
        assert message in err and "Traceback" not in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("argv, message", [
    (["train", "cyclegan", "--preset", "tiny", "--domains", "Young,-Young"], "domains split a set with attributes"),
    (["train", "cyclegan", "--preset", "tiny", "--data", "tfds:celeb_a", "--domains", "Young,Young"], "same"),
    (["train", "dcgan", "--preset", "tiny", "--domains", "a,b"], "does not take it"),
    (["train", "pix2pix", "--preset", "tiny", "--data", "unpaired:photos,hue:photos"], "trains on paired data"),
    (["train", "cyclegan", "--preset", "tiny", "--data", "colorize:photos"], "trains on unpaired data"),
    (["train", "cyclegan", "--preset", "tiny", "--ema-decay", "0.99"], "keeps no EMA"),
])
def test_cli_train_bad_input_is_exit_2(argv, message, tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "Traceback" not in err and len(err.splitlines()) == 1, err
    assert not (out / "config.json").exists()


# ------------------------------------------------------------------- exports
def litert(path, image):
    """Runs a fixed-size translation .tflite file on one uint8 image; float32 [0, 1] out."""
    runner = Interpreter(model_path=str(path), num_threads=1).get_signature_runner("serve")
    details = runner.get_input_details()["images"]
    assert tuple(details["shape"]) == (1, *image.shape)
    return runner(images=image[None].astype("float32") / 255.0)["images"][0]


def test_two_way_export(cyclegan_run, tmp_path):
    keras.utils.set_random_seed(0)
    root = tmp_path / "models"
    entry = export.export_run(cyclegan_run, str(root), quantizations=("none", "fp16"), input_size=32)
    folder = root / "cyclegan" / "1"
    assert (folder / "saved_model.pb").exists()
    assert entry["generator"]["kind"] == "image" and entry["generator"]["size_multiple"] == 4
    assert set(entry["generator"]["directions"]) == {"a_to_b", "b_to_a"}
    assert set(entry["saved_model"]["signatures"]) == TWO_WAY_SIGNATURES
    assert entry["saved_model"]["gate"]["passed"]
    for key, infix in (("tflite", ""), ("tflite_b_to_a", "_b_to_a")):
        assert set(entry[key]) == {"none", "fp16"}, key
        for q in ("none", "fp16"):
            assert entry[key][q]["gate"]["passed"], (key, q)
            assert entry[key][q]["path"] == os.path.join("tflite", f"cyclegan{infix}_{q}.tflite")
            assert (folder / "tflite" / f"cyclegan{infix}_{q}.tflite").exists()
            assert entry[key][q]["io"]["inputs"]["images"]["shape"] == [1, 32, 32, 3]
    report = json.load(open(root / "cyclegan" / export.REPORT))
    assert set(report["versions"]["1"]) >= {"saved_model", "tflite", "tflite_b_to_a"}

    # The SavedModel, loaded without the export code, against the Keras model of the run.
    model, _ = runs.load_model(cyclegan_run)
    loaded = tf.saved_model.load(str(folder))
    assert set(loaded.signatures) == TWO_WAY_SIGNATURES
    images = np.random.RandomState(1).randint(0, 256, (2, 19, 23, 3), dtype=np.uint8)  # not a multiple of 4
    x = images.astype("float32") / 127.5 - 1.0
    for direction, signature in (("a_to_b", "serving_default"), ("a_to_b", "a_to_b"), ("b_to_a", "b_to_a")):
        out = loaded.signatures[signature](images=tf.constant(images))
        got = out["images"].numpy()
        assert got.dtype == np.uint8 and got.shape == images.shape
        expected = to_uint8(model.translate(x, direction))
        assert np.abs(got.astype(int) - expected.astype(int)).max() <= 2, (direction, signature)
    png = loaded.signatures["b_to_a_bytes"](image_bytes=tf.constant([tf.io.encode_png(images[0]).numpy()]))
    decoded = tf.io.decode_png(png["png_bytes"][0]).numpy()
    assert np.abs(decoded.astype(int) - to_uint8(model.translate(x[:1], "b_to_a"))[0].astype(int)).max() <= 2
    a_to_b = loaded.signatures["serving_default"](images=tf.constant(images))["images"].numpy()
    b_to_a = loaded.signatures["b_to_a"](images=tf.constant(images))["images"].numpy()
    assert not np.array_equal(a_to_b, b_to_a)  # two different generators

    # The fixed 32x32 TFLite files run and match the Keras generators.
    image = np.random.RandomState(2).randint(0, 256, (32, 32, 3), dtype=np.uint8)
    xi = image[None].astype("float32") / 127.5 - 1.0
    for name, direction, tolerance in (("cyclegan_none.tflite", "a_to_b", 1e-3),
                                       ("cyclegan_b_to_a_none.tflite", "b_to_a", 1e-3),
                                       ("cyclegan_b_to_a_fp16.tflite", "b_to_a", 2e-2)):
        got = litert(folder / "tflite" / name, image)
        expected = (model.translate(xi, direction)[0] + 1.0) / 2.0
        assert got.shape == (32, 32, 3) and np.abs(got - expected).max() < tolerance, name


def test_pix2pix_export(pix2pix_run, tmp_path):
    keras.utils.set_random_seed(0)
    root = tmp_path / "models"
    entry = export.export_run(pix2pix_run, str(root), quantizations=("none",), input_size=32)
    folder = root / "pix2pix" / "1"
    assert entry["saved_model"]["gate"]["passed"] and entry["tflite"]["none"]["gate"]["passed"]
    assert "tflite_b_to_a" not in entry and "directions" not in entry["generator"]
    assert set(entry["saved_model"]["signatures"]) == {"serving_default", "bytes"}
    assert entry["generator"]["size_multiple"] == 16  # U-Net depth 4 at 16x16 crops
    assert not os.path.exists(os.path.join(pix2pix_run, "generator_b_to_a.keras"))
    model, _ = runs.load_model(pix2pix_run)
    image = np.random.RandomState(3).randint(0, 256, (32, 32, 3), dtype=np.uint8)
    got = litert(folder / "tflite" / "pix2pix_none.tflite", image)
    expected = (model.translate(image[None].astype("float32") / 127.5 - 1.0)[0] + 1.0) / 2.0
    assert got.shape == (32, 32, 3) and np.abs(got - expected).max() < 1e-3
    loaded = tf.saved_model.load(str(folder))
    odd = np.random.RandomState(4).randint(0, 256, (1, 21, 18, 3), dtype=np.uint8)
    out = loaded.signatures["serving_default"](images=tf.constant(odd))["images"].numpy()
    expected = to_uint8(model.translate(odd.astype("float32") / 127.5 - 1.0))
    assert out.shape == odd.shape and np.abs(out.astype(int) - expected.astype(int)).max() <= 2


# --------------------------------------------------------------- mocked CelebA
def test_cyclegan_on_mock_celeb_a_domains(tmp_path):
    out = str(tmp_path / "celeb")
    with tfds.testing.mock_data(num_examples=16):
        settings = runs.run_settings("cyclegan", "tiny", data="tfds:celeb_a", domains="Young,-Young",
                                     steps_per_epoch=2)
        assert settings["run"]["domains"] == ["Young", "-Young"]
        history = runs.train(settings, out, verbose=0)
    assert len(history) == 1 and all(np.isfinite(v) for v in history[0].values())
    for name in ("model.keras", "generator.keras", "generator_b_to_a.keras", "samples/epoch_0001.png"):
        assert os.path.exists(os.path.join(out, name)), name
    config = json.load(open(os.path.join(out, "config.json")))
    assert config["status"] == "complete" and config["settings"]["run"]["domains"] == ["Young", "-Young"]
    model, _ = runs.load_model(out)
    assert int(model.g_optimizer.iterations) == 2
