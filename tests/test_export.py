"""Export: SavedModels for TF Serving, TFLite flavours, gates, atomic versions, the deployment kit.

Every artifact is loaded here *without* the export code (``tf.saved_model.load``,
``ai_edge_litert.interpreter.Interpreter``) and compared with the Keras generator.
"""

import base64
import dataclasses
import hashlib
import importlib.util
import io
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
from PIL import Image

from tfgan_models import data, export, registry, runs
from tfgan_models.cli import main
from tfgan_models.export import gates, tflite

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUANTS = ("none", "fp16", "dynamic", "int8")


def load_client():
    spec = importlib.util.spec_from_file_location("tfgan_export_client", os.path.join(REPO, "export", "client.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def unit(generator, inputs):
    """Keras output in [0, 1]."""
    return (np.asarray(generator(inputs, training=False), "float32") + 1.0) / 2.0


def psnr(a, b):
    return 10 * np.log10(1.0 / np.mean((np.asarray(a, "float64") - np.asarray(b, "float64")) ** 2))


def tree_digest(folder):
    """Hash of every file name and content under ``folder``."""
    h = hashlib.sha256()
    for top, dirs, files in sorted(os.walk(folder)):
        dirs.sort()
        for f in sorted(files):
            path = os.path.join(top, f)
            h.update(os.path.relpath(path, folder).encode())
            with open(path, "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()


def translator(name="translator"):
    """A small U-Net-like image-to-image generator: two stride-2 downsamplings (size multiple 4)."""
    x0 = keras.Input((None, None, 3), name="images")
    a = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="c0")(x0)
    b = keras.layers.Conv2D(16, 3, strides=2, padding="same", name="down_1")(a)
    b = keras.layers.ReLU()(keras.layers.GroupNormalization(groups=-1, name="instance_norm")(b))
    c = keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu", name="down_2")(b)
    u = keras.layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu", name="up_1")(c)
    u = keras.layers.Concatenate()([u, b])  # fails unless H, W are multiples of 4
    u = keras.layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu", name="up_2")(u)
    u = keras.layers.Concatenate()([u, a])
    y = keras.layers.Conv2D(3, 3, padding="same", activation="tanh", name="out")(u)
    return keras.Model(x0, y, name=name)


@keras.saving.register_keras_serializable(package="tfgan_tests")
class BicubicUpsample(keras.layers.Layer):
    """x2 bicubic resize: ResizeBicubic has no builtin TFLite kernel."""

    def call(self, x):
        return tf.image.resize(x, tf.shape(x)[1:3] * 2, method="bicubic")


# ----------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("runs") / "dcgan-tiny")
    keras.utils.set_random_seed(0)
    runs.train(runs.run_settings("dcgan", "tiny"), out, verbose=0)
    return out


@pytest.fixture(scope="module")
def exported(run_dir, tmp_path_factory):
    """dcgan/tiny exported in every format and flavour: (root, version folder, Keras generator)."""
    root = str(tmp_path_factory.mktemp("models"))
    export.export_run(run_dir, root)
    generator, _ = runs.load_generator(run_dir)
    return root, os.path.join(root, "dcgan-tiny", "1"), generator


@pytest.fixture(scope="module")
def image_export(tmp_path_factory):
    """The translator's SavedModel: (loaded, generator)."""
    keras.utils.set_random_seed(1)
    g = translator()
    root = str(tmp_path_factory.mktemp("image_models"))
    export.export_saved_model(g, root)
    return tf.saved_model.load(os.path.join(root, "translator", "1")), g


# ------------------------------------------------------------ latent models
def test_layout_and_report(exported):
    root, folder, generator = exported
    assert os.path.exists(os.path.join(folder, "saved_model.pb"))
    assert os.path.isdir(os.path.join(folder, "variables"))
    assert sorted(os.listdir(os.path.join(folder, "tflite"))) == sorted(f"dcgan-tiny_{q}.tflite" for q in QUANTS)
    assert sorted(os.listdir(os.path.join(root, "dcgan-tiny"))) == ["1", "export_report.json"]  # no staging left
    assert os.stat(folder).st_mode & 0o055 == 0o055  # readable by a server running as another user
    report = json.load(open(os.path.join(root, "dcgan-tiny", "export_report.json")))
    entry = report["versions"]["1"]
    assert entry["generator"]["kind"] == "latent" and entry["generator"]["variant"] == "dcgan"
    assert entry["saved_model"]["gate"]["passed"] and entry["saved_model"]["gate"]["limit"] == 1e-5
    sigs = entry["saved_model"]["signatures"]
    assert sigs["serving_default"]["inputs"] == {"z": {"dtype": "float32", "shape": [None, 8]}}
    assert sigs["serving_default"]["outputs"]["images"] == {"dtype": "uint8", "shape": [None, 8, 8, 1]}
    assert sigs["seed"]["inputs"] == {"seed": {"dtype": "int64", "shape": [None]}}
    assert sigs["truncated"]["inputs"] == {"seed": {"dtype": "int64", "shape": [None]},
                                           "truncation": {"dtype": "float32", "shape": [None]}}
    for q in QUANTS:
        t = entry["tflite"][q]
        assert t["gate"]["passed"] and t["size_bytes"] == os.path.getsize(os.path.join(folder, t["path"]))
        assert t["io"]["inputs"]["z"]["shape"] == [1, 8]
        assert t["io"]["outputs"]["images"] == {"dtype": "float32", "shape": [1, 8, 8, 1], "range": "[0, 1]",
                                                "layout": "NHWC"}
    assert "calibration" in entry["tflite"]["int8"]


def test_saved_model_signatures_match_keras(exported):
    _, folder, generator = exported
    loaded = tf.saved_model.load(folder)
    z = np.random.RandomState(5).standard_normal((6, 8)).astype("float32")
    out = loaded.signatures["serving_default"](z=tf.constant(z))
    expected = unit(generator, z)
    np.testing.assert_allclose(out["images_float"].numpy(), expected, rtol=0, atol=1e-5)
    assert out["images"].dtype == tf.uint8 and out["images"].shape == (6, 8, 8, 1)
    reference = data.to_uint8(np.asarray(generator(z, training=False)))
    assert np.abs(out["images"].numpy().astype(int) - reference.astype(int)).max() <= 1  # rounding ties only

    seeds = tf.constant([3, 7, 3], tf.int64)
    by_seed = loaded.signatures["seed"](seed=seeds)
    np.testing.assert_array_equal(by_seed["images"][0].numpy(), by_seed["images"][2].numpy())
    assert not np.array_equal(by_seed["images"][0].numpy(), by_seed["images"][1].numpy())
    z7 = tf.random.stateless_normal([8], seed=tf.constant([7, 0], tf.int64)).numpy()
    np.testing.assert_allclose(by_seed["z"][1].numpy(), z7, rtol=0, atol=0)
    np.testing.assert_allclose(by_seed["images_float"].numpy(), unit(generator, by_seed["z"].numpy()),
                               rtol=0, atol=1e-5)


@pytest.mark.parametrize("quantization", QUANTS)
def test_tflite_flavours_match_keras(exported, quantization):
    _, folder, generator = exported
    path = os.path.join(folder, "tflite", f"dcgan-tiny_{quantization}.tflite")
    interpreter = Interpreter(model_path=path, num_threads=1)
    ops = {op["op_name"] for op in interpreter._get_ops_details()}
    assert not ops & {"VAR_HANDLE", "READ_VARIABLE"}, ops  # weights frozen into the file
    assert ("TRANSPOSE_CONV" in ops) and (("QUANTIZE" in ops) == (quantization == "int8"))
    runner = interpreter.get_signature_runner("serve")
    details = runner.get_input_details()["z"]
    assert list(details["shape"]) == [1, 8] and details["dtype"] == np.float32
    z = np.random.RandomState(11).standard_normal((10, 8)).astype("float32")
    got = np.concatenate([runner(z=z[i : i + 1])["images"] for i in range(len(z))])
    expected = unit(generator, z)
    assert got.shape == expected.shape == (10, 8, 8, 1) and got.dtype == np.float32
    if quantization == "none":
        assert np.abs(got - expected).max() <= 1e-4
    elif quantization == "fp16":
        assert np.abs(got - expected).max() <= 1e-2
    else:
        assert psnr(expected, got) >= 30.0
    if quantization == "int8":
        kinds = {d["dtype"] for d in interpreter.get_tensor_details()}
        assert np.int8 in kinds  # activations really are int8 inside


def test_conditional_generator_takes_labels(tmp_path):
    """cGAN's generator, reloaded from a .keras file: labels in both signatures and in the .tflite file."""
    model = registry.get("cgan", "tiny", compile=False)
    path = str(tmp_path / "generator.keras")
    model.generator.save(path)
    generator = keras.models.load_model(path)
    export.export_run(generator, str(tmp_path / "models"), name="cgan", quantizations=("none",))
    folder = str(tmp_path / "models" / "cgan" / "1")
    loaded = tf.saved_model.load(folder)
    z = np.random.RandomState(0).standard_normal((4, 8)).astype("float32")
    labels = np.array([0, 3, 9, 3], "int32")
    out = loaded.signatures["serving_default"](z=tf.constant(z), labels=tf.constant(labels))
    np.testing.assert_allclose(out["images_float"].numpy(), unit(generator, [z, labels]), rtol=0, atol=1e-5)
    seeded = loaded.signatures["seed"](seed=tf.constant([1, 1], tf.int64), labels=tf.constant([2, 5]))
    assert not np.array_equal(seeded["images"][0].numpy(), seeded["images"][1].numpy())  # same z, other label
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"labels must be class indices in \[0, 9\]"):
        loaded.signatures["serving_default"](z=tf.constant(z[:1]), labels=tf.constant([10]))
    runner = Interpreter(model_path=os.path.join(folder, "tflite", "cgan_none.tflite")).get_signature_runner("serve")
    got = np.concatenate([runner(z=z[i : i + 1], labels=labels[i : i + 1])["images"] for i in range(4)])
    assert np.abs(got - unit(generator, [z, labels])).max() <= 1e-4


def test_point_generators_are_refused(tmp_path):
    with pytest.raises(ValueError, match="2-D points"):
        export.export_saved_model(registry.get("dcgan", "ring8", compile=False), str(tmp_path))
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------ image-to-image models
def test_image_to_image_any_size(image_export):
    loaded, g = image_export
    sig = loaded.signatures["serving_default"]
    assert sig.structured_input_signature[1]["images"].shape.as_list() == [None, None, None, 3]
    rng = np.random.RandomState(2)
    image = rng.randint(0, 256, (1, 37, 53, 3)).astype("uint8")  # 37, 53: not multiples of 4
    out = sig(images=tf.constant(image))
    assert out["images"].shape == (1, 37, 53, 3) and out["images"].dtype == tf.uint8
    # Reference: reflect-pad to 40x56 with NumPy, run Keras, crop back.
    padded = np.pad(image / 127.5 - 1.0, [(0, 0), (0, 3), (0, 3), (0, 0)], mode="reflect").astype("float32")
    expected = unit(g, padded)[:, :37, :53]
    np.testing.assert_allclose(out["images_float"].numpy(), expected, rtol=0, atol=1e-5)
    batch = rng.randint(0, 256, (2, 32, 32, 3)).astype("uint8")  # a size the network takes directly
    np.testing.assert_allclose(sig(images=tf.constant(batch))["images_float"].numpy(),
                               unit(g, batch / 127.5 - 1.0), rtol=0, atol=1e-5)
    with pytest.raises(tf.errors.InvalidArgumentError, match="at least 3x3"):
        sig(images=tf.constant(np.zeros((1, 2, 9, 3), "uint8")))


def test_image_to_image_bytes_signature(image_export):
    loaded, _ = image_export
    rng = np.random.RandomState(3)
    image = rng.randint(0, 256, (37, 53, 3)).astype("uint8")
    png, jpeg = io.BytesIO(), io.BytesIO()
    Image.fromarray(image).save(png, format="PNG")
    Image.fromarray(image).save(jpeg, format="JPEG")
    out = loaded.signatures["bytes"](image_bytes=tf.constant([png.getvalue(), jpeg.getvalue()]))["png_bytes"]
    first = np.asarray(Image.open(io.BytesIO(out[0].numpy())))
    direct = loaded.signatures["serving_default"](images=tf.constant(image[None]))["images"][0].numpy()
    np.testing.assert_array_equal(first, direct)
    assert np.asarray(Image.open(io.BytesIO(out[1].numpy()))).shape == (37, 53, 3)


def test_image_to_image_tflite_and_sizes(tmp_path):
    g = translator()
    assert export.export_tflite(g, str(tmp_path), input_size="32x32")["tflite"]["none"]["gate"]["passed"]
    runner = Interpreter(model_path=str(tmp_path / "translator" / "1" / "tflite" / "translator_none.tflite")
                         ).get_signature_runner("serve")
    assert list(runner.get_input_details()["images"]["shape"]) == [1, 32, 32, 3]
    x = np.random.RandomState(4).uniform(0, 1, (1, 32, 32, 3)).astype("float32")
    assert np.abs(runner(images=x)["images"] - unit(g, x * 2 - 1)).max() <= 1e-4
    with pytest.raises(ValueError, match="not a multiple of 4"):
        export.export_tflite(g, str(tmp_path / "other"), input_size=(30, 30))
    assert not os.path.exists(tmp_path / "other")


def test_flex_op_fails_naming_the_layer(tmp_path):
    x0 = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(3, 3, padding="same", name="conv")(x0)
    x = BicubicUpsample(name="bicubic_upsample")(x)
    g = keras.Model(x0, keras.layers.Activation("tanh")(x), name="sr")
    with pytest.raises(ValueError, match=r"layer 'bicubic_upsample' uses ResizeBicubic.*Flex"):
        export.export_tflite(g, str(tmp_path / "models"), input_size=(16, 16))
    assert not os.path.exists(tmp_path / "models")


# ------------------------------------------------------------ gates, atomicity
def test_failed_quality_gate_leaves_nothing(run_dir, tmp_path, monkeypatch):
    monkeypatch.setitem(gates.MIN_PSNR_DB, "int8", 1000.0)
    with pytest.raises(export.GateError, match=r"int8 .*PSNR .* dB below the 1000 dB minimum"):
        export.export_run(run_dir, str(tmp_path / "models"), quantizations=("none", "int8"))
    assert not os.path.exists(tmp_path / "models")


def test_broken_converter_fails_parity_and_keeps_the_old_version(run_dir, exported, monkeypatch):
    root = exported[0]
    before = tree_digest(os.path.join(root, "dcgan-tiny"))
    real_convert = tflite.convert

    def wrong_weights(source, *args, **kwargs):  # converts a re-initialised copy of the generator
        clone = keras.models.clone_model(source.generator)
        return real_convert(dataclasses.replace(source, generator=clone), *args, **kwargs)

    monkeypatch.setattr(tflite, "convert", wrong_weights)
    with pytest.raises(export.GateError, match=r"TFLite fp32 model failed its parity gate: max abs diff"):
        export.export_run(run_dir, root, quantizations=("none",), overwrite=True)
    assert tree_digest(os.path.join(root, "dcgan-tiny")) == before


def test_existing_version_is_refused_then_replaced_with_overwrite(run_dir, tmp_path):
    root = str(tmp_path / "models")
    export.export_saved_model(run_dir, root)
    base = os.path.join(root, "dcgan-tiny")
    before = tree_digest(os.path.join(base, "1"))
    with pytest.raises(ValueError, match="already exists.*overwrite"):
        export.export_saved_model(run_dir, root)
    assert tree_digest(os.path.join(base, "1")) == before
    export.export_run(run_dir, root, quantizations=("none",), overwrite=True)
    export.export_saved_model(run_dir, root, version=2)
    assert sorted(os.listdir(base)) == ["1", "2", "export_report.json"]
    report = json.load(open(os.path.join(base, "export_report.json")))
    assert set(report["versions"]) == {"1", "2"} and "tflite" in report["versions"]["1"]
    assert os.path.exists(os.path.join(base, "1", "tflite", "dcgan-tiny_none.tflite"))


# ------------------------------------------------ the deployment kit's contract
def _serve_rest(loaded, body):
    """What TF Serving does with a row-format :predict body (b64 decoding, batching, _bytes outputs)."""
    body = json.loads(json.dumps(body))  # over the wire
    fn = loaded.signatures[body.get("signature_name", "serving_default")]
    specs = fn.structured_input_signature[1]
    unwrap = lambda v: base64.b64decode(v["b64"]) if isinstance(v, dict) else v  # noqa: E731
    columns = {k: [unwrap(row[k]) for row in body["instances"]] for k in specs}
    outputs = fn(**{k: tf.constant(v, dtype=specs[k].dtype) for k, v in columns.items()})
    wrap = lambda k, v: {"b64": base64.b64encode(v).decode()} if k.endswith("_bytes") else v.tolist()  # noqa: E731
    rows = [{k: wrap(k, v.numpy()[i]) for k, v in outputs.items()} for i in range(len(body["instances"]))]
    if len(outputs) == 1:
        rows = [next(iter(r.values())) for r in rows]
    return json.loads(json.dumps({"predictions": rows}))


def _serve_grpc(loaded, request):
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest.FromString(request.SerializeToString())
    fn = loaded.signatures[request.model_spec.signature_name]
    outputs = fn(**{k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()})
    response = predict_pb2.PredictResponse()
    for k, v in outputs.items():
        response.outputs[k].CopyFrom(tf.make_tensor_proto(v.numpy()))
    return predict_pb2.PredictResponse.FromString(response.SerializeToString())


def test_rest_and_grpc_requests_of_the_client(exported, image_export):
    client = load_client()
    _, folder, generator = exported
    loaded = tf.saved_model.load(folder)
    assert client.rest_url("dcgan-tiny") == "http://localhost:8501/v1/models/dcgan-tiny:predict"
    body = client.rest_body({"seed": np.array([3, 7], "int64")}, signature="seed")
    assert body == {"signature_name": "seed", "instances": [{"seed": 3}, {"seed": 7}]}
    rest = client.decode_rest_response(_serve_rest(loaded, body))
    request = client.grpc_request("dcgan-tiny", {"seed": np.array([3, 7], "int64")}, signature="seed")
    assert request.model_spec.name == "dcgan-tiny" and request.inputs["seed"].dtype == tf.int64.as_datatype_enum
    grpc = client.decode_grpc_response(_serve_grpc(loaded, request))
    for out in (rest, grpc):
        assert np.asarray(out["images"]).shape == (2, 8, 8, 1)
        np.testing.assert_allclose(np.asarray(out["images_float"], "float32"),
                                   unit(generator, np.asarray(out["z"], "float32")), rtol=0, atol=1e-5)
    np.testing.assert_array_equal(np.asarray(rest["images"]), grpc["images"])
    z = np.random.RandomState(9).standard_normal((3, 8)).astype("float32")
    rest_z = client.decode_rest_response(_serve_rest(loaded, client.rest_body({"z": z})))
    np.testing.assert_allclose(np.asarray(rest_z["images_float"], "float32"), unit(generator, z), rtol=0, atol=1e-5)

    image_loaded, g = image_export
    image = np.random.RandomState(6).randint(0, 256, (13, 21, 3)).astype("uint8")
    png = io.BytesIO()
    Image.fromarray(image).save(png, format="PNG")
    body = client.rest_body({"image_bytes": [png.getvalue()]}, signature="bytes")
    assert body["instances"][0]["image_bytes"] == {"b64": base64.b64encode(png.getvalue()).decode()}
    rest = client.decode_rest_response(_serve_rest(image_loaded, body), single_output="png_bytes")
    request = client.grpc_request("translator", {"image_bytes": [png.getvalue()]}, signature="bytes")
    grpc = client.decode_grpc_response(_serve_grpc(image_loaded, request))
    direct = image_loaded.signatures["serving_default"](images=tf.constant(image[None]))["images"][0].numpy()
    for out in (rest["png_bytes"][0], grpc["png_bytes"][0]):
        np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(out))), direct)


def rest_stand_in(loaded, path=None):
    """A local HTTP server answering TF Serving REST predict requests with ``loaded``'s signatures (started;
    call ``shutdown()`` and ``server_close()``). ``path``: the request path every request must have."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            assert path is None or self.path == path
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            data = json.dumps(_serve_rest(loaded, body)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_client_command_against_a_rest_stand_in(exported, tmp_path):
    """client.py end to end over HTTP, against a stand-in speaking TF Serving's REST protocol."""
    client = load_client()
    loaded = tf.saved_model.load(exported[1])

    server = rest_stand_in(loaded, "/v1/models/dcgan-tiny:predict")
    try:
        argv = ["dcgan-tiny", "--seed", "4", "5", "--host", "127.0.0.1", "--port", str(server.server_port),
                "--out", str(tmp_path)]
        assert client.main(argv) == 0
        written = np.asarray(Image.open(tmp_path / "dcgan-tiny_001.png"))
        expected = loaded.signatures["seed"](seed=tf.constant([5], tf.int64))["images"][0, ..., 0].numpy()
        np.testing.assert_array_equal(written, expected)
        assert client.main(argv + ["--truncation", "0.5"]) == 0  # the truncated signature
        written = np.asarray(Image.open(tmp_path / "dcgan-tiny_001.png"))
        expected = loaded.signatures["truncated"](seed=tf.constant([5], tf.int64),
                                                  truncation=tf.constant([0.5]))["images"][0, ..., 0].numpy()
        np.testing.assert_array_equal(written, expected)
    finally:
        server.shutdown()
        server.server_close()


def test_deployment_kit_files():
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    config = model_server_config_pb2.ModelServerConfig()
    text_format.Parse(open(os.path.join(REPO, "export", "models.config")).read(), config)
    for model in config.model_config_list.config:
        assert model.base_path == f"/models/{model.name}" and model.model_platform == "tensorflow"
    compose = open(os.path.join(REPO, "export", "compose.yaml")).read()
    for needle in ("tensorflow/serving", "./models:/models", "--model_config_file=", '"8500:8500"', '"8501:8501"'):
        assert needle in compose
    assert os.path.exists(os.path.join(REPO, "export", "models", ".gitkeep"))


# ------------------------------------------------------------------ the CLI
def test_cli_export_end_to_end(run_dir, tmp_path, capsys):
    out = str(tmp_path / "models")
    argv = ["export", run_dir, "--out", out, "--quantize", "none,fp16", "--name", "digits", "--version", "3"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "exported digits version 3" in printed and "tflite fp16" in printed
    assert sorted(os.listdir(os.path.join(out, "digits", "3", "tflite"))) == ["digits_fp16.tflite",
                                                                              "digits_none.tflite"]
    assert main(argv) == 2  # the version exists
    assert "already exists" in capsys.readouterr().err
    assert main(argv + ["--overwrite", "--formats", "saved_model"]) == 0
    assert not os.path.exists(os.path.join(out, "digits", "3", "tflite"))


@pytest.mark.parametrize("extra, message", [
    (["--formats", "onnx"], "unknown format 'onnx'"),
    (["--quantize", "int4"], "unknown quantization 'int4'"),
    (["--input-size", "32x32"], "takes no input size"),
    (["--version", "0"], "positive integer"),
    (["--name", "../up"], "model name"),
])
def test_cli_export_bad_input(run_dir, tmp_path, capsys, extra, message):
    assert main(["export", run_dir, "--out", str(tmp_path / "m"), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tfgan: error:") and message in err and len(err.splitlines()) == 1
    assert not os.path.exists(tmp_path / "m")


def test_cli_export_missing_run(tmp_path, capsys):
    assert main(["export", str(tmp_path / "nope"), "--out", str(tmp_path / "m")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_parse_size_errors():
    from tfgan_models.export.source import parse_size

    assert parse_size("128x96", 4) == (128, 96) and parse_size(64) == (64, 64)
    for bad in ("12x", "axb", "0x8", (8,)):
        with pytest.raises(ValueError):
            parse_size(bad)


# ---------------------------------------------------------------- Keras side
def test_model_keras_resumes_training_and_generator_keras_reloads(run_dir):
    model = keras.models.load_model(os.path.join(run_dir, "model.keras"))
    generator = keras.models.load_model(os.path.join(run_dir, "generator.keras"))
    z = np.random.RandomState(0).standard_normal((4, 8)).astype("float32")
    np.testing.assert_allclose(generator.predict(z, verbose=0), model.inference_generator(z, training=False),
                               rtol=0, atol=1e-6)
    step = int(model.g_optimizer.iterations)
    before = [w.numpy().copy() for w in model.generator.trainable_weights]
    ds = data.load("digits", batch_size=8, image_size=8, channels=1, repeat=True, seed=0)
    history = model.fit(ds, epochs=1, steps_per_epoch=2, verbose=0)
    assert int(model.g_optimizer.iterations) == step + 2
    assert all(np.isfinite(v).all() for v in history.history.values())
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(before, model.generator.trainable_weights))


def test_one_hot_labels_survive_full_int8_quantization():
    """Regression: ONE_HOT quantized to int8 wrecked conditional generators (~15 dB); OneHot must not."""
    from tfgan_models.export import exporter, source as export_source, tflite as export_tflite
    from tfgan_models.layers import OneHot

    labels = keras.Input((), dtype="int32", name="labels")
    z = keras.Input((4,), name="z")
    h = keras.layers.Concatenate()([z, OneHot(10)(labels)])
    big = keras.initializers.RandomNormal(0, 1.0, seed=0)
    x = keras.layers.Dense(2 * 2 * 1, activation="tanh", kernel_initializer=big)(h)
    generator = keras.Model([z, labels], keras.layers.Reshape((2, 2, 1))(x), name="g")
    source = export_source.resolve(generator)
    calibration, _ = exporter.representative_set(source, None)
    runner = Interpreter(model_content=export_tflite.convert(source, "int8", None, calibration)).get_signature_runner(
        export_tflite.SIGNATURE)
    rng = np.random.RandomState(1)
    worst = 0.0
    for label in range(10):
        zz = rng.randn(1, 4).astype("float32")
        got = list(runner(z=zz, labels=np.array([label], "int32")).values())[0]
        want = (generator([zz, np.array([label], "int32")]).numpy() + 1) / 2
        worst = max(worst, float(np.abs(got - want).max()))
    assert worst < 0.05, worst
