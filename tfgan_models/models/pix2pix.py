"""Pix2Pix: Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial
Networks" (CVPR 2017, arXiv:1611.07004).

Paper -> code:
    * G (appendix 6.1.1): the U-Net :func:`unet_generator`. Encoder
      C64-C128-C256-C512-C512-C512-C512-C512, decoder CD512-CD512-CD512-C512-C256-C128-C64,
      4x4 stride-2 convs, LeakyReLU(0.2) down, ReLU up, skip connections
      between mirrored layers, dropout 0.5 in the first three decoder layers, tanh.
    * D (appendix 6.1.2): the conditional 70x70 PatchGAN,
      :func:`tfgan_models.models.translation.patchgan_discriminator` on the
      channel-wise concatenation of the input x and a real or generated target.
    * Objective (eq. 4): G* = arg min_G max_D L_cGAN(G, D) + lambda L_L1(G), lambda = 100;
      G uses the non-saturating form (sec. 3.3), D's objective is divided by 2.
    * Training: Adam(2e-4, beta_1 0.5), batch 1, random jitter (resize to 286, crop 256) and flips.
    * Initialisation (the authors' ``init_weights(net, 'normal', 0.02)``): every conv / transposed
      conv kernel ~ N(0, 0.02), biases 0, norm gamma ~ N(1, 0.02), beta 0.

Test-time behaviour (documented choice). The paper applies dropout at test
time and normalises with the statistics of the test batch (sec. 3.3, with
batch size 1). Here every normalisation is instance norm, which at batch size
1 is exactly the paper's batch statistics, at training and test time alike,
and does not depend on what else is in the batch. Dropout is **off** at
inference (``translate``, ``call``, SavedModel and TFLite), so a photo always
gives the same output: the paper reports that test-time dropout adds only
minor stochasticity. Exported models therefore match ``translate()`` exactly
(within the export gates).
"""

import math

import keras
import tensorflow as tf

from tfgan_models.losses import minimax_discriminator_loss, non_saturating_generator_loss, pixel_l1_loss
from tfgan_models.models.translation import (TranslationModel, at_work_size, instance_norm, patchgan_discriminator,
                                             resnet_generator, weight_init)
from tfgan_models.registry import register_variant

ARCHITECTURES = ("unet", "resnet")


def unet_generator(channels=3, filters=64, depth=8, dropout=0.5, name="generator"):
    """Images (B, H, W, channels) -> images in [-1, 1]; H, W multiples of 2^depth (depth 8: U-Net-256)."""
    images = keras.Input((None, None, channels), name="images")
    widths = [filters * min(2**i, 8) for i in range(depth)]
    skips, x = [], images
    for i, width in enumerate(widths):  # encoder: (LeakyReLU) conv (norm)
        if i:
            x = keras.layers.LeakyReLU(0.2, name=f"e{i}_lrelu")(x)
        x = keras.layers.Conv2D(width, 4, strides=2, padding="same", use_bias=i in (0, depth - 1),
                                kernel_initializer=weight_init(), name=f"e{i}")(x)
        if 0 < i < depth - 1:  # no norm on C64 nor on the 1x1 bottleneck (its instance norm would be 0)
            x = instance_norm(f"e{i}_norm")(x)
        skips.append(x)
    for i in reversed(range(depth - 1)):  # decoder: ReLU upconv norm (dropout), then concat the mirror
        x = keras.layers.ReLU(name=f"d{i}_relu")(x)
        x = keras.layers.Conv2DTranspose(widths[i], 4, strides=2, padding="same", use_bias=False,
                                         kernel_initializer=weight_init(), name=f"d{i}")(x)
        x = instance_norm(f"d{i}_norm")(x)
        if dropout and i >= depth - 4:  # the first three decoder layers (CD512 x 3)
            x = keras.layers.Dropout(dropout, name=f"d{i}_dropout")(x)
        x = keras.layers.Concatenate(name=f"d{i}_skip")([x, skips[i]])
    x = keras.layers.ReLU(name="out_relu")(x)
    x = keras.layers.Conv2DTranspose(channels, 4, strides=2, padding="same", kernel_initializer=weight_init(),
                                     name="out")(x)
    return keras.Model(images, keras.layers.Activation("tanh", dtype="float32", name="tanh")(x), name=name)


PRESETS = {
    # paper: U-Net-256 + 70x70 PatchGAN, 256x256, batch 1, 200 epochs (pass --data paired:DIR_A,DIR_B)
    "paper": dict(data="colorize:photos", data_shape=(256, 256, 3), filters=64, d_filters=64, batch_size=1,
                  epochs=200),
    # demo: colourising 64x64 crops of the embedded photos, a half-width U-Net-64, a few CPU minutes
    "demo": dict(data="colorize:photos", data_shape=(64, 64, 3), filters=32, d_filters=32, batch_size=8,
                 epochs=25, steps_per_epoch=100),
    # mobile: the U-Net at a quarter of the paper's width (16 filters; 1.1 GMACs at 256x256, <= 3). A slim
    # separable ResNet generator (cyclegan/mobile) scored 12.0 dB here against the grey input's 15.7: the
    # U-Net's skips hand the luminance straight through, the ResNet has to relearn it
    "mobile": dict(data="colorize:photos", data_shape=(64, 64, 3), filters=16, d_filters=32, batch_size=8,
                   epochs=25, steps_per_epoch=100),
    # glasses: a FaceApp-style editor on rendered faces (tfgan_models[faces]): the mobile U-Net at 128x128
    # on (face, the same face with glasses), exported at 256x256 (edits at 128, adds the upsampled change)
    "glasses": dict(data="paired:avatars/Glasses", data_shape=(128, 128, 3), filters=16, d_filters=32,
                    work_size=128, batch_size=8, epochs=20, steps_per_epoch=200),
    # tiny: test size
    "tiny": dict(data="colorize:photos", data_shape=(16, 16, 3), filters=4, d_filters=4, d_layers=1,
                 batch_size=2, epochs=1, steps_per_epoch=2),
}


@keras.saving.register_keras_serializable(package="tfgan_models")
@register_variant("pix2pix", PRESETS)
class Pix2Pix(TranslationModel):
    """Pix2Pix (Isola et al. 2017): conditional PatchGAN + L1, on paired ``(input, target)`` images.

    Args:
        data_shape: training crops ``(S, S, 3)``.
        architecture: ``"unet"`` (the paper's G) or ``"resnet"`` (the paper's sec. 6.1.1 alternative;
            with ``separable=True`` the ``mobile`` generator).
        filters: G's first-layer width (64); ``depth``: U-Net downsamplings (default log2(S), 8 at 256).
        blocks, separable: ResNet generator options.
        d_filters, d_layers: PatchGAN width (64) and stride-2 layers (3: 70x70 patches).
        l1_weight: lambda (100). ``dropout``: U-Net decoder dropout during training (0.5).
        work_size: run the generator at this side and add its upsampled change to images of any size
            (:func:`~tfgan_models.models.translation.at_work_size`; the ``glasses`` face editor).
        **kwargs: ``ema_decay``, ``seed``; see :class:`TranslationModel`.
    """

    loss_names = ("d_loss", "g_loss", "adversarial_loss", "l1_loss")
    jit_compile_note = "XLA's weight update differs by 2.2e-02 (tolerance 1e-2) and ran at 0.64x (docs/bench/xla.json)"
    data_kind = "paired"
    default_preview = "colorize:photos"

    def __init__(self, data_shape=(256, 256, 3), architecture="unet", filters=64, depth=None, blocks=9,
                 separable=False, d_filters=64, d_layers=3, l1_weight=100.0, dropout=0.5, work_size=None,
                 generator=None, discriminator=None, **kwargs):
        if architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, received {architecture!r}.")
        side = int(data_shape[0])
        depth = int(depth) if depth is not None else int(math.log2(side))
        if architecture == "unet" and (side % 2**depth or depth < 2):
            raise ValueError(f"the U-Net needs crops that are a multiple of 2^depth = {2**depth}; received "
                             f"{side} (pass depth=, at most log2 of the crop size).")
        if generator is None:
            generator = (unet_generator(3, filters, depth, dropout) if architecture == "unet"
                         else resnet_generator(3, filters, blocks, separable=separable))
            generator = at_work_size(generator, work_size) if work_size else generator
        if discriminator is None:
            discriminator = patchgan_discriminator(3, d_filters, d_layers, inputs=2)
        super().__init__(generator=generator, discriminator=discriminator, data_shape=data_shape, **kwargs)
        self.architecture, self.filters, self.depth, self.blocks = architecture, filters, depth, blocks
        self.separable, self.d_filters, self.d_layers = bool(separable), d_filters, d_layers
        self.l1_weight, self.dropout = float(l1_weight), float(dropout)
        self.work_size = int(work_size) if work_size else None

    def discriminator_input_shapes(self):
        return [(None, None, 3), (None, None, 3)]

    def get_config(self):
        return {**super().get_config(), "architecture": self.architecture, "filters": self.filters,
                "depth": self.depth, "blocks": self.blocks, "separable": self.separable,
                "d_filters": self.d_filters, "d_layers": self.d_layers, "l1_weight": self.l1_weight,
                "dropout": self.dropout, "work_size": self.work_size}

    def train_step(self, data):
        # 1. D step: descend 1/2 * -[log D(x, y) + log(1 - D(x, G(x)))] over all patches.
        # 2. G step: descend -log D(x, G(x)) + lambda * |y - G(x)|_1  (eq. 4).
        # 3. EMA update (if enabled); report the losses.
        x, y = self.unpack_pair(data)
        fake = self.generator(x, training=True)
        with tf.GradientTape() as tape:
            d_loss = 0.5 * minimax_discriminator_loss(self.discriminator([x, y], training=True),
                                                      self.discriminator([x, fake], training=True))
        self.apply_gradients(self.d_optimizer, tape, d_loss, self.discriminator_variables)
        with tf.GradientTape() as tape:
            fake = self.generator(x, training=True)
            adversarial_loss = non_saturating_generator_loss(self.discriminator([x, fake], training=True))
            l1_loss = pixel_l1_loss(y, fake)
            g_loss = adversarial_loss + self.l1_weight * l1_loss
        self.apply_gradients(self.g_optimizer, tape, g_loss, self.generator_variables)
        self.update_ema()
        return self.track(d_loss=d_loss, g_loss=g_loss, adversarial_loss=adversarial_loss, l1_loss=l1_loss)
