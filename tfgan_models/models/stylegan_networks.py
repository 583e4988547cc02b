"""The networks of :mod:`tfgan_models.models.stylegan`: mapping, truncation, synthesis (StyleGAN2 'skip' or
StyleGAN's AdaIN), the one-graph generator and the StyleGAN2 discriminator ('resnet' or 'orig').

Followed: ``NVlabs/stylegan2:training/networks_stylegan2.py`` (``G_main``, ``G_mapping``,
``G_synthesis_stylegan2``, ``D_stylegan2``) and, for ``architecture="stylegan1"``,
``NVlabs/stylegan:training/networks_stylegan.py`` (``G_synthesis``). As there, equalized layers carry gain 1
and the sqrt(2) of the LeakyReLU is applied after the activation (``fused_bias_act``); StyleGAN's AdaIN
convolutions carry the sqrt(2) in their weights. Style layer ``i`` of W+ modulates synthesis layer ``i``;
StyleGAN2's toRGB at a resolution reads the style of the next block's first convolution (``res*2-3``).
"""

import math

import keras
import numpy as np
from keras import ops

from tfgan_models.layers.style import (BiasActivation, ConstantInput, Downsample2D, EqualizedConv2D, EqualizedDense,
                                       MinibatchStdDev, ModulatedConv2D, NoiseInjection, PixelNorm, Upsample2D)

ARCHITECTURES = ("stylegan2", "stylegan1")
D_ARCHITECTURES = ("resnet", "orig")


def _register(cls):
    return keras.saving.register_keras_serializable(package="tfgan_models")(cls)


def num_ws(resolution):
    """Style layers of W+: two per resolution from 4x4, ``2 log2(res) - 2`` (both papers)."""
    return 2 * int(math.log2(resolution)) - 2


def noise_resolutions(resolution, architecture="stylegan2"):
    """The side of each noise map, in order: one per convolution. StyleGAN also adds noise to the constant."""
    if architecture == "stylegan1":
        return [2 ** (i // 2 + 2) for i in range(num_ws(resolution))]
    return [2 ** ((i + 5) // 2) for i in range(num_ws(resolution) - 1)]


def channels_at(resolution, fmap_base, fmaps):
    """Feature maps at a resolution: ``min(fmap_base / res, fmaps)`` (nf() of both codes, ADA's channel_base)."""
    return int(max(1, min(fmap_base // resolution, fmaps)))


@_register
class Truncation(keras.layers.Layer):
    """w ``(B, w_dim)`` -> W+ ``(B, num_ws, w_dim)``: the broadcast of ``G_main`` holding the tracked average
    ``w_avg`` (non-trainable; the model updates it). ``call(w, psi)`` gives ``w_avg + psi (w - w_avg)`` on the
    first ``cutoff`` layers (``None``: all, StyleGAN2's default) and w elsewhere; psi = 1 is the plain broadcast."""

    def __init__(self, num_ws, cutoff=None, **kwargs):
        super().__init__(**kwargs)
        self.num_ws = int(num_ws)
        self.cutoff = None if cutoff is None else int(cutoff)

    def build(self, input_shape):
        # "mean": under tf.distribute each replica assigns the lerp with its own batch mean; their average is
        # the lerp with the global batch mean.
        self.w_avg = self.add_weight(shape=(int(input_shape[-1]),), name="w_avg", initializer="zeros",
                                     trainable=False, aggregation="mean")

    def call(self, w, psi=1.0):
        ws = ops.tile(ops.expand_dims(w, 1), (1, self.num_ws, 1))  # (B, num_ws, w_dim)
        if isinstance(psi, (int, float)) and float(psi) == 1.0:
            return ws
        avg = ops.cast(self.w_avg, ws.dtype)
        truncated = avg + ops.cast(psi, ws.dtype) * (ws - avg)
        if self.cutoff is None or self.cutoff >= self.num_ws:
            return truncated
        mask = (np.arange(self.num_ws) < self.cutoff).astype("float32").reshape(1, -1, 1)
        return truncated * mask + ws * (1.0 - mask)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_ws, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "num_ws": self.num_ws, "cutoff": self.cutoff}


@_register
class StyleLayer(keras.layers.Layer):
    """W+ ``(B, num_ws, w_dim)`` -> the style of layer ``index`` ``(B, w_dim)`` (``dlatents_in[:, index]``)."""

    def __init__(self, index, **kwargs):
        super().__init__(**kwargs)
        self.index = int(index)

    def call(self, ws):
        return ws[:, self.index, :]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def get_config(self):
        return {**super().get_config(), "index": self.index}


@_register
class AdaIN(keras.layers.Layer):
    """StyleGAN's ``instance_norm`` + ``style_mod``, called as ``layer([x, w])``: per-channel normalisation over
    H, W (eps 1e-8), then ``x (y_s + 1) + y_b`` with ``[y_s, y_b]`` = an equalized dense map (gain 1) of w."""

    def build(self, input_shapes):
        x_shape, w_shape = input_shapes
        self.affine = EqualizedDense(2 * int(x_shape[-1]), gain=1.0, name="affine")
        self.affine.build(w_shape)

    def call(self, inputs):
        x, w = inputs
        x = x - ops.mean(x, axis=(1, 2), keepdims=True)
        x = x * ops.rsqrt(ops.mean(ops.square(x), axis=(1, 2), keepdims=True) + 1e-8)
        y_s, y_b = ops.split(ops.cast(self.affine(w), x.dtype), 2, axis=-1)  # (B, C) each
        return x * ops.expand_dims(ops.expand_dims(y_s + 1.0, 1), 1) + ops.expand_dims(ops.expand_dims(y_b, 1), 1)

    def compute_output_shape(self, input_shapes):
        return tuple(input_shapes[0])


def mapping_network(latent_dim, w_dim, layers, lr_multiplier=0.01):
    """z -> w: PixelNorm(z), then ``layers`` x [equalized dense (lr x 0.01) + bias + LReLU x sqrt 2] (G_mapping)."""
    z = keras.Input((int(latent_dim),), name="z")
    x = PixelNorm(name="normalize_z")(z)
    for i in range(int(layers)):
        x = EqualizedDense(int(w_dim), gain=1.0, lr_multiplier=lr_multiplier, use_bias=False, name=f"dense_{i}")(x)
        x = BiasActivation("lrelu", lr_multiplier=lr_multiplier, name=f"dense_{i}_act")(x)
    return keras.Model(z, x, name="mapping")


def synthesis_network(resolution, channels, w_dim, fmap_base, fmaps, architecture="stylegan2"):
    """[W+ (B, num_ws, w_dim), noise_0, ...] -> image (B, res, res, channels), linear output in about [-1, 1]."""
    n_ws, log2 = num_ws(resolution), int(math.log2(resolution))
    nf = lambda r: channels_at(r, fmap_base, fmaps)  # noqa: E731
    ws_in = keras.Input((n_ws, int(w_dim)), name="ws")
    noise_in = [keras.Input((r, r, 1), name=f"noise_{i}") for i, r in enumerate(noise_resolutions(resolution,
                                                                                                    architecture))]
    style = [StyleLayer(i, name=f"w_{i}")(ws_in) for i in range(n_ws)]
    if architecture == "stylegan1":
        return _stylegan1_synthesis(ws_in, noise_in, style, log2, channels, nf)

    def layer(x, index, fmaps_out, name, up=False):  # modulated conv -> noise -> bias + LReLU
        x = ModulatedConv2D(fmaps_out, 3, up=up, name=name)([x, style[index]])
        x = NoiseInjection(name=f"{name}_noise")([x, noise_in[index]])
        return BiasActivation("lrelu", name=f"{name}_act")(x)

    def to_rgb(x, y, res):
        t = ModulatedConv2D(channels, 1, demodulate=False, name=f"to_rgb_{2 ** res}")([x, style[res * 2 - 3]])
        t = BiasActivation("linear", name=f"to_rgb_{2 ** res}_bias")(t)
        return t if y is None else keras.layers.Add(name=f"skip_{2 ** res}")([y, t])

    x = ConstantInput((4, 4, nf(4)), name="const")(ws_in)
    x = layer(x, 0, nf(4), "conv_4")
    y = to_rgb(x, None, 2)
    for res in range(3, log2 + 1):
        size = 2 ** res
        x = layer(x, res * 2 - 5, nf(size), f"conv0_up_{size}", up=True)
        x = layer(x, res * 2 - 4, nf(size), f"conv1_{size}")
        y = to_rgb(x, Upsample2D(name=f"upsample_rgb_{size}")(y), res)
    return keras.Model([ws_in, *noise_in], y, name="synthesis")


def _stylegan1_synthesis(ws_in, noise_in, style, log2, channels, nf):
    """StyleGAN's G_synthesis without progressive growing: const (ones) and 3x3 convs (gain sqrt 2), each
    followed by the epilogue noise -> bias -> LReLU -> instance norm -> style_mod; toRGB (1x1, gain 1) at the end.
    ``upscale2d`` + conv + ``blur`` [1, 2, 1] is :class:`Upsample2D` (nearest + the same blur) before the conv."""

    def epilogue(x, index, name):
        x = NoiseInjection(name=f"{name}_noise")([x, noise_in[index]])
        x = BiasActivation("lrelu", gain=1.0, name=f"{name}_act")(x)
        return AdaIN(name=f"{name}_adain")([x, style[index]])

    x = epilogue(ConstantInput((4, 4, nf(4)), initializer="ones", name="const")(ws_in), 0, "const")
    x = epilogue(EqualizedConv2D(nf(4), 3, use_bias=False, name="conv_4")(x), 1, "conv_4")
    for res in range(3, log2 + 1):
        size = 2 ** res
        x = Upsample2D(name=f"upsample_{size}")(x)
        x = epilogue(EqualizedConv2D(nf(size), 3, use_bias=False, name=f"conv0_up_{size}")(x), res * 2 - 4,
                     f"conv0_up_{size}")
        x = epilogue(EqualizedConv2D(nf(size), 3, use_bias=False, name=f"conv1_{size}")(x), res * 2 - 3,
                     f"conv1_{size}")
    y = EqualizedConv2D(channels, 1, gain=1.0, name=f"to_rgb_{2 ** log2}")(x)
    return keras.Model([ws_in, *noise_in], y, name="synthesis")


def stylegan_generator(data_shape, latent_dim, w_dim, mapping_layers, fmap_base, fmaps, architecture="stylegan2",
                       truncation_cutoff=None):
    """[z, noise_0, ..., noise_{L-1}] -> image: ``mapping`` -> ``truncation`` (psi = 1: the broadcast to W+)
    -> ``synthesis``, one functional graph (export converts it whole)."""
    resolution, channels = int(data_shape[0]), int(data_shape[2])
    mapping = mapping_network(latent_dim, w_dim, mapping_layers)
    synthesis = synthesis_network(resolution, channels, w_dim, fmap_base, fmaps, architecture)
    z = keras.Input((int(latent_dim),), name="z")
    noise = [keras.Input(tuple(t.shape[1:]), name=t.name) for t in synthesis.inputs[1:]]
    ws = Truncation(num_ws(resolution), truncation_cutoff, name="truncation")(mapping(z))
    return keras.Model([z, *noise], synthesis([ws, *noise]), name="generator")


def stylegan_discriminator(data_shape, fmap_base, fmaps, mbstd_group=4, architecture="resnet"):
    """D_stylegan2: fromRGB (1x1) at the top, blocks [conv 3x3, conv 3x3 + blur-decimate] with a 1x1 skip
    (blur-decimate, no bias) summed times 1/sqrt(2) ('resnet'; 'orig' has no skip), then minibatch stddev,
    conv 3x3, dense, dense 1. ``conv -> Downsample2D`` equals the code's blur -> stride-2 conv up to borders."""
    resolution = int(data_shape[0])
    nf = lambda r: channels_at(r, fmap_base, fmaps)  # noqa: E731
    images = keras.Input(tuple(int(d) for d in data_shape), name="images")

    def conv(x, fmaps_out, kernel, name, down=False):
        x = EqualizedConv2D(fmaps_out, kernel, gain=1.0, use_bias=False, name=name)(x)
        x = Downsample2D(name=f"{name}_down")(x) if down else x
        return BiasActivation("lrelu", name=f"{name}_act")(x)

    x = conv(images, nf(resolution), 1, "from_rgb")
    for res in range(int(math.log2(resolution)), 2, -1):
        size = 2 ** res
        t = x
        x = conv(x, nf(size), 3, f"conv0_{size}")
        x = conv(x, nf(size // 2), 3, f"conv1_down_{size}", down=True)
        if architecture == "resnet":
            t = EqualizedConv2D(nf(size // 2), 1, gain=1.0, use_bias=False, name=f"skip_{size}")(
                Downsample2D(name=f"skip_{size}_down")(t))
            x = keras.layers.Rescaling(1.0 / math.sqrt(2.0), name=f"residual_{size}")(keras.layers.Add()([x, t]))
    if mbstd_group > 1:
        x = MinibatchStdDev(int(mbstd_group), name="minibatch_stddev")(x)
    x = conv(x, nf(4), 3, "conv_4")
    x = EqualizedDense(nf(2), gain=1.0, use_bias=False, name="dense")(keras.layers.Flatten()(x))
    x = BiasActivation("lrelu", name="dense_act")(x)
    return keras.Model(images, EqualizedDense(1, gain=1.0, name="output")(x), name="discriminator")
