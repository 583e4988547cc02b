"""Layers of the Progressive GAN / StyleGAN family (Karras et al. 2017, 2018, 2019).

* :class:`EqualizedDense`, :class:`EqualizedConv2D`: the equalized learning rate
  (ProGAN sec. 4.1): weights drawn from N(0, 1) (N(0, 1 / lr_multiplier^2)) and
  scaled at run time by ``gain / sqrt(fan_in) * lr_multiplier``, so Adam's
  per-parameter step size acts the same on every layer; ``lr_multiplier`` is
  StyleGAN's 0.01 of the mapping network. As ``networks.py:get_weight`` /
  ``stylegan2-ada-pytorch:training/networks.py:FullyConnectedLayer``.
* :class:`PixelNorm` (ProGAN sec. 4.2), :class:`MinibatchStdDev` (ProGAN sec. 3).
* :class:`BiasActivation`: StyleGAN2's ``fused_bias_act`` (bias, LeakyReLU 0.2, gain sqrt 2).
* :class:`Upsample2D`, :class:`Downsample2D`: resampling with a fixed binomial
  filter (StyleGAN's ``upfirdn2d`` with [1, 3, 3, 1]); upsampling is written as
  nearest neighbour + a 3-tap blur, which equals zero insertion + the 4-tap
  filter with gain 4, so it converts to builtin TFLite ops.
* :class:`ModulatedConv2D`: StyleGAN2's weight (de)modulation (sec. 2.2). The
  default non-fused form scales the *input* by the style, convolves with the
  static weight and scales the output by the demodulation factor: builtin
  TFLite ops only (the fused per-sample-weight form is what breaks TFLite
  conversions, tensorflow/tensorflow#40044, TencentARC/GFPGAN#184). ``fused=True``
  computes the same with per-sample weights (tested equal within 1e-5).
* :class:`NoiseInjection` (per-channel weights initialised to 0), :class:`ConstantInput`.
"""

import math

import keras
import numpy as np
from keras import ops

SQRT2 = math.sqrt(2.0)


def binomial_filter(taps):
    """The normalised 2-D filter ``outer(taps, taps) / sum`` (NumPy float32)."""
    taps = np.asarray(taps, dtype="float64")
    if taps.ndim != 1 or len(taps) < 1 or np.any(taps < 0) or taps.sum() <= 0:
        raise ValueError(f"taps must be a non-empty 1-D list of non-negative numbers, received {list(taps)}.")
    f = np.outer(taps, taps)
    return (f / f.sum()).astype("float32")


def _register(cls):
    return keras.saving.register_keras_serializable(package="tfgan_models")(cls)


@_register
class EqualizedDense(keras.layers.Layer):
    """Dense layer with the equalized learning rate: ``x @ (W * gain / sqrt(fan_in) * lr_multiplier) + b * lr_multiplier``."""

    def __init__(self, units, gain=SQRT2, lr_multiplier=1.0, use_bias=True, bias_init=0.0, **kwargs):
        super().__init__(**kwargs)
        if int(units) < 1 or float(lr_multiplier) <= 0:
            raise ValueError(f"units must be >= 1 and lr_multiplier > 0, received {units!r}, {lr_multiplier!r}.")
        self.units, self.gain, self.lr_multiplier = int(units), float(gain), float(lr_multiplier)
        self.use_bias, self.bias_init = bool(use_bias), float(bias_init)

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        self.runtime_scale = self.gain / math.sqrt(fan_in) * self.lr_multiplier
        self.kernel = self.add_weight(shape=(fan_in, self.units), name="kernel",
                                      initializer=keras.initializers.RandomNormal(0.0, 1.0 / self.lr_multiplier))
        # Stored divided by lr_multiplier so the effective bias starts at bias_init (ADA's FullyConnectedLayer).
        self.bias = self.add_weight(shape=(self.units,), name="bias", initializer=keras.initializers.Constant(
            self.bias_init / self.lr_multiplier)) if self.use_bias else None

    def call(self, x):
        y = ops.matmul(x, ops.cast(self.kernel * self.runtime_scale, x.dtype))
        return y + ops.cast(self.bias * self.lr_multiplier, x.dtype) if self.use_bias else y

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "gain": self.gain, "lr_multiplier": self.lr_multiplier,
                "use_bias": self.use_bias, "bias_init": self.bias_init}


@_register
class EqualizedConv2D(keras.layers.Layer):
    """Stride-1 "same" convolution with the equalized learning rate (runtime scale ``gain / sqrt(k * k * cin)``)."""

    def __init__(self, filters, kernel_size, gain=SQRT2, use_bias=True, lr_multiplier=1.0, **kwargs):
        super().__init__(**kwargs)
        if int(filters) < 1 or int(kernel_size) < 1:
            raise ValueError(f"filters and kernel_size must be >= 1, received {filters!r}, {kernel_size!r}.")
        self.filters, self.kernel_size, self.gain = int(filters), int(kernel_size), float(gain)
        self.use_bias, self.lr_multiplier = bool(use_bias), float(lr_multiplier)

    def build(self, input_shape):
        cin, k = int(input_shape[-1]), self.kernel_size
        self.runtime_scale = self.gain / math.sqrt(k * k * cin) * self.lr_multiplier
        self.kernel = self.add_weight(shape=(k, k, cin, self.filters), name="kernel",
                                      initializer=keras.initializers.RandomNormal(0.0, 1.0 / self.lr_multiplier))
        self.bias = self.add_weight(shape=(self.filters,), name="bias", initializer="zeros") if self.use_bias else None

    def call(self, x):
        y = ops.conv(x, ops.cast(self.kernel * self.runtime_scale, x.dtype), padding="same")
        return y + ops.cast(self.bias * self.lr_multiplier, x.dtype) if self.use_bias else y

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size, "gain": self.gain,
                "use_bias": self.use_bias, "lr_multiplier": self.lr_multiplier}


@_register
class PixelNorm(keras.layers.Layer):
    """``x / sqrt(mean(x^2 over the last axis) + epsilon)``: unit RMS per pixel (ProGAN eq. in sec. 4.2)."""

    def __init__(self, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, x):
        return x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + self.epsilon)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@_register
class MinibatchStdDev(keras.layers.Layer):
    """ProGAN's minibatch standard deviation (``networks.py:minibatch_stddev_layer``), NHWC.

    The batch is split into groups of ``group_size`` (sample ``b`` is in group slot ``b % M``
    as in the reference reshape); the standard deviation of each feature over its group
    (+1e-8 inside the square root) is averaged over H, W and the channels of each of the
    ``num_new_features`` slices and appended as constant feature maps. A batch smaller than
    ``group_size`` uses one group; a batch the group size does not divide uses the largest
    group size that does (the reference code requires divisibility and fails instead).
    """

    def __init__(self, group_size=4, num_new_features=1, **kwargs):
        super().__init__(**kwargs)
        if int(group_size) < 1 or int(num_new_features) < 1:
            raise ValueError(f"group_size and num_new_features must be >= 1, received {group_size!r}, "
                             f"{num_new_features!r}.")
        self.group_size, self.num_new_features = int(group_size), int(num_new_features)

    def build(self, input_shape):
        if int(input_shape[-1]) % self.num_new_features:
            raise ValueError(f"num_new_features={self.num_new_features} must divide the {input_shape[-1]} channels.")

    def call(self, x):
        import tensorflow as tf

        batch, height, width, channels = tf.shape(x)[0], tf.shape(x)[1], tf.shape(x)[2], x.shape[-1]
        sizes = tf.range(self.group_size, 0, -1)
        group = sizes[tf.argmax(tf.cast(tf.equal(batch % sizes, 0), "int32"))]  # largest size dividing the batch
        n = self.num_new_features
        y = tf.reshape(tf.cast(x, "float32"), [group, -1, height, width, n, channels // n])  # [G, M, H, W, n, c]
        y = y - tf.reduce_mean(y, axis=0, keepdims=True)
        y = tf.sqrt(tf.reduce_mean(tf.square(y), axis=0) + 1e-8)                           # [M, H, W, n, c]
        y = tf.reduce_mean(y, axis=[1, 2, 4])                                               # [M, n]
        y = tf.tile(y[tf.newaxis, :, tf.newaxis, tf.newaxis, :], [group, 1, height, width, 1])
        return ops.concatenate([x, ops.cast(tf.reshape(y, [batch, height, width, n]), x.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + self.num_new_features)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size, "num_new_features": self.num_new_features}


@_register
class BiasActivation(keras.layers.Layer):
    """StyleGAN2's ``fused_bias_act``: ``act(x + b * lr_multiplier) * gain`` with a per-channel bias (init 0);
    ``activation`` ``"lrelu"`` (LeakyReLU 0.2, default gain sqrt 2) or ``"linear"`` (gain 1)."""

    def __init__(self, activation="lrelu", gain=None, lr_multiplier=1.0, **kwargs):
        super().__init__(**kwargs)
        if activation not in ("lrelu", "linear"):
            raise ValueError(f"activation must be 'lrelu' or 'linear', received {activation!r}.")
        self.activation = activation
        self.gain = float(gain) if gain is not None else (SQRT2 if activation == "lrelu" else 1.0)
        self.lr_multiplier = float(lr_multiplier)

    def build(self, input_shape):
        self.bias = self.add_weight(shape=(int(input_shape[-1]),), name="bias", initializer="zeros")

    def call(self, x):
        x = x + ops.cast(self.bias * self.lr_multiplier, x.dtype)
        if self.activation == "lrelu":
            x = ops.leaky_relu(x, 0.2)
        return x * self.gain if self.gain != 1.0 else x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "activation": self.activation, "gain": self.gain,
                "lr_multiplier": self.lr_multiplier}


def _depthwise_kernel(filter2d, channels):
    return np.tile(filter2d[:, :, None, None], (1, 1, int(channels), 1)).astype("float32")


@_register
class Upsample2D(keras.layers.Layer):
    """x2 upsampling with the binomial ``taps``: equal to zero insertion followed by the normalised
    ``taps`` filter with gain 4 (``upfirdn2d(up=2)``), computed as nearest neighbour + a blur whose taps
    are ``taps`` divided by [1, 1] (RESHAPE, TILE and DEPTHWISE_CONV_2D in TFLite; twice differentiable)."""

    def __init__(self, taps=(1, 3, 3, 1), **kwargs):
        super().__init__(**kwargs)
        self.taps = [float(t) for t in taps]
        binomial_filter(self.taps)
        blur, remainder = np.polydiv(np.asarray(self.taps), np.array([1.0, 1.0]))
        if len(self.taps) % 2 or np.abs(remainder).max() > 1e-9:
            raise ValueError(f"Upsample2D taps must be divisible by [1, 1] (binomial, even length), "
                             f"received {self.taps}.")
        self.blur_taps = (blur * 2.0 / np.sum(self.taps)).astype("float64")  # 1-D, gain 2 per axis overall

    def build(self, input_shape):
        self.kernel = _depthwise_kernel(np.outer(self.blur_taps, self.blur_taps), input_shape[-1])

    def call(self, x):
        import tensorflow as tf

        # Nearest x2 as reshape + tile (RESHAPE, TILE in TFLite): tf.image.resize's gradient op has no gradient
        # and no XLA kernel, and StyleGAN2's path-length regulariser differentiates G's input gradient.
        b, h, w, c = tf.shape(x)[0], tf.shape(x)[1], tf.shape(x)[2], x.shape[-1]
        x = tf.reshape(tf.tile(tf.reshape(x, [b, h, 1, w, 1, c]), [1, 1, 2, 1, 2, 1]), [b, 2 * h, 2 * w, c])
        if len(self.blur_taps) == 1:
            return x * float(self.blur_taps[0] ** 2)
        return ops.depthwise_conv(x, ops.cast(self.kernel, x.dtype), padding="same")

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        return (b, None if h is None else 2 * h, None if w is None else 2 * w, c)

    def get_config(self):
        return {**super().get_config(), "taps": self.taps}


@_register
class Downsample2D(keras.layers.Layer):
    """The normalised binomial blur of ``taps`` then /2 decimation (``upfirdn2d(down=2)``): a stride-2
    depthwise convolution with "same" zero padding."""

    def __init__(self, taps=(1, 3, 3, 1), **kwargs):
        super().__init__(**kwargs)
        self.taps = [float(t) for t in taps]
        binomial_filter(self.taps)

    def build(self, input_shape):
        self.kernel = _depthwise_kernel(binomial_filter(self.taps), input_shape[-1])

    def call(self, x):
        return ops.depthwise_conv(x, ops.cast(self.kernel, x.dtype), strides=2, padding="same")

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        return (b, None if h is None else (h + 1) // 2, None if w is None else (w + 1) // 2, c)

    def get_config(self):
        return {**super().get_config(), "taps": self.taps}


@_register
class ModulatedConv2D(keras.layers.Layer):
    """StyleGAN2's modulated convolution, called as ``layer([x, w])``.

    ``s = affine(w)`` (an :class:`EqualizedDense` to the input channels, gain 1, bias starting at 1);
    modulation ``W'_ijk = s_i W_ijk``; demodulation ``W''_ijk = W'_ijk / sqrt(sum_{i,k} W'_ijk^2 + 1e-8)``
    (eq. 1 and 3 of the paper). Non-fused (default): ``conv(x * s, W) * d``, the same arithmetic with a
    static weight; ``fused=True``: per-sample weights (image patches times each sample's own kernel).
    ``up=True`` upsamples x2 with :class:`Upsample2D` before the convolution (the reference uses a
    transposed convolution followed by the same blur; this order keeps the weight static for TFLite).
    No bias, noise or activation: follow it with :class:`NoiseInjection` and :class:`BiasActivation`.
    """

    def __init__(self, filters, kernel_size=3, demodulate=True, up=False, fused=False, **kwargs):
        super().__init__(**kwargs)
        if int(filters) < 1 or int(kernel_size) < 1:
            raise ValueError(f"filters and kernel_size must be >= 1, received {filters!r}, {kernel_size!r}.")
        self.filters, self.kernel_size = int(filters), int(kernel_size)
        self.demodulate, self.up, self.fused = bool(demodulate), bool(up), bool(fused)

    def build(self, input_shapes):
        x_shape, w_shape = input_shapes
        cin, k = int(x_shape[-1]), self.kernel_size
        self.affine = EqualizedDense(cin, gain=1.0, bias_init=1.0, name="affine")
        self.affine.build(w_shape)
        self.runtime_scale = 1.0 / math.sqrt(k * k * cin)
        self.kernel = self.add_weight(shape=(k, k, cin, self.filters), name="kernel",
                                      initializer=keras.initializers.RandomNormal(0.0, 1.0))
        self.upsample = Upsample2D(name="upsample") if self.up else None
        if self.up:
            self.upsample.build(x_shape)

    def styles(self, w):
        return self.affine(w)

    def call(self, inputs):
        x, w = inputs
        s = ops.cast(self.styles(w), x.dtype)                                           # (B, cin)
        weight = ops.cast(self.kernel * self.runtime_scale, x.dtype)                    # (k, k, cin, cout)
        d = None
        if self.demodulate:  # d_j = rsqrt(sum_{i,k} (s_i W_ijk)^2 + eps), one per sample and output channel
            d = ops.rsqrt(ops.matmul(ops.square(s), ops.sum(ops.square(weight), axis=(0, 1))) + 1e-8)
        if self.up:
            x = self.upsample(x)
        if not self.fused:
            y = ops.conv(x * s[:, None, None, :], weight, padding="same")
            return y * d[:, None, None, :] if d is not None else y
        return self._fused(x, weight, s, d)

    def _fused(self, x, weight, s, d):
        import tensorflow as tf

        k, cin = self.kernel_size, weight.shape[2]
        per_sample = weight[None] * s[:, None, None, :, None]                            # (B, k, k, cin, cout)
        if d is not None:
            per_sample = per_sample * d[:, None, None, None, :]
        patches = tf.image.extract_patches(x, [1, k, k, 1], [1, 1, 1, 1], [1, 1, 1, 1], "SAME")  # (kh, kw, cin)
        return tf.einsum("bhwi,bio->bhwo", patches, tf.reshape(per_sample, [-1, k * k * cin, self.filters]))

    def compute_output_shape(self, input_shapes):
        b, h, w, _ = input_shapes[0]
        if self.up:
            h, w = (None if h is None else 2 * h), (None if w is None else 2 * w)
        return (b, h, w, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "demodulate": self.demodulate, "up": self.up, "fused": self.fused}


@_register
class NoiseInjection(keras.layers.Layer):
    """``layer([x, noise])`` -> ``x + weight * noise``: noise ``(B, H, W, 1)`` scaled per channel,
    the weights initialised to 0 (StyleGAN ``apply_noise``), so noise has no effect until learned."""

    def build(self, input_shapes):
        self.weight = self.add_weight(shape=(int(input_shapes[0][-1]),), name="weight", initializer="zeros")

    def call(self, inputs):
        x, noise = inputs
        return x + ops.cast(noise, x.dtype) * ops.cast(self.weight, x.dtype)

    def compute_output_shape(self, input_shapes):
        return tuple(input_shapes[0])


@_register
class ConstantInput(keras.layers.Layer):
    """A learned constant of ``shape`` (e.g. ``(4, 4, 512)``), tiled to the batch of ``reference``:
    StyleGAN's synthesis input. ``initializer``: ``"normal"`` (StyleGAN2) or ``"ones"`` (StyleGAN)."""

    def __init__(self, shape, initializer="normal", **kwargs):
        super().__init__(**kwargs)
        if initializer not in ("normal", "ones"):
            raise ValueError(f"initializer must be 'normal' or 'ones', received {initializer!r}.")
        self.shape, self.initializer = tuple(int(s) for s in shape), initializer

    def build(self, input_shape):
        init = keras.initializers.RandomNormal(0.0, 1.0) if self.initializer == "normal" else "ones"
        self.constant = self.add_weight(shape=self.shape, name="constant", initializer=init)

    def call(self, reference):
        batch = ops.shape(reference)[0]
        return ops.tile(ops.expand_dims(ops.cast(self.constant, self.compute_dtype), 0),
                        (batch,) + (1,) * len(self.shape))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.shape)

    def get_config(self):
        return {**super().get_config(), "shape": list(self.shape), "initializer": self.initializer}
