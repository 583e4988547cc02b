"""Text-to-image export (GAN-INT-CLS, StackGAN): SavedModel signatures on raw captions, TFLite x 4 on ids, client.

Artifacts are loaded without the export code (``tf.saved_model.load`` in a process that imports only
TensorFlow, LiteRT's ``Interpreter``) and compared with the Keras generator of the run.
"""

import base64
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from tfgan_models import export, runs
from tfgan_models.cli import main
from tfgan_models.export import text2image
from tfgan_models.layers.text import caption_ids
from test_export import _serve_grpc, _serve_rest, load_client

QUANTS = ("none", "fp16", "dynamic", "int8")
NAME = "gic-tiny"
TRICKY = ["", "🦄✨ Ünïcödé émojis", "a large blue square " * 500, b"\xff\xfe a \xc3( red \xe2\x82 disc",
          "  A LARGE\tGreen\n\nTRIANGLE  ", "\x00\x0b", "a" * 23 + "🦄"]


def _train(variant, out):
    keras.utils.set_random_seed(0)
    runs.train(runs.run_settings(variant, "tiny"), out, verbose=0)
    return out


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A tiny GAN-INT-CLS run exported in every format: (run dir, root, version folder, loaded SavedModel)."""
    run_dir = _train("gan_int_cls", str(tmp_path_factory.mktemp("runs") / NAME))
    root = str(tmp_path_factory.mktemp("models"))
    export.export_run(run_dir, root)
    folder = os.path.join(root, NAME, "1")
    return run_dir, root, folder, tf.saved_model.load(folder)


@pytest.fixture(scope="module")
def model(exported):
    return runs.load_model(exported[0])[0]


def _texts(texts):
    return tf.constant([t if isinstance(t, bytes) else t.encode() for t in texts])


def _keras_unit(generator, noise, texts):
    return (np.asarray(generator([*map(tf.constant, noise), _texts(texts)], training=False)) + 1.0) / 2.0


# ---------------------------------------------------------------- report and gates
def test_every_quantization_passes_and_the_report_describes_the_text(exported):
    _, root, folder, _ = exported
    files = sorted(os.listdir(os.path.join(folder, "tflite")))
    assert files == sorted([f"{NAME}_{q}.tflite" for q in QUANTS] + [f"{NAME}_text.json"])
    entry = json.load(open(os.path.join(root, NAME, "export_report.json")))["versions"]["1"]
    generator = entry["generator"]
    assert generator["kind"] == "text2image" and generator["variant"] == "gan_int_cls"
    assert generator["inputs"]["text"] == {"dtype": "string", "shape": [None], "prior": "text"}
    assert generator["text_input"]["length"] == 24 and generator["noise"] == ["z"]
    assert generator["default_seed"] == 0 and generator["embedding_dim"] == 16
    assert entry["saved_model"]["gate"]["passed"] and entry["saved_model"]["gate"]["max_abs_diff"] <= 1e-5
    for q in QUANTS:
        tfl = entry["tflite"][q]
        assert tfl["gate"]["passed"], q
        assert tfl["io"]["inputs"]["ids"]["dtype"] == "int32" and tfl["io"]["inputs"]["z"]["dtype"] == "float32"
        assert not [op for op in tfl["ops"] if op.startswith("Flex") or op == "CUSTOM"]
    assert "calibration" in entry["tflite"]["int8"]
    vocab = json.load(open(os.path.join(folder, entry["tflite_text"]["path"])))
    assert vocab["length"] == 24 and vocab["pad"] == 0 and vocab["unknown"] == 70 and len(vocab["alphabet"]) == 69
    sigs = entry["saved_model"]["signatures"]
    assert sigs["serving_default"]["inputs"] == {"text": {"dtype": "string", "shape": [None]}}
    assert sigs["serving_default"]["outputs"]["images"] == {"dtype": "uint8", "shape": [None, 16, 16, 3]}
    assert sigs["seed"]["inputs"]["seed"] == {"dtype": "int64", "shape": None}
    assert set(sigs["generate"]["inputs"]) == {"z", "text"}
    assert sigs["embed"]["outputs"] == {"embedding": {"dtype": "float32", "shape": [None, 16]}}
    assert sigs["tokenize"]["outputs"] == {"ids": {"dtype": "int32", "shape": [None, 24]}}
    for quantized in ("int8", "dynamic"):  # I/O types as the report says, in the file itself
        runner = Interpreter(os.path.join(folder, entry["tflite"][quantized]["path"])).get_signature_runner("serve")
        details = runner.get_input_details()
        assert details["ids"]["dtype"] == np.int32 and details["z"]["dtype"] == np.float32


def test_bare_generators_and_models_resolve_to_the_text_kind(model):
    from tfgan_models.export.source import resolve

    bare = resolve(model.inference_generator, name="bare")  # no declared inputs: found by its tf.string input
    assert bare.kind == "text2image" and [(i.name, i.prior) for i in bare.inputs] == [("z", "normal"), ("text", "text")]
    assert resolve(model, name="m").kind == "text2image"
    assert text2image.tflite_inputs(bare) == [("z", "float32", (1, 8)), ("ids", "int32", (1, 24))]


# ---------------------------------------------------------------- SavedModel
FRESH = """
import json, sys
import tensorflow as tf
m = tf.saved_model.load(sys.argv[1])
s = m.signatures
one = s["serving_default"](text=tf.constant(["a large blue square"]))["images"]
three = s["seed"](text=tf.constant(["a red circle"] * 3), seed=tf.constant([5, 5, 6], tf.int64))["images"].numpy()
default = s["serving_default"](text=tf.constant(["a red circle", "x"]))["images"].numpy()
scalar = s["seed"](text=tf.constant(["a red circle", "x"]), seed=tf.constant(0, tf.int64))["images"].numpy()
emb = s["embed"](text=tf.constant(["a red circle", "a tiny green box"]))["embedding"]
print(json.dumps({"dtype": one.dtype.name, "shape": one.shape.as_list(), "same": (three[0] == three[1]).all().item(),
                  "differ": (three[0] != three[2]).any().item(), "default_is_seed_0": (default == scalar).all().item(),
                  "embedding": emb.numpy().tolist(), "tfgan": any(k.startswith("tfgan") for k in sys.modules)}))
"""


def test_saved_model_serves_text_in_a_process_with_only_tensorflow(exported, model):
    folder = exported[2]
    done = subprocess.run([sys.executable, "-c", FRESH, folder], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["dtype"] == "uint8" and got["shape"] == [1, 16, 16, 3] and not got["tfgan"]
    assert got["same"] and got["differ"] and got["default_is_seed_0"]
    expected = np.asarray(model.embed(tf.constant(["a red circle", "a tiny green box"])))
    np.testing.assert_allclose(np.asarray(got["embedding"]), expected, atol=1e-6)
    assert expected.shape == (2, model.embedding_dim)


def test_tricky_captions_through_the_saved_model_and_keras(exported, model):
    loaded = exported[3]
    z = np.random.RandomState(1).standard_normal((len(TRICKY), 8)).astype("float32")
    out = loaded.signatures["generate"](z=tf.constant(z), text=_texts(TRICKY))
    assert out["images"].dtype == tf.uint8 and out["images"].shape == (len(TRICKY), 16, 16, 3)
    keras_images = _keras_unit(model.inference_generator, [z], TRICKY)
    np.testing.assert_allclose(out["images_float"].numpy(), keras_images, atol=1e-5)
    assert np.isfinite(keras_images).all()
    images = model.generate(texts=TRICKY, seed=0)  # the model's own sampling takes them too
    assert images.shape == (len(TRICKY), 16, 16, 3) and np.isfinite(images).all()
    ids = loaded.signatures["tokenize"](text=_texts(TRICKY))["ids"].numpy()
    np.testing.assert_array_equal(ids, caption_ids(TRICKY, 24))
    assert (ids[2] > 0).all() and (ids[0] == 0).all()  # 10,000 characters: cut to 24; empty: all padding


def test_empty_batches_and_bad_seeds(exported, model):
    sigs = exported[3].signatures
    empty = tf.constant([], tf.string)
    assert sigs["serving_default"](text=empty)["images"].shape == (0, 16, 16, 3)
    assert sigs["seed"](text=empty, seed=tf.constant([], tf.int64))["z"].shape == (0, 8)
    assert sigs["embed"](text=empty)["embedding"].shape == (0, 16)
    with pytest.raises(tf.errors.InvalidArgumentError, match="seed must be a scalar or one int64 per text"):
        sigs["seed"](text=tf.constant(["a", "b", "c"]), seed=tf.constant([1, 2], tf.int64))
    with pytest.raises(tf.errors.InvalidArgumentError, match="z needs one row per text"):
        sigs["generate"](z=tf.zeros((2, 8)), text=tf.constant(["a"]))
    with pytest.raises(ValueError, match="at least one text"):  # the Keras side: a clear error
        model.generate(texts=[])


# ---------------------------------------------------------------- TFLite and the client's ids
def test_client_caption_ids_agree_with_the_tokenizer(exported):
    client = load_client()
    vocab = os.path.join(exported[2], "tflite", f"{NAME}_text.json")
    more = TRICKY + ["İstanbul ẞ K", b"\xf0\x9f\x98a", b"\xe2" * 100, "a\u00a0b\u2028c", "É" * 30]
    for text in more:
        np.testing.assert_array_equal(client.caption_ids(text, vocab), caption_ids([text], 24), err_msg=repr(text))
    assert client.caption_ids("a b", json.load(open(vocab))).dtype == np.int32


def test_fp32_tflite_with_client_ids_equals_keras(exported, model):
    client = load_client()
    folder = exported[2]
    vocab = os.path.join(folder, "tflite", f"{NAME}_text.json")
    runner = Interpreter(os.path.join(folder, "tflite", f"{NAME}_none.tflite")).get_signature_runner("serve")
    texts = ["a large red circle in the centre", "a tiny navy block"] + TRICKY[:4]
    z = np.random.RandomState(2).standard_normal((len(texts), 8)).astype("float32")
    got = np.concatenate([runner(z=z[i : i + 1], ids=client.caption_ids(t, vocab))["images"]
                          for i, t in enumerate(texts)])
    np.testing.assert_allclose(got, _keras_unit(model.inference_generator, [z], texts), atol=1e-4)


# ---------------------------------------------------------------- StackGAN
def test_stackgan_exports_and_serves_text(tmp_path):
    run_dir = _train("stackgan", str(tmp_path / "sg"))
    entry = export.export_run(run_dir, str(tmp_path / "m"), quantizations=("none", "fp16"))
    assert entry["generator"]["noise"] == ["z", "eps_1", "eps_2"]
    assert all(entry["tflite"][q]["gate"]["passed"] for q in ("none", "fp16"))
    assert set(entry["tflite"]["none"]["io"]["inputs"]) == {"z", "eps_1", "eps_2", "ids"}
    sigs = tf.saved_model.load(str(tmp_path / "m" / "sg" / "1")).signatures
    images = sigs["serving_default"](text=tf.constant(["a small blue square in the top left"]))["images"]
    assert images.dtype == tf.uint8 and images.shape == (1, 32, 32, 3)
    drawn = sigs["seed"](text=_texts(TRICKY[:3]), seed=tf.constant(7, tf.int64))
    generator = runs.load_generator(run_dir)[0]
    noise = [drawn[k].numpy() for k in ("z", "eps_1", "eps_2")]
    np.testing.assert_allclose(drawn["images_float"].numpy(), _keras_unit(generator, noise, TRICKY[:3]), atol=1e-5)


# ---------------------------------------------------------------- CLI and client requests
def test_cli_export(exported, tmp_path, capsys):
    run_dir = exported[0]
    assert main(["export", run_dir, "--out", str(tmp_path / "m"), "--quantize", "none", "--name", "gic"]) == 0
    assert "exported gic version 1" in capsys.readouterr().out
    assert os.path.exists(tmp_path / "m" / "gic" / "1" / "tflite" / "gic_text.json")
    assert main(["export", run_dir, "--out", str(tmp_path / "n"), "--input-size", "16x16"]) == 2
    assert "takes no input size" in capsys.readouterr().err and not os.path.exists(tmp_path / "n")


def test_client_rest_and_grpc_requests(exported):
    client = load_client()
    loaded = exported[3]
    signature, inputs = client.text_inputs(["a red circle", b"\xff bad bytes"], seeds=[3, 4])
    body = client.rest_body(inputs, signature)
    assert body["signature_name"] == "seed" and body["instances"][0] == {"text": "a red circle", "seed": 3}
    assert body["instances"][2]["text"] == {"b64": base64.b64encode(b"\xff bad bytes").decode()}  # as base64
    rest = client.decode_rest_response(_serve_rest(loaded, body))
    grpc = client.decode_grpc_response(_serve_grpc(loaded, client.grpc_request(NAME, inputs, signature)))
    for out in (rest, grpc):
        assert np.asarray(out["images"]).shape == (4, 16, 16, 3)
    np.testing.assert_array_equal(np.asarray(rest["images"], "uint8"), grpc["images"])
    signature, inputs = client.text_inputs("a red circle")
    plain = client.rest_body(inputs, signature)
    assert plain == {"signature_name": "serving_default", "instances": [{"text": "a red circle"}]}
    served = client.decode_rest_response(_serve_rest(loaded, plain))
    expected = loaded.signatures["serving_default"](text=tf.constant(["a red circle"]))["images"].numpy()
    np.testing.assert_array_equal(np.asarray(served["images"], "uint8"), expected)
