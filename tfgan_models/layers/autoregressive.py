"""Autoregressive layers of PixelRNN and PixelCNN (van den Oord, Kalchbrenner & Kavukcuoglu 2016,
"Pixel Recurrent Neural Networks", arXiv:1601.06759).

* :class:`MaskedConv2D`: a convolution whose kernel is multiplied in ``call`` by a constant
  causal mask (paper sec. 3.4): mask ``"A"`` (first layer) hides the centre pixel's current and
  later colour channels, mask ``"B"`` (every later layer) lets a colour group see itself. The
  kernel variable is never assigned to, so the layer is graph-, XLA- and export-safe.
* :class:`RowLSTM` (sec. 3.1) and :class:`DiagonalBiLSTM` (sec. 3.2), unrolled with static
  Python loops over rows / skewed columns, so they trace to plain builtin ops (no WHILE).
* :func:`skew` / :func:`unskew`: the Diagonal BiLSTM's ``(H, W) <-> (H, W + H - 1)`` shift of
  row ``i`` by ``i`` positions, by pad + reshape (no per-row slicing).

Colour groups (sec. 3.4; ``igul222/pixel_rnn:pixel_rnn.py:Conv2D``): the ``n`` feature maps
of a layer are split into ``colour_channels`` contiguous groups (feature ``k`` belongs to group
``k * C // n``; R < G < B). At the centre tap, output group ``g`` sees input groups ``< g``
(mask A) or ``<= g`` (mask B). The first layer's input has exactly ``C`` channels, one per
group. The LSTMs keep the four gates of hidden unit ``k`` in its group by laying gate
pre-activations out as ``(unit, gate)`` (channel ``4k + gate``), which needs ``units``
divisible by ``C``.

The LSTMs start from zero states (the paper learns the initial states; igul222 learns c0/h0
initialised at zero): a zero state is what a learned one starts as, and it keeps the layers
free of shape-dependent weights.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops


def colour_groups(n, colour_channels):
    """Colour group of each of ``n`` feature maps: ``k * C // n`` (contiguous groups)."""
    return (np.arange(int(n)) * int(colour_channels)) // int(n)


def causal_mask(kernel_shape, mask_type, colour_channels=1):
    """The ``(kh, kw, in, out)`` 0/1 mask of a masked convolution (NumPy, float32).

    Taps above the centre row and left of the centre on its row are kept; the centre tap keeps
    input group < output group (``"A"``) or <= (``"B"``); everything after is zero.
    """
    kh, kw, n_in, n_out = (int(d) for d in kernel_shape)
    if mask_type not in ("A", "B"):
        raise ValueError(f"mask_type must be 'A' or 'B', received {mask_type!r}.")
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"a masked convolution needs odd kernel sizes, received {(kh, kw)}.")
    mask = np.zeros((kh, kw, n_in, n_out), "float32")
    cr, cc = kh // 2, kw // 2
    mask[:cr] = 1.0
    mask[cr, :cc] = 1.0
    g_in = colour_groups(n_in, colour_channels)[:, None]
    g_out = colour_groups(n_out, colour_channels)[None, :]
    mask[cr, cc] = (g_in < g_out) if mask_type == "A" else (g_in <= g_out)
    return mask


@keras.saving.register_keras_serializable(package="tfgan_models")
class MaskedConv2D(keras.layers.Conv2D):
    """A ``"same"``-padded, stride-1 Conv2D with a causal mask (see :func:`causal_mask`).

    ``(B, H, W, F) -> (B, H, W, filters)``; output ``(i, j)`` depends only on inputs before
    ``(i, j)`` in raster order, and on ``(i, j)`` itself through the colour-group rule.
    """

    def __init__(self, filters, kernel_size, mask_type="B", colour_channels=1, **kwargs):
        kwargs.pop("padding", None)
        super().__init__(filters, kernel_size, padding="same", **kwargs)
        if mask_type not in ("A", "B"):
            raise ValueError(f"mask_type must be 'A' or 'B', received {mask_type!r}.")
        if tuple(self.strides) != (1, 1) or tuple(self.dilation_rate) != (1, 1):
            raise ValueError("MaskedConv2D supports strides 1 and dilation 1 only.")
        self.mask_type, self.colour_channels = mask_type, int(colour_channels)
        self.mask = None

    def build(self, input_shape):
        super().build(input_shape)
        n_in = int(input_shape[-1])
        if self.mask_type == "A" and self.colour_channels > 1 and n_in % self.colour_channels:
            raise ValueError(f"mask A over {self.colour_channels} colour groups needs input channels divisible "
                             f"by them, received {n_in}.")
        # A constant (NumPy): multiplied into the kernel at every call, never assigned to it.
        self.mask = causal_mask(tuple(self.kernel_size) + (n_in, self.filters), self.mask_type,
                                self.colour_channels)

    def convolution_op(self, inputs, kernel):
        return super().convolution_op(inputs, kernel * ops.convert_to_tensor(self.mask, kernel.dtype))

    def get_config(self):
        config = super().get_config()
        config.pop("padding", None)
        return {**config, "mask_type": self.mask_type, "colour_channels": self.colour_channels}


def _skew(x):
    h, w, f = (int(d) for d in x.shape[1:])
    s = w + h - 1
    x = ops.pad(x, [[0, 0], [0, 0], [0, h], [0, 0]])  # (B, H, W + H, F)
    x = ops.reshape(x, (-1, h * (s + 1), f))[:, : h * s]
    return ops.reshape(x, (-1, h, s, f))


def _unskew(x, width):
    h, s, f = (int(d) for d in x.shape[1:])
    x = ops.reshape(x, (-1, h * s, f))
    x = ops.pad(x, [[0, 0], [0, h], [0, 0]])  # (B, H * (S + 1), F)
    return ops.reshape(x, (-1, h, s + 1, f))[:, :, : int(width)]


# The skew places each element once and the unskew reads it back, so each is the other's gradient.
# Written so, the backward pass costs what the forward does (TF's own gradient of the pad / slice / reshape
# chain took ~15x longer on CPU).
@tf.custom_gradient
def _skew_with_gradient(x):
    width = int(x.shape[2])
    return _skew(x), lambda dy: _unskew(dy, width)


def skew(x):
    """``(B, H, W, F) -> (B, H, W + H - 1, F)``: row ``i`` shifted right by ``i``, zeros elsewhere.

    Pad each row to ``W + H`` and read the flat buffer back in rows of ``W + H - 1``: element
    ``(i, j)`` at ``i * (W + H) + j`` lands on row ``i``, column ``i + j``.
    """
    return _skew_with_gradient(x)


def unskew(x, width):
    """Inverse of :func:`skew`: ``(B, H, W + H - 1, F) -> (B, H, W, F)``."""

    @tf.custom_gradient
    def unskew_with_gradient(y):
        return _unskew(y, width), _skew

    return unskew_with_gradient(x)


def _lstm_cell(gates, c):
    """``gates`` ``(..., 4 * units)`` laid out ``(unit, [o, f, i, g])`` -> new ``(c, h)``."""
    shape = tuple(-1 if d is None else int(d) for d in gates.shape[:-1]) + (int(gates.shape[-1]) // 4, 4)
    o, f, i, g = ops.unstack(ops.reshape(gates, shape), axis=-1)  # unstack: its gradient is one stack
    o, f, i, g = ops.sigmoid(o), ops.sigmoid(f), ops.sigmoid(i), ops.tanh(g)
    c = i * g if c is None else f * c + i * g
    return c, o * ops.tanh(c)


class _MaskedLSTM(keras.layers.Layer):
    """What the Row LSTM and the Diagonal BiLSTM share: ``units``, colour groups, and a mask-B input-to-state
    convolution of ``pre_activations * units`` maps and kernel ``input_kernel``. ``(B, H, W, F) -> (B, H, W, units)``."""

    pre_activations, input_kernel = 4, 1

    def __init__(self, units, colour_channels=1, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.units, self.colour_channels = int(units), int(colour_channels)
        if self.units % self.colour_channels:
            raise ValueError(f"units ({self.units}) must be divisible by colour_channels ({self.colour_channels}).")
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.input_to_state = MaskedConv2D(self.pre_activations * self.units, self.input_kernel, "B",
                                           self.colour_channels, kernel_initializer=self.kernel_initializer,
                                           name="input_to_state")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "colour_channels": self.colour_channels,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


@keras.saving.register_keras_serializable(package="tfgan_models")
class RowLSTM(_MaskedLSTM):
    """Row LSTM (paper sec. 3.1): ``(B, H, W, F) -> (B, H, W, units)``, one row at a time.

    Input-to-state: a 1x3 convolution along the row with mask B (sees ``(i, j - 1)`` and, by
    colour group, ``(i, j)``). State-to-state: a 1x3 convolution of the previous row's ``h``
    (``(i - 1, j - 1 .. j + 1)``). Gates ``o, f, i = sigmoid``, ``g = tanh``; ``c = f c + i g``,
    ``h = o tanh(c)``. The receptive field is a triangle above the pixel.
    """

    pre_activations, input_kernel = 4, (1, 3)

    def build(self, input_shape):
        self.input_to_state.build(input_shape)
        self.state_kernel = self.add_weight(name="state_to_state", shape=(3, self.units, 4 * self.units),
                                            initializer=self.kernel_initializer)

    def call(self, x):
        z = self.input_to_state(x)  # (B, H, W, 4u)
        c, rows = None, []
        for gates in ops.unstack(z, axis=1):  # (B, W, 4u) per row; the first row has a zero previous state
            if rows:
                gates = gates + ops.conv(rows[-1], self.state_kernel, padding="same")
            c, h = _lstm_cell(gates, c)
            rows.append(h)  # (B, W, u)
        return ops.stack(rows, axis=1)



@keras.saving.register_keras_serializable(package="tfgan_models")
class DiagonalBiLSTM(_MaskedLSTM):
    """Diagonal BiLSTM (paper sec. 3.2): ``(B, H, W, F) -> (B, H, W, units)``.

    Input-to-state: a 1x1 convolution with mask B, computed before skewing (it commutes with
    the skew; the skew's padding then carries zero pre-activations, which only ever reach the
    padding). The map is skewed to ``(H, W + H - 1)``; the state of column ``t`` comes from
    column ``t - 1`` by a 2x1 column convolution (the cell itself and the one above), i.e. from
    the left and upper neighbours. The right-to-left direction runs the same on the mirrored
    image; its output is mirrored back and **shifted down one row** (a zero row prepended, the
    last row dropped, as ``igul222/pixel_rnn``) before the two are added, so that pixel
    ``(i, j)`` never sees ``(i, j' > j)``. Both directions run in one loop, stacked on a
    leading axis of size 2.
    """

    # 8u pre-activations laid out (unit, direction, gate): unit k's channels stay in its colour group.
    pre_activations, input_kernel = 8, 1

    def build(self, input_shape):
        self.input_to_state.build(input_shape)
        # Per direction: [h of the cell above, h of the cell] (2u) -> 4u gate pre-activations.
        self.state_kernel = self.add_weight(name="state_to_state", shape=(2, 2 * self.units, 4 * self.units),
                                            initializer=self.kernel_initializer)

    def call(self, x):
        h_, w_ = int(x.shape[1]), int(x.shape[2])
        u = self.units
        z = ops.reshape(self.input_to_state(x), (-1, h_, w_, u, 8))  # (unit, direction, gate); 5-D: LiteRT slices <= 5-D
        forward = ops.reshape(z[..., :4], (-1, h_, w_, 4 * u))
        backward = ops.flip(ops.reshape(z[..., 4:], (-1, h_, w_, 4 * u)), axis=2)  # mirrored
        z = skew(ops.concatenate([forward, backward], axis=0))  # (2B, H, S, 4u)
        z = ops.reshape(z, (2, -1) + tuple(z.shape[1:]))  # (2, B, H, S, 4u)
        c, columns = None, []
        for gates in ops.unstack(z, axis=3):  # (2, B, H, 4u) per skewed column
            if columns:
                h = columns[-1]  # (2, B, H, u)
                above = ops.pad(h[:, :, :-1], [[0, 0], [0, 0], [1, 0], [0, 0]])
                both = ops.reshape(ops.concatenate([above, h], axis=-1), (2, -1, 2 * u))  # (2, B * H, 2u)
                gates = gates + ops.reshape(ops.matmul(both, self.state_kernel), (2, -1, h_, 4 * u))
            c, h = _lstm_cell(gates, c)
            columns.append(h)
        out = ops.stack(columns, axis=3)  # (2, B, H, S, u)
        out = unskew(ops.reshape(out, (-1,) + tuple(out.shape[2:])), w_)  # (2B, H, W, u)
        out = ops.reshape(out, (2, -1, h_, w_, u))
        forward, backward = out[0], ops.flip(out[1], axis=2)
        backward = ops.pad(backward[:, :-1], [[0, 0], [1, 0], [0, 0], [0, 0]])  # shift down one row
        return forward + backward

