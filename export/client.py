"""Client for generators served by TF Serving: REST (``:predict``) and gRPC (``PredictRequest``).

Building a request is separate from sending it, so the exact bytes on the wire
can be checked without a server (``tests/test_export.py`` does).

Examples (the server of ``compose.yaml`` on localhost)::

    # a latent generator: one image per seed, written as PNGs
    python export/client.py dcgan-demo --seed 1 2 3 --out samples/
    # a conditional one: seeds and labels
    python export/client.py cgan-demo --seed 1 2 --labels 3 7 --out samples/
    # an image-to-image generator: PNG/JPEG files in, PNG files out (bytes signature)
    python export/client.py pix2pix-demo --image photo.jpg --out samples/
    # an inpainting model (Context Encoder): image and mask files (white = hole), or the centre hole
    python export/client.py ce-demo --image photo.jpg --mask hole.png --out samples/
    python export/client.py ce-demo --image a.png b.png --mask center --out samples/
    # an autoregressive model (PixelRNN): one sample per seed, drawn in the server
    python export/client.py pixelrnn-demo --seed 1 2 --signature sample --out samples/
    # a text-to-image model (GAN-INT-CLS, StackGAN): one image per caption (and per seed)
    python export/client.py gic-demo --text "a large red circle" "a small blue square" --seed 1 2 --out samples/
    # the same over gRPC (needs `pip install tensorflow-serving-api grpcio`)
    python export/client.py dcgan-demo --seed 1 2 3 --grpc --out samples/

REST: numbers travel as JSON lists; binary strings as ``{"b64": "..."}``
objects, and TF Serving returns output tensors whose names end in ``_bytes``
(``png_bytes``) the same way.
"""

import argparse
import base64
import io
import json
import os
import re
import sys
import urllib.request

import numpy as np

REST_PORT, GRPC_PORT = 8501, 8500


# -------------------------------------------------------------------- REST
def rest_url(model, host="localhost", port=REST_PORT, version=None):
    """``http://HOST:PORT/v1/models/MODEL[/versions/N]:predict``."""
    path = f"/v1/models/{model}" + (f"/versions/{int(version)}" if version is not None else "")
    return f"http://{host}:{port}{path}:predict"


def _json_value(value):
    if isinstance(value, (bytes, bytearray)):
        return {"b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, np.ndarray):
        return value.tolist() if value.dtype != object else [_json_value(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def rest_body(inputs, signature="serving_default"):
    """The JSON body of a row-format ``:predict`` request.

    ``inputs``: ``{name: sequence with one entry per example}``; ``bytes``
    entries (encoded images) become ``{"b64": ...}`` objects.
    Returns ``{"signature_name": ..., "instances": [{name: value, ...}, ...]}``.
    """
    columns = {name: list(values) for name, values in inputs.items()}
    sizes = {len(v) for v in columns.values()}
    if len(sizes) != 1:
        lengths = {k: len(v) for k, v in columns.items()}
        raise ValueError(f"every input needs one entry per example; got lengths {lengths}.")
    n = sizes.pop()
    instances = [{name: _json_value(np.asarray(v[i]) if not isinstance(v[i], (bytes, bytearray)) else v[i])
                  for name, v in columns.items()} for i in range(n)]
    return {"signature_name": signature, "instances": instances}


def send_rest(url, body, timeout=60.0):
    """POSTs ``body`` (a dict) to ``url``; returns the decoded JSON response."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read().decode())


def _from_json(value):
    if isinstance(value, dict) and set(value) == {"b64"}:
        return base64.b64decode(value["b64"])
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def decode_rest_response(response, single_output="output"):
    """``{"predictions": [...]}`` -> ``{output name: np.ndarray}`` (b64 outputs as ``bytes``).

    A signature with several outputs comes back as ``{name: value}`` rows, one
    with a single output as bare values: those are named ``single_output``
    (``"png_bytes"`` for the bytes signature).
    """
    if "error" in response:
        raise RuntimeError(f"TF Serving error: {response['error']}")
    rows = response["predictions"]
    if rows and isinstance(rows[0], dict) and "b64" not in rows[0]:
        names = list(rows[0])
        columns = {name: [_from_json(row[name]) for row in rows] for name in names}
    else:
        columns = {single_output: [_from_json(row) for row in rows]}
    return {name: np.array(values, dtype=object) if values and isinstance(values[0], bytes) else np.asarray(values)
            for name, values in columns.items()}


# -------------------------------------------------------------------- gRPC
def grpc_request(model, inputs, signature="serving_default", version=None, dtypes=None):
    """A ``tensorflow_serving.apis.predict_pb2.PredictRequest``.

    ``inputs``: ``{name: array}`` (``bytes`` lists become string tensors);
    ``dtypes``: optional ``{name: tf dtype}`` (default: float32 for floats,
    int64 for ``seed``, int32 for other integers, string for bytes).
    """
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = signature
    if version is not None:
        request.model_spec.version.value = int(version)
    for name, value in inputs.items():
        dtype = (dtypes or {}).get(name) or _default_dtype(name, value)
        request.inputs[name].CopyFrom(tf.make_tensor_proto(value, dtype=dtype))
    return request


def _default_dtype(name, value):
    import tensorflow as tf

    if isinstance(value, (list, tuple)) and any(isinstance(v, (bytes, bytearray, str)) for v in value):
        return tf.string  # captions: str and bytes (any bytes, valid UTF-8 or not) mixed
    array = np.asarray(value)
    if array.dtype == object or array.dtype.kind in "SU":
        return tf.string
    if array.dtype.kind == "f":
        return tf.float32
    if array.dtype == np.uint8:
        return tf.uint8
    return tf.int64 if name == "seed" else tf.int32


def send_grpc(request, host="localhost", port=GRPC_PORT, timeout=60.0):
    """Sends a ``PredictRequest``; returns the ``PredictResponse``."""
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    with grpc.insecure_channel(f"{host}:{port}") as channel:
        return prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=timeout)


def decode_grpc_response(response):
    """``PredictResponse`` -> ``{output name: np.ndarray}``."""
    import tensorflow as tf

    return {name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}


# -------------------------------------------------------------- inpainting
def center_mask_png(image_bytes):
    """PNG bytes of the centre-hole mask (half the height and width, white) for an encoded image."""
    from PIL import Image

    with Image.open(io.BytesIO(image_bytes)) as image:
        w, h = image.size
    mask = np.zeros((h, w), "uint8")
    top, left = (h - h // 2) // 2, (w - w // 2) // 2
    mask[top : top + h // 2, left : left + w // 2] = 255
    out = io.BytesIO()
    Image.fromarray(mask).save(out, format="PNG")
    return out.getvalue()


def inpaint_inputs(images, masks):
    """``{"images": uint8 (N, H, W, C), "masks": uint8 (N, H, W, 1)}`` for ``serving_default`` of an
    inpainting model from uint8 images (H, W, C) / (N, H, W, C) and masks (H, W[, 1]) / (N, H, W[, 1])
    whose nonzero pixels (or values > 0.5 for float masks) are the hole."""
    images = np.asarray(images)
    images = images[None] if images.ndim == 3 else images
    masks = np.asarray(masks)
    masks = (masks > 0.5) if masks.dtype.kind == "f" else (masks != 0)
    if masks.ndim >= 3 and masks.shape[-1] == 1 and masks.shape[-3:-1] == images.shape[1:3]:
        masks = masks[..., 0]  # (..., H, W, 1) -> (..., H, W)
    masks = masks[None] if masks.ndim == 2 else masks
    if images.dtype != np.uint8 or masks.shape != images.shape[:3]:
        raise ValueError(f"inpainting needs uint8 images (N, H, W, C) and masks of their size (N, H, W); "
                         f"received {images.dtype} {images.shape} and {masks.shape}.")
    return {"images": images, "masks": masks[..., None].astype("uint8")}


# ---------------------------------------------------------- text-to-image
def caption_ids(text, vocab):
    """int32 ids (1, L) of one caption (``str`` or UTF-8 ``bytes``) for a text-to-image ``.tflite`` file, exactly
    as ``tfgan_models.layers.text.caption_ids``; ``vocab``: ``tflite/NAME_text.json`` (a path) or its dict."""
    if not isinstance(vocab, dict):
        with open(vocab, encoding="utf-8") as f:
            vocab = json.load(f)
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    length, first = int(vocab["length"]), int(vocab.get("first_id", 1))
    index = {c: i + first for i, c in enumerate(vocab["alphabet"])}
    text = re.sub(r"[\t\n\f\r ]+", " ", text).strip(" ")
    ids = [index.get(c.lower() if c < "\x80" else c, int(vocab["unknown"])) for c in text[:length]]
    out = np.full((1, length), int(vocab["pad"]), "int32")
    out[0, : len(ids)] = ids
    return out


def text_inputs(texts, seeds=None):
    """``(signature, inputs)`` of a text-to-image request: ``serving_default`` (seed 0) for captions alone,
    else ``seed`` with one row per caption and seed (caption-major)."""
    texts = [texts] if isinstance(texts, (str, bytes)) else list(texts)
    if seeds is None:
        return "serving_default", {"text": texts}
    seeds = [int(s) for s in (seeds if np.ndim(seeds) else [seeds])]
    return "seed", {"text": [t for t in texts for _ in seeds], "seed": np.asarray(seeds * len(texts), "int64")}


# ----------------------------------------------------------------- LiteRT
def tflite_feed(value, details):
    """One input for a ``.tflite`` tensor.

    A quantized (``--int8-io``) tensor takes codes ``q = round(value / scale) + zero_point`` of float
    values in the model's units ([0, 1] images, z); uint8 arrays are read as pixels (``value / 255``, so
    a uint8 image input, scale 1/255 and zero point 0, gets them unchanged; an int8 one gets
    ``pixel - 128``); int8 arrays for an int8 tensor are taken as codes. Other tensors (float32,
    int32 labels) get the value cast to their dtype.
    """
    dtype = np.dtype(details["dtype"])
    scale, zero_point = details.get("quantization", (0.0, 0))
    value = np.asarray(value)
    if dtype.kind not in "iu" or not scale or (value.dtype == dtype and dtype != np.uint8):
        return value.astype(dtype)
    if value.dtype == np.uint8:
        value = value / 255.0
    info = np.iinfo(dtype)
    return np.clip(np.round(value.astype("float64") / scale) + zero_point, info.min, info.max).astype(dtype)


def tflite_read(value, details):
    """One output of a ``.tflite`` tensor as float32: quantized codes become ``scale * (q - zero_point)``."""
    scale, zero_point = details.get("quantization", (0.0, 0))
    if np.dtype(details["dtype"]).kind not in "iu" or not scale:
        return np.asarray(value)
    return ((np.asarray(value, "float32") - zero_point) * scale).astype("float32")


def run_tflite(path, inputs, num_threads=1):
    """Runs the ``serve`` signature of a ``.tflite`` file once: ``{name: array (1, ...)}`` -> ``{name: array}``.

    Works for float32 and quantized (``tfgan export --int8-io``) files alike: inputs go through
    :func:`tflite_feed`, outputs through :func:`tflite_read` (images come back float32 in [0, 1]).
    """
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=os.fspath(path), num_threads=num_threads).get_signature_runner("serve")
    details, out_details = runner.get_input_details(), runner.get_output_details()
    unknown = sorted(set(inputs) - set(details))
    if unknown:
        raise ValueError(f"{os.path.basename(path)} has no input {unknown}; its inputs are {sorted(details)}.")
    result = runner(**{name: tflite_feed(value, details[name]) for name, value in inputs.items()})
    return {name: tflite_read(value, out_details[name]) for name, value in result.items()}


# --------------------------------------------------------------- command
def _write_images(outputs, out_dir, prefix):
    from PIL import Image

    os.makedirs(out_dir, exist_ok=True)
    paths = []
    if "png_bytes" in outputs:
        for i, data in enumerate(outputs["png_bytes"]):
            paths.append(os.path.join(out_dir, f"{prefix}_{i:03d}.png"))
            with open(paths[-1], "wb") as f:
                f.write(data)
        return paths
    for i, image in enumerate(np.asarray(outputs["images"], "uint8")):
        paths.append(os.path.join(out_dir, f"{prefix}_{i:03d}.png"))
        Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(paths[-1])
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description="Query a generator served by TF Serving.")
    parser.add_argument("model", help="model name (the folder under export/models)")
    parser.add_argument("--seed", type=int, nargs="+", help="latent generators: one image per seed")
    parser.add_argument("--text", nargs="+", help="text-to-image models: captions, one image per caption and --seed")
    parser.add_argument("--labels", type=int, nargs="+", help="conditional generators: one label per seed")
    parser.add_argument("--truncation", type=float,
                        help="latent generators with N(0, I) z: the truncation trick at this threshold "
                             "(signature 'truncated'), e.g. 0.5")
    parser.add_argument("--image", nargs="+", help="image-to-image generators: PNG/JPEG files")
    parser.add_argument("--mask", nargs="+",
                        help="inpainting models: 'center' or mask files (PNG, white = hole), one per --image "
                             "or one for all (signature 'bytes' with mask_bytes)")
    parser.add_argument("--reverse", action="store_true",
                        help="two-way translators (CycleGAN, DiscoGAN): translate b -> a (signature b_to_a_bytes)")
    parser.add_argument("--signature", help="the signature to call (default: seed, truncated or bytes as the "
                                              "other options imply; 'sample' for PixelRNN models)")
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, help=f"default {REST_PORT} (REST) or {GRPC_PORT} (gRPC)")
    parser.add_argument("--version", type=int, help="a model version (default: the latest served)")
    parser.add_argument("--grpc", action="store_true", help="use gRPC (port 8500) instead of REST (8501)")
    parser.add_argument("--out", default="samples", help="folder for the PNGs")
    args = parser.parse_args(argv)
    if args.text and args.image or not args.text and bool(args.seed) == bool(args.image):
        parser.error("give either --seed (latent generators), --text (text-to-image, with optional --seed) "
                     "or --image (image-to-image generators)")
    if args.text:
        signature, inputs = text_inputs(args.text, args.seed)
    elif args.image:
        signature = "b_to_a_bytes" if args.reverse else "bytes"
        inputs = {"image_bytes": [open(p, "rb").read() for p in args.image]}
        if args.mask:
            if len(args.mask) not in (1, len(args.image)):
                parser.error(f"give one --mask for all images or one per image ({len(args.image)})")
            masks = args.mask * len(args.image) if len(args.mask) == 1 else args.mask
            inputs["mask_bytes"] = [center_mask_png(data) if m == "center" else open(m, "rb").read()
                                    for m, data in zip(masks, inputs["image_bytes"])]
    elif args.mask:
        parser.error("--mask goes with --image (inpainting models)")
    else:
        signature, inputs = "seed", {"seed": np.asarray(args.seed, "int64")}
        if args.truncation is not None:
            if not args.truncation > 0:
                parser.error(f"--truncation must be > 0, received {args.truncation}")
            signature = "truncated"
            inputs["truncation"] = np.full(len(args.seed), args.truncation, "float32")
        if args.labels:
            inputs["labels"] = np.resize(np.asarray(args.labels, "int32"), len(args.seed))
    signature = args.signature or signature
    if args.grpc:
        request = grpc_request(args.model, inputs, signature, args.version)
        outputs = decode_grpc_response(send_grpc(request, args.host, args.port or GRPC_PORT))
    else:
        body = rest_body(inputs, signature)
        response = send_rest(rest_url(args.model, args.host, args.port or REST_PORT, args.version), body)
        outputs = decode_rest_response(response, single_output="png_bytes")
    for path in _write_images(outputs, args.out, args.model):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
