"""SRGAN: Ledig et al. 2017, "Photo-Realistic Single Image Super-Resolution Using a
Generative Adversarial Network" (CVPR 2017, arXiv:1609.04802).

Paper -> code:
    * G: SRResNet's generator, :func:`tfgan_models.models.srresnet.srresnet_generator`;
      initialised from a trained SRResNet run (sec. 3.2: "we employed the trained
      MSE-based SRResNet network as initialization") via ``init=RUN_DIR``.
    * D (Fig. 4, bottom): :func:`srgan_discriminator`. Eight 3x3 convs with
      64, 64, 128, 128, 256, 256, 512, 512 kernels, strides 1 and 2
      alternating, LeakyReLU(0.2), BN after all but the first; then
      Dense(1024), LeakyReLU, Dense(1) (the sigmoid lives in the loss).
    * l_SR = l_X + 10^-3 l_Gen (eq. 3): the content loss l_X is l_VGG/5.4
      (eq. 5), the MSE of VGG19 phi_5,4 feature maps (after ReLU) rescaled by
      1/12.75 (:func:`tfgan_models.losses.vgg_content_loss`); l_Gen is
      -log D(G(I_LR)) (eq. 6).
    * Training: Adam(beta_1 0.9), 10^5 updates at lr 1e-4 then 10^5 at 1e-5
      (the ``paper`` preset's schedule: 200 epochs of 1,000 updates); 96x96 HR
      crops, batch 16. Data: DIV2K HR instead of the paper's 350k ImageNet images.

Element spec: ``(LR (B, H/s, W/s, 3), HR (B, H, W, 3))`` in [-1, 1] (see :class:`SRModel`).
The VGG19 needs ImageNet weights (Keras cache or ``vgg_weights=PATH``);
without them ``fit`` stops with instructions (``VGGWeightsError``).
"""

import keras
import tensorflow as tf

from tfgan_models.losses import minimax_discriminator_loss, non_saturating_generator_loss, vgg_content_loss
from tfgan_models.models.sr_model import SRModel
from tfgan_models.models.srresnet import build_generator
from tfgan_models.registry import optimizer, register_variant

D_FILTERS = (64, 64, 128, 128, 256, 256, 512, 512)


def srgan_discriminator(data_shape, filters=64, dense=1024, name="discriminator"):
    """HR images (B, H, W, C) -> logits (B, 1): the paper's 8-conv D, widths scaled by ``filters / 64``."""
    images = keras.Input(tuple(data_shape), name="images")
    x = images
    for i, width in enumerate(D_FILTERS):
        x = keras.layers.Conv2D(width * filters // 64, 3, strides=1 + i % 2, padding="same",
                                use_bias=i == 0, name=f"conv_{i}")(x)
        if i:
            x = keras.layers.BatchNormalization(momentum=0.9, name=f"bn_{i}")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"lrelu_{i}")(x)
    x = keras.layers.Flatten(name="features")(x)  # (B, H/16 * W/16 * 8 filters)
    x = keras.layers.Dense(dense, name="dense")(x)
    x = keras.layers.LeakyReLU(0.2, name="dense_lrelu")(x)
    logits = keras.layers.Dense(1, dtype="float32", name="logits")(x)
    return keras.Model(images, logits, name=name)


ADAM_1E4 = optimizer("Adam", learning_rate=1e-4, beta_1=0.9)
PRESETS = {
    # paper: SRResNet G (16 x 64), 8-conv D, 96x96 crops, batch 16, starting from `--init` an srresnet/paper
    # run; Adam(beta_1 0.9) at 1e-4 for 10^5 updates, then 1e-5 for another 10^5 (sec. 3.2)
    "paper": dict(data="tfds:div2k/bicubic_x4", data_shape=(96, 96, 3), scale=4, blocks=16, filters=64,
                  d_filters=64, batch_size=16, epochs=200, steps_per_epoch=1000,
                  **{role: optimizer("Adam", beta_1=0.9, learning_rate={
                      "module": "keras.optimizers.schedules", "class_name": "PiecewiseConstantDecay",
                      "config": {"boundaries": [100_000], "values": [1e-4, 1e-5]}, "registered_name": None})
                     for role in ("g_optimizer", "d_optimizer")}),
    # demo: the srresnet/demo generator on the embedded photos with a half-width D (init from that run)
    "demo": dict(data="photos", data_shape=(96, 96, 3), scale=4, blocks=8, filters=32, global_residual=True,
                 d_filters=32,
                 batch_size=16, epochs=10, steps_per_epoch=50, g_optimizer=ADAM_1E4, d_optimizer=ADAM_1E4),
    # mobile: the srresnet/mobile (ABPN-sized) generator trained adversarially (init from that run)
    "mobile": dict(data="photos", data_shape=(96, 96, 3), scale=4, architecture="abpn", blocks=5, filters=28,
                   d_filters=32, batch_size=16, epochs=10, steps_per_epoch=50, g_optimizer=ADAM_1E4,
                   d_optimizer=ADAM_1E4),
    # tiny: test size (VGG needs >= 32x32 to reach phi_5,4)
    "tiny": dict(data="photos", data_shape=(32, 32, 3), scale=4, blocks=1, filters=4, d_filters=4, dense=8,
                 batch_size=2, epochs=1, steps_per_epoch=2),
}


@keras.saving.register_keras_serializable(package="tfgan_models")
@register_variant("srgan", PRESETS)
class SRGAN(SRModel):
    """SRGAN (Ledig et al. 2017): SRResNet G + 8-conv D, VGG19 content loss + 1e-3 adversarial.

    Args:
        scale, data_shape, blocks, filters, architecture, global_residual: the generator, as :class:`SRResNet`.
        d_filters: width of D's first conv (64); ``dense``: D's hidden units (1024).
        adversarial_weight: the 10^-3 of eq. 3.
        init: a trained ``srresnet`` run directory to start G from (the paper's procedure).
        vgg_weights: VGG19 no-top weights file (default: Keras's cache); ``"random"`` for tests only.
        **kwargs: ``degradation``, ``ema_decay``, ``seed``; see :class:`SRModel`.
    """

    loss_names = ("d_loss", "g_loss", "content_loss", "adversarial_loss")
    jit_compile_note = "not measured: the demo preset's VGG19 loss needs ImageNet weights, absent on the bench machine"
    discriminator_optional = False
    perceptual_layer = "block5_conv4"      # phi_5,4
    perceptual_before_activation = False   # SRGAN reads the feature map after its ReLU

    def __init__(self, scale=4, data_shape=(96, 96, 3), blocks=16, filters=64, architecture="srresnet",
                 global_residual=False, d_filters=64, dense=1024, adversarial_weight=1e-3, generator=None,
                 discriminator=None, **kwargs):
        if generator is None:
            generator = build_generator(architecture, int(scale), int(blocks), int(filters),
                                        global_residual=bool(global_residual))
        if discriminator is None:
            discriminator = srgan_discriminator(data_shape, d_filters, dense)
        super().__init__(generator=generator, discriminator=discriminator, data_shape=data_shape, scale=scale,
                         **kwargs)
        self.blocks, self.filters, self.architecture = blocks, filters, architecture
        self.global_residual = bool(global_residual)
        self.d_filters, self.dense, self.adversarial_weight = d_filters, dense, float(adversarial_weight)

    def get_config(self):
        return {**super().get_config(), "blocks": self.blocks, "filters": self.filters,
                "architecture": self.architecture, "global_residual": self.global_residual,
                "d_filters": self.d_filters, "dense": self.dense, "adversarial_weight": self.adversarial_weight}

    def default_optimizers(self):
        return keras.optimizers.Adam(1e-4, beta_1=0.9), keras.optimizers.Adam(1e-4, beta_1=0.9)

    def train_step(self, data):
        # 1. SR = G(LR). D step: descend -[log D(HR) + log(1 - D(SR))].
        # 2. G step: l_SR = l_VGG/5.4 + 1e-3 * (-log D(SR))  (eq. 3, 5, 6); phi is frozen VGG19.
        # 3. EMA update (if enabled); report all losses.
        lr, hr = self.unpack_pairs(data)
        phi = self.perceptual_network()
        sr = self.generator(lr, training=True)
        with tf.GradientTape() as tape:
            d_loss = minimax_discriminator_loss(self.discriminator(hr, training=True),
                                                self.discriminator(sr, training=True))
        self.apply_gradients(self.d_optimizer, tape, d_loss, self.discriminator_variables)
        real_features = phi(hr, training=False)
        with tf.GradientTape() as tape:
            sr = self.generator(lr, training=True)
            content_loss = vgg_content_loss(real_features, phi(sr, training=False))
            adversarial_loss = non_saturating_generator_loss(self.discriminator(sr, training=True))
            g_loss = content_loss + self.adversarial_weight * adversarial_loss
        self.apply_gradients(self.g_optimizer, tape, g_loss, self.generator_variables)
        self.update_ema()
        return self.track(d_loss=d_loss, g_loss=g_loss, content_loss=content_loss,
                          adversarial_loss=adversarial_loss)
