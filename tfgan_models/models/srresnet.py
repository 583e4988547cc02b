"""SRResNet: Ledig et al. 2017, "Photo-Realistic Single Image Super-Resolution Using a
Generative Adversarial Network" (CVPR 2017, arXiv:1609.04802), the MSE-trained generator.

Paper -> code:
    * G (Fig. 4, top): :func:`srresnet_generator`. A 9x9 conv + PReLU; B = 16
      residual blocks (conv3x3-BN-PReLU-conv3x3-BN, identity skip); a conv3x3-BN
      and the global skip from the first features; log2(s) sub-pixel
      upsampling blocks (conv3x3 to 256 channels, pixel shuffle x2 with
      ``depth_to_space``, PReLU); a 9x9 conv to RGB. Linear output.
    * l_MSE (eq. 4): :func:`tfgan_models.losses.pixel_mse_loss`.
    * Training (sec. 3.2): 96x96 HR crops, batch 16, Adam(beta_1 0.9), lr 1e-4,
      10^6 updates. HR in [-1, 1]; LR here also in [-1, 1] (the paper uses
      [0, 1] for LR: a fixed affine map the first conv absorbs).

The ``demo`` preset (minutes on a CPU, not 10^6 updates) follows the paper's
loss and G, but drops BN, starts the residual blocks near the identity
(He-normal x 0.1, as BasicSR's ``ResidualBlockNoBN``) and anneals Adam's rate
to 0 with a cosine, as BasicSR's MSRResNet (the ESRGAN authors' SRResNet) and
EDSR (BN removed) do, from a start rate fit for 3,400 steps (2e-3). It trains on
the P3 training photos plus the two ``extra`` embedded photos
(``photos:train+extra``, :mod:`tfgan_models.data.paired`), whose black and flat
crops are skipped. A step costs 0.14-0.15 s on a quiet 2-core CPU, so a run
takes 7.9-8.5 minutes (PRESETS gives the measured reason for each choice).

The ``mobile`` preset keeps SRResNet's training but swaps in
:func:`abpn_generator`, an anchor-based plain net (Du et al. 2021, "Anchor-based
Plain Net for Mobile Image Super-Resolution", the Mobile AI 2021 winner, XLSR-
sized): every conv runs at LR resolution, one ``depth_to_space`` at the end,
and the input repeated s^2 times (the "anchor", a nearest-neighbour upsample)
added before it, so the net learns a residual. SRResNet's upsampling convs run
at 2x and 4x resolution and cost most of its 41.6 GMACs at 128x128 input; the
ABPN-sized net needs about 0.8 GMACs, which is what makes the TFLite budget
(benchmarks/sr.py measures both). ReLU (not PReLU) and no BN keep int8 clean.

Element spec: ``(LR (B, H/s, W/s, 3), HR (B, H, W, 3))`` in [-1, 1] (see :class:`SRModel`).
"""

import math

import keras
import tensorflow as tf

from tfgan_models.losses import pixel_mse_loss
from tfgan_models.models.sr_model import SRModel
from tfgan_models.registry import optimizer, register_variant

ARCHITECTURES = ("srresnet", "abpn")


class DepthToSpace(keras.layers.Layer):
    """Sub-pixel convolution's pixel shuffle (Shi et al. 2016): (B, h, w, r^2 C) -> (B, rh, rw, C)."""

    def __init__(self, block_size, **kwargs):
        super().__init__(**kwargs)
        self.block_size = int(block_size)

    def call(self, x):
        return tf.nn.depth_to_space(x, self.block_size)

    def compute_output_shape(self, shape):
        r = self.block_size
        mul = lambda d: None if d is None else d * r  # noqa: E731
        return (shape[0], mul(shape[1]), mul(shape[2]), shape[3] // (r * r))

    def get_config(self):
        return {**super().get_config(), "block_size": self.block_size}


keras.saving.register_keras_serializable(package="tfgan_models")(DepthToSpace)


def upsampling_steps(scale):
    """Pixel-shuffle x2 steps of SRResNet (x3 is one x3 step)."""
    if scale == 3:
        return [3]
    steps = int(math.log2(scale))
    if 2**steps != scale:
        raise ValueError(f"SRResNet upsamples by 2, 3, 4 or 8, received scale {scale}.")
    return [2] * steps


def nearest_anchor(lr, scale, name="anchor"):
    """LR (B, h, w, C) -> its nearest-neighbour upsampling (B, s*h, s*w, C), with builtin TFLite ops only.

    depth_to_space reads channel k*C + c into sub-pixel k, so the input tiled
    s^2 times along channels lands in every sub-pixel position.
    """
    tiled = keras.layers.Concatenate(name=f"{name}_tile")([lr] * (scale * scale))  # (B, h, w, s^2 C)
    return DepthToSpace(scale, name=name)(tiled)


def srresnet_generator(scale=4, blocks=16, filters=64, batch_norm=True, channels=3, global_residual=False,
                       residual_init_scale=None, name="generator"):
    """LR (B, h, w, C) in [-1, 1] -> SR (B, s*h, s*w, C), the paper's G (Fig. 4).

    ``global_residual`` (not in the paper; off in its preset) adds the
    nearest-neighbour upsampled input to the output, with the last conv
    zero-initialised, so G starts as an upsampler and learns the residual
    (VDSR's global residual learning): on a CPU budget of minutes this decides
    whether the net beats bicubic at all.

    ``residual_init_scale`` (not in the paper; off in its preset): the residual
    blocks' convs start as He-normal x this factor, as BasicSR's
    ``ResidualBlockNoBN`` (``default_init_weights(..., 0.1)``), so each block
    starts near the identity; None keeps Keras's Glorot default.
    """
    prelu = lambda n: keras.layers.PReLU(shared_axes=[1, 2], name=n)  # noqa: E731
    norm = (lambda n: keras.layers.BatchNormalization(momentum=0.9, name=n)) if batch_norm else None
    # He-normal has variance 2 / fan_in; x s scales it by s^2.
    block_init = ("glorot_uniform" if residual_init_scale is None else keras.initializers.VarianceScaling(
        2.0 * float(residual_init_scale) ** 2, mode="fan_in", distribution="untruncated_normal"))
    lr = keras.Input((None, None, channels), name="images")
    x = keras.layers.Conv2D(filters, 9, padding="same", name="head")(lr)
    head = x = prelu("head_prelu")(x)  # (B, h, w, filters)
    for b in range(blocks):
        y = keras.layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm, kernel_initializer=block_init,
                                name=f"res_{b}_conv1")(x)
        y = norm(f"res_{b}_bn1")(y) if norm else y
        y = prelu(f"res_{b}_prelu")(y)
        y = keras.layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm, kernel_initializer=block_init,
                                name=f"res_{b}_conv2")(y)
        y = norm(f"res_{b}_bn2")(y) if norm else y
        x = keras.layers.Add(name=f"res_{b}_add")([x, y])
    x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm, name="trunk_conv")(x)
    x = norm("trunk_bn")(x) if norm else x
    x = keras.layers.Add(name="global_skip")([head, x])
    for i, r in enumerate(upsampling_steps(scale)):
        x = keras.layers.Conv2D(filters * r * r, 3, padding="same", name=f"up_{i}_conv")(x)
        x = DepthToSpace(r, name=f"up_{i}_shuffle")(x)  # (B, r*h, r*w, filters)
        x = prelu(f"up_{i}_prelu")(x)
    if not global_residual:
        sr = keras.layers.Conv2D(channels, 9, padding="same", name="sr")(x)
        return keras.Model(lr, sr, name=name)
    x = keras.layers.Conv2D(channels, 9, padding="same", kernel_initializer="zeros", name="residual")(x)
    sr = keras.layers.Add(name="sr")([x, nearest_anchor(lr, scale)])
    return keras.Model(lr, sr, name=name)


def abpn_generator(scale=4, blocks=5, filters=28, channels=3, name="generator"):
    """LR (B, h, w, C) -> SR (B, s*h, s*w, C): ABPN-style plain net, all convs at LR size.

    conv3x3(filters)+ReLU, ``blocks`` x [conv3x3(filters)+ReLU], conv3x3(s^2 C);
    plus the anchor (the input repeated s^2 times per channel); depth_to_space(s).
    """
    lr = keras.Input((None, None, channels), name="images")
    x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name="head")(lr)
    for b in range(blocks):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv_{b}")(x)
    x = keras.layers.Conv2D(channels * scale * scale, 3, padding="same", name="tail",
                            kernel_initializer="zeros")(x)  # starts as the nearest-neighbour anchor
    # The anchor: the input tiled s^2 times along channels (see nearest_anchor).
    anchor = keras.layers.Concatenate(name="anchor")([lr] * (scale * scale))  # (B, h, w, s^2 C)
    x = keras.layers.Add(name="anchor_add")([x, anchor])
    sr = DepthToSpace(scale, name="sr")(x)
    return keras.Model(lr, sr, name=name)


def build_generator(architecture, scale, blocks, filters, batch_norm=True, global_residual=False,
                    residual_init_scale=None):
    if architecture == "srresnet":
        return srresnet_generator(scale, blocks, filters, batch_norm, global_residual=global_residual,
                                  residual_init_scale=residual_init_scale)
    if architecture == "abpn":
        return abpn_generator(scale, blocks, filters)
    raise ValueError(f"architecture must be one of {', '.join(ARCHITECTURES)}, received {architecture!r}.")


ADAM_1E4 = optimizer("Adam", learning_rate=1e-4, beta_1=0.9)


def cosine_decay(learning_rate, steps):
    """A JSON-able Keras ``CosineDecay`` config: ``learning_rate`` annealed to 0 over ``steps`` updates."""
    return {"module": "keras.optimizers.schedules", "class_name": "CosineDecay", "registered_name": None,
            "config": {"initial_learning_rate": learning_rate, "decay_steps": int(steps), "alpha": 0.0}}


DEMO_STEPS = 20 * 170  # the demo's epochs x steps_per_epoch: its cosine schedule ends with the run
PRESETS = {
    # paper: 16 blocks x 64, 96x96 HR crops, batch 16, Adam 1e-4, 10^6 updates (ImageNet there;
    # DIV2K HR here, the usual substitute)
    "paper": dict(data="tfds:div2k/bicubic_x4", data_shape=(96, 96, 3), scale=4, blocks=16, filters=64,
                  batch_size=16, epochs=1000, steps_per_epoch=1000, g_optimizer=ADAM_1E4),
    # demo: the 8 embedded training photos (train+extra) on a 2-core CPU, 3,400 steps (~8 min);
    # half-depth, half-width G, the global residual (a budget of minutes, not days: without it,
    # 7 minutes stay below bicubic; benchmarks/sr.py); no BN, residual convs He-normal x 0.1 and Adam
    # cosine-annealed to 0 as BasicSR's MSRResNet (BN off, default_init_weights 0.1, cosine) and EDSR
    # (no BN). The start rate, 2e-3, is 10x BasicSR's 2e-4, which is for 10^6 steps: over 3,000 steps
    # 5e-4 / 1e-3 / 2e-3 gave +1.23 / +1.28 / +1.33 dB (seed 0; 3e-3 diverged, 4e-3 after 100 warm-up
    # steps +1.28). Mean of 3 seeds: 3,000 steps +1.29; 3,400 steps +1.298; with the 0.1 init +1.315.
    # Not taken: ESRGAN's 128x128 crops x 9 (+1.25 mean of 3 seeds), and, seed 0 at 3,000
    # steps, L1 (+0.85) and EMA 0.999 (+1.13).
    "demo": dict(data="photos:train+extra", data_shape=(96, 96, 3), scale=4, blocks=8, filters=32,
                 global_residual=True, residual_init_scale=0.1, batch_norm=False, batch_size=16, epochs=20,
                 steps_per_epoch=170,
                 g_optimizer=optimizer("Adam", learning_rate=cosine_decay(2e-3, DEMO_STEPS), beta_1=0.9)),
    # mobile: ABPN-sized plain net (28 features, 5 hidden convs, ~40k parameters) for TFLite
    "mobile": dict(data="photos:train+extra", data_shape=(96, 96, 3), scale=4, architecture="abpn", blocks=5,
                   filters=28, batch_size=16, epochs=10, steps_per_epoch=300,
                   g_optimizer=optimizer("Adam", learning_rate=1e-3, beta_1=0.9)),
    # tiny: test size
    "tiny": dict(data="photos", data_shape=(16, 16, 3), scale=4, blocks=1, filters=4, batch_size=2, epochs=1,
                 steps_per_epoch=2),
}


@keras.saving.register_keras_serializable(package="tfgan_models")
@register_variant("srresnet", PRESETS)
class SRResNet(SRModel):
    """SRResNet (Ledig et al. 2017): the residual SR generator trained on pixel MSE alone.

    Args:
        scale: 2, 3, 4 or 8 (x4 by default).
        data_shape: HR crop ``(H, H, 3)`` (96 in the paper).
        blocks: residual blocks B (16), or hidden convs of the ``abpn`` net.
        filters: feature channels (64).
        batch_norm: BN in the residual blocks, as in the paper.
        architecture: ``"srresnet"`` (the paper's G) or ``"abpn"`` (mobile).
        global_residual: add the nearest-upsampled input to G's output (not in the paper; demo).
        residual_init_scale: residual convs start as He-normal x this (BasicSR's 0.1; demo), or None.
        generator: an optional network replacing the default.
        **kwargs: ``degradation``, ``init``, ``ema_decay``, ``seed``; see :class:`SRModel`.
    """

    loss_names = ("pixel_loss", "psnr")
    jit_compile_note = "XLA ran at 0.57x the plain step on CPU at demo size (docs/bench/xla.json)"
    optimizer_names = ("generator",)  # pixel loss only: no discriminator

    def __init__(self, scale=4, data_shape=(96, 96, 3), blocks=16, filters=64, batch_norm=True,
                 architecture="srresnet", global_residual=False, residual_init_scale=None, generator=None,
                 discriminator=None, **kwargs):
        if residual_init_scale is not None and not (architecture == "srresnet" and float(residual_init_scale) > 0):
            raise ValueError(f"residual_init_scale must be > 0 and needs architecture 'srresnet' (residual "
                             f"blocks), received {residual_init_scale!r} with {architecture!r}.")
        if generator is None:
            generator = build_generator(architecture, int(scale), int(blocks), int(filters), batch_norm,
                                        bool(global_residual), residual_init_scale)
        super().__init__(generator=generator, discriminator=None, data_shape=data_shape, scale=scale, **kwargs)
        self.blocks, self.filters, self.batch_norm, self.architecture = blocks, filters, batch_norm, architecture
        self.global_residual = bool(global_residual)
        self.residual_init_scale = None if residual_init_scale is None else float(residual_init_scale)

    def get_config(self):
        return {**super().get_config(), "blocks": self.blocks, "filters": self.filters, "batch_norm": self.batch_norm,
                "architecture": self.architecture, "global_residual": self.global_residual,
                "residual_init_scale": self.residual_init_scale}

    def default_optimizers(self):
        return {"generator": keras.optimizers.Adam(1e-4, beta_1=0.9)}

    def train_step(self, data):
        # 1. SR = G(LR)                                    # (B, H, W, 3)
        # 2. l_MSE = mean (HR - SR)^2 (eq. 4); one Adam step on G. No discriminator.
        # 3. EMA update (if enabled); report the loss and the batch PSNR (peak-to-peak 2 in [-1, 1]).
        lr, hr = self.unpack_pairs(data)
        with tf.GradientTape() as tape:
            sr = self.generator(lr, training=True)
            pixel_loss = pixel_mse_loss(hr, sr)
        self.apply_gradients(self.g_optimizer, tape, pixel_loss, self.generator_variables)
        self.update_ema()
        psnr = 10.0 * tf.math.log(4.0 / tf.maximum(pixel_loss, 1e-10)) / tf.math.log(10.0)
        return self.track(pixel_loss=pixel_loss, psnr=psnr)
