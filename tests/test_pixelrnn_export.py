"""PixelRNN export: likelihood / one-step / in-graph sampling signatures, one-step TFLite x 4, the host loop.

Artifacts are loaded without the export code (``tf.saved_model.load``, LiteRT) and compared with the
model's own ``nll``, ``logits`` and ``sample``.
"""

import importlib.util
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from tfgan_models import data, export, registry, runs
from tfgan_models.cli import main
from tfgan_models.export import autoregressive
from tfgan_models.models.pixelrnn import PixelRNN

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUANTS = ("none", "fp16", "dynamic", "int8")
NAME = "pixelrnn-tiny"

def load_sampler():
    spec = importlib.util.spec_from_file_location("pixelrnn_sampler", os.path.join(REPO, "export", "pixelrnn_sampler.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def model():
    """The tiny preset (8x8 binary digits, Diagonal BiLSTM) after a few steps."""
    keras.utils.set_random_seed(0)
    model = registry.get("pixelrnn", "tiny", seed=0)
    model.fit(data.load("binarized_digits", batch_size=8, repeat=True, seed=0), epochs=1, steps_per_epoch=3, verbose=0)
    return model


@pytest.fixture(scope="module")
def exported(model, tmp_path_factory):
    """The model in every format that converts: (root, version folder, loaded SavedModel, model)."""
    root = str(tmp_path_factory.mktemp("models"))
    export.export_run(model, root, name=NAME, quantizations=QUANTS)
    folder = os.path.join(root, NAME, "1")
    return root, folder, tf.saved_model.load(folder), model


def digits(n=6):
    """Held-out binarized digits as uint8 0 / 255 (8x8)."""
    batch = next(iter(data.load("binarized_digits:test", batch_size=n, shuffle=False)))
    batch = batch[0] if isinstance(batch, (tuple, list)) else batch
    return np.where(batch.numpy() > 0, 255, 0).astype("uint8")


def model_uniform(n, shape, seed):
    """The uniform noise ``PixelRNN.sample(n, seed)`` draws."""
    return tf.random.stateless_uniform((n, *shape), seed=[seed, 0], minval=1e-7, maxval=1.0 - 1e-7).numpy()


# ---------------------------------------------------------------- the report
def test_report_signatures_and_gates(exported):
    root, folder, _, _ = exported
    entry = json.load(open(os.path.join(root, NAME, "export_report.json")))["versions"]["1"]
    g = entry["generator"]
    assert (g["kind"], g["output"], g["levels"], g["steps_per_sample"]) == ("autoregressive", "bernoulli", 2, 64)
    sigs = entry["saved_model"]["signatures"]
    images = {"images": {"dtype": "uint8", "shape": [None, 8, 8, 1]}}
    per_image = {"dtype": "float32", "shape": [None]}
    assert sigs["serving_default"] == sigs["log_prob"] == {
        "inputs": images, "outputs": {"log_prob": per_image, "bits_per_dim": per_image}}
    assert sigs["logits"]["outputs"] == {"logits": {"dtype": "float32", "shape": [None, 8, 8, 1]}}
    assert sigs["next_pixel"]["inputs"] == {**images, "position": {"dtype": "int32", "shape": [None]}}
    assert sigs["next_pixel"]["outputs"] == {"logits": per_image,
                                             "probabilities": {"dtype": "float32", "shape": [None, 2]}}
    assert sigs["sample"] == {"inputs": {"seed": {"dtype": "int64", "shape": [None]}},
                              "outputs": {"images": images["images"], "log_prob": per_image}}
    gate = entry["saved_model"]["gate"]
    assert gate["passed"] and gate["log_prob_max_abs_diff"] <= 1e-3 and gate["sample_decisions_checked"] == 3 * 64
    for q in QUANTS:
        t = entry["tflite"][q]
        assert t["gate"]["passed"], (q, t["gate"])
        assert t["io"]["inputs"]["images"]["shape"] == [1, 8, 8, 1]
        assert t["io"]["outputs"]["logits"]["shape"] == [1, 8, 8, 1]
        assert not [op for op in t["ops"] if op.startswith("Flex") or op in ("CUSTOM", "WHILE")], t["ops"]
    assert sorted(os.listdir(os.path.join(folder, "tflite"))) == sorted(f"{NAME}_{q}.tflite" for q in QUANTS)


# ------------------------------------------------------------ the SavedModel
def test_log_prob_logits_and_next_pixel_match_the_model(exported):
    _, _, loaded, model = exported
    images = digits()
    x = images.astype("float32") / 127.5 - 1.0
    out = loaded.signatures["log_prob"](images=tf.constant(images))
    np.testing.assert_allclose(out["log_prob"].numpy(), -np.asarray(model.nll(x)), atol=1e-4, rtol=0)
    np.testing.assert_allclose(out["bits_per_dim"].numpy(), -out["log_prob"].numpy() / (64 * np.log(2)), rtol=1e-6)
    logits = loaded.signatures["logits"](images=tf.constant(images))["logits"].numpy()
    np.testing.assert_allclose(logits, np.asarray(model.logits(x)), atol=1e-5, rtol=0)
    positions = np.array([0, 9, 27, 63, 40, 1], "int32")
    step = loaded.signatures["next_pixel"](images=tf.constant(images), position=tf.constant(positions))
    expected = logits.reshape(6, -1)[np.arange(6), positions]
    np.testing.assert_allclose(step["logits"].numpy(), expected, atol=1e-6, rtol=0)
    np.testing.assert_allclose(step["probabilities"].numpy()[:, 1], 1 / (1 + np.exp(-expected)), atol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"position must be a raster-and-channel index in \[0, 63\]"):
        loaded.signatures["next_pixel"](images=tf.constant(images[:1]), position=tf.constant([64]))


def test_sample_signature_is_model_sample_per_seed(exported):
    _, _, loaded, model = exported
    out = loaded.signatures["sample"](seed=tf.constant([3, 5, 3], tf.int64))
    images = out["images"].numpy()
    np.testing.assert_array_equal(images[0], images[2])
    for k, seed in enumerate((3, 5)):
        expected = model.sample(1, seed=seed)
        np.testing.assert_array_equal(images[k], np.where(expected[0] > 0, 255, 0).astype("uint8"))
    x = images.astype("float32") / 127.5 - 1.0
    np.testing.assert_allclose(out["log_prob"].numpy(), -np.asarray(model.nll(x)), atol=1e-4, rtol=0)


# ------------------------------------------------------------ TFLite and the host loop
def test_host_loop_on_the_fp32_tflite_reproduces_model_sample_and_nll(exported):
    _, folder, _, model = exported
    sampler = load_sampler().Sampler(os.path.join(folder, "tflite", f"{NAME}_none.tflite"))
    assert (sampler.shape, sampler.binary) == ((8, 8, 1), True)
    drawn = sampler.sample(uniform=model_uniform(3, (8, 8, 1), 7))
    np.testing.assert_array_equal(drawn, np.where(model.sample(3, seed=7) > 0, 255, 0).astype("uint8"))
    images = digits()
    np.testing.assert_allclose(sampler.log_prob(images), -np.asarray(model.nll(images / 127.5 - 1.0)), atol=1e-3)
    # causal one step: what is at and after a position does not change its logits
    units = sampler.to_units(images[:1])
    changed = units.copy()
    changed.reshape(-1)[30:] = 1.0 - changed.reshape(-1)[30:]
    before, after = sampler.logits(units).reshape(-1), sampler.logits(changed).reshape(-1)
    np.testing.assert_array_equal(before[:31], after[:31])
    assert not np.allclose(before[31:], after[31:])


@pytest.mark.parametrize("quantization", QUANTS)
def test_every_tflite_flavour_gives_valid_samples_and_close_likelihoods(exported, quantization):
    _, folder, _, model = exported
    path = os.path.join(folder, "tflite", f"{NAME}_{quantization}.tflite")
    ops = {op["op_name"] for op in Interpreter(model_path=path)._get_ops_details()}
    assert not ops & {"VAR_HANDLE", "READ_VARIABLE", "WHILE", "CUSTOM"} and ("QUANTIZE" in ops) == (quantization == "int8")
    sampler = load_sampler().Sampler(path)
    drawn = sampler.sample(2, seed=1)
    assert drawn.shape == (2, 8, 8, 1) and set(np.unique(drawn)) <= {0, 255}
    images = digits()
    gap = np.abs(sampler.log_prob(images) - (-np.asarray(model.nll(images / 127.5 - 1.0)))).max()
    assert gap <= {"none": 1e-3, "fp16": 0.05, "dynamic": 0.05, "int8": 0.5}[quantization], gap


def test_sampler_command_writes_pngs(exported, tmp_path, capsys):
    folder = exported[1]
    assert load_sampler().main([os.path.join(folder, "tflite", f"{NAME}_none.tflite"), "--n", "2", "--out",
                                str(tmp_path)]) == 0
    assert sorted(os.listdir(tmp_path)) == ["sample_000.png", "sample_001.png"]
    assert "log p = " in capsys.readouterr().out


# --------------------------------------------------------------- categorical, CLI, gates
def test_categorical_model_exports_with_gumbel_sampling(tmp_path):
    keras.utils.set_random_seed(2)
    model = PixelRNN("pixelcnn", (4, 4, 1), hidden=4, layers=1, output="categorical", levels=4, seed=0)
    entry = export.export_run(model, str(tmp_path), name="cat", quantizations=("none", "int8"))
    assert entry["generator"]["output"] == "categorical" and entry["tflite"]["int8"]["gate"]["passed"]
    assert entry["tflite"]["none"]["io"]["outputs"]["logits"]["shape"] == [1, 4, 4, 1, 4]
    loaded = tf.saved_model.load(str(tmp_path / "cat" / "1"))
    out = loaded.signatures["sample"](seed=tf.constant([11], tf.int64))["images"].numpy()
    expected = np.round((model.sample(1, seed=11) + 1.0) * 127.5).astype("uint8")
    np.testing.assert_array_equal(out, expected)
    assert set(np.unique(out)) <= {0, 85, 170, 255}
    step = loaded.signatures["next_pixel"](images=tf.constant(out), position=tf.constant([5]))
    assert step["probabilities"].shape == (1, 4)
    np.testing.assert_allclose(loaded.signatures["log_prob"](images=tf.constant(out))["log_prob"].numpy(),
                               -np.asarray(model.nll(out / 127.5 - 1.0)), atol=1e-4)
    sampler = load_sampler().Sampler(str(tmp_path / "cat" / "1" / "tflite" / "cat_none.tflite"))
    assert (sampler.binary, sampler.levels) == (False, 4)
    uniform = tf.random.stateless_uniform((2, 4, 4, 1, 4), seed=[5, 0], minval=1e-7, maxval=1 - 1e-7).numpy()
    expected = np.round((model.sample(2, seed=5) + 1.0) * 127.5).astype("uint8")
    np.testing.assert_array_equal(sampler.sample(uniform=uniform), expected)


def test_diagonal_bilstm_int8_converts_and_passes_its_gate(model, tmp_path):
    entry = export.export_run(model, str(tmp_path), name="x", formats=("tflite",), quantizations=("int8",))
    assert entry["tflite"]["int8"]["gate"]["passed"]


def test_row_lstm_int8_converts_and_the_host_loop_samples_it(tmp_path):
    keras.utils.set_random_seed(3)
    model = PixelRNN("row_lstm", (6, 6, 1), hidden=4, layers=1, seed=0)
    entry = export.export_run(model, str(tmp_path), name="row", formats=("tflite",), quantizations=("int8",))
    assert entry["tflite"]["int8"]["gate"]["passed"] and "QUANTIZE" in entry["tflite"]["int8"]["ops"]
    sampler = load_sampler().Sampler(str(tmp_path / "row" / "1" / "tflite" / "row_int8.tflite"))
    drawn = sampler.sample(2, seed=0)
    assert set(np.unique(drawn)) <= {0, 255}
    gap = np.abs(sampler.log_prob(drawn) + np.asarray(model.nll(drawn / 127.5 - 1.0))).max()
    assert gap <= 0.5, gap


def test_cli_export_of_a_run(tmp_path, capsys):
    run_dir, out = str(tmp_path / NAME), str(tmp_path / "m")
    keras.utils.set_random_seed(0)
    runs.train(runs.run_settings("pixelrnn", "tiny"), run_dir, verbose=0)
    assert main(["export", run_dir, "--out", out, "--quantize", "none,dynamic"]) == 0
    printed = capsys.readouterr().out
    assert "tflite dynamic" in printed and f"exported {NAME} version 1" in printed
    assert main(["export", run_dir, "--out", str(tmp_path / "n"), "--input-size", "16x16"]) == 2
    assert "models 8x8 images only" in capsys.readouterr().err
    entry = json.load(open(os.path.join(out, NAME, "export_report.json")))["versions"]["1"]
    assert entry["generator"]["variant"] == "pixelrnn" and entry["saved_model"]["gate"]["passed"]


def test_a_tflite_file_with_the_wrong_step_fails_its_gate(model, tmp_path, monkeypatch):
    def unsnapped(source):  # feeds [0, 1] pixels to a network trained on -1 / +1
        return lambda images: {"logits": source.generator(images, training=False)}

    monkeypatch.setattr(autoregressive, "tflite_function", unsnapped)
    with pytest.raises(export.GateError, match="TFLite fp32 model failed its parity gate"):
        export.export_run(model, str(tmp_path), name="x", formats=("tflite",), quantizations=("none",))
    assert os.listdir(tmp_path) == []


def test_client_asks_the_sample_signature(exported):
    from test_export import _serve_grpc, _serve_rest, load_client

    client, loaded = load_client(), exported[2]
    seeds = np.array([4, 9], "int64")
    direct = loaded.signatures["sample"](seed=tf.constant(seeds))["images"].numpy()
    rest = client.decode_rest_response(_serve_rest(loaded, client.rest_body({"seed": seeds}, signature="sample")))
    grpc = client.decode_grpc_response(_serve_grpc(loaded, client.grpc_request(NAME, {"seed": seeds}, "sample")))
    np.testing.assert_array_equal(np.asarray(rest["images"], "uint8"), direct)
    np.testing.assert_array_equal(grpc["images"], direct)
