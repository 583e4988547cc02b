"""Parity and quality gates: every exported artifact is checked against the Keras generator.

All figures are in [0, 1] pixel units on *fresh* inputs (never the int8
calibration set), where one 8-bit output level is 1/255 = 0.0039 (in the
models' [-1, 1] units it would be 2/255; gates never use those):

==============  ==========================================  =============================================
artifact        passes when                                 why
==============  ==========================================  =============================================
SavedModel      max |images_float - Keras| <= 1e-5          the same TF kernels: any real difference is a
                                                            bug (wrong weights, padding), so it is strict
TFLite fp32     max diff <= 0.25 level (0.00098)            other kernels, other summation order; below a
                                                            quarter level a uint8 pixel can only move at a
                                                            rounding tie, by one level
TFLite fp16     max diff <= 4 levels (0.0157)               float16 keeps 11 significant bits; instance
                *or* PSNR >= 40 dB                          norm and deep stacks amplify that on outlier
                                                            pixels (an untrained mobile CycleGAN: 0.0115 =
                                                            2.9 levels). 4 levels on a few pixels, or an RMS
                                                            error under 2.6 levels (40 dB), is invisible
TFLite dynamic  PSNR >= 30 dB vs the float Keras output     int8 weights: a quality gate, not parity
TFLite int8     PSNR >= 30 dB vs the float Keras output     int8 activations (and, with ``int8_io``,
                                                            int8/uint8 I/O, dequantized before comparing)
==============  ==========================================  =============================================

PSNR is taken over the whole gate set (mean squared error of all pixels),
peak 1. A failed gate raises :class:`GateError` giving the figure, the limit
and the option that exports anyway (``--accept-gate-failures``,
``export_run(..., accept_gate_failures=True)``, recorded in the report as
``"passed": false, "accepted": true``).
"""

import numpy as np
import tensorflow as tf

from tfgan_models.export import style
from tfgan_models.export.saved_model import MIN_SIDE, call_generator, to_unit
from tfgan_models.export.source import kind_module

LEVEL = 1.0 / 255.0  # one 8-bit output level in [0, 1] units
MAX_ABS_DIFF = {"saved_model": 1e-5, "none": 0.25 * LEVEL, "fp16": 4 * LEVEL}
FP16_MIN_PSNR_DB = 40.0  # fp16 also passes at this PSNR whatever its largest pixel difference
MIN_PSNR_DB = {"dynamic": 30.0, "int8": 30.0}
GATE_SAMPLES = 8
GATE_SEED = 20240601   # fresh inputs: calibration uses other seeds
ACCEPT_OPTION = "--accept-gate-failures (export_run(..., accept_gate_failures=True))"


class GateError(ValueError):
    """An exported artifact differs from the Keras generator by more than its gate allows.

    ``result``: the gate's figures (with ``"passed": False``) when the figures missed the limit, which
    ``accept_gate_failures`` may overrule; ``None`` for failures no option overrules (wrong shape,
    non-finite output, a broken signature).
    """

    def __init__(self, message, result=None):
        super().__init__(message)
        self.result = result


def psnr(reference, test, peak=1.0):
    """PSNR in dB over all pixels; ``None`` (JSON null) when the two are identical."""
    mse = float(np.mean((np.asarray(reference, "float64") - np.asarray(test, "float64")) ** 2))
    return None if mse == 0 else round(float(10.0 * np.log10(peak**2 / mse)), 2)


def figures(reference, test):
    reference, test = np.asarray(reference, "float32"), np.asarray(test, "float32")
    if reference.shape != test.shape:
        raise GateError(f"the artifact returns shape {test.shape}; Keras returns {reference.shape}.")
    if not np.isfinite(test).all():
        raise GateError("the artifact returns non-finite values.")
    return {"max_abs_diff": float(np.max(np.abs(reference - test))), "psnr_db": psnr(reference, test),
            "samples": int(len(reference))}


def levels(value):
    """A [0, 1] difference in 8-bit output levels."""
    return value / LEVEL


def judge(what, key, result, limit=None):
    """Adds the limit and verdict to ``result``; raises :class:`GateError` when it fails.

    The message gives the figure, the limit and the option that exports anyway.
    """
    anyway = f"; pass {ACCEPT_OPTION} to export it anyway."
    if key in MAX_ABS_DIFF:
        limit, value = limit or MAX_ABS_DIFF[key], result["max_abs_diff"]
        result.update(metric="max_abs_diff", limit=limit, max_abs_diff_levels=round(levels(value), 3),
                      passed=value <= limit)
        figure = (f"max abs diff {value:.3g} ({levels(value):.2g} 8-bit levels) exceeds {limit:.3g} "
                  f"({levels(limit):.2g} levels) by {value - limit:.3g} ({value / limit:.1f}x the limit)")
        if key == "fp16":  # or a PSNR that high
            psnr_db = float("inf") if result["psnr_db"] is None else result["psnr_db"]
            result.update(min_psnr_db=FP16_MIN_PSNR_DB, passed=value <= limit or psnr_db >= FP16_MIN_PSNR_DB)
            figure += f", and its PSNR {psnr_db:.2f} dB is below the {FP16_MIN_PSNR_DB:g} dB alternative"
        if not result["passed"]:
            raise GateError(f"{what} failed its parity gate: {figure}{anyway}", result)
    else:
        limit, value = MIN_PSNR_DB[key], result["psnr_db"]
        value = float("inf") if value is None else value
        result.update(metric="psnr_db", limit=limit, passed=value >= limit)
        if value < limit:
            raise GateError(f"{what} failed its quality gate: PSNR {value:.2f} dB against the float "
                            f"generator is {limit - value:.2f} dB below the {limit:g} dB minimum{anyway}", result)
    return result


def keras_unit(source, inputs):
    """The Keras generator's output in [0, 1] for ``{name: array}`` inputs in ``.tflite`` units.

    Latent generators take their inputs by name in order; image generators
    take ``images`` in [0, 1], mapped to the model's [-1, 1].
    """
    if kind_module(source) is not None:
        return kind_module(source).keras_unit(source, inputs)
    if source.kind == "latent":
        out = call_generator(source.generator, [inputs[i.name] for i in source.inputs])
    else:
        out = source.generator(np.asarray(inputs["images"], "float32") * 2.0 - 1.0, training=False)
    return to_unit(np.asarray(out, "float32"))


# ----------------------------------------------------------- gate inputs
def gate_latents(source, n=GATE_SAMPLES, seed=GATE_SEED):
    """``{name: array}``: every declared input from its prior, ``n`` of each."""
    rng = np.random.RandomState(seed)
    return {i.name: i.sample(rng, n) for i in source.inputs}


def smooth_images(n, size, channels, seed=GATE_SEED):
    """Random images with natural-image-like smoothness: uint8 (n, H, W, C).

    Low-resolution noise upsampled bilinearly plus a little fine noise, so
    gates are not run on white noise no generator was trained for.
    """
    rng = np.random.RandomState(seed)
    h, w = size
    coarse = rng.uniform(0, 255, (n, max(2, h // 8), max(2, w // 8), channels)).astype("float32")
    images = tf.image.resize(coarse, (h, w), method="bilinear").numpy()
    images += rng.normal(0, 6, images.shape)
    return np.clip(np.round(images), 0, 255).astype("uint8")


def odd_size(source):
    """A size the image generator cannot take directly, to exercise pad and crop."""
    m = source.size_multiple
    return (max(MIN_SIDE, 3 * m + 1), max(MIN_SIDE, 2 * m + 3))


# ------------------------------------------------------------ the gates
def check_saved_model(loaded, source):
    """Compares the signatures of a loaded SavedModel with Keras.

    Latent generators: ``serving_default`` on fresh latents, and ``seed``
    (deterministic, and its returned ``z`` reproduces its images). Image
    generators: ``serving_default`` at a size the network takes and at an odd
    size (against a NumPy reflect-pad reference), and the ``bytes`` signature.
    """
    if kind_module(source) is not None:
        return kind_module(source).check_saved_model(loaded, source)
    sigs = loaded.signatures
    if source.kind == "latent":
        inputs = gate_latents(source)
        out = sigs["serving_default"](**{k: tf.constant(v) for k, v in inputs.items()})
        result = figures(keras_unit(source, inputs), out["images_float"].numpy())
        _check_uint8(out)
        noise = [i.name for i in source.inputs if i.role == "noise"]
        conditions = {k: tf.constant(v[[0, 1, 0]]) for k, v in inputs.items() if k not in noise}
        by_seed = sigs["seed"](seed=tf.constant([0, 1, 0], tf.int64), **conditions)
        drawn = {k: by_seed[k if k in by_seed else "z"].numpy() for k in noise}  # the seed signature returns its noise
        seeded_inputs = {**drawn, **{k: v.numpy() for k, v in conditions.items()}}
        seeded = figures(keras_unit(source, seeded_inputs), by_seed["images_float"].numpy())
        if not np.array_equal(by_seed["images"][0].numpy(), by_seed["images"][2].numpy()):
            raise GateError("the seed signature is not deterministic: seed 0 gave two different images.")
        result["max_abs_diff"] = max(result["max_abs_diff"], seeded["max_abs_diff"])
        if "w" in sigs and style.is_style_generator(source.generator):
            result["max_abs_diff"] = max(result["max_abs_diff"], style.check_signatures(sigs, source, figures))
        elif "truncated" in sigs:
            result["max_abs_diff"] = max(result["max_abs_diff"], _check_truncated(sigs, source, conditions, by_seed))
    else:
        result = _check_image_signatures(sigs, source, "serving_default", "bytes")
        if source.reverse is not None:
            for forward in ("a_to_b", "a_to_b_bytes"):
                if forward not in sigs:
                    raise GateError(f"the two-way SavedModel lacks its {forward!r} signature.")
            back = _check_image_signatures(sigs, source.reverse, "b_to_a", "b_to_a_bytes")
            result["max_abs_diff"] = max(result["max_abs_diff"], back["max_abs_diff"])
    return judge("the SavedModel", "saved_model", result)


def _check_truncated(sigs, source, conditions, by_seed):
    """The ``truncated`` signature: |z| within each threshold, the seed's own z where no entry was outside,
    and its images equal to Keras on the z it returns."""
    thresholds = np.array([0.5, 1e3, 0.5], "float32")
    out = sigs["truncated"](seed=tf.constant([0, 1, 0], tf.int64), truncation=tf.constant(thresholds), **conditions)
    z = out["z"].numpy()
    if np.any(np.abs(z) > thresholds[:, None] + 1e-6):
        raise GateError("the truncated signature returns z outside its truncation threshold.")
    if not np.array_equal(z[1], by_seed["z"].numpy()[1]):
        raise GateError("the truncated signature with a threshold no draw exceeds differs from the seed signature.")
    noise = {i.name: out[i.name if i.name in out else "z"].numpy() for i in source.inputs if i.role == "noise"}
    inputs = {**{k: v.numpy() for k, v in conditions.items()}, **noise}
    return figures(keras_unit(source, inputs), out["images_float"].numpy())["max_abs_diff"]


def _check_image_signatures(sigs, source, images_signature, bytes_signature):
    """An image-to-image signature on fresh images, at an odd size, and its PNG bytes twin."""
    side = max(2 * source.size_multiple, 16)
    images = smooth_images(4, (side, side), source.channels_in)
    out = sigs[images_signature](images=tf.constant(images))
    result = figures(keras_unit(source, {"images": images / 255.0}), out["images_float"].numpy())
    _check_uint8(out)
    h, w = odd_size(source)
    odd = smooth_images(1, (h, w), source.channels_in, seed=GATE_SEED + 1)
    got = sigs[images_signature](images=tf.constant(odd))["images_float"].numpy()
    expected = keras_unit(source, {"images": reflect_pad_reference(odd / 255.0, source.size_multiple)})
    expected = expected[:, : h * source.scale, : w * source.scale]
    padded = figures(expected, got)
    result["max_abs_diff"] = max(result["max_abs_diff"], padded["max_abs_diff"])
    png = sigs[bytes_signature](image_bytes=tf.constant([tf.io.encode_png(odd[0]).numpy()]))["png_bytes"]
    decoded = tf.io.decode_png(png[0], channels=0).numpy()
    if decoded.shape != (h * source.scale, w * source.scale, source.output_shape[-1]):
        raise GateError(f"the {bytes_signature} signature returns a {decoded.shape} image for a {h}x{w} input.")
    return result


def _check_uint8(out):
    expected = np.clip(np.round(out["images_float"].numpy() * 255.0), 0, 255).astype("uint8")
    if not np.array_equal(expected, out["images"].numpy()):
        raise GateError("the uint8 images output does not match the rounded float output.")


def reflect_pad_reference(x, multiple):
    """NumPy reference of the in-graph padding: bottom/right reflection to the next multiple."""
    _, h, w, _ = x.shape
    th, tw = -(-h // multiple) * multiple, -(-w // multiple) * multiple
    return np.pad(x, [(0, 0), (0, th - h), (0, tw - w), (0, 0)], mode="reflect")


def gate_inputs_tflite(source, input_size, images=None):
    """Fresh ``{name: float32 array}`` inputs in ``.tflite`` units: latents, or [0, 1] images."""
    if kind_module(source) is not None:
        return kind_module(source).gate_inputs(source)
    if source.kind == "latent":
        return gate_latents(source)
    if images is None:
        images = smooth_images(GATE_SAMPLES // 2, input_size, source.channels_in)
    return {"images": np.asarray(images, "float32") / 255.0}


def check_tflite(path, source, quantization, inputs):
    """Runs the ``.tflite`` file with LiteRT on ``inputs`` and judges it against Keras."""
    if kind_module(source) is not None:
        return kind_module(source).check_tflite(path, source, quantization, inputs)
    from tfgan_models.export.tflite import Runner, quiet

    with quiet():  # LiteRT announces its XNNPACK delegate on stderr
        got = Runner(path, num_threads=1)(inputs)
    result = figures(keras_unit(source, inputs), got)
    label = "fp32" if quantization == "none" else quantization
    return judge(f"the TFLite {label} model", quantization, result)
