"""AC-GAN: Odena, Olah & Shlens 2016, "Conditional Image Synthesis with
Auxiliary Classifier GANs" (arXiv:1610.09585).

Code name -> paper (sec. 3):
    generator            X_fake = G(c, z), c one-hot concatenated to z
    discriminator        outputs P(S | X) (``source`` logits) and P(C | X) (``class`` logits)
    source loss          L_S = E[log P(S=real | X_real)] + E[log P(S=fake | X_fake)]
    class loss           L_C = E[log P(C=c | X_real)] + E[log P(C=c | X_fake)]
    D maximises L_S + L_C; G maximises L_C - L_S (its L_S term in the
    non-saturating form, -log P(S=real | X_fake)).
    class_loss_weight    weight of L_C in both objectives (1 in the paper)
Networks: DCGAN-style, with dropout 0.5 in D as in the paper's appendix;
Adam(2e-4, beta_1 0.5).

The ``paper`` preset keeps the paper's latent size 110, D dropout 0.5, Adam
(2e-4, beta_1 0.5) and batch 100, but not its networks: the appendix gives its
own for 32x32 CIFAR-10 and 128x128 ImageNet (G: a linear projection, then 5x5
transposed convs; D: 3x3 convs of 16 to 512 filters, alternating strides); the
preset uses the DCGAN-style networks at 64x64 instead (the DCGAN family's
builders). Data: the embedded digits instead of ImageNet (offline).

Element spec: ``(images (B, H, W, C) in [-1, 1], labels int (B,))``.
"""

import tensorflow as tf
import keras

from tfgan_models.losses import (
    auxiliary_classifier_loss,
    minimax_discriminator_loss,
    non_saturating_generator_loss,
)
from tfgan_models.models.cgan import conditional_conv_generator
from tfgan_models.models.conditional import ConditionalGANModel
from tfgan_models.models.dcgan import dcgan_discriminator
from tfgan_models.registry import register_variant


def acgan_discriminator(data_shape, num_classes, width=64, dropout=0.5, name="discriminator"):
    """images (B, H, W, C) -> [source logits (B, 1), class logits (B, K)], one shared body."""
    body = dcgan_discriminator(data_shape, width, dropout=dropout, name="dcgan_discriminator")
    features = body.get_layer("features").output
    class_logits = keras.layers.Dense(num_classes, name="class_logits")(features)
    return keras.Model(body.input, [body.output, class_logits], name=name)


PRESETS = {
    # paper: 64x64 DCGAN-style networks, dropout 0.5 in D, batch 100
    "paper": dict(data="digits", data_shape=(64, 64, 1), latent_dim=110, width=64, batch_size=100, epochs=50),
    # demo: 32x32 embedded digits, a few CPU minutes
    "demo": dict(data="digits", data_shape=(32, 32, 1), latent_dim=64, width=32, batch_size=64, epochs=100),
    # tiny: test size
    "tiny": dict(data="digits", data_shape=(8, 8, 1), latent_dim=8, width=4, batch_size=8, epochs=1,
                 steps_per_epoch=2),
}


@keras.saving.register_keras_serializable(package="tfgan_models")
@register_variant("acgan", PRESETS)
class ACGAN(ConditionalGANModel):
    """Auxiliary-classifier GAN (Odena et al. 2016).

    Args:
        data_shape: ``(H, W, C)`` with H = W = 4 * 2^k.
        latent_dim: size of z ~ N(0, I).
        num_classes: number of classes c.
        width: DCGAN width.
        class_loss_weight: weight of L_C (1 in the paper).
        generator, discriminator: optional networks (G takes ``[z, labels]``; D returns
            ``[source_logits, class_logits]``).
        **kwargs: ``discriminator_steps``, ``ema_decay``, ``seed``; see :class:`GANModel`.
    """

    loss_names = ("d_loss", "g_loss", "d_class_loss", "g_class_loss")
    jit_compile_note = "XLA ran at 1.05x the plain step on CPU at demo size (docs/bench/xla.json)"

    def __init__(self, data_shape=(64, 64, 3), latent_dim=110, num_classes=10, width=64, class_loss_weight=1.0,
                 generator=None, discriminator=None, **kwargs):
        if generator is None:
            generator = conditional_conv_generator(data_shape, latent_dim, num_classes, width)
        if discriminator is None:
            discriminator = acgan_discriminator(data_shape, num_classes, width)
        super().__init__(generator=generator, discriminator=discriminator, num_classes=num_classes,
                         data_shape=data_shape, latent_dim=latent_dim, **kwargs)
        self.width, self.class_loss_weight = width, float(class_loss_weight)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "class_loss_weight": self.class_loss_weight}

    def train_step(self, data):
        # 1. D step(s) on fresh real (x, c): descend -(L_S + L_C) on real and G(c', z), c' ~ U{classes}.
        # 2. G step: descend -log P(S=real | G(c', z)) - L_C(G(c', z)).
        # 3. EMA update (if enabled); report the losses, class terms apart.
        images, labels = self.unpack_labelled(data)
        for real, c in zip(self.real_batches(images), self.real_batches(labels)):
            batch = tf.shape(real)[0]
            c_fake = self.sample_labels(batch)
            fake = self.generator([self.latents(batch), c_fake], training=True)
            with tf.GradientTape() as tape:
                real_source, real_class = self.discriminator(real, training=True)
                fake_source, fake_class = self.discriminator(fake, training=True)
                d_class = auxiliary_classifier_loss(real_class, c) + auxiliary_classifier_loss(fake_class, c_fake)
                d_loss = minimax_discriminator_loss(real_source, fake_source) + self.class_loss_weight * d_class
            self.apply_gradients(self.d_optimizer, tape, d_loss, self.discriminator_variables)
        c_fake = self.sample_labels(batch)
        with tf.GradientTape() as tape:
            fake_source, fake_class = self.discriminator(
                self.generator([self.latents(batch), c_fake], training=True), training=True)
            g_class = auxiliary_classifier_loss(fake_class, c_fake)
            g_loss = non_saturating_generator_loss(fake_source) + self.class_loss_weight * g_class
        self.apply_gradients(self.g_optimizer, tape, g_loss, self.generator_variables)
        self.update_ema()
        return self.track(d_loss=d_loss, g_loss=g_loss, d_class_loss=d_class, g_class_loss=g_class)
