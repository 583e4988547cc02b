"""Serving signatures of style-based generators (StyleGAN): W space in, W-space truncation.

A style-based generator is a latent generator (``z`` and explicit ``noise_i`` maps -> images) built
from three named parts: ``mapping`` (z -> w), ``truncation`` (w -> W+, holding the tracked average
``w_avg`` and the layer ``cutoff``) and ``synthesis`` ([W+, noise_0, ...] -> images). On top of the
latent signatures (``serving_default``, ``seed``) its SavedModel has::

    truncated  seed int64 [None], truncation float32 [None] (psi: 1 none, 0.7 the paper's, 0 the average)
               -> images, images_float, z, noise_*: the seed's draws, w pulled towards w_avg by psi on
               the first ``cutoff`` styles (Karras et al. 2018, sec. 3.1 / app. B), replacing the
               z-resampling truncation of the other latent generators
    mapping    z float32 [None, latent_dim] -> w float32 [None, w_dim]
    w          w float32 [None, num_ws, w_dim] (W+), seed int64 [None]
               -> images, images_float: the noise maps drawn from the seed as ``seed`` draws them, so
               ``w(w=broadcast(mapping(z)), seed=s)`` equals ``seed(seed=s)`` for that seed's z

Every part runs builtin TFLite ops; the ``.tflite`` files take ``z`` and the noise maps, like the
SavedModel's ``serving_default``.
"""

import numpy as np
import tensorflow as tf

PARTS = ("mapping", "truncation", "synthesis")


def is_style_generator(generator):
    """True for a generator with ``mapping``, ``truncation`` and ``synthesis`` parts."""
    return set(PARTS) <= {layer.name for layer in getattr(generator, "layers", [])}


def parts(generator):
    return [generator.get_layer(name) for name in PARTS]


def truncate(truncation_layer, w, psi):
    """W+ ``(B, num_ws, w_dim)`` from w ``(B, w_dim)``: ``w_avg + psi (w - w_avg)`` on the first ``cutoff``
    styles, w on the others; ``psi`` a tensor ``(B,)`` or a number."""
    num_ws, cutoff = int(truncation_layer.num_ws), truncation_layer.cutoff
    w_avg = tf.cast(tf.convert_to_tensor(truncation_layer.w_avg), w.dtype)
    ws = tf.tile(w[:, None, :], [1, num_ws, 1])
    psi = tf.reshape(tf.cast(psi, w.dtype), [-1, 1, 1])
    pulled = w_avg + psi * (ws - w_avg)
    layers = np.arange(num_ws) < (num_ws if cutoff is None else int(cutoff))
    return tf.where(tf.constant(layers)[None, :, None], pulled, ws)


def style_functions(generator, inputs, draws, images):
    """The extra endpoints; ``draws(seed)`` gives ``{name: noise}`` as the ``seed`` signature draws it and
    ``images(y)`` the output dict of a [-1, 1] batch."""
    mapping, truncation, synthesis = parts(generator)
    z_spec, maps = inputs[0], [i for i in inputs[1:] if i.role == "noise"]
    num_ws, w_dim = (int(d) for d in synthesis.inputs[0].shape[1:])

    def from_seed_truncated(seed, truncation_psi):
        check = tf.debugging.Assert(tf.reduce_all(truncation_psi >= 0.0), ["truncation (psi) must be >= 0"])
        with tf.control_dependencies([check]):
            drawn = draws(seed)
        ws = truncate(truncation, mapping(drawn[z_spec.name], training=False), truncation_psi)
        out = images(synthesis([ws, *[drawn[m.name] for m in maps]], training=False))
        return {**out, **{k: v for k, v in drawn.items() if k not in out}, "z": drawn[z_spec.name]}

    def map_z(z):
        return {"w": mapping(z, training=False)}

    def from_w(w, seed):
        drawn = draws(seed)
        return images(synthesis([w, *[drawn[m.name] for m in maps]], training=False))

    return {
        "truncated": tf.function(from_seed_truncated, input_signature=[
            tf.TensorSpec([None], tf.int64, name="seed"), tf.TensorSpec([None], tf.float32, name="truncation")]),
        "mapping": tf.function(map_z, input_signature=[tf.TensorSpec([None, *z_spec.shape], tf.float32, name="z")]),
        "w": tf.function(from_w, input_signature=[tf.TensorSpec([None, num_ws, w_dim], tf.float32, name="w"),
                                                  tf.TensorSpec([None], tf.int64, name="seed")]),
    }


def check_signatures(sigs, source, figures):
    """Gates of the extra endpoints against Keras; returns the largest difference in [0, 1] units."""
    mapping, truncation, synthesis = parts(source.generator)
    seeds = tf.constant([0, 1, 0], tf.int64)
    by_seed = sigs["seed"](seed=seeds)
    psi = np.array([1.0, 0.0, 0.5], "float32")
    out = sigs["truncated"](seed=seeds, truncation=tf.constant(psi))
    z = out["z"].numpy()
    noise = [out[i.name] for i in source.inputs[1:] if i.role == "noise"]
    ws = truncate(truncation, mapping(tf.constant(z), training=False), psi)
    reference = (np.asarray(synthesis([ws, *noise], training=False), "float32") + 1.0) / 2.0
    worst = figures(reference, out["images_float"].numpy())["max_abs_diff"]
    if not np.array_equal(out["images"][0].numpy(), by_seed["images"][0].numpy()):
        from tfgan_models.export.gates import GateError

        raise GateError("the truncated signature at psi = 1 differs from the seed signature.")
    w = sigs["mapping"](z=tf.constant(z))["w"].numpy()
    worst = max(worst, float(np.abs(w - np.asarray(mapping(z, training=False))).max()))
    w_plus = np.repeat(w[:, None, :], int(truncation.num_ws), axis=1)
    by_w = sigs["w"](w=tf.constant(w_plus), seed=seeds)["images_float"].numpy()
    return max(worst, figures(by_seed["images_float"].numpy(), by_w)["max_abs_diff"])
