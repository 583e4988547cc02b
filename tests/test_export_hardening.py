"""Export gates users understand, --accept-gate-failures, --max-side and --int8-io."""

import importlib.util
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from tfgan_models import export
from tfgan_models.cli import main
from tfgan_models.export import gates

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_client():
    spec = importlib.util.spec_from_file_location("tfgan_export_client", os.path.join(REPO, "export", "client.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tiny_translator():
    """A translator with instance norm (int8 keeps its arithmetic float): size multiple 2."""
    x0 = keras.Input((None, None, 3), name="images")
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", name="down")(x0)
    x = keras.layers.ReLU()(keras.layers.GroupNormalization(groups=-1, name="instance_norm")(x))
    x = keras.layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu", name="up")(x)
    return keras.Model(x0, keras.layers.Conv2D(3, 3, padding="same", activation="tanh", name="out")(x),
                       name="hard_translator")


def tiny_sr():
    """x2 super-resolution without normalisation (int8 goes through the plain converter)."""
    x0 = keras.Input((None, None, 3), name="images")
    x = keras.layers.Conv2D(12, 3, padding="same", name="features")(x0)
    x = keras.layers.Lambda(lambda t: tf.nn.depth_to_space(t, 2), name="shuffle")(x)
    return keras.Model(x0, keras.layers.Activation("tanh")(x), name="hard_sr")


def smooth(n, side, seed):
    return gates.smooth_images(n, (side, side), 3, seed=seed)


# ------------------------------------------------------------------ gates
def test_gate_messages_name_figure_limit_and_option():
    # the case: 0.0115 in [0, 1] units is 2.9 levels, under the fp16 limit of 4
    assert gates.judge("fp16", "fp16", {"max_abs_diff": 0.0115, "psnr_db": 35.0})["passed"]
    assert gates.judge("fp16", "fp16", {"max_abs_diff": 0.05, "psnr_db": 41.0})["passed"]  # or PSNR >= 40
    with pytest.raises(export.GateError) as info:
        gates.judge("the TFLite fp16 model", "fp16", {"max_abs_diff": 0.02, "psnr_db": 35.0})
    message = str(info.value)
    for needle in ("max abs diff 0.02 (5.1 8-bit levels)", "exceeds 0.0157 (4 levels)", "PSNR 35.00 dB",
                   "40 dB", "--accept-gate-failures", "accept_gate_failures=True"):
        assert needle in message, (needle, message)
    assert info.value.result["passed"] is False and info.value.result["max_abs_diff_levels"] == 5.1
    with pytest.raises(export.GateError, match=r"PSNR 25.00 dB .* 5.00 dB below the 30 dB minimum; "
                                               r"pass --accept-gate-failures"):
        gates.judge("the TFLite int8 model", "int8", {"max_abs_diff": 0.2, "psnr_db": 25.0})
    with pytest.raises(export.GateError, match=r"max abs diff 2e-05 .* exceeds 1e-05"):  # SavedModel: strict
        gates.judge("the SavedModel", "saved_model", {"max_abs_diff": 2e-5, "psnr_db": 90.0})
    assert gates.judge("fp32", "none", {"max_abs_diff": 9e-4, "psnr_db": 80.0})["passed"]  # < 1/4 level


def test_accept_gate_failures_exports_and_records_the_failure(tmp_path, monkeypatch):
    g = tiny_translator()
    monkeypatch.setitem(gates.MAX_ABS_DIFF, "fp16", 1e-9)
    monkeypatch.setattr(gates, "FP16_MIN_PSNR_DB", 1000.0)
    root = str(tmp_path / "models")
    with pytest.raises(export.GateError, match=r"fp16 model failed its parity gate: .*--accept-gate-failures"):
        export.export_tflite(g, root, quantization="fp16", input_size="16x16")
    assert not os.path.exists(root)  # nothing left behind
    with pytest.warns(UserWarning, match=r"warning: the TFLite fp16 model failed .* exported anyway"):
        entry = export.export_tflite(g, root, quantization="fp16", input_size="16x16", accept_gate_failures=True)
    gate = entry["tflite"]["fp16"]["gate"]
    assert gate["passed"] is False and gate["accepted"] is True and gate["limit"] == 1e-9
    assert os.path.exists(os.path.join(root, "hard_translator", "1", "tflite", "hard_translator_fp16.tflite"))
    report = json.load(open(os.path.join(root, "hard_translator", "export_report.json")))
    assert report["versions"]["1"]["tflite"]["fp16"]["gate"] == gate


# -------------------------------------------------------------------- CLI
@pytest.mark.parametrize("extra, message", [
    (["--max-side", "0"], "max_side (--max-side) must be a whole number of pixels >= 3, received 0"),
    (["--max-side", "-8"], "received -8"),
    (["--max-side", "big"], "--max-side must be a whole number of pixels, received 'big'"),
    (["--int8-io", "int4"], "unknown int8_io 'int4'"),
    (["--int8-io", "--quantize", "none,fp16"], "add tflite to the formats and int8 to the quantizations"),
])
def test_cli_export_bad_flags_exit_2_with_one_line(tmp_path, capsys, extra, message):
    assert main(["export", str(tmp_path / "no-run"), "--out", str(tmp_path / "m"), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tfgan: error:") and message in err and len(err.splitlines()) == 1, err
    assert not os.path.exists(tmp_path / "m")


def test_cli_passes_the_new_flags_and_prints_accepted_failures(tmp_path, capsys, monkeypatch):
    seen = {}

    def fake_export_run(run_dir, root, **kwargs):
        seen.update(kwargs)
        gate = {"metric": "psnr_db", "psnr_db": 20.0, "limit": 30.0, "passed": False, "accepted": True}
        return {"tflite": {"int8": {"gate": gate, "size_bytes": 1000, "path": "tflite/x_int8.tflite"}}}

    monkeypatch.setattr(export, "export_run", fake_export_run)
    argv = ["export", "run", "--out", str(tmp_path), "--max-side", "512", "--int8-io", "--accept-gate-failures"]
    assert main(argv) == 0
    assert seen["max_side"] == 512 and seen["int8_io"] == "uint8" and seen["accept_gate_failures"] is True
    assert "PSNR 20.0 dB (limit 30)  FAILED, accepted" in capsys.readouterr().out
    assert main(["export", "run", "--out", str(tmp_path), "--int8-io", "int8"]) == 0
    assert seen["int8_io"] == "int8" and seen["max_side"] is None and seen["accept_gate_failures"] is False


# ------------------------------------------------- int8 I/O and max_side
@pytest.mark.parametrize("make, io_type, size", [(tiny_translator, "uint8", 16), (tiny_sr, "int8", 8)])
def test_int8_io_export(tmp_path, make, io_type, size):
    keras.utils.set_random_seed(4)
    g = make()
    root = str(tmp_path / "models")
    entry = export.export_run(g, root, quantizations=("int8",), input_size=f"{size}x{size}", int8_io=io_type,
                              representative_data=smooth(16, size, seed=7), max_side=64)
    folder = os.path.join(root, g.name, "1")
    path = os.path.join(folder, "tflite", f"{g.name}_int8.tflite")
    runner = Interpreter(model_path=path, num_threads=1).get_signature_runner("serve")
    inp, out = runner.get_input_details()["images"], runner.get_output_details()["images"]
    assert inp["dtype"] == out["dtype"] == np.dtype(io_type)
    scale, zero_point = inp["quantization"]
    assert abs(scale - 1 / 255) < 1e-7 and zero_point == (0 if io_type == "uint8" else -128)  # raw pixels in
    t = entry["tflite"]["int8"]
    assert t["gate"]["passed"] and (t["gate"]["psnr_db"] is None or t["gate"]["psnr_db"] >= 30.0)
    assert t["io"]["inputs"]["images"]["dtype"] == io_type
    assert t["io"]["outputs"]["images"]["quantization"]["scale"] == pytest.approx(out["quantization"][0])
    # the deployment kit's helper feeds raw pixels / floats and reads [0, 1] floats
    client = load_client()
    image = smooth(1, size, seed=99)
    keras_out = (g(image / 127.5 - 1.0).numpy() + 1.0) / 2.0
    for fed in (image, image / 255.0):
        got = client.run_tflite(path, {"images": fed})["images"]
        assert got.dtype == np.float32 and got.shape == keras_out.shape
        assert 10 * np.log10(1.0 / np.mean((got - keras_out) ** 2)) >= 30.0
    # max_side: recorded and enforced by the SavedModel
    assert entry["saved_model"]["max_side"] == 64
    loaded = tf.saved_model.load(folder)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"input is 65x8 .* at most 64 px per side"):
        loaded.signatures["serving_default"](images=tf.zeros((1, 65, 8, 3), tf.uint8))
