"""WGAN-GP: Gulrajani et al. 2017, "Improved Training of Wasserstein GANs"
(arXiv:1704.00028).

Code name -> paper (Algorithm 1):
    discriminator        the critic D (linear output, no batch norm: layer norm, sec. 4)
    gradient_penalty_weight  lambda = 10
    discriminator_steps  n_critic = 5
    optimizers           Adam(alpha = 1e-4, beta_1 = 0, beta_2 = 0.9)
    epsilon              ~ U[0, 1], one per sample, for x_hat = eps x + (1 - eps) x_tilde
The points presets follow the authors' toy script (lambda = 0.1, Adam beta_1 = 0.5).
The ``paper`` preset is the DCGAN-style 64x64 setting (with layer norm in the
critic) of the paper's architecture comparison; the paper's headline CIFAR-10
and LSUN results use residual networks (the authors' ``gan_64x64.py`` /
``gan_cifar_resnet.py``), not built here. Data: the embedded digits (offline).

Element spec: ``images`` ``(B, H, W, C)`` in [-1, 1] with H = W = 4 * 2^k, or
a tuple whose first entry is that. Each ``fit`` step consumes
``discriminator_steps * m`` examples (see :meth:`GANModel.real_batches`).
"""

import tensorflow as tf
import keras

from tfgan_models.losses import gradient_penalty, wasserstein_discriminator_loss, wasserstein_generator_loss
from tfgan_models.models.dcgan import dcgan_discriminator, dcgan_generator
from tfgan_models.models.gan import GRID25, RING8, fill_networks
from tfgan_models.models.gan_model import GANModel
from tfgan_models.registry import optimizer, register_variant

TOY_ADAM = optimizer("Adam", learning_rate=1e-4, beta_1=0.5, beta_2=0.9)
PRESETS = {
    # paper: DCGAN-style networks at 64x64 with layer norm in the critic, batch 64
    "paper": dict(data="digits", data_shape=(64, 64, 1), latent_dim=128, width=64, batch_size=64, epochs=25),
    # demo: 32x32 embedded digits, a few CPU minutes
    "demo": dict(data="digits", data_shape=(32, 32, 1), latent_dim=64, width=32, batch_size=64, epochs=40),
    # tiny: test size
    "tiny": dict(data="digits", data_shape=(8, 8, 1), latent_dim=8, width=4, batch_size=8, epochs=1,
                 steps_per_epoch=2),
    "ring8": dict(RING8, gradient_penalty_weight=0.1, g_optimizer=TOY_ADAM, d_optimizer=TOY_ADAM),
    "grid25": dict(GRID25, gradient_penalty_weight=0.1, g_optimizer=TOY_ADAM, d_optimizer=TOY_ADAM),
}


@keras.saving.register_keras_serializable(package="tfgan_models")
@register_variant("wgan_gp", PRESETS)
class WGANGP(GANModel):
    """Wasserstein GAN with gradient penalty (Gulrajani et al. 2017).

    Args:
        data_shape, latent_dim, width: as for :class:`~tfgan_models.models.dcgan.DCGAN`.
        gradient_penalty_weight: lambda (10).
        discriminator_steps: n_critic (5).
        generator, discriminator: optional networks replacing the defaults.
        **kwargs: ``ema_decay``, ``seed``; see :class:`GANModel`.
    """

    loss_names = ("d_loss", "g_loss", "gradient_penalty", "wasserstein_estimate")
    jit_compile_note = "XLA ran at 1.01x the plain step on CPU at demo size (docs/bench/xla.json)"

    def __init__(self, data_shape=(64, 64, 3), latent_dim=128, width=64, gradient_penalty_weight=10.0,
                 discriminator_steps=5, packing=1, generator=None, discriminator=None, **kwargs):
        generator, discriminator = fill_networks(
            generator, discriminator, data_shape, latent_dim,
            lambda d_shape: (dcgan_generator(data_shape, latent_dim, width),
                             dcgan_discriminator(d_shape, width, norm="layer")), packing)
        super().__init__(generator=generator, discriminator=discriminator, data_shape=data_shape,
                         latent_dim=latent_dim, discriminator_steps=discriminator_steps, packing=packing, **kwargs)
        self.width = width
        self.gradient_penalty_weight = float(gradient_penalty_weight)

    def get_config(self):
        return {**super().get_config(), "width": self.width,
                "gradient_penalty_weight": self.gradient_penalty_weight}

    def default_optimizers(self):
        return (keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9),
                keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9))

    def train_step(self, data):
        # 1. n_critic times, on fresh real data:
        #    descend D(x_tilde) - D(x) + lambda (||grad D(x_hat)||_2 - 1)^2.
        # 2. G step: descend -D(G(z)).
        # 3. EMA update (if enabled); report losses and the estimate E[D(x)] - E[D(G(z))].
        for real in self.real_batches(self.unpack_real(data)):
            batch = tf.shape(real)[0]
            fake = self.generator(self.latents(batch), training=True)
            epsilon = self.noise((batch // self.packing,), distribution="uniform")  # one per D input
            with tf.GradientTape() as tape:
                wasserstein = wasserstein_discriminator_loss(
                    self.judge(real), self.judge(fake))
                penalty = gradient_penalty(self.discriminator, self.pack(real), self.pack(fake), epsilon=epsilon,
                                           loss_scale=self.loss_scale(self.d_optimizer))
                d_loss = wasserstein + self.gradient_penalty_weight * penalty
            self.apply_gradients(self.d_optimizer, tape, d_loss, self.discriminator_variables)
        with tf.GradientTape() as tape:
            fake = self.generator(self.latents(batch), training=True)
            g_loss = wasserstein_generator_loss(self.judge(fake))
        self.apply_gradients(self.g_optimizer, tape, g_loss, self.generator_variables)
        self.update_ema()
        return self.track(d_loss=d_loss, g_loss=g_loss, gradient_penalty=penalty,
                          wasserstein_estimate=-wasserstein)
