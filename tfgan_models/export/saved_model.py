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

    serving_default  images uint8 [None, None, None, C] (any size >= 3x3)
                     -> images uint8 [None, sH, sW, C'], images_float float32 in [0, 1]
    bytes            image_bytes string [None] (PNG or JPEG; what a REST client sends as {"b64": ...})
                     -> png_bytes string [None] (TF Serving's REST API base64-encodes
                        outputs whose names end in "_bytes")

Sizes the network cannot take directly are reflect-padded at the bottom and
right to the network's multiple inside the graph and cropped back, so every
size works. ``images_float`` is the unrounded output, kept for parity checks.
"""

import math

import keras
import tensorflow as tf

from tfgan_models.inputs import MAX_RESAMPLES
from tfgan_models.export import style
from tfgan_models.export.source import kind_module

MIN_SIDE = 3  # smallest image side the serving signatures accept


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


def image_to_image(generator, multiple, scale):
    """uint8 (B, H, W, C) -> ``{"images": uint8, "images_float": [0, 1]}`` of (B, sH, sW, C')."""

    def run(images):
        shape = tf.shape(images)
        check = tf.debugging.assert_greater_equal(
            tf.minimum(shape[1], shape[2]), MIN_SIDE,
            message=f"images must be at least {MIN_SIDE}x{MIN_SIDE} pixels")
        with tf.control_dependencies([check]):
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


def image_functions(generator, channels, multiple, scale):
    """The ``serving_default`` and ``bytes`` endpoints of an image-to-image generator."""
    run = image_to_image(generator, multiple, scale)

    def one_png(data):
        image = tf.io.decode_image(data, channels=channels, dtype=tf.uint8, expand_animations=False)
        return tf.io.encode_png(run(image[None])["images"][0])

    def from_bytes(image_bytes):
        png = tf.map_fn(one_png, image_bytes, fn_output_signature=tf.TensorSpec([], tf.string))
        return {"png_bytes": png}

    return {
        "serving_default": tf.function(run, input_signature=[
            tf.TensorSpec([None, None, None, channels], tf.uint8, name="images")]),
        "bytes": tf.function(from_bytes, input_signature=[
            tf.TensorSpec([None], tf.string, name="image_bytes")]),
    }


def serving_functions(source):
    """Endpoints by name. Two-way translators add ``a_to_b``, ``a_to_b_bytes``, ``b_to_a``, ``b_to_a_bytes``
    (``serving_default`` and ``bytes`` are a -> b)."""
    if kind_module(source) is not None:  # a kind with its own signatures (inpainting)
        return kind_module(source).serving_functions(source)
    if source.kind == "latent":
        return latent_functions(source.generator, source.inputs)
    functions = image_functions(source.generator, source.channels_in, source.size_multiple, source.scale)
    if source.reverse is not None:
        back = source.reverse
        reverse = image_functions(back.generator, back.channels_in, back.size_multiple, back.scale)
        functions.update(a_to_b=functions["serving_default"], a_to_b_bytes=functions["bytes"],
                         b_to_a=reverse["serving_default"], b_to_a_bytes=reverse["bytes"])
    return functions


def write_saved_model(source, path):
    """Writes the serving SavedModel of ``source`` (a :class:`~.source.Source`) to ``path``."""
    archive = keras.export.ExportArchive()
    archive.track(source.generator)
    if source.reverse is not None:
        archive.track(source.reverse.generator)
    for name, fn in serving_functions(source).items():
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
