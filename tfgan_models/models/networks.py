"""Checks and probes of user-supplied or built networks: plumbing, no paper's algorithm."""

import keras
import numpy as np


def check_network(role, network, input_shapes, output_shape):
    """A clear error when ``network`` is not a Keras model taking ``input_shapes`` and producing ``output_shape``."""
    if not isinstance(network, keras.Model):
        raise ValueError(f"{role} must be a keras.Model, received {type(network).__name__}.")
    got_in = [tuple(t.shape[1:]) for t in network.inputs] if network.inputs else None
    want_in = [tuple(s) for s in input_shapes]
    if got_in is not None and got_in != want_in:
        shown = lambda shapes: shapes[0] if len(shapes) == 1 else shapes  # noqa: E731
        raise ValueError(f"{role} {network.name!r} takes inputs of shape {shown(got_in)}; this model feeds it "
                         f"{shown(want_in)}.")
    if output_shape is not None and network.outputs:
        got_out = tuple(network.outputs[0].shape[1:])
        # A fully convolutional network (None spatial sizes) fits any size.
        if len(got_out) != len(output_shape) or any(
                g is not None and w is not None and g != w for g, w in zip(got_out, output_shape)):
            raise ValueError(f"{role} {network.name!r} produces outputs of shape {got_out}; the data has "
                             f"shape {tuple(output_shape)}.")


MAX_PROBED_MULTIPLE = 256  # U-Net-256 needs multiples of 256


def probe_image_generator(generator):
    """``(size_multiple, scale)`` of a fully convolutional image generator.

    Feeds zeros of ``(3m, 5m)`` pixels for m = 1, 2, 4, ...: the first ``m``
    for which the network runs and returns exactly ``(3ms, 5ms)`` pixels for
    an integer ``s`` is the multiple (odd factors 3 and 5 expose a missing
    power of two); ``s`` is the scale.
    """
    channels = int(generator.input_shape[-1])
    m = 1
    while m <= MAX_PROBED_MULTIPLE:
        h, w = 3 * m, 5 * m
        try:
            out = generator(np.zeros((1, h, w, channels), "float32"), training=False)
        except Exception:  # noqa: BLE001 - a size the network cannot take: try the next multiple
            out = None
        if out is not None:
            oh, ow = int(out.shape[1]), int(out.shape[2])
            if oh % h == 0 and ow % w == 0 and oh // h == ow // w >= 1:
                return m, oh // h
        m *= 2
    raise ValueError(f"cannot find an input size {generator.name!r} maps to an integer multiple of "
                     f"itself (tried multiples of 1 to {MAX_PROBED_MULTIPLE} pixels).")
