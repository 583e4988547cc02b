"""DiscoGAN: Kim et al. 2017, "Learning to Discover Cross-Domain Relations with Generative
Adversarial Networks" (ICML 2017, arXiv:1703.05192).

Paper -> code (domains A and B):
    * G_AB is ``generator``, G_BA is ``reverse_generator`` (:func:`discogan_generator`):
      an encoder-decoder of 4x4 stride-2 convs, 64-128-256-512 down with
      LeakyReLU(0.2) and batch norm (none on the first), 256-128-64-3 up with
      ReLU and batch norm, tanh (sec. 4 and the authors' code; 64x64 images).
    * D_B is ``discriminator``, D_A is ``reverse_discriminator``
      (:func:`discogan_discriminator`): 64-128-256-512 4x4 stride-2 convs with
      LeakyReLU and batch norm, then a conv over the remaining 4x4 map -> one logit.
    * Losses (sec. 3.3, eq. 3-5): the standard GAN loss (G in its non-saturating
      form), and the two reconstruction losses L_CONST_A = d(G_BA(G_AB(x_A)), x_A),
      L_CONST_B alike, with d the squared error (L2):
      L_G = L_GAN_B + L_CONST_A + L_GAN_A + L_CONST_B, L_D = L_D_A + L_D_B.
    * Adam(2e-4, beta_1 0.5), batch 64 in the authors' code.

Initialisation and batch norm follow the authors' code (SKTBrain/DiscoGAN, PyTorch
0.1, 2017), not the N(0, 0.02) of pix2pix / CycleGAN: it calls no init function,
so every layer kept PyTorch 0.1's defaults, reproduced here (``_kernel_init``,
``_batch_norm``): conv and transposed-conv kernels ~ U(-1/sqrt(n), 1/sqrt(n))
with n = input channels x 4 x 4 (for a transposed conv too), batch-norm
gamma ~ U(0, 1) and beta 0, running averages with PyTorch's momentum 0.1
(Keras momentum 0.9) and eps 1e-5. The paper itself names no initialisation.
Its convs have no bias at all; here the first conv of each network and the
output layers keep a (zero-initialised) bias. Its generators end in a sigmoid
on [0, 1] images; here in tanh on [-1, 1] images (the same up to scaling).
Differences in the objective, on purpose (the paper's eq. 3-5 are followed, not
the code): the authors' code adds feature matching on D's hidden layers (weight
0.9 against 0.1 for the GAN term), weighs reconstruction 0.01 for the first 10k
iterations and 0.5 after, updates D on every third iteration and G on the other
two, and uses Adam weight decay 1e-5; none of that is described in the paper.

Batch norm normalises with moving statistics at inference, so exports are deterministic.
"""

import keras
import tensorflow as tf

from tfgan_models.losses import minimax_discriminator_loss, non_saturating_generator_loss, pixel_mse_loss
from tfgan_models.models.translation import TranslationModel
from tfgan_models.registry import register_variant

WIDTHS = (64, 128, 256, 512)


def _kernel_init(transposed=False):
    """PyTorch 0.1's conv default, U(+-1/sqrt(in_channels * k * k)) (Keras's fan_out of a transposed kernel)."""
    return keras.initializers.VarianceScaling(1.0 / 3.0, "fan_out" if transposed else "fan_in", "uniform")


def _batch_norm(name):
    """PyTorch 0.1's BatchNorm2d defaults: gamma ~ U(0, 1), beta 0, momentum 0.1 (Keras 0.9), eps 1e-5."""
    gamma = keras.initializers.RandomUniform(0.0, 1.0)
    return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, gamma_initializer=gamma, name=name)


def discogan_generator(channels=3, filters=64, name="generator"):
    """Images (B, H, W, channels) -> images in [-1, 1]; H, W multiples of 16."""
    images = keras.Input((None, None, channels), name="images")
    x = images
    widths = [w * filters // 64 for w in WIDTHS]
    for i, width in enumerate(widths):
        x = keras.layers.Conv2D(width, 4, strides=2, padding="same", use_bias=i == 0,
                                kernel_initializer=_kernel_init(), name=f"conv_{i}")(x)
        if i:
            x = _batch_norm(f"conv_{i}_bn")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"conv_{i}_lrelu")(x)
    for i, width in enumerate(reversed(widths[:-1])):
        x = keras.layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False,
                                         kernel_initializer=_kernel_init(transposed=True), name=f"deconv_{i}")(x)
        x = _batch_norm(f"deconv_{i}_bn")(x)
        x = keras.layers.ReLU(name=f"deconv_{i}_relu")(x)
    x = keras.layers.Conv2DTranspose(channels, 4, strides=2, padding="same",
                                     kernel_initializer=_kernel_init(transposed=True), name="deconv_out")(x)
    return keras.Model(images, keras.layers.Activation("tanh", dtype="float32", name="tanh")(x), name=name)


def discogan_discriminator(data_shape, filters=64, name="discriminator"):
    """Images (B, S, S, C) -> logits (B, 1); S a multiple of 16."""
    images = keras.Input(tuple(data_shape), name="images")
    x = images
    for i, width in enumerate(w * filters // 64 for w in WIDTHS):
        x = keras.layers.Conv2D(width, 4, strides=2, padding="same", use_bias=i == 0,
                                kernel_initializer=_kernel_init(), name=f"conv_{i}")(x)
        if i:
            x = _batch_norm(f"conv_{i}_bn")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"conv_{i}_lrelu")(x)
    x = keras.layers.Conv2D(1, data_shape[0] // 16, kernel_initializer=_kernel_init(),
                            name="conv_out")(x)  # 4x4 valid at 64x64
    return keras.Model(images, keras.layers.Flatten(dtype="float32", name="logits")(x), name=name)


PRESETS = {
    # paper: 64x64, full width, batch 64 (pass --data unpaired:..., or tfds:celeb_a --domains Male,-Male)
    "paper": dict(data="unpaired:photos,hue:photos", data_shape=(64, 64, 3), filters=64, d_filters=64,
                  batch_size=64, epochs=100),
    # demo: digits -> inverted digits from unpaired images (the benchmark's known mapping)
    "demo": dict(data="unpaired:digits,inverted:digits", data_shape=(32, 32, 3), filters=32, d_filters=32,
                 batch_size=16, epochs=10, steps_per_epoch=100),
    # tiny: test size
    "tiny": dict(data="unpaired:photos,hue:photos", data_shape=(16, 16, 3), filters=4, d_filters=4,
                 batch_size=2, epochs=1, steps_per_epoch=2),
}


@keras.saving.register_keras_serializable(package="tfgan_models")
@register_variant("discogan", PRESETS)
class DiscoGAN(TranslationModel):
    """DiscoGAN (Kim et al. 2017): G_AB, G_BA, D_A, D_B; GAN losses + L2 reconstruction both ways.

    Args:
        data_shape: training crops ``(S, S, 3)``, S a multiple of 16 (64 in the paper).
        filters, d_filters: first-layer widths of the generators and discriminators (64).
        reconstruction_weight: weight of each L_CONST (1 in the paper).
        **kwargs: ``seed``; see :class:`TranslationModel`.
    """

    loss_names = ("d_loss", "g_loss", "adversarial_loss", "reconstruction_loss")
    jit_compile_note = "XLA ran at 0.42x the plain step on CPU at demo size (docs/bench/xla.json)"
    data_kind = "unpaired"
    two_way = True
    default_preview = "unpaired:digits,inverted:digits"

    def __init__(self, data_shape=(64, 64, 3), filters=64, d_filters=64, reconstruction_weight=1.0, generator=None,
                 discriminator=None, reverse_generator=None, reverse_discriminator=None, **kwargs):
        if int(data_shape[0]) % 16:
            raise ValueError(f"DiscoGAN crops must be a multiple of 16, received {data_shape[0]}.")
        build_d = lambda name: discogan_discriminator(data_shape, d_filters, name=name)  # noqa: E731
        super().__init__(
            generator=generator if generator is not None else discogan_generator(3, filters, name="G_AB"),
            discriminator=discriminator if discriminator is not None else build_d("D_B"),
            reverse_generator=(reverse_generator if reverse_generator is not None
                               else discogan_generator(3, filters, name="G_BA")),
            reverse_discriminator=reverse_discriminator if reverse_discriminator is not None else build_d("D_A"),
            data_shape=data_shape, **kwargs)
        self.filters, self.d_filters = filters, d_filters
        self.reconstruction_weight = float(reconstruction_weight)

    def discriminator_input_shapes(self):
        return [self.data_shape]

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "d_filters": self.d_filters,
                "reconstruction_weight": self.reconstruction_weight}

    def train_step(self, data):
        # 1. G step: descend L_GAN_B + L_CONST_A + L_GAN_A + L_CONST_B, with L_GAN_B = -log D_B(G_AB(x_A))
        #    and L_CONST_A = |G_BA(G_AB(x_A)) - x_A|^2 (eq. 3-5); the same from B.
        # 2. D step: D_B on x_B vs G_AB(x_A), D_A on x_A vs G_BA(x_B), -[log D(x) + log(1 - D(G(.)))].
        x_a, x_b = self.unpack_pair(data)
        G_AB, G_BA, D_B, D_A = self.generator, self.reverse_generator, self.discriminator, self.reverse_discriminator
        with tf.GradientTape() as tape:
            x_ab, x_ba = G_AB(x_a, training=True), G_BA(x_b, training=True)
            adversarial_loss = (non_saturating_generator_loss(D_B(x_ab, training=True))
                                + non_saturating_generator_loss(D_A(x_ba, training=True)))
            reconstruction_loss = (pixel_mse_loss(x_a, G_BA(x_ab, training=True))
                                   + pixel_mse_loss(x_b, G_AB(x_ba, training=True)))
            g_loss = adversarial_loss + self.reconstruction_weight * reconstruction_loss
        self.apply_gradients(self.g_optimizer, tape, g_loss, self.generator_variables)
        with tf.GradientTape() as tape:
            d_loss = (minimax_discriminator_loss(D_B(x_b, training=True), D_B(x_ab, training=True))
                      + minimax_discriminator_loss(D_A(x_a, training=True), D_A(x_ba, training=True)))
        self.apply_gradients(self.d_optimizer, tape, d_loss, self.discriminator_variables)
        return self.track(d_loss=d_loss, g_loss=g_loss, adversarial_loss=adversarial_loss,
                          reconstruction_loss=reconstruction_loss)
