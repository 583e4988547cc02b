"""Autoregressive exports (PixelRNN, PixelCNN): likelihoods, one step, and seeded sampling.

The network maps an image to the logits of every position given the pixels before it
(raster order, then colour channels): ``(B, H, W, C)`` (binary, ``bernoulli``) or
``(B, H, W, C, L)`` (``categorical``, ``L`` levels). Pixels are uint8 at the edges: binary
images are on where the byte is >= 128 (0 / 255 images); ``L``-level images hold level
``round(byte * (L - 1) / 255)`` (8-bit data: the byte itself).

SavedModel (TF Serving)::

    serving_default / log_prob  images uint8 [None, H, W, C]
                                -> log_prob float32 [None] (nats per image), bits_per_dim float32 [None]
    logits                      images uint8 [None, H, W, C] -> logits float32 [None, H, W, C(, L)]
    next_pixel                  images uint8 [None, H, W, C] (a partial image: what is at and after the
                                position is ignored), position int32 [None] (raster-and-channel index
                                (row * W + column) * C + channel)
                                -> logits float32 [None(, L)], probabilities float32 [None, 2 | L]
                                   (binary: [P(off), P(on)])
    sample                      seed int64 [None] -> images uint8 [None, H, W, C], log_prob float32 [None]

``sample`` runs the H * W * C steps in the graph (a ``while`` loop; one network pass per step, so
it is for small images) with noise that is a function of the seed alone: uniform
``u = stateless_uniform((H, W, C[, L]), seed=(seed, 0))`` in (1e-7, 1 - 1e-7); a binary pixel is on
when its logit exceeds ``log u - log(1 - u)`` (logistic noise, i.e. with probability
sigmoid(logit)); a level is ``argmax(logits - log(-log u))`` (Gumbel-max). Image ``k`` is
``PixelRNN.sample(1, seed=seed[k])``.

TFLite (``serve``, one step; the loop runs on the host, see ``export/pixelrnn_sampler.py``)::

    images float32 [1, H, W, C] in [0, 1] (binary: 0 / 1; levels: level / (L - 1))
    -> logits float32 [1, H, W, C(, L)]

Gates (:mod:`.gates` limits) compare the probabilities of every position with Keras's, in
[0, 1]; the report adds the largest log-likelihood difference in nats per image.
"""

import numpy as np
import tensorflow as tf

from tfgan_models.export import gates
from tfgan_models.export.source import parse_size
from tfgan_models.inputs import GeneratorInput

NOISE_RANGE = (1e-7, 1.0 - 1e-7)


def matches(generator, declared=None):
    """True for a network whose first masked convolution is a mask-A one (PixelRNN, PixelCNN)."""
    from tfgan_models.export.source import _all_layers

    try:
        from tfgan_models.layers.autoregressive import MaskedConv2D
    except ImportError:  # a checkout without the autoregressive layers has no such network
        return False
    if len(generator.inputs or []) != 1 or (declared and [i.prior for i in declared] != ["image"]):
        return False
    return any(isinstance(layer, MaskedConv2D) and layer.mask_type == "A" for layer in _all_layers(generator))


def declared_inputs(generator):
    return [GeneratorInput.image("images", tuple(int(d) for d in generator.inputs[0].shape[1:]))]


def check_source(generator):
    """The network's facts, or a clear error: fixed (H, W, C) in, logits (H, W, C[, L]) out."""
    shape, out = tuple(generator.inputs[0].shape[1:]), tuple(generator.outputs[0].shape[1:])
    if None in shape or len(shape) != 3 or out[:3] != shape or len(out) not in (3, 4):
        raise ValueError(f"an autoregressive export needs images (B, H, W, C) of a fixed size -> logits (B, H, W, C) "
                         f"or (B, H, W, C, levels); {generator.name!r} maps {shape} to {out}.")


def facts(source):
    """``(data_shape, output, levels)``: ``output`` is ``"bernoulli"`` or ``"categorical"``."""
    shape = tuple(int(d) for d in source.generator.inputs[0].shape[1:])
    out = tuple(source.generator.outputs[0].shape[1:])
    return (shape, "categorical", int(out[3])) if len(out) == 4 else (shape, "bernoulli", 2)


def describe(source):
    shape, output, levels = facts(source)
    return {"output": output, "levels": levels, "data_shape": list(shape), "steps_per_sample": int(np.prod(shape))}


def input_size(source, size):
    own = facts(source)[0][:2]
    if size is not None and parse_size(size) != own:
        raise ValueError(f"{source.name!r} models {own[0]}x{own[1]} images only; received an input size of {size!r}.")
    return own


# ------------------------------------------------------------------ the maths (TF ops)
def prepare(x, output, levels):
    """Images in [-1, 1] -> (network input, targets) as ``PixelRNN.prepare``."""
    if output == "bernoulli":
        on = tf.cast(x > 0.0, tf.float32)
        return 2.0 * on - 1.0, on
    top = float(levels - 1)
    level = tf.clip_by_value(tf.round((x + 1.0) * (top / 2.0)), 0.0, top)
    return level * (2.0 / top) - 1.0, tf.cast(level, tf.int32)


def log_prob(logits, targets, output):
    """Per-image log-likelihood in nats, (B,)."""
    if output == "bernoulli":
        per_dim = tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits)
    else:
        per_dim = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
    return -tf.reduce_sum(tf.reshape(per_dim, (tf.shape(per_dim)[0], -1)), axis=1)


def probabilities(logits, output):
    """[P(off), P(on)] of binary logits, the softmax of level logits."""
    if output == "bernoulli":
        p = tf.sigmoid(logits)
        return tf.stack([1.0 - p, p], axis=-1)
    return tf.nn.softmax(logits, axis=-1)


def uniform_noise(seed, shape, output, levels):
    """The uniform noise of one image, ``stateless_uniform`` at ``(seed, 0)`` (as ``PixelRNN.sample``)."""
    full = tuple(shape) + ((levels,) if output == "categorical" else ())
    return tf.random.stateless_uniform(full, tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)]),
                                       minval=NOISE_RANGE[0], maxval=NOISE_RANGE[1])


def sampling_noise(u, output):
    """Uniform noise -> logistic (binary) or Gumbel (levels) noise, as ``PixelRNN._fill``."""
    return tf.math.log(u) - tf.math.log1p(-u) if output == "bernoulli" else -tf.math.log(-tf.math.log(u))


def to_uint8(x):
    """Model-range images in [-1, 1] -> uint8."""
    return tf.cast(tf.clip_by_value(tf.round((x + 1.0) * 127.5), 0.0, 255.0), tf.uint8)


# ------------------------------------------------------------------------------ SavedModel
def serving_functions(source):
    generator = source.generator
    check_source(generator)
    shape, output, levels = facts(source)
    h, w, c = shape
    total = h * w * c

    def scored(images):
        x, targets = prepare(tf.cast(images, tf.float32) / 127.5 - 1.0, output, levels)
        return generator(x, training=False), targets

    def score(images):
        logits, targets = scored(images)
        lp = log_prob(logits, targets, output)
        return {"log_prob": lp, "bits_per_dim": -lp / (total * float(np.log(2.0)))}

    def logits_map(images):
        return {"logits": scored(images)[0]}

    def next_pixel(images, position):
        ok = tf.logical_and(tf.reduce_all(position >= 0), tf.reduce_all(position < total))
        check = tf.debugging.Assert(ok, [f"position must be a raster-and-channel index in [0, {total - 1}]"])
        with tf.control_dependencies([check]):
            logits = tf.reshape(scored(images)[0], (tf.shape(images)[0], total, -1))  # (B, total, 1 | L)
        picked = tf.gather(logits, position, axis=1, batch_dims=1)  # (B, 1 | L)
        picked = picked[:, 0] if output == "bernoulli" else picked
        return {"logits": picked, "probabilities": probabilities(picked, output)}

    def sample(seed):
        n = tf.shape(seed)[0]
        noise = sampling_noise(tf.map_fn(lambda s: uniform_noise(s, shape, output, levels), seed,
                                         fn_output_signature=tf.float32), output)
        canvas = tf.zeros((n, h, w, c))
        for i in tf.range(total):  # autograph: a while loop; one network pass per position
            r, col, ch = i // (w * c), (i // c) % w, i % c
            logits = generator(canvas, training=False)[:, r, col, ch]
            if output == "bernoulli":
                value = tf.where(logits > noise[:, r, col, ch], 1.0, -1.0)
            else:
                level = tf.cast(tf.argmax(logits + noise[:, r, col, ch], axis=-1), tf.float32)
                value = level * (2.0 / (levels - 1)) - 1.0
            here = tf.reshape(tf.one_hot(i, total), (1, h, w, c))
            canvas = canvas * (1.0 - here) + value[:, None, None, None] * here
        logits, targets = generator(canvas, training=False), prepare(canvas, output, levels)[1]
        return {"images": to_uint8(canvas), "log_prob": log_prob(logits, targets, output)}

    images = tf.TensorSpec([None, h, w, c], tf.uint8, name="images")
    scoring = tf.function(score, input_signature=[images])
    return {
        "serving_default": scoring,
        "log_prob": scoring,
        "logits": tf.function(logits_map, input_signature=[images]),
        "next_pixel": tf.function(next_pixel, input_signature=[images, tf.TensorSpec([None], tf.int32, name="position")]),
        "sample": tf.function(sample, input_signature=[tf.TensorSpec([None], tf.int64, name="seed")]),
    }


# ---------------------------------------------------------------------------------- TFLite
def tflite_inputs(source, size=None):
    return [("images", "float32", (1, *facts(source)[0]))]


def io_spec(source, size=None):
    shape, output, levels = facts(source)
    values = "0 (off) or 1 (on)" if output == "bernoulli" else f"level / {levels - 1} (levels 0..{levels - 1})"
    out = [1, *shape] + ([levels] if output == "categorical" else [])
    return {"signature": "serve",
            "inputs": {"images": {"dtype": "float32", "shape": [1, *shape], "range": f"[0, 1]: {values}",
                                  "layout": "NHWC", "note": "a partial image: positions at and after the one "
                                                            "being drawn are ignored (causal network)"}},
            "outputs": {"logits": {"dtype": "float32", "shape": out,
                                   "meaning": ("logit of P(on) per position" if output == "bernoulli"
                                               else f"logits of the {levels} levels per position"),
                                   "order": "raster (row, column), then channel"}}}


def tflite_function(source):
    """``images`` in [0, 1] -> ``{"logits": ...}``; pixels snapped to the model's values in the graph."""
    generator, (_, output, levels) = source.generator, facts(source)

    def fn(images):
        if output == "bernoulli":
            x = 2.0 * tf.cast(images > 0.5, tf.float32) - 1.0
        else:
            x = tf.round(images * float(levels - 1)) * (2.0 / (levels - 1)) - 1.0
        return {"logits": generator(x, training=False)}

    return fn


# ------------------------------------------------------------------------- gate data
def to_units(images, output, levels):
    """Model-range images in [-1, 1] -> .tflite units: 0 / 1, or level / (L - 1)."""
    x, targets = prepare(tf.constant(images, tf.float32), output, levels)
    return ((x.numpy() + 1.0) / 2.0).astype("float32")


def example_images(source, n, seed):
    """``n`` images in .tflite units: the run's data, else random ones (binary: 30% on)."""
    shape, output, levels = facts(source)
    if source.settings:
        from tfgan_models import data as data_lib

        ds = data_lib.load(source.settings["run"]["data"], batch_size=n, image_size=shape[:2], channels=shape[2],
                           seed=seed, drop_remainder=False)
        batch = next(iter(ds))
        return to_units((batch[0] if isinstance(batch, (tuple, list)) else batch).numpy(), output, levels)
    rng = np.random.RandomState(gates.GATE_SEED + seed)
    if output == "bernoulli":
        return (rng.uniform(size=(n, *shape)) < 0.3).astype("float32")
    return (rng.randint(0, levels, (n, *shape)) / (levels - 1)).astype("float32")


def with_partial(images, seed):
    """``images`` followed by copies cut off at random positions (zeros after), as the host loop sees them."""
    rng = np.random.RandomState(seed)
    flat = images.reshape(len(images), -1).copy()
    for row in flat:
        row[rng.randint(1, row.size):] = 0.0
    return np.concatenate([images, flat.reshape(images.shape)]).astype("float32")


def gate_inputs(source, n=gates.GATE_SAMPLES // 2, seed=gates.GATE_SEED):
    return {"images": with_partial(example_images(source, n, 1), seed)}


def representative_set(source, n, given=None):
    shape, output, levels = facts(source)
    if given is not None:
        images = np.asarray(given["images"] if isinstance(given, dict) else given)
        images = images.astype("float32") / 255.0 if images.dtype == np.uint8 else images.astype("float32")
        if images.ndim != 4 or images.shape[1:] != shape or not len(images):
            raise ValueError(f"representative_data must be images (N, {', '.join(map(str, shape))}), "
                             f"received {images.shape}.")
        return {"images": images}, f"{len(images)} given images"
    images = with_partial(example_images(source, max(1, n // 2), 0), 0)
    what = f"the run's data {source.settings['run']['data']!r}" if source.settings else "random images"
    return {"images": images}, f"{len(images)} images of {what}, half of them cut off at random positions"


# ------------------------------------------------------------------------------- gates
def np_probabilities(logits, output):
    logits = np.asarray(logits, "float64")
    if output == "bernoulli":
        p = 1.0 / (1.0 + np.exp(-logits))
        return np.stack([1.0 - p, p], axis=-1)
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def keras_logits(source, units):
    """Keras logits of images in .tflite units."""
    _, output, levels = facts(source)
    x = prepare(tf.constant(units * 2.0 - 1.0, tf.float32), output, levels)[0]
    return np.asarray(source.generator(x, training=False), "float32")


def keras_unit(source, inputs):
    """Keras probabilities of every position, (N, H, W, C, 2 | L) in [0, 1]."""
    return np_probabilities(keras_logits(source, np.asarray(inputs["images"], "float32")), facts(source)[1])


def keras_log_prob(source, units):
    _, output, levels = facts(source)
    targets = prepare(tf.constant(units * 2.0 - 1.0, tf.float32), output, levels)[1]
    return log_prob(tf.constant(keras_logits(source, units)), targets, output).numpy()


def check_saved_model(loaded, source):
    """``logits`` / ``next_pixel`` / ``log_prob`` against Keras; ``sample`` deterministic, and every decision
    it made is the one Keras's logits of the finished image and the seed's noise give (causality makes the
    logits of the finished image those the loop saw at each step)."""
    sigs = loaded.signatures
    shape, output, levels = facts(source)
    units = gate_inputs(source)["images"]
    images = tf.constant(np.round(units * 255.0).astype("uint8"))
    got = sigs["logits"](images=images)["logits"].numpy()
    result = gates.figures(keras_unit(source, {"images": units}), np_probabilities(got, output))
    lp = sigs["log_prob"](images=images)["log_prob"].numpy()
    result["log_prob_max_abs_diff"] = float(np.abs(lp - keras_log_prob(source, units)).max())
    total = int(np.prod(shape))
    positions = (np.arange(len(units)) * 7919) % total
    step = sigs["next_pixel"](images=images, position=tf.constant(positions, tf.int32))["logits"].numpy()
    expected = got.reshape(len(units), total, -1)[np.arange(len(units)), positions]
    result["max_abs_diff"] = max(result["max_abs_diff"], float(np.abs(step.reshape(expected.shape) - expected).max()))
    seeds = np.array([0, 1, 0], "int64")
    sampled = sigs["sample"](seed=tf.constant(seeds))
    drawn = sampled["images"].numpy()
    if not np.array_equal(drawn[0], drawn[2]):
        raise gates.GateError("the sample signature is not deterministic: seed 0 gave two different images.")
    result.update(sample_check(source, drawn, seeds), log_prob_max_abs_diff=max(
        result["log_prob_max_abs_diff"], float(np.abs(sampled["log_prob"].numpy()
                                                      - keras_log_prob(source, drawn / 255.0)).max())))
    if result["log_prob_max_abs_diff"] > 1e-3:
        raise gates.GateError(f"the SavedModel's log-likelihoods differ from Keras's by "
                              f"{result['log_prob_max_abs_diff']:.3g} nats (limit 1e-3).")
    return gates.judge("the SavedModel", "saved_model", result)


def sample_check(source, drawn, seeds, tie=1e-4):
    """Checks uint8 samples against Keras's logits of them and each seed's noise; raises on a wrong decision."""
    shape, output, levels = facts(source)
    units = drawn.astype("float32") / 255.0
    valid = np.isin(drawn, [0, 255]) if output == "bernoulli" else np.isclose(
        np.round(units * (levels - 1)) / (levels - 1) * 255.0, drawn, atol=0.5)
    if not valid.all():
        raise gates.GateError("the sample signature returns pixel values the model cannot produce.")
    logits = keras_logits(source, units)
    noise = np.stack([sampling_noise(uniform_noise(s, shape, output, levels), output).numpy() for s in seeds])
    if output == "bernoulli":
        margin, wrong = logits - noise, (logits > noise) != (units > 0.5)
    else:
        scores = logits + noise
        chosen = np.take_along_axis(scores, np.round(units * (levels - 1)).astype(int)[..., None], -1)[..., 0]
        margin = scores.max(axis=-1) - np.sort(scores, axis=-1)[..., -2]
        wrong = chosen < scores.max(axis=-1)
    wrong &= np.abs(margin) > tie  # a near tie may go either way in another kernel
    if wrong.any():
        raise gates.GateError(f"the sample signature made {int(wrong.sum())} decisions the model's logits and "
                              "the seed's noise do not give.")
    return {"sample_decisions_checked": int(wrong.size)}


def check_tflite(path, source, quantization, inputs):
    from tfgan_models.export.tflite import interpreter, quiet

    _, output, _ = facts(source)
    units = np.asarray(inputs["images"], "float32")
    with quiet():
        runner = interpreter(path).get_signature_runner("serve")
        got = np.concatenate([runner(images=units[i : i + 1])["logits"] for i in range(len(units))])
    result = gates.figures(keras_unit(source, inputs), np_probabilities(got, output))
    full = units[: len(units) // 2]  # the whole images (the rest are cut off)
    targets = prepare(tf.constant(full * 2.0 - 1.0), output, facts(source)[2])[1]
    tflite_lp = log_prob(tf.constant(got[: len(full)]), targets, output).numpy()
    result["log_prob_max_abs_diff"] = float(np.abs(tflite_lp - keras_log_prob(source, full)).max())
    return gates.judge(f"the TFLite {'fp32' if quantization == 'none' else quantization} model", quantization, result)
