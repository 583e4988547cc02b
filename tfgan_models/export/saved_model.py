"""SavedModels for TF Serving: the serving signatures of each generator kind.

Latent generators::

    serving_default  z float32 [None, latent_dim] (+ conditions: labels int32 [None], ...)
                     -> images uint8 [None, H, W, C], images_float float32 [None, H, W, C] in [0, 1]
    seed             seed int64 [None] (+ the same conditions)
                     -> images, images_float, z float32 [None, latent_dim]
                     one deterministic image per seed: z = stateless_normal(seed=(seed, 0))
    truncated        seed int64 [None], truncation float32 [None] (+ the same conditions)
                     -> the same outputs; z drawn as for ``seed``, then entries with
                     |z_i| > truncation redrawn (the truncation trick of BigGAN); only
                     for generators whose z is N(0, I); style-based generators (StyleGAN)
                     instead truncate in W space and add ``mapping`` and ``w`` (:mod:`.style`)

Conditions are the generator's other inputs under their own names (cGAN and
AC-GAN ``labels``; InfoGAN ``categorical`` and ``continuous``); class
indices outside [0, K) are refused with an error instead of a blank one-hot.

Image-to-image generators::

    serving_default  images uint8 [None, None, None, C] (any size >= 3x3, <= max_side per side)
                     -> images uint8 [None, sH, sW, C'], images_float float32 in [0, 1]
    bytes            image_bytes string [None] (PNG, JPEG, GIF or BMP; what a REST client sends
                     as {"b64": ...})
                     -> png_bytes string [None] (TF Serving's REST API base64-encodes
                        outputs whose names end in "_bytes")

Sizes the network cannot take directly are reflect-padded at the bottom and
right to the network's multiple inside the graph and cropped back, so every
size works. ``images_float`` is the unrounded output, kept for parity checks.

**Bad requests fail, the server never does.** Inputs larger than ``max_side`` on
a side are refused in the graph before the network runs (default
:data:`MAX_SIDE_SR` = 2048 px for super-resolution inputs, whose output is
``scale`` times larger, and :data:`MAX_SIDE_TRANSLATION` = 1024 px for
translation, which runs a U-Net/ResNet at full size; ``tfgan export --max-side``
changes it). The ``bytes`` signature decodes each image on its own and checks
each item before decoding (:func:`checked_image_bytes`): not empty; a PNG,
JPEG, GIF or BMP magic number; the width and height read from the header
*without decoding* within ``[3, max_side]``, so a 60000x60000 header never
allocates. Every such error is an ``InvalidArgumentError`` naming the item
(``image_bytes[3]: ...``; TF Serving answers HTTP 400 with it). Data cut off or
corrupt after a valid header is refused by TensorFlow's decoders with their own
message (they raise, they do not abort). Grey, grey+alpha and RGBA images are
converted to the model's channels (``decode_image(channels=C)``); animated GIFs
give their first frame.
"""

import inspect
import math

import keras
import tensorflow as tf

from tfgan_models.inputs import MAX_RESAMPLES
from tfgan_models.export import style
from tfgan_models.export.source import kind_module

MIN_SIDE = 3  # smallest image side the serving signatures accept
# Largest input side of image-to-image signatures (``export_run(max_side=)``, ``tfgan export --max-side``):
# a 2048x2048 super-resolution input makes a (2048 s)^2 output, a 1024x1024 translation input runs the
# full-resolution network on ~1 Mpx; both fit a serving machine's memory, larger requests are refused.
MAX_SIDE_SR = 2048
MAX_SIDE_TRANSLATION = 1024
PNG_MAGIC, JPEG_MAGIC, BMP_MAGIC = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"BM"
GIF_MAGICS = (b"GIF87a", b"GIF89a")
UNSUPPORTED_FORMAT = "unsupported image format (expected PNG, JPEG, GIF or BMP)"
HEADER_BYTES = {1: 24, 3: 10, 4: 26}  # PNG, GIF, BMP: bytes needed to read width and height (JPEG: libjpeg's)


def default_max_side(source):
    """2048 px for super-resolution (``scale`` > 1) inputs, 1024 px for translation."""
    return MAX_SIDE_SR if source.scale > 1 else MAX_SIDE_TRANSLATION


def check_max_side(max_side):
    """``None`` or a positive int; anything else is a ``ValueError``."""
    if max_side is None:
        return None
    try:
        ok = not isinstance(max_side, bool) and int(max_side) == float(max_side) and int(max_side) >= MIN_SIDE
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"max_side (--max-side) must be a whole number of pixels >= {MIN_SIDE}, "
                         f"received {max_side!r}.")
    return int(max_side)


def _size_error(h, w, max_side, prefix=""):
    """A string tensor: 'input is HxW; this model takes at most N px per side (export --max-side)'."""
    return tf.strings.join([prefix, "input is ", tf.strings.as_string(h), "x", tf.strings.as_string(w),
                            f" (height x width); this model takes at most {max_side} px per side "
                            "(export --max-side)"])


def to_unit(x):
    """[-1, 1] -> [0, 1] (no clipping: parity checks see the raw output)."""
    return (x + 1.0) / 2.0


def unit_to_uint8(x):
    """[0, 1] float -> uint8, rounding then clipping (as ``tfgan_models.data.to_uint8``)."""
    return tf.cast(tf.clip_by_value(tf.round(x * 255.0), 0.0, 255.0), tf.uint8)


def seed_draws(seed, spec, stream, truncation=None):
    """int64 seeds (B,) -> (B, *spec.shape): one stateless draw from ``spec``'s prior per seed.

    Stream ``i`` uses the stateless seed ``(seed, i)``: the first noise input (z) is
    ``stateless_normal(seed=(seed, 0))`` as the ``seed`` signature always drew it.
    ``truncation`` (float32 (B,)): thresholds of the truncation trick for a normal input;
    entries inside keep the untruncated draw.
    """
    shape = list(spec.shape)
    threshold = spec.threshold if spec.prior == "truncated_normal" else None

    def truncated(s, x, t):  # resample outside the threshold, as GeneratorInput.sample does
        for i in range(MAX_RESAMPLES):
            again = tf.random.stateless_normal(shape, tf.stack([s, tf.cast(stream + 1000 * (i + 1), tf.int64)]))
            x = tf.where(tf.abs(x) > t, again, x)
        return tf.clip_by_value(x, -t, t)

    def one(args):
        s, t = args
        key = tf.stack([s, tf.fill([], tf.cast(stream, tf.int64))])
        if spec.prior == "uniform":
            return tf.random.stateless_uniform(shape, key, spec.low, spec.high)
        x = tf.random.stateless_normal(shape, key)
        return x if threshold is None and truncation is None else truncated(s, x, t)

    seed = tf.cast(seed, tf.int64)
    t = truncation if truncation is not None else tf.fill(tf.shape(seed), float(threshold or 0.0))
    return tf.map_fn(one, (seed, t), fn_output_signature=tf.TensorSpec(shape, tf.float32))


def reflect_pad_to_multiple(x, multiple):
    """Reflect-pads (B, H, W, C) at the bottom and right up to multiples of ``multiple``.

    Reflection cannot add more than ``side - 1`` pixels at once, so it is
    repeated; each round at least doubles the padded side minus one, hence at
    most ``log2(multiple) + 1`` rounds (unrolled: TF Serving needs no loop).
    Returns the padded images and the original ``(H, W)``.
    """
    shape = tf.shape(x)
    h, w = shape[1], shape[2]
    if multiple == 1:
        return x, (h, w)
    target_h = (h + multiple - 1) // multiple * multiple
    target_w = (w + multiple - 1) // multiple * multiple
    for _ in range(int(math.log2(multiple)) + 1):
        ch, cw = tf.shape(x)[1], tf.shape(x)[2]
        ph, pw = tf.minimum(target_h - ch, ch - 1), tf.minimum(target_w - cw, cw - 1)
        x = tf.pad(x, [[0, 0], [0, ph], [0, pw], [0, 0]], mode="REFLECT")
    return x, (h, w)


def image_to_image(generator, multiple, scale, max_side=MAX_SIDE_SR):
    """uint8 (B, H, W, C) -> ``{"images": uint8, "images_float": [0, 1]}`` of (B, sH, sW, C').

    Inputs with a side below ``MIN_SIDE`` or above ``max_side`` are refused before the network runs.
    """

    def run(images):
        shape = tf.shape(images)
        check = tf.debugging.assert_greater_equal(
            tf.minimum(shape[1], shape[2]), MIN_SIDE,
            message=f"images must be at least {MIN_SIDE}x{MIN_SIDE} pixels")
        too_big = tf.debugging.Assert(tf.maximum(shape[1], shape[2]) <= max_side,
                                      [_size_error(shape[1], shape[2], max_side)])
        with tf.control_dependencies([check, too_big]):
            x = tf.cast(images, tf.float32) / 127.5 - 1.0  # (B, H, W, C) in [-1, 1]
        x, (h, w) = reflect_pad_to_multiple(x, multiple)
        y = generator(x, training=False)[:, : h * scale, : w * scale]  # (B, sH, sW, C')
        y = to_unit(y)
        return {"images": unit_to_uint8(y), "images_float": y}

    return run


def call_generator(generator, tensors):
    """Calls a generator on its inputs in order (a single tensor when it has one input)."""
    return generator(list(tensors) if len(tensors) > 1 else tensors[0], training=False)


def _checked(inputs, tensors):
    """Class-index inputs with an in-graph range check (a clear error instead of a silent zero one-hot)."""
    out = []
    for spec, t in zip(inputs, tensors):
        if spec.prior == "categorical":
            ok = tf.logical_and(tf.reduce_all(t >= 0), tf.reduce_all(t < spec.classes))
            check = tf.debugging.Assert(ok, [f"{spec.name} must be class indices in [0, {spec.classes - 1}]"])
            with tf.control_dependencies([check]):
                t = tf.identity(t)
        out.append(t)
    return out


def latent_functions(generator, inputs):
    """The ``serving_default`` and ``seed`` endpoints of a latent generator.

    ``inputs`` are the model's declared :class:`~tfgan_models.inputs.GeneratorInput`
    list. ``serving_default`` takes all of them; ``seed`` takes a seed per image
    and the conditions (labels, codes, masks), draws every noise input from the
    seed and returns the noise it drew beside the images (under the input's
    name; the first noise input is also ``z``, as before).
    """
    noise = [i for i in inputs if i.role == "noise"]
    conditions = [i for i in inputs if i.role != "noise"]
    if not noise:
        raise ValueError(f"{generator.name!r} declares no noise input to draw from a seed.")

    def serve(*tensors):
        y = to_unit(call_generator(generator, _checked(inputs, tensors)))  # (B, H, W, C) in [0, 1]
        return {"images": unit_to_uint8(y), "images_float": y}

    def from_seed(seed, *given, truncation=None):
        drawn = {spec.name: seed_draws(seed, spec, stream, truncation if stream == 0 else None)
                 for stream, spec in enumerate(noise)}
        by_name = {**drawn, **{spec.name: t for spec, t in zip(conditions, given)}}
        out = serve(*[by_name[i.name] for i in inputs])
        extra = {name: t for name, t in drawn.items() if name not in out}
        return {**out, **extra, "z": drawn[noise[0].name]}

    def from_seed_truncated(seed, truncation, *given):
        check = tf.debugging.Assert(tf.reduce_all(truncation > 0.0), ["truncation thresholds must be > 0"])
        with tf.control_dependencies([check]):
            truncation = tf.identity(truncation)
        return from_seed(seed, *given, truncation=truncation)

    specs = {i.name: tf.TensorSpec([None, *i.shape], i.dtype, name=i.name) for i in inputs}
    seed_spec = [tf.TensorSpec([None], tf.int64, name="seed")] + [specs[i.name] for i in conditions]
    functions = {
        "serving_default": tf.function(serve, input_signature=list(specs.values())),
        "seed": tf.function(from_seed, input_signature=seed_spec),
    }
    if style.is_style_generator(generator):  # StyleGAN: W space, truncation towards the average w
        functions.update(style.style_functions(
            generator, inputs, lambda seed: {s.name: seed_draws(seed, s, i) for i, s in enumerate(noise)},
            lambda y: {"images": unit_to_uint8(to_unit(y)), "images_float": to_unit(y)}))
    elif noise[0].prior == "normal" and inputs[0] is noise[0]:  # z ~ N(0, I): the truncation trick applies
        functions["truncated"] = tf.function(from_seed_truncated, input_signature=[
            seed_spec[0], tf.TensorSpec([None], tf.float32, name="truncation"), *seed_spec[1:]])
    return functions


def _unsigned(b, first, count, big_endian):
    """The unsigned integer of ``count`` bytes of int64 ``b`` from ``first``."""
    value = tf.constant(0, tf.int64)
    order = range(first, first + count) if big_endian else range(first + count - 1, first - 1, -1)
    for i in order:
        value = value * 256 + b[i]
    return value


def header_size(data, code):
    """``(height, width)`` int64 read from the header of an image of format ``code`` without decoding it.

    PNG: IHDR bytes 16..24 big-endian; JPEG: ``tf.io.extract_jpeg_shape`` (the SOF marker,
    no pixel data); GIF: logical screen, bytes 6..10 little-endian; BMP: bytes 18..26
    little-endian signed (a negative height means top-down rows: its absolute value).
    """
    raw = tf.cast(tf.io.decode_raw(tf.strings.substr(data, 0, 32), tf.uint8), tf.int64)
    b = tf.pad(raw, [[0, 32 - tf.size(raw)]])  # short data reads zeros; the length check runs first

    def signed(v):
        return tf.abs(tf.where(v >= 2**31, v - 2**32, v))

    branches = [
        lambda: (tf.constant(0, tf.int64), tf.constant(0, tf.int64)),  # refused before
        lambda: (_unsigned(b, 20, 4, True), _unsigned(b, 16, 4, True)),
        lambda: tuple(tf.unstack(tf.cast(tf.io.extract_jpeg_shape(data)[:2], tf.int64))),
        lambda: (_unsigned(b, 8, 2, False), _unsigned(b, 6, 2, False)),
        lambda: (signed(_unsigned(b, 22, 4, False)), signed(_unsigned(b, 18, 4, False))),
    ]
    return tf.switch_case(code, branches)


def image_format(data):
    """int32 0 (unknown), 1 PNG, 2 JPEG, 3 GIF, 4 BMP from the magic number."""
    def starts(magic):
        return tf.equal(tf.strings.substr(data, 0, len(magic)), magic)

    code = tf.constant(0, tf.int32)
    for value, test in ((4, starts(BMP_MAGIC)), (3, tf.logical_or(starts(GIF_MAGICS[0]), starts(GIF_MAGICS[1]))),
                        (2, starts(JPEG_MAGIC)), (1, starts(PNG_MAGIC))):
        code = tf.where(test, value, code)
    return code


def checked_image_bytes(data, index, max_side, name="image_bytes"):
    """``data`` (a scalar string) after the in-graph request checks, which run in order before any decoding:
    not empty, a known magic number, a header long enough to hold the size, a size within
    ``[MIN_SIDE, max_side]``. Each failure is an ``InvalidArgumentError`` naming ``name[index]`` and why.
    """
    prefix = tf.strings.join([f"{name}[", tf.strings.as_string(index), "]: "])
    length = tf.strings.length(data)
    empty = tf.debugging.Assert(length > 0, [tf.strings.join([prefix, "empty image data"])])
    with tf.control_dependencies([empty]):
        code = image_format(data)
    known = tf.debugging.Assert(code > 0, [tf.strings.join([prefix, UNSUPPORTED_FORMAT])])
    needed = tf.gather([0, HEADER_BYTES[1], 4, HEADER_BYTES[3], HEADER_BYTES[4]], code)
    with tf.control_dependencies([known]):
        whole = tf.debugging.Assert(length >= needed, [tf.strings.join([
            prefix, "image data cut off inside its header (", tf.strings.as_string(length), " bytes)"])])
    with tf.control_dependencies([whole]):
        h, w = header_size(data, code)
    small = tf.debugging.Assert(tf.minimum(h, w) >= MIN_SIDE, [tf.strings.join([
        prefix, "image is ", tf.strings.as_string(h), "x", tf.strings.as_string(w),
        f"; images must be at least {MIN_SIDE}x{MIN_SIDE} pixels"])])
    big = tf.debugging.Assert(tf.maximum(h, w) <= max_side, [_size_error(h, w, max_side, prefix)])
    with tf.control_dependencies([small, big]):
        return tf.identity(data)


def image_functions(generator, channels, multiple, scale, max_side=MAX_SIDE_SR):
    """The ``serving_default`` and ``bytes`` endpoints of an image-to-image generator."""
    run = image_to_image(generator, multiple, scale, max_side)

    def one_png(item):
        data, index = item
        data = checked_image_bytes(data, index, max_side)
        # channels=C converts grey, grey+alpha and RGBA inputs to the model's channels
        image = tf.io.decode_image(data, channels=channels, dtype=tf.uint8, expand_animations=False)
        return tf.io.encode_png(run(image[None])["images"][0])

    def from_bytes(image_bytes):
        index = tf.range(tf.size(image_bytes))
        png = tf.map_fn(one_png, (image_bytes, index), fn_output_signature=tf.TensorSpec([], tf.string))
        return {"png_bytes": png}

    return {
        "serving_default": tf.function(run, input_signature=[
            tf.TensorSpec([None, None, None, channels], tf.uint8, name="images")]),
        "bytes": tf.function(from_bytes, input_signature=[
            tf.TensorSpec([None], tf.string, name="image_bytes")]),
    }


def takes_max_side(source):
    """True when ``source``'s signatures take images of any size (so ``max_side`` applies)."""
    if kind_module(source) is not None:
        return "max_side" in inspect.signature(kind_module(source).serving_functions).parameters
    return source.kind == "image"


def resolve_max_side(source, max_side=None):
    """The ``max_side`` the signatures of ``source`` get (``None`` when they take no images of any size)."""
    max_side = check_max_side(max_side)
    if not takes_max_side(source):
        if max_side is not None:
            raise ValueError(f"{source.name!r} ({source.kind}) has no image input of free size; "
                             "max_side (--max-side) applies to image-to-image and inpainting models.")
        return None
    if max_side is not None:
        return max_side
    if kind_module(source) is not None:  # its own default (inpainting: its MAX_SIDE)
        return inspect.signature(kind_module(source).serving_functions).parameters["max_side"].default
    return default_max_side(source)


def serving_functions(source, max_side=None):
    """Endpoints by name. Two-way translators add ``a_to_b``, ``a_to_b_bytes``, ``b_to_a``, ``b_to_a_bytes``
    (``serving_default`` and ``bytes`` are a -> b). ``max_side``: see :func:`resolve_max_side`."""
    max_side = resolve_max_side(source, max_side)
    if kind_module(source) is not None:  # a kind with its own signatures (inpainting)
        if max_side is not None:
            return kind_module(source).serving_functions(source, max_side=max_side)
        return kind_module(source).serving_functions(source)
    if source.kind == "latent":
        return latent_functions(source.generator, source.inputs)
    functions = image_functions(source.generator, source.channels_in, source.size_multiple, source.scale,
                                max_side)
    if source.reverse is not None:
        back = source.reverse
        reverse = image_functions(back.generator, back.channels_in, back.size_multiple, back.scale, max_side)
        functions.update(a_to_b=functions["serving_default"], a_to_b_bytes=functions["bytes"],
                         b_to_a=reverse["serving_default"], b_to_a_bytes=reverse["bytes"])
    return functions


def write_saved_model(source, path, max_side=None):
    """Writes the serving SavedModel of ``source`` (a :class:`~.source.Source`) to ``path``."""
    archive = keras.export.ExportArchive()
    archive.track(source.generator)
    if source.reverse is not None:
        archive.track(source.reverse.generator)
    for name, fn in serving_functions(source, max_side).items():
        archive.add_endpoint(name, fn)
    archive.write_out(path, verbose=False)


def signature_specs(loaded):
    """``{signature: {"inputs": {name: {dtype, shape}}, "outputs": {...}}}`` of a loaded SavedModel."""

    def spec(s):
        if s.shape.rank is None:  # any rank (e.g. a seed given as a scalar or one per row)
            return {"dtype": s.dtype.name, "shape": None}
        return {"dtype": s.dtype.name, "shape": [None if d is None else int(d) for d in s.shape]}

    out = {}
    for key, fn in sorted(loaded.signatures.items()):
        _, inputs = fn.structured_input_signature
        out[key] = {"inputs": {k: spec(v) for k, v in sorted(inputs.items())},
                    "outputs": {k: spec(v) for k, v in sorted(fn.structured_outputs.items())}}
    return out
