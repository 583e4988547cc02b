"""Inpainting export (Context Encoders): the SavedModel at any size, bad masks, bytes, TFLite x 4, CLI, client.

Artifacts are loaded without the export code (``tf.saved_model.load``, LiteRT's ``Interpreter``) and
compared with the model's own Python inpainting (``model.inpaint_image``, ``model.inpaint``).
"""

import io
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
from PIL import Image

from tfgan_models import export, runs
from tfgan_models.cli import main
from tfgan_models.data.masks import center_mask
from tfgan_models.export import inpainting
from tfgan_models.export.source import resolve
from tfgan_models.models.context_encoder import composite_any_size
from test_export import _serve_grpc, _serve_rest, load_client, rest_stand_in

QUANTS = ("none", "fp16", "dynamic", "int8")
NAME = "ce-tiny"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("runs") / NAME)
    keras.utils.set_random_seed(0)
    runs.train(runs.run_settings("context_encoder", "tiny"), out, verbose=0)
    return out


@pytest.fixture(scope="module")
def exported(run_dir, tmp_path_factory):
    """The run exported in every format: (root, version folder, loaded SavedModel, model)."""
    root = str(tmp_path_factory.mktemp("models"))
    export.export_run(run_dir, root)
    folder = os.path.join(root, NAME, "1")
    model, _ = runs.load_model(run_dir)
    return root, folder, tf.saved_model.load(folder), model


def photo(h, w, c=1, seed=0):
    """A smooth uint8 image (H, W, C)."""
    coarse = np.random.RandomState(seed).uniform(0, 255, (1, 4, 4, c)).astype("float32")
    return np.round(tf.image.resize(coarse, (h, w)).numpy()[0]).astype("uint8")


def box_mask(h, w, top, left, bh, bw):
    mask = np.zeros((h, w), "uint8")
    mask[top : top + bh, left : left + bw] = 1
    return mask


def png(array):
    out = io.BytesIO()
    Image.fromarray(array[..., 0] if array.ndim == 3 and array.shape[-1] == 1 else array).save(out, format="PNG")
    return out.getvalue()


# ---------------------------------------------------------------- the report
def test_layout_report_and_signatures(exported):
    root, folder, _, _ = exported
    assert sorted(os.listdir(os.path.join(folder, "tflite"))) == sorted(f"{NAME}_{q}.tflite" for q in QUANTS)
    entry = json.load(open(os.path.join(root, NAME, "export_report.json")))["versions"]["1"]
    assert entry["generator"]["kind"] == "inpaint" and entry["generator"]["variant"] == "context_encoder"
    assert entry["generator"]["max_side"] == inpainting.MAX_SIDE == 2048
    sigs = entry["saved_model"]["signatures"]
    images = {"dtype": "uint8", "shape": [None, None, None, 1]}
    assert sigs["serving_default"]["inputs"] == {"images": images, "masks": images}
    assert sigs["serving_default"]["outputs"] == {"images": images,
                                                  "images_float": {"dtype": "float32", "shape": [None, None, None, 1]}}
    assert sigs["masks_float"]["inputs"]["masks"] == {"dtype": "float32", "shape": [None, None, None, 1]}
    assert sigs["bytes"] == {"inputs": {"image_bytes": {"dtype": "string", "shape": [None]},
                                        "mask_bytes": {"dtype": "string", "shape": [None]}},
                             "outputs": {"png_bytes": {"dtype": "string", "shape": [None]}}}
    assert entry["saved_model"]["gate"]["passed"] and entry["saved_model"]["gate"]["max_abs_diff"] <= 1e-5
    for q in QUANTS:
        t = entry["tflite"][q]
        assert t["gate"]["passed"] and t["gate"]["metric"] == ("psnr_db" if q in ("dynamic", "int8") else "max_abs_diff")
        assert t["io"]["inputs"]["images"]["shape"] == [1, 16, 16, 1]
        assert t["io"]["inputs"]["masks"]["shape"] == [1, 16, 16, 1]
        assert not [op for op in t["ops"] if op.startswith("Flex") or op == "CUSTOM"], t["ops"]  # builtins only
    assert "run's data 'digits' with its center masks" in entry["tflite"]["int8"]["calibration"]


def test_a_model_and_a_bare_network_resolve_as_inpainting(exported):
    model = exported[3]
    assert resolve(model).kind == "inpaint"
    bare = resolve(model.generator)  # no declaration: an image input and a one-channel input named masks
    assert bare.kind == "inpaint" and [i.prior for i in bare.inputs] == ["image", "mask"]


# ------------------------------------------------------------ the SavedModel
def test_saved_model_equals_inpaint_image_at_any_size_and_keeps_the_context(exported):
    _, _, loaded, model = exported
    image, mask = photo(40, 30, seed=1), box_mask(40, 30, 12, 7, 14, 11)  # not the model's 16x16
    out = loaded.signatures["serving_default"](images=tf.constant(image[None]),
                                               masks=tf.constant(mask[None, ..., None]))["images"].numpy()[0]
    np.testing.assert_array_equal(out, model.inpaint_image(image, mask))
    np.testing.assert_array_equal(out, composite_any_size(model.inference_generator, tf.constant(image[None]),
                                                          tf.constant(mask[None, ..., None].astype("float32")),
                                                          model.data_shape).numpy()[0])
    outside = mask == 0
    np.testing.assert_array_equal(out[outside], image[outside])  # bit for bit outside the hole
    assert not np.array_equal(out[~outside], image[~outside])    # the hole was filled
    # at the network's size: the float output is model.inpaint's composite
    batch = np.stack([photo(16, 16, seed=s) for s in (2, 3)])
    masks = np.stack([center_mask(16, 16), center_mask(16, 16)]).astype("uint8")
    got = loaded.signatures["serving_default"](images=tf.constant(batch), masks=tf.constant(masks))
    np.testing.assert_allclose(got["images_float"].numpy() * 2.0 - 1.0, model.inpaint(batch, masks), atol=1e-5, rtol=0)
    by_float = loaded.signatures["masks_float"](images=tf.constant(batch), masks=tf.constant(masks * np.float32(0.9)))
    np.testing.assert_array_equal(by_float["images"].numpy(), got["images"].numpy())


@pytest.mark.parametrize("case, message", [
    ("empty", "a mask is empty"),
    ("full", "a mask covers the whole image"),
    ("wrong size", "masks must be \\(N, H, W, 1\\) with the N, H and W of the images"),
    ("wrong batch", "masks must be \\(N, H, W, 1\\) with the N, H and W of the images"),
    ("oversized", "images must be at most 2048 pixels on a side"),
])
def test_bad_requests_fail_with_a_clear_error(exported, case, message):
    sig = exported[2].signatures["serving_default"]
    image, mask = photo(20, 24)[None], box_mask(20, 24, 5, 5, 6, 6)[None, ..., None]
    if case == "empty":
        image, mask = np.concatenate([image, image]), np.concatenate([mask, 0 * mask])
    elif case == "full":
        mask = np.full_like(mask, 255)
    elif case == "wrong size":
        mask = mask[:, :, :20]
    elif case == "wrong batch":
        mask = np.concatenate([mask, mask])
    else:
        image, mask = np.zeros((1, 2049, 3, 1), "uint8"), np.zeros((1, 2049, 3, 1), "uint8")
        mask[0, 5] = 1
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        sig(images=tf.constant(image), masks=tf.constant(mask))


def test_bytes_signature_round_trip(exported):
    loaded = exported[2]
    image, mask = photo(27, 33, c=1, seed=4), box_mask(27, 33, 3, 10, 9, 15) * 255
    jpeg = io.BytesIO()
    Image.fromarray(np.repeat(image, 3, axis=-1)).save(jpeg, format="JPEG", quality=95)
    out = loaded.signatures["bytes"](image_bytes=tf.constant([png(image), jpeg.getvalue()]),
                                     mask_bytes=tf.constant([png(mask), png(np.stack([mask] * 3, -1))]))["png_bytes"]
    first = np.asarray(Image.open(io.BytesIO(out[0].numpy())))[..., None]
    direct = loaded.signatures["serving_default"](images=tf.constant(image[None]),
                                                  masks=tf.constant(mask[None, ..., None]))["images"][0].numpy()
    np.testing.assert_array_equal(first, direct)
    assert np.asarray(Image.open(io.BytesIO(out[1].numpy()))).shape == (27, 33)  # RGB JPEG read as grey
    with pytest.raises(tf.errors.InvalidArgumentError, match="one mask_bytes per image_bytes"):
        loaded.signatures["bytes"](image_bytes=tf.constant([png(image)] * 2), mask_bytes=tf.constant([png(mask)]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="a mask is empty"):  # 0/1 PNG: no pixel > 127
        loaded.signatures["bytes"](image_bytes=tf.constant([png(image)]), mask_bytes=tf.constant([png(mask // 255)]))


# ------------------------------------------------------------------ TFLite
@pytest.mark.parametrize("quantization", QUANTS)
def test_tflite_composites_in_graph_and_matches_keras(exported, quantization):
    _, folder, _, model = exported
    interpreter = Interpreter(model_path=os.path.join(folder, "tflite", f"{NAME}_{quantization}.tflite"), num_threads=1)
    ops = {op["op_name"] for op in interpreter._get_ops_details()}
    assert not ops & {"VAR_HANDLE", "READ_VARIABLE", "CUSTOM"} and not [o for o in ops if o.startswith("Flex")]
    assert {"MUL", "ADD", "TRANSPOSE_CONV"} <= ops and ("QUANTIZE" in ops) == (quantization == "int8")
    runner = interpreter.get_signature_runner("serve")
    assert list(runner.get_input_details()["masks"]["shape"]) == [1, 16, 16, 1]
    images = np.stack([photo(16, 16, seed=s) for s in range(5, 9)]).astype("float32") / 255.0
    masks = np.stack([center_mask(16, 16), box_mask(16, 16, 2, 3, 5, 9)[..., None]] * 2).astype("float32")
    got = np.concatenate([runner(images=images[i : i + 1], masks=masks[i : i + 1])["images"] for i in range(4)])
    expected = (model.inpaint(images * 2.0 - 1.0, masks) + 1.0) / 2.0
    outside = np.broadcast_to(masks == 0, got.shape)
    if quantization == "none":
        np.testing.assert_array_equal(got[outside], images[outside])  # multiply/add composite: exact
        assert np.abs(got - expected).max() <= 1e-4
    elif quantization == "fp16":
        assert np.abs(got - expected).max() <= 1e-2
    else:
        mse = np.mean((got.astype("float64") - expected) ** 2)
        assert mse == 0 or 10 * np.log10(1.0 / mse) >= 30.0
        assert np.abs(got[outside] - images[outside]).max() <= 1.0 / 255  # within one 8-bit level


# ------------------------------------------------------------- CLI and client
def test_cli_export_and_its_errors(run_dir, tmp_path, capsys):
    out = str(tmp_path / "m")
    assert main(["export", run_dir, "--out", out, "--quantize", "none", "--name", "ce"]) == 0
    printed = capsys.readouterr().out
    assert "exported ce version 1" in printed and "tflite none" in printed
    assert main(["export", run_dir, "--out", str(tmp_path / "n"), "--input-size", "32x32"]) == 2
    err = capsys.readouterr().err
    assert "inpaints at its network size 16x16 only" in err and not os.path.exists(tmp_path / "n")


def test_client_rest_grpc_and_command(exported, tmp_path):
    client = load_client()
    loaded = exported[2]
    image, mask = photo(21, 18, seed=7), box_mask(21, 18, 4, 4, 8, 8)
    inputs = client.inpaint_inputs(image, mask.astype("float32"))
    direct = loaded.signatures["serving_default"](**{k: tf.constant(v) for k, v in inputs.items()})["images"].numpy()
    rest = client.decode_rest_response(_serve_rest(loaded, client.rest_body(inputs)))
    grpc = client.decode_grpc_response(_serve_grpc(loaded, client.grpc_request(NAME, inputs)))
    np.testing.assert_array_equal(np.asarray(rest["images"], "uint8"), direct)
    np.testing.assert_array_equal(grpc["images"], direct)

    (tmp_path / "a.png").write_bytes(png(image))
    (tmp_path / "hole.png").write_bytes(png(mask * 255))

    server = rest_stand_in(loaded)
    try:
        base = [NAME, "--image", str(tmp_path / "a.png"), "--host", "127.0.0.1", "--port", str(server.server_port)]
        assert client.main(base + ["--mask", str(tmp_path / "hole.png"), "--out", str(tmp_path / "o1")]) == 0
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "o1" / f"{NAME}_000.png")), direct[0, ..., 0])
        assert client.main(base + ["--mask", "center", "--out", str(tmp_path / "o2")]) == 0
        centre = center_mask(21, 18)[None].astype("uint8")
        expected = loaded.signatures["serving_default"](images=tf.constant(image[None]), masks=tf.constant(centre))
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "o2" / f"{NAME}_000.png")),
                                      expected["images"][0, ..., 0].numpy())
    finally:
        server.shutdown()
        server.server_close()


def test_a_tflite_file_that_changes_the_context_fails_its_gate(run_dir, tmp_path, monkeypatch):
    def no_composite(source):  # the raw prediction: the hole filled, but the context redrawn too
        generator = source.generator
        return lambda images, masks: {"images": (generator([images * 2.0 - 1.0, masks], training=False) + 1.0) / 2.0}

    monkeypatch.setattr(inpainting, "tflite_function", no_composite)
    with pytest.raises(export.GateError, match="changes pixels outside the hole"):
        export.export_run(run_dir, str(tmp_path), formats=("tflite",), quantizations=("none",))
    assert os.listdir(tmp_path) == []
