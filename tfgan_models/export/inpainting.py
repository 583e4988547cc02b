"""Inpainting exports (Context Encoders): ``(image, mask) -> image`` with only the hole filled.

SavedModel (TF Serving), any image size up to ``MAX_SIDE`` pixels on a side::

    serving_default  images uint8 [None, None, None, C], masks uint8 [None, None, None, 1] (nonzero = hole)
                     -> images uint8 [None, H, W, C]: the input's pixels outside the hole, bit for bit
                        images_float float32 [None, H, W, C] in [0, 1]: unrounded (parity checks)
    masks_float      the same with masks float32 (> 0.5 = hole, as ``check_masks`` reads them)
    bytes            image_bytes string [None], mask_bytes string [None] (PNG or JPEG; a mask pixel
                     is a hole when its brightest channel is > 127, as ``tfgan inpaint`` reads mask files)
                     -> png_bytes string [None]

The graph is :func:`tfgan_models.models.context_encoder.composite_any_size`: image and mask are
resized to the network's size, the prediction is resized back and pasted into the hole only. Bad
requests fail with an ``InvalidArgumentError`` saying what is wrong: a mask whose size differs from
its image's, an empty mask (nothing to fill), a full one (nothing to fill from), an image larger than
``MAX_SIDE``.

TFLite, fixed at the network's size (``serve``)::

    images float32 [1, H, W, C] in [0, 1], masks float32 [1, H, W, 1] (1 = hole; > 0.5 counts)
    -> images float32 [1, H, W, C] in [0, 1]: hole * prediction + (1 - hole) * images

The composite is multiply/add in the graph, so an fp32 file returns the input exactly outside the
hole. Gates (:mod:`.gates` conventions): the composite against the Keras generator's composite;
the report also gives the PSNR of the hole alone (``hole_psnr_db``).
"""

import numpy as np
import tensorflow as tf

from tfgan_models.data.masks import center_mask, random_mask
from tfgan_models.export import gates
from tfgan_models.export.saved_model import checked_image_bytes, to_unit
from tfgan_models.export.source import parse_size
from tfgan_models.inputs import GeneratorInput

MAX_SIDE = 2048      # largest image side the serving signatures accept
MASK_THRESHOLD = 127  # mask files: a pixel whose brightest channel is above this is a hole


def matches(generator, declared=None):
    """True for ``(images (B, H, W, C), masks (B, H, W, 1)) -> images``: declared image then mask inputs,
    or (a bare network) two fixed-size image inputs, the second a one-channel one named ``*mask*``."""
    inputs, outputs = generator.inputs or [], generator.outputs or []
    if len(outputs) != 1 or len(outputs[0].shape) != 4:
        return False
    if declared:
        return [i.prior for i in declared] == ["image", "mask"]
    if len(inputs) != 2:
        return False
    a, b = (tuple(t.shape) for t in inputs)
    return (len(a) == len(b) == 4 and None not in a[1:] and b[1:] == (*a[1:3], 1)
            and "mask" in inputs[1].name.lower())


def declared_inputs(generator):
    """The inputs of a bare inpainting network, as a model would declare them."""
    h, w, c = (int(d) for d in generator.inputs[0].shape[1:])
    return [GeneratorInput.image("images", (h, w, c)), GeneratorInput.mask("masks", (h, w, 1))]


def describe(source):
    return {"max_side": MAX_SIDE, "data_shape": list(data_shape(source))}


def data_shape(source):
    return tuple(int(d) for d in source.inputs[0].shape)


def input_size(source, size):
    """The TFLite input size: the network's own (a fixed-size encoder-decoder takes no other)."""
    own = data_shape(source)[:2]
    if size is not None and parse_size(size) != own:
        raise ValueError(f"{source.name!r} inpaints at its network size {own[0]}x{own[1]} only (the SavedModel "
                         f"takes any size); received an input size of {size!r}.")
    return own


# ------------------------------------------------------------ SavedModel
def _checked_holes(images, masks, hole, max_side):
    """``hole`` (float 0/1) after the request checks; the checks run before anything else."""
    shape, mask_shape = tf.shape(images), tf.shape(masks)
    covered = tf.reduce_mean(hole, axis=[1, 2, 3])  # (B,)
    checks = [
        tf.debugging.assert_equal(mask_shape[:3], shape[:3], message=(
            "masks must be (N, H, W, 1) with the N, H and W of the images (N, H, W, C)")),
        tf.debugging.assert_less_equal(tf.reduce_max(shape[1:3]), max_side, message=(
            f"images must be at most {max_side} pixels on a side")),
    ]
    with tf.control_dependencies(checks[:1]):
        checks += [
            tf.debugging.Assert(tf.reduce_all(covered > 0.0), [
                "a mask is empty (no hole pixel): there is nothing to fill; empty per image:", covered <= 0.0]),
            tf.debugging.Assert(tf.reduce_all(covered < 1.0), [
                "a mask covers the whole image: there is no context to fill from; full per image:",
                covered >= 1.0]),
        ]
    with tf.control_dependencies(checks):
        return tf.identity(hole)


def composite(generator, shape, max_side=MAX_SIDE):
    """uint8 images and 0/1 float holes of any size -> ``{"images": uint8, "images_float": [0, 1]}``.

    ``images`` is :func:`~tfgan_models.models.context_encoder.composite_any_size`, op for op.
    """
    h, w, _ = shape

    def run(images, masks, hole):
        hole = _checked_holes(images, masks, hole, max_side)  # (B, H, W, 1) float 0/1
        size = tf.shape(images)[1:3]
        x = tf.image.resize(tf.cast(images, tf.float32), (h, w), method="area") / 127.5 - 1.0
        m = tf.cast(tf.image.resize(hole, (h, w), method="area") > 0.0, tf.float32)
        predicted = tf.image.resize(generator([x, m], training=False), size, method="bilinear")
        filled = tf.cast(tf.clip_by_value(tf.round((predicted + 1.0) * 127.5), 0.0, 255.0), tf.uint8)
        inside = hole > 0.5
        return {"images": tf.where(inside, filled, images),
                "images_float": tf.where(inside, to_unit(predicted), tf.cast(images, tf.float32) / 255.0)}

    return run


def serving_functions(source, max_side=MAX_SIDE):
    """``serving_default`` (uint8 masks), ``masks_float`` and ``bytes``; see the module docstring."""
    shape = data_shape(source)
    channels = shape[-1]
    run = composite(source.generator, shape, max_side)

    def with_uint8_masks(images, masks):
        return run(images, masks, tf.cast(masks > 0, tf.float32))

    def with_float_masks(images, masks):
        return run(images, masks, tf.cast(masks > 0.5, tf.float32))

    def one_png(pair):
        image_data, mask_data, index = pair  # headers checked before decoding: a bad item names itself
        image_data = checked_image_bytes(image_data, index, max_side)
        mask_data = checked_image_bytes(mask_data, index, max_side, name="mask_bytes")
        image = tf.io.decode_image(image_data, channels=channels, dtype=tf.uint8, expand_animations=False)
        mask = tf.io.decode_image(mask_data, dtype=tf.uint8, expand_animations=False)
        mask = tf.reduce_max(mask, axis=-1, keepdims=True)  # (H, W, 1)
        hole = tf.cast(mask > MASK_THRESHOLD, tf.float32)
        return tf.io.encode_png(run(image[None], mask[None], hole[None])["images"][0])

    def from_bytes(image_bytes, mask_bytes):
        check = tf.debugging.assert_equal(tf.size(image_bytes), tf.size(mask_bytes), message=(
            "send one mask_bytes per image_bytes"))
        with tf.control_dependencies([check]):
            pairs = (tf.identity(image_bytes), tf.identity(mask_bytes), tf.range(tf.size(image_bytes)))
        png = tf.map_fn(one_png, pairs, fn_output_signature=tf.TensorSpec([], tf.string))
        return {"png_bytes": png}

    images = tf.TensorSpec([None, None, None, channels], tf.uint8, name="images")
    return {
        "serving_default": tf.function(with_uint8_masks, input_signature=[
            images, tf.TensorSpec([None, None, None, 1], tf.uint8, name="masks")]),
        "masks_float": tf.function(with_float_masks, input_signature=[
            images, tf.TensorSpec([None, None, None, 1], tf.float32, name="masks")]),
        "bytes": tf.function(from_bytes, input_signature=[
            tf.TensorSpec([None], tf.string, name="image_bytes"),
            tf.TensorSpec([None], tf.string, name="mask_bytes")]),
    }


# ------------------------------------------------------------------ TFLite
def tflite_inputs(source, size=None):
    h, w, c = data_shape(source)
    return [("images", "float32", (1, h, w, c)), ("masks", "float32", (1, h, w, 1))]


def io_spec(source, size=None):
    h, w, c = data_shape(source)
    layout = "NHWC, RGB" if c == 3 else "NHWC"
    return {"signature": "serve",
            "inputs": {"images": {"dtype": "float32", "shape": [1, h, w, c], "range": "[0, 1]", "layout": layout},
                       "masks": {"dtype": "float32", "shape": [1, h, w, 1], "range": "1 in the hole, 0 elsewhere"}},
            "outputs": {"images": {"dtype": "float32", "shape": [1, h, w, c], "range": "[0, 1]", "layout": layout,
                                   "note": "equal to the input images outside the hole"}}}


def tflite_function(source):
    """The fixed-shape function the converter reads: composite by multiply/add."""
    generator = source.generator

    def fn(images, masks):
        hole = tf.cast(masks > 0.5, tf.float32)  # (1, H, W, 1)
        predicted = to_unit(generator([images * 2.0 - 1.0, hole], training=False))
        return {"images": hole * predicted + (1.0 - hole) * images}

    return fn


def keras_unit(source, inputs):
    """The Keras composite in [0, 1] of ``{"images": [0, 1], "masks": 0/1}`` at the network's size."""
    images = np.asarray(inputs["images"], "float32")
    hole = (np.asarray(inputs["masks"], "float32") > 0.5).astype("float32")
    predicted = to_unit(np.asarray(source.generator([images * 2.0 - 1.0, hole], training=False), "float32"))
    return np.where(hole > 0.5, predicted, images)


# --------------------------------------------------------- gate and calibration data
def masks_for(n, shape, seed):
    """``n`` masks (n, H, W, 1), alternately the centre hole and random regions (20-30%)."""
    h, w = shape[:2]
    return np.stack([center_mask(h, w) if i % 2 == 0 else random_mask(h, w, [seed, i]).numpy()
                     for i in range(n)]).astype("float32")


def run_examples(source, n, seed):
    """``(uint8 originals, masks)`` of the run's own masked data (its mask kind), or ``None`` without a run."""
    if not source.settings:
        return None
    from tfgan_models import data as data_lib

    from tfgan_models.data.masks import masked_crops
    from tfgan_models.models.context_encoder import PHOTO_SPECS

    h, w, c = data_shape(source)
    spec, kind = source.settings["run"]["data"], source.settings["model"].get("mask", "center")
    if str(spec).split(":")[0] in PHOTO_SPECS and c == 3 and h == w:  # photographs: random crops, as trained
        ds = masked_crops(spec, h, n, kind, seed=seed)
    else:
        ds = data_lib.load(spec, batch_size=n, image_size=(h, w), channels=c, seed=seed, mask=kind,
                           mask_seed=seed, drop_remainder=False)
    _, masks, originals = next(iter(ds))
    return data_lib.to_uint8(originals.numpy()), masks.numpy().astype("float32")


def gate_inputs(source, n=gates.GATE_SAMPLES // 2, seed=gates.GATE_SEED):
    """Fresh ``{"images": [0, 1], "masks": 0/1}`` at the network's size: the run's images (else smooth
    random ones) with centre and random masks in turn."""
    shape = data_shape(source)
    given = run_examples(source, n, seed=1)  # calibration uses seed 0
    images = given[0] if given is not None else gates.smooth_images(n, shape[:2], shape[2], seed)
    return {"images": images.astype("float32") / 255.0, "masks": masks_for(len(images), shape, seed)}


def representative_set(source, n, given=None):
    """``({"images", "masks"}, description)`` for int8 calibration: the run's own masked data by default."""
    shape = data_shape(source)
    if given is not None:
        if not isinstance(given, dict) or set(given) != {"images", "masks"}:
            raise ValueError("representative_data of an inpainting model is {'images': (N, H, W, C) uint8 or "
                             "[0, 1], 'masks': (N, H, W, 1) 0/1}.")
        images, masks = np.asarray(given["images"]), np.asarray(given["masks"], "float32")
        images = images.astype("float32") / 255.0 if images.dtype == np.uint8 else images.astype("float32")
        if images.shape[1:] != shape or masks.shape != (*images.shape[:3], 1) or not len(images):
            raise ValueError(f"representative_data must hold images (N, {', '.join(map(str, shape))}) and masks "
                             f"(N, {shape[0]}, {shape[1]}, 1); received {images.shape} and {masks.shape}.")
        return {"images": images, "masks": masks}, f"{len(images)} given examples"
    examples = run_examples(source, n, seed=0)
    if examples is None:  # a bare network: smooth random images with centre and random masks
        images = gates.smooth_images(n, shape[:2], shape[2], seed=0)
        return ({"images": images.astype("float32") / 255.0, "masks": masks_for(n, shape, 0)},
                f"{n} smooth random images with centre and random masks")
    images, masks = examples
    spec, kind = source.settings["run"]["data"], source.settings["model"].get("mask", "center")
    return ({"images": images.astype("float32") / 255.0, "masks": masks},
            f"{len(images)} images of the run's data {spec!r} with its {kind} masks")


# -------------------------------------------------------------- the gates
def check_saved_model(loaded, source):
    """``serving_default`` against the Keras composite at the network's size and at another size
    (images, resize ops run eagerly around the Keras generator), exact outside the hole; ``masks_float``
    and ``bytes`` agree with it."""
    sigs = loaded.signatures
    shape = data_shape(source)
    inputs = gate_inputs(source)
    images = np.round(inputs["images"] * 255.0).astype("uint8")
    masks = inputs["masks"].astype("uint8")
    out = sigs["serving_default"](images=tf.constant(images), masks=tf.constant(masks))
    result = gates.figures(keras_unit(source, inputs), out["images_float"].numpy())
    _check_composite(images, masks, out)
    # another size: 2.5 x the network's height, 1.9 x its width (resized down and back up)
    size = (int(shape[0] * 2.5), int(shape[1] * 1.9))
    odd = gates.smooth_images(2, size, shape[2], seed=gates.GATE_SEED + 1)
    odd_masks = masks_for(2, (*size, 1), gates.GATE_SEED + 1)
    got = sigs["masks_float"](images=tf.constant(odd), masks=tf.constant(odd_masks))
    expected = composite(source.generator, shape)(tf.constant(odd), tf.constant(odd_masks), tf.constant(odd_masks))
    figures = gates.figures(expected["images_float"].numpy(), got["images_float"].numpy())
    result["max_abs_diff"] = max(result["max_abs_diff"], figures["max_abs_diff"])
    _check_composite(odd, odd_masks, got)
    by_uint8 = sigs["serving_default"](images=tf.constant(odd), masks=tf.constant(odd_masks.astype("uint8") * 255))
    if not np.array_equal(by_uint8["images"].numpy(), got["images"].numpy()):
        raise gates.GateError("the serving_default (uint8 masks) and masks_float signatures disagree.")
    png = sigs["bytes"](image_bytes=tf.constant([tf.io.encode_png(odd[0]).numpy()]),
                        mask_bytes=tf.constant([tf.io.encode_png(odd_masks[0].astype("uint8") * 255).numpy()]))
    decoded = tf.io.decode_png(png["png_bytes"][0], channels=0).numpy()
    if not np.array_equal(decoded, got["images"][0].numpy()):
        raise gates.GateError(f"the bytes signature returns another image than serving_default for a "
                              f"{size[0]}x{size[1]} input.")
    return gates.judge("the SavedModel", "saved_model", result)


def _check_composite(images, masks, out):
    """Outside the hole the output is the input, bit for bit; inside, ``images`` is ``images_float`` rounded."""
    got, unit = out["images"].numpy(), out["images_float"].numpy()
    outside = np.broadcast_to(np.asarray(masks) <= 0.5, images.shape)
    if got.dtype != np.uint8 or got.shape != images.shape:
        raise gates.GateError(f"the SavedModel returns {got.dtype} {got.shape} for uint8 images {images.shape}.")
    if not np.array_equal(got[outside], images[outside]):
        raise gates.GateError("the SavedModel changes pixels outside the hole.")
    if np.abs(got[~outside].astype("float64") - unit[~outside] * 255.0).max(initial=0.0) > 0.5 + 1e-3:
        raise gates.GateError("the uint8 images output does not match the rounded float output in the hole.")


def hole_psnr(source, inputs, got):
    """PSNR (dB) of the hole alone against the Keras composite (None when identical)."""
    inside = np.broadcast_to(np.asarray(inputs["masks"]) > 0.5, np.shape(got))
    return gates.psnr(keras_unit(source, inputs)[inside], np.asarray(got)[inside])


def check_tflite(path, source, quantization, inputs):
    """Runs the ``.tflite`` file on ``inputs`` and judges its composite against the Keras one; an fp32 file
    must also return the input exactly outside the hole."""
    from tfgan_models.export.tflite import Runner, quiet

    with quiet():
        got = Runner(path, num_threads=1)(inputs)
    result = gates.figures(keras_unit(source, inputs), got)
    outside = np.broadcast_to(np.asarray(inputs["masks"]) <= 0.5, got.shape)
    result["outside_max_abs_diff"] = float(np.abs(got[outside] - inputs["images"][outside]).max(initial=0.0))
    result["hole_psnr_db"] = hole_psnr(source, inputs, got)
    if quantization == "none" and result["outside_max_abs_diff"] > 0.0:
        raise gates.GateError(f"the TFLite fp32 model changes pixels outside the hole (by up to "
                              f"{result['outside_max_abs_diff']:.3g}).")
    return gates.judge(f"the TFLite {'fp32' if quantization == 'none' else quantization} model", quantization,
                       result)
