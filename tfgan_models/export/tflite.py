"""TFLite / LiteRT conversion of a generator: fp32, fp16, dynamic-range and int8.

Every ``.tflite`` file has one signature ``serve`` with a *fixed* shape, so
mobile GPU delegates get static shapes:

* latent generators: ``z`` float32 ``[1, latent_dim]`` -> ``images`` float32
  ``[1, H, W, C]`` in [0, 1];
* image-to-image generators: ``images`` float32 ``[1, H, W, C]`` RGB in [0, 1]
  -> ``images`` float32 ``[1, sH, sW, C']`` in [0, 1].

Quantized files keep float32 I/O (int8 quantizes inside the graph; in
generators with instance norm its arithmetic stays float, see
:func:`_int8_with_float_norms`), unless ``int8_io`` is ``"uint8"`` or
``"int8"``: then the int8 file's float inputs and outputs are quantized too
(``value = scale * (q - zero_point)``, the scale and zero point in the report
and in each tensor's details). Image inputs are calibrated on [0, 1], so a uint8
image input has scale 1/255 and zero point 0: raw pixels go straight in (int8:
zero point -128, pixel - 128). Latent generators' float inputs (z, codes) are
quantized on their calibrated range; int32 inputs (class labels, text ids)
stay int32. :class:`Runner` quantizes and dequantizes for the caller. The path
is always Keras ``ExportArchive`` -> SavedModel -> ``TFLiteConverter.from_saved_model``
with builtin ops only. Wrapping a Keras 3 model in a ``tf.Module`` or using
``from_concrete_functions`` can silently drop the weights; :func:`check_has_weights`
guards against such files.
"""

import contextlib
import os
import re
import shutil
import sys
import tempfile

import keras
import numpy as np
import tensorflow as tf

from tfgan_models.export.saved_model import call_generator, to_unit
from tfgan_models.export.source import kind_module

QUANTIZATIONS = ("none", "fp16", "dynamic", "int8")
INT8_IO = {"uint8": tf.uint8, "int8": tf.int8}  # ``int8_io``: I/O types of the int8 flavour
BYTES_PER_PARAM = {"none": 4, "fp16": 2, "dynamic": 1, "int8": 1}
SIGNATURE = "serve"
DEFAULT_SR_SIZE = 128           # super-resolution (scale > 1) input, like the TFLite ESRGAN sample's use
DEFAULT_TRANSLATION_SIZE = 256  # translation (scale 1) input, the pix2pix / CycleGAN size
CALIBRATION_SAMPLES = 64
# Ops of instance norm (GroupNormalization) kept in float in int8 files: mean, variance, scale, shift.
FLOAT_NORM_OPS = ("MEAN", "SQUARE", "SQUARED_DIFFERENCE", "RSQRT", "SUB", "MUL", "ADD", "NEG")
# StyleGAN2: the styles (mapping and affine dense layers) and the demodulation sums stay float as well.
FLOAT_STYLE_OPS = ("SUM", "FULLY_CONNECTED", "BATCH_MATMUL", "DEPTHWISE_CONV_2D", "LEAKY_RELU")


def check_quantization(quantization):
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"unknown quantization {quantization!r}; choose from {', '.join(QUANTIZATIONS)}.")
    return quantization


def check_int8_io(int8_io):
    """``None``, ``"uint8"`` or ``"int8"``; anything else is a ``ValueError``."""
    if int8_io is not None and int8_io not in INT8_IO:
        raise ValueError(f"unknown int8_io {int8_io!r} (--int8-io); choose from {', '.join(INT8_IO)}.")
    return int8_io


def default_input_size(source):
    """128x128 for super-resolution, 256x256 for translation, rounded up to the size multiple."""
    if kind_module(source) is not None:
        return kind_module(source).input_size(source, None)
    side = DEFAULT_SR_SIZE if source.scale > 1 else DEFAULT_TRANSLATION_SIZE
    side = -(-side // source.size_multiple) * source.size_multiple
    return (side, side)


def tflite_inputs(source, input_size):
    """``[(name, dtype, shape)]`` of the ``.tflite`` signature, batch 1, in the generator's order."""
    if kind_module(source) is not None:
        return kind_module(source).tflite_inputs(source, input_size)
    if source.kind == "latent":
        return [(i.name, i.dtype, (1, *i.shape)) for i in source.inputs]
    return [("images", "float32", (1, *input_size, source.channels_in))]


def io_spec(source, input_size):
    """The I/O contract recorded in the export report."""
    if kind_module(source) is not None:
        return kind_module(source).io_spec(source, input_size)
    if source.kind == "latent":
        h, w, c = source.output_shape
        inputs = {i.name: {"dtype": i.dtype, "shape": [1, *i.shape], "range": i.value_range()} for i in source.inputs}
    else:
        h, w, c = input_size[0] * source.scale, input_size[1] * source.scale, source.output_shape[-1]
        inputs = {"images": {"dtype": "float32", "shape": [1, *input_size, source.channels_in],
                             "range": "[0, 1]", "layout": "NHWC, RGB" if source.channels_in == 3 else "NHWC"}}
    outputs = {"images": {"dtype": "float32", "shape": [1, int(h), int(w), int(c)], "range": "[0, 1]",
                          "layout": "NHWC, RGB" if c == 3 else "NHWC"}}
    return {"signature": SIGNATURE, "inputs": inputs, "outputs": outputs}


def write_fixed_saved_model(source, input_size, path):
    """The float32, fixed-shape, [0, 1] SavedModel the converter reads."""
    generator = source.generator
    specs = [tf.TensorSpec(shape, dtype, name=name) for name, dtype, shape in tflite_inputs(source, input_size)]
    if kind_module(source) is not None:
        fn = kind_module(source).tflite_function(source)
    elif source.kind == "latent":
        fn = lambda *tensors: {"images": to_unit(call_generator(generator, tensors))}  # noqa: E731
    else:
        fn = lambda x: {"images": to_unit(generator(x * 2.0 - 1.0, training=False))}  # noqa: E731
    archive = keras.export.ExportArchive()
    archive.track(generator)
    archive.add_endpoint(SIGNATURE, tf.function(fn, input_signature=specs))
    archive.write_out(path, verbose=False)


def convert(source, quantization="none", input_size=None, representative=None, int8_io=None):
    """``.tflite`` bytes of ``source``; ``representative``: ``{input name: (N, ...) array}`` for int8.

    ``int8_io`` (``"uint8"`` / ``"int8"``, int8 only): quantized float inputs and outputs.

    Raises ``ValueError`` naming the layer when an op has no builtin TFLite
    kernel (it would need Flex / Select TF ops).
    """
    from tensorflow.lite.python.convert_phase import ConverterError

    check_quantization(quantization)
    workdir = tempfile.mkdtemp(prefix="tfgan-tflite-")
    try:
        write_fixed_saved_model(source, input_size, workdir)
        converter = tf.lite.TFLiteConverter.from_saved_model(workdir, signature_keys=[SIGNATURE])
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if quantization != "none":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantization == "fp16":
            converter.target_spec.supported_types = [tf.float16]
        elif quantization == "int8":
            if not representative:
                raise ValueError("int8 quantization needs a representative data set.")
            n = len(next(iter(representative.values())))
            converter.representative_dataset = lambda: (
                {k: v[i : i + 1] for k, v in representative.items()} for i in range(n))
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            io_type = INT8_IO[check_int8_io(int8_io)] if int8_io else tf.float32
            converter.inference_input_type = io_type
            converter.inference_output_type = io_type
        try:
            with quiet():
                if quantization == "int8" and has_instance_norm(source.generator):
                    data = _int8_with_float_norms(converter, representative, io_type=io_type)
                elif quantization == "int8" and has_modulation(source.generator):
                    data = _int8_with_float_norms(converter, representative, FLOAT_NORM_OPS + FLOAT_STYLE_OPS,
                                                  io_type)
                else:
                    data = converter.convert()
        except ConverterError as err:
            raise ValueError(_flex_message(err, source.generator, quantization)) from None
        except RuntimeError as err:  # int8 calibration runs the float graph in LiteRT, whose kernels may refuse it
            if quantization != "int8":
                raise
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ValueError(f"int8 calibration of {source.generator.name!r} failed in LiteRT ({first}); the "
                             "other flavours may still export (e.g. --quantize none,fp16,dynamic).") from None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return data


def has_instance_norm(model):
    """True when ``model`` normalises per image (``GroupNormalization``, e.g. instance norm)."""
    from tfgan_models.export.source import _all_layers

    return any(isinstance(layer, keras.layers.GroupNormalization) for layer in _all_layers(model))


def has_modulation(model):
    """True when ``model`` holds StyleGAN2's modulated convolutions (styles and demodulation per image)."""
    from tfgan_models.export.source import _all_layers
    from tfgan_models.layers.style import ModulatedConv2D

    return any(isinstance(layer, ModulatedConv2D) for layer in _all_layers(model))


def _int8_with_float_norms(converter, representative, denylisted=FLOAT_NORM_OPS, io_type=tf.float32):
    """int8 convolutions with the instance-norm arithmetic left in float32.

    Fully int8 instance norm squares activations into one per-tensor int8
    scale and loses about 7 dB (a trained Pix2Pix U-Net: 23.4 dB against the
    float model, below the 30 dB gate); keeping its ops (``FLOAT_NORM_OPS``)
    in float gives 32.9 dB. Selective quantization is TFLite's
    ``QuantizationDebugger`` with ``denylisted_ops``; with int8/uint8 I/O
    (``io_type``) the calibrated model is quantized here with those I/O types,
    which the debugger does not pass on.
    """
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
    n = min(8, len(next(iter(representative.values()))))
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter,
        debug_dataset=lambda: ({k: v[i : i + 1] for k, v in representative.items()} for i in range(n)),
        debug_options=tf.lite.experimental.QuantizationDebugOptions(denylisted_ops=list(denylisted)))
    if io_type == tf.float32:
        return debugger.get_nondebug_quantized_model()
    from tensorflow.lite.python import convert as lite_convert

    return lite_convert.mlir_quantize(
        debugger.calibrated_model, disable_per_channel=converter._experimental_disable_per_channel,
        input_data_type=io_type, output_data_type=io_type, denylisted_ops=list(denylisted))


def _flex_message(err, generator, quantization):
    ops, layers = [], []
    names = _layer_names(generator)
    for e in getattr(err, "errors", []):
        op = e.operator.name.removeprefix("tf.")
        if op and op not in ops:
            ops.append(op)
        for call in e.location.call:
            layer = _layer_of(call.name, names)
            if layer and layer not in layers:
                layers.append(layer)
    if not ops:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return f"TFLite conversion ({quantization}) of {generator.name!r} failed: {first}"
    where = f"layer {', '.join(repr(n) for n in layers)}" if layers else "a layer"
    hint = " (e.g. a bilinear or nearest resize instead of bicubic)" if "ResizeBicubic" in ops else ""
    return (f"cannot export {generator.name!r} to TFLite with builtin ops only: {where} uses "
            f"{', '.join(ops)}, which would need Flex (Select TF) ops; replace it with builtin "
            f"operations{hint}.")


def _layer_names(model):
    names = []
    for layer in model.layers:
        names.append(layer.name)
        if isinstance(layer, keras.Model):
            names.extend(_layer_names(layer))
    return names


def _layer_of(location, names):
    """The deepest layer named in an MLIR location such as ``functional_1/up_bicubic_1/resize/Op@fn``."""
    found = None
    for part in location.split("@")[0].split("/")[1:]:  # the first part is the model itself
        for candidate in (part, re.sub(r"_\d+$", "", part)):
            if candidate in names:
                found = candidate
                break
    return found


@contextlib.contextmanager
def quiet():
    """Parks C++ chatter on stdout/stderr (MLIR diagnostics, quantizer and delegate banners).

    What was parked is replayed if something other than a conversion error
    escapes, so unexpected crashes keep their context. ``TFGAN_VERBOSE=1`` shows all.
    """
    if os.environ.get("TFGAN_VERBOSE"):
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile() as parked:
        os.dup2(parked.fileno(), 1)
        os.dup2(parked.fileno(), 2)
        try:
            yield
        except BaseException as err:
            replay = type(err).__name__ != "ConverterError"
            raise
        else:
            replay = False
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            if replay:
                parked.seek(0)
                sys.stderr.write(parked.read().decode(errors="replace"))


# ----------------------------------------------------------------- running
def interpreter(path, num_threads=1):
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter(model_path=os.fspath(path), num_threads=int(num_threads))


def check_has_weights(path, params, quantization):
    """Refuses a ``.tflite`` file that reads its weights from variables or is too small to hold them."""
    ops = {op["op_name"] for op in interpreter(path)._get_ops_details()}
    if ops & {"VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE"}:
        raise ValueError(f"{os.path.basename(path)} reads its weights from resource variables "
                         f"({sorted(ops & {'VAR_HANDLE', 'READ_VARIABLE'})}): the weights were not "
                         "frozen into the file.")
    expected = 0.8 * BYTES_PER_PARAM[quantization] * params
    size = os.path.getsize(path)
    if size < expected:
        raise ValueError(f"{os.path.basename(path)} holds {size} bytes, fewer than the "
                         f"{int(expected)} its {params} parameters need: the weights are missing.")
    return sorted(ops)


def _quantization(details):
    """``(scale, zero_point)`` of a quantized integer tensor, else ``None``."""
    scale, zero_point = details.get("quantization", (0.0, 0))
    if np.dtype(details["dtype"]).kind not in "iu" or not scale:
        return None
    return float(scale), int(zero_point)


def quantize(value, details):
    """Float ``value`` in the model's units -> the integer codes a quantized input takes (other inputs:
    cast). uint8 arrays are pixels (``value / 255``), as ``export/client.py``'s ``tflite_feed`` reads them."""
    q, dtype = _quantization(details), np.dtype(details["dtype"])
    value = np.asarray(value)
    if q is None or (value.dtype == dtype and dtype != np.uint8):
        return value.astype(dtype)
    if value.dtype == np.uint8:
        value = value / 255.0
    info = np.iinfo(dtype)
    return np.clip(np.round(np.asarray(value, "float64") / q[0] + q[1]), info.min, info.max).astype(dtype)


def dequantize(value, details):
    """A quantized output's integer codes -> float32 ``scale * (q - zero_point)`` (other outputs as they are)."""
    q = _quantization(details)
    if q is None:
        return np.asarray(value)
    return ((np.asarray(value, "float32") - q[1]) * q[0]).astype("float32")


def io_details(path):
    """``{"inputs": {name: {...}}, "outputs": {...}}``: dtype, shape and, for quantized tensors,
    ``quantization: {scale, zero_point}`` of the ``serve`` signature of a ``.tflite`` file."""
    runner = interpreter(path).get_signature_runner(SIGNATURE)

    def describe(details):
        out = {}
        for name, d in sorted(details.items()):
            out[name] = {"dtype": np.dtype(d["dtype"]).name, "shape": [int(x) for x in d["shape"]]}
            if _quantization(d) is not None:
                scale, zero_point = _quantization(d)
                out[name]["quantization"] = {"scale": scale, "zero_point": zero_point}
        return out

    return {"inputs": describe(runner.get_input_details()), "outputs": describe(runner.get_output_details())}


class Runner:
    """Runs the ``serve`` signature of a ``.tflite`` file one example at a time.

    Float inputs of quantized (``int8_io``) files are quantized with the tensor's
    scale and zero point, and quantized outputs dequantized, so callers always
    work in the model's float units ([0, 1] images).
    """

    def __init__(self, path, num_threads=1):
        self.interpreter = interpreter(path, num_threads)
        self.runner = self.interpreter.get_signature_runner(SIGNATURE)
        self.input_details = self.runner.get_input_details()
        self.output_details = self.runner.get_output_details()

    def __call__(self, inputs):
        """``{name: (N, ...) array}`` -> images (N, ...) float32, one invoke per example."""
        n = len(next(iter(inputs.values())))
        out = []
        for i in range(n):
            feed = {k: quantize(v[i : i + 1], self.input_details[k]) for k, v in inputs.items()}
            result = self.runner(**feed)
            key = "images" if "images" in result else next(iter(result))  # PixelRNN: logits
            out.append(dequantize(result[key], self.output_details[key]))
        return np.concatenate(out)
