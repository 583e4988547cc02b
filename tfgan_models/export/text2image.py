"""Text-to-image exports (GAN-INT-CLS, StackGAN): ``[*noise, text] -> image``, captions as raw UTF-8.

The generator is ``text -> tokenizer (CharTokenizer) -> text_encoder (ids -> embedding) ->
core ([*noise, embedding] -> image in [-1, 1])``. Its noise inputs (``z``; StackGAN also ``eps_1``,
``eps_2``) are N(0, I).

SavedModel (TF Serving), ``text`` string [None] in every signature::

    serving_default  text -> images uint8 [None, H, W, 3], images_float float32 [None, H, W, 3] in [0, 1];
                     the noise of every row is drawn from seed DEFAULT_SEED (0), so a caption always gives
                     the same image (other seeds: ``seed``; a signature default is ignored by
                     ``tf.saved_model.load``, so a seed input could not be optional)
    seed             text, seed int64 (a scalar for every row, or [None], one per row)
                     -> images, images_float, and the noise drawn under its input names (z, ...);
                     noise input ``i`` is ``stateless_normal(seed=(seed, i))`` (:func:`.saved_model.seed_draws`)
    generate         every noise input (z float32 [None, d], ...) and text -> images, images_float
    embed            text -> embedding float32 [None, embedding_dim] (the text encoder's phi(t))
    tokenize         text -> ids int32 [None, L] (what the TFLite files take)

Any string works: empty, unknown characters (emoji, accents), invalid UTF-8, any length (cut to L
characters). An empty batch gives an empty batch. A ``seed`` of another length than ``text`` fails
with an ``InvalidArgumentError`` saying so.

TFLite (``serve``, builtin ops only; string ops are not builtins, so the file takes character ids)::

    z float32 [1, d] (+ eps_1, eps_2: N(0, I)), ids int32 [1, L] -> images float32 [1, H, W, 3] in [0, 1]

int8 files keep float32 noise and int32 ids. ``tflite/NAME_text.json`` holds the vocabulary
(:func:`vocabulary`); ``export/client.py``'s ``caption_ids(text, vocab)`` makes the ids as
:func:`tfgan_models.layers.text.caption_ids` does. Gates (:mod:`.gates` limits): the SavedModel
against the Keras generator on text (tricky captions included) and the ids contract; the TFLite
files against Keras on the same ids; calibration: ids of the run's own training captions.
"""

import json
import os
import types

import numpy as np
import tensorflow as tf

from tfgan_models.export import gates
from tfgan_models.export.saved_model import seed_draws, to_unit, unit_to_uint8
from tfgan_models.inputs import GeneratorInput
from tfgan_models.layers.text import ALPHABET, PAD, UNKNOWN, VOCAB_SIZE, CharTokenizer, caption_ids

DEFAULT_SEED = 0
NORMALISATION = ("ASCII letters lowered; runs of spaces, tabs and line breaks (\\t \\n \\f \\r) become one space; "
                 "leading and trailing spaces removed; invalid UTF-8 decoded with U+FFFD; characters not in the "
                 "alphabet map to 'unknown'; the character at alphabet index i has id i + 1; cut or padded "
                 "(with 'pad') to 'length' characters")
TRICKY_TEXTS = ("", "Ünïcödé 🦄 caption with émojis ✨", "a red circle " * 770,  # 10,010 characters
                b"\xff\xfe a \xc3( blue \xe2\x82 sq", "  A LARGE\tGreen\n\nTRIANGLE  ")  # invalid UTF-8; spaces


def matches(generator, declared=None):
    """True for a generator of images with a text input: declared with prior "text", or a tf.string input."""
    outputs = generator.outputs or []
    if len(outputs) != 1 or len(outputs[0].shape) != 4:
        return False
    if declared:
        return [i.prior for i in declared].count("text") == 1
    return [str(t.dtype) for t in generator.inputs or []].count("string") == 1


def declared_inputs(generator):
    """The inputs of a bare text-to-image network, as a model would declare them: N(0, I) noise and the text."""
    return [GeneratorInput.text(t.name.split(":")[0]) if str(t.dtype) == "string"
            else GeneratorInput.normal(t.name.split(":")[0], tuple(t.shape[1:])) for t in generator.inputs]


def parts(source):
    """The pieces the export needs, or a clear error: tokenizer, text_encoder, core, noise specs, sizes."""
    g = source.generator
    names = [layer.name for layer in g.layers]
    if not {"tokenizer", "text_encoder", "core"} <= set(names) or not isinstance(g.get_layer("tokenizer"),
                                                                                 CharTokenizer):
        raise ValueError(f"a text-to-image export needs a generator text -> 'tokenizer' (a CharTokenizer) -> "
                         f"'text_encoder' -> 'core'; {g.name!r} has the layers {names}.")
    text = [i for i in source.inputs if i.prior == "text"][0]
    noise = [i for i in source.inputs if i.prior != "text"]
    if any(i.role != "noise" or not i.fixed_shape for i in noise) or any(i.name in ("ids", "seed") for i in noise):
        raise ValueError(f"{g.name!r}: a text-to-image export draws every input but the text from a seed; its "
                         f"inputs are {[(i.name, i.prior) for i in source.inputs]}.")
    encoder = g.get_layer("text_encoder")
    return types.SimpleNamespace(tokenizer=g.get_layer("tokenizer"), encoder=encoder, core=g.get_layer("core"),
                                 text=text, noise=noise, length=g.get_layer("tokenizer").length,
                                 embedding_dim=int(encoder.output_shape[-1]),
                                 shape=tuple(int(d) for d in g.output_shape[1:]))


def vocabulary(source):
    """The JSON-able vocabulary of the TFLite ids (``tflite/NAME_text.json``)."""
    return {"alphabet": ALPHABET, "first_id": 1, "length": parts(source).length, "pad": PAD, "unknown": UNKNOWN,
            "vocab_size": VOCAB_SIZE, "normalisation": NORMALISATION}


def vocabulary_path(source):
    return os.path.join("tflite", f"{source.name}_text.json")


def describe(source):
    p = parts(source)
    text = {k: v for k, v in vocabulary(source).items() if k != "alphabet"}
    return {"text_input": {"name": p.text.name, "encoding": "UTF-8", "tokenizer": "CharTokenizer", **text},
            "noise": [i.name for i in p.noise], "embedding_dim": p.embedding_dim, "default_seed": DEFAULT_SEED,
            "data_shape": list(p.shape)}


def input_size(source, size):
    if size is not None:
        h, w, _ = parts(source).shape
        raise ValueError(f"{source.name!r} generates {h}x{w} images from text; it takes no input size "
                         f"(received {size!r}).")
    return None


def tflite_sidecars(source, folder):
    """Writes ``tflite/NAME_text.json`` (the vocabulary) under ``folder``; returns its report entry."""
    path = os.path.join(folder, vocabulary_path(source))
    with open(path, "w", encoding="utf-8") as f:
        json.dump(vocabulary(source), f, indent=1)
    os.chmod(path, 0o644)
    return {"tflite_text": {"path": vocabulary_path(source), "size_bytes": os.path.getsize(path)}}


# ------------------------------------------------------------ SavedModel
def serving_functions(source):
    """``serving_default``, ``seed``, ``generate``, ``embed``, ``tokenize``; see the module docstring."""
    p = parts(source)
    generator = source.generator

    def padded(text):
        """``text`` with one empty caption added when the batch is empty (the networks need a row)."""
        n = tf.shape(text)[0]
        return n, tf.concat([text, tf.fill([tf.maximum(1 - n, 0)], "")], 0)

    def run(noise, text):
        n = tf.shape(text)[0]
        checks = [tf.debugging.assert_equal(tf.shape(t)[0], n, message=(
            f"{spec.name} needs one row per text")) for spec, t in zip(p.noise, noise)]
        with tf.control_dependencies(checks):
            n, text = padded(text)
        noise = [tf.concat([t, tf.zeros([tf.shape(text)[0] - n, *spec.shape])], 0) for spec, t in zip(p.noise, noise)]
        y = to_unit(generator([*noise, text], training=False)[:n])
        return {"images": unit_to_uint8(y), "images_float": y}

    def from_seed(text, seed):
        seed = tf.cast(seed, tf.int64)
        n = tf.shape(text)[0]
        ok = tf.logical_and(tf.rank(seed) <= 1, tf.logical_or(tf.size(seed) == 1, tf.size(seed) == n))
        check = tf.debugging.Assert(ok, ["seed must be a scalar or one int64 per text; texts and seeds:",
                                         n, tf.size(seed)])
        with tf.control_dependencies([check]):
            seed = tf.broadcast_to(tf.reshape(seed, [-1]), [n])
        drawn = {spec.name: seed_draws(seed, spec, stream) for stream, spec in enumerate(p.noise)}
        return {**run([drawn[s.name] for s in p.noise], text), **drawn}

    def default(text):
        out = from_seed(text, tf.constant(DEFAULT_SEED, tf.int64))
        return {"images": out["images"], "images_float": out["images_float"]}

    def embed(text):
        n, text = padded(text)
        return {"embedding": p.encoder(p.tokenizer(text), training=False)[:n]}

    def tokenize(text):
        return {"ids": p.tokenizer(text)}

    text = tf.TensorSpec([None], tf.string, name=p.text.name)
    noise = [tf.TensorSpec([None, *i.shape], tf.float32, name=i.name) for i in p.noise]
    return {
        "serving_default": tf.function(default, input_signature=[text]),
        "seed": tf.function(from_seed, input_signature=[text, tf.TensorSpec(None, tf.int64, name="seed")]),
        "generate": tf.function(lambda *args: run(list(args[:-1]), args[-1]), input_signature=[*noise, text]),
        "embed": tf.function(embed, input_signature=[text]),
        "tokenize": tf.function(tokenize, input_signature=[text]),
    }


# ------------------------------------------------------------------ TFLite
def tflite_inputs(source, size=None):
    p = parts(source)
    return [(i.name, "float32", (1, *i.shape)) for i in p.noise] + [("ids", "int32", (1, p.length))]


def io_spec(source, size=None):
    p = parts(source)
    h, w, c = p.shape
    inputs = {i.name: {"dtype": "float32", "shape": [1, *i.shape], "range": i.value_range()} for i in p.noise}
    inputs["ids"] = {"dtype": "int32", "shape": [1, p.length], "range": f"[0, {VOCAB_SIZE - 1}]",
                     "meaning": "character ids of the caption: export/client.py caption_ids(text, vocabulary)",
                     "vocabulary": vocabulary_path(source)}
    images = {"dtype": "float32", "shape": [1, h, w, c], "range": "[0, 1]", "layout": "NHWC, RGB"}
    return {"signature": "serve", "inputs": inputs, "outputs": {"images": images}}


def tflite_function(source):
    """``(*noise, ids) -> {"images": [0, 1]}``: the text encoder and the core, no string ops."""
    p = parts(source)

    def fn(*tensors):
        embedding = p.encoder(tensors[-1], training=False)
        return {"images": to_unit(p.core([*tensors[:-1], embedding], training=False))}

    return fn


def keras_unit(source, inputs):
    """Keras images in [0, 1] of ``{noise..., "ids"}`` (text encoder on the ids, then the core)."""
    p = parts(source)
    embedding = p.encoder(tf.constant(np.asarray(inputs["ids"], "int32")), training=False)
    noise = [tf.constant(np.asarray(inputs[i.name], "float32")) for i in p.noise]
    return to_unit(np.asarray(p.core([*noise, embedding], training=False), "float32"))


def keras_text_unit(source, noise, texts):
    """The whole Keras generator (its tokenizer included) on captions, in [0, 1]."""
    p = parts(source)
    tensors = [tf.constant(np.asarray(noise[i.name], "float32")) for i in p.noise]
    return to_unit(np.asarray(source.generator([*tensors, tf.constant(list(texts))], training=False), "float32"))


# --------------------------------------------------------- gate and calibration data
def captions(source, split, n):
    """``(n real captions, what they are)``: the run's shapes split (``"train"`` or ``"test"``), else the model's
    sample captions."""
    settings = source.settings or {}
    if str(settings.get("run", {}).get("data", "")).split(":")[0] == "shapes":
        from tfgan_models.data.captions import shapes_arrays

        texts, what = shapes_arrays(split)["captions"], f"the run's {split} captions"
    else:
        from tfgan_models.models.text_to_image import SAMPLE_CAPTIONS

        texts, what = settings.get("model", {}).get("sample_captions") or SAMPLE_CAPTIONS, "the sample captions"
    return [texts[i % len(texts)] for i in range(int(n))], what


def gate_inputs(source, n=gates.GATE_SAMPLES, seed=gates.GATE_SEED):
    """Fresh ``{noise..., "ids", "text"}``: held-out captions and the :data:`TRICKY_TEXTS`, noise from the priors."""
    p = parts(source)
    texts = captions(source, "test", max(1, n - len(TRICKY_TEXTS)))[0] + list(TRICKY_TEXTS)
    texts = [t if isinstance(t, bytes) else t.encode("utf-8") for t in texts]
    rng = np.random.RandomState(seed)
    return {**{i.name: i.sample(rng, len(texts)) for i in p.noise}, "ids": caption_ids(texts, p.length),
            "text": np.array(texts, object)}


def representative_set(source, n, given=None):
    """``({noise..., "ids"}, description)`` for int8 calibration: ids of the run's training captions by default;
    ``given``: ``{"text": captions}`` or ``{"ids": (N, L)}``, plus any noise (the rest drawn from the priors)."""
    p = parts(source)
    rng = np.random.RandomState(0)
    if given is not None:
        if not isinstance(given, dict) or not {"text", "ids"} & set(given):
            raise ValueError("representative_data of a text-to-image model is {'text': [captions]} or "
                             f"{{'ids': (N, {p.length}) int32}}, with optional noise inputs.")
        ids = np.asarray(given["ids"], "int32") if "ids" in given else caption_ids(list(given["text"]), p.length)
        if ids.ndim != 2 or ids.shape[1] != p.length or not len(ids):
            raise ValueError(f"representative_data ids must be (N, {p.length}), received {ids.shape}.")
        noise = {i.name: np.asarray(given[i.name], "float32") if i.name in given else i.sample(rng, len(ids))
                 for i in p.noise}
        return {**noise, "ids": ids}, f"{len(ids)} given captions"
    texts, what = captions(source, "train", n)
    return ({**{i.name: i.sample(rng, n) for i in p.noise}, "ids": caption_ids(texts, p.length)},
            f"{n} ids of {what} with noise from N(0, I)")


# -------------------------------------------------------------- the gates
def check_saved_model(loaded, source):
    """``generate`` against the Keras generator on text; ``seed`` deterministic and its noise reproducing its
    images; ``serving_default`` = ``seed`` at DEFAULT_SEED; ``embed`` and ``tokenize`` against Keras and
    :func:`caption_ids`; an empty batch gives an empty batch."""
    sigs, p = loaded.signatures, parts(source)
    inputs = gate_inputs(source)
    text = tf.constant(list(inputs["text"]))
    noise = {i.name: inputs[i.name] for i in p.noise}
    out = sigs["generate"](text=text, **{k: tf.constant(v) for k, v in noise.items()})
    result = gates.figures(keras_text_unit(source, noise, inputs["text"]), out["images_float"].numpy())
    if not np.array_equal(out["images"].numpy(), unit_to_uint8(out["images_float"]).numpy()):
        raise gates.GateError("the uint8 images output does not match the rounded float output.")
    three = tf.constant([inputs["text"][0]] * 3)
    seeded = sigs["seed"](text=three, seed=tf.constant([0, 1, 0], tf.int64))
    if not np.array_equal(seeded["images"][0].numpy(), seeded["images"][2].numpy()):
        raise gates.GateError("the seed signature is not deterministic: seed 0 gave two different images.")
    drawn = {i.name: seeded[i.name].numpy() for i in p.noise}
    again = gates.figures(keras_text_unit(source, drawn, [inputs["text"][0]] * 3), seeded["images_float"].numpy())
    result["max_abs_diff"] = max(result["max_abs_diff"], again["max_abs_diff"])
    default = sigs["serving_default"](text=text)["images"].numpy()
    if not np.array_equal(default, sigs["seed"](text=text, seed=tf.constant(DEFAULT_SEED, tf.int64))["images"].numpy()):
        raise gates.GateError(f"serving_default differs from the seed signature at seed {DEFAULT_SEED}.")
    embedding = sigs["embed"](text=text)["embedding"].numpy()
    expected = np.asarray(p.encoder(p.tokenizer(text), training=False))
    result["embedding_max_abs_diff"] = float(np.abs(embedding - expected).max())
    if result["embedding_max_abs_diff"] > 1e-4:
        raise gates.GateError(f"the embed signature differs from Keras by {result['embedding_max_abs_diff']:.3g}.")
    if not np.array_equal(sigs["tokenize"](text=text)["ids"].numpy(), inputs["ids"]):
        raise gates.GateError("the tokenize signature and caption_ids (the TFLite ids) disagree.")
    empty = sigs["serving_default"](text=tf.constant([], tf.string))["images"]
    if tuple(empty.shape) != (0, *p.shape):
        raise gates.GateError(f"an empty batch of texts gives shape {tuple(empty.shape)}, not (0, ...).")
    return gates.judge("the SavedModel", "saved_model", result)


def check_tflite(path, source, quantization, inputs):
    """Runs the ``.tflite`` file on the gate ids and noise and judges it against Keras; checks its I/O types,
    its ops (builtins only) and that the in-graph tokenizer gives the ids it was fed."""
    from tfgan_models.export.tflite import Runner, interpreter, quiet

    p = parts(source)
    if not np.array_equal(np.asarray(p.tokenizer(tf.constant(list(inputs["text"])))), inputs["ids"]):
        raise gates.GateError("caption_ids and the generator's tokenizer disagree: the TFLite ids are not the "
                              "SavedModel's.")
    feed = {k: v for k, v in inputs.items() if k != "text"}
    with quiet():
        runner = Runner(path, num_threads=1)
        got = runner(feed)
    types_ = {k: np.dtype(d["dtype"]).name for k, d in runner.input_details.items()}
    if types_ != {**{i.name: "float32" for i in p.noise}, "ids": "int32"}:
        raise gates.GateError(f"{os.path.basename(path)} takes {types_}; noise must stay float32 and ids int32.")
    ops = {op["op_name"] for op in interpreter(path)._get_ops_details()}  # as written: no delegate applied yet
    odd = [op for op in ops if op.startswith("Flex") or op == "CUSTOM"]
    if odd:
        raise gates.GateError(f"{os.path.basename(path)} holds non-builtin ops: {sorted(set(odd))}.")
    result = gates.figures(keras_unit(source, feed), got)
    return gates.judge(f"the TFLite {'fp32' if quantization == 'none' else quantization} model", quantization, result)
