"""WGAN: Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN" (arXiv:1701.07875).

Code name -> paper (Algorithm 1):
    discriminator        the critic f_w (linear output, no sigmoid)
    clip_value           c = 0.01, weights clipped to [-c, c] after each critic update
    discriminator_steps  n_critic = 5
    optimizers           RMSProp(alpha = 5e-5) for both, as the authors' code runs it:
                         torch.optim.RMSprop(lr=5e-5), whose squared-gradient average
                         decays by 0.99 (Keras's default rho is 0.9) and whose step is
                         g / (sqrt(v) + 1e-8). Keras divides by sqrt(v + epsilon)
                         instead, so epsilon = 1e-16 = (1e-8)^2 gives the same step for
                         large and vanishing v (within a factor sqrt(2) in between);
                         Keras's default epsilon 1e-7 would floor sqrt(v) at ~3e-4.
    batch_size           m = 64
The critic is the DCGAN discriminator (with batch norm, as in the paper's
experiments). The reference code's extra schedule (100 critic steps for the
first 25 generator steps and every 500th) is not applied: Algorithm 1 is.

Element spec: ``images`` ``(B, H, W, C)`` in [-1, 1] with H = W = 4 * 2^k, or
a tuple whose first entry is that. Each ``fit`` step consumes
``discriminator_steps * m`` examples (see :meth:`GANModel.real_batches`).
"""

import tensorflow as tf
import keras
from keras import ops

from tfgan_models.losses import wasserstein_discriminator_loss, wasserstein_generator_loss
from tfgan_models.models.dcgan import dcgan_discriminator, dcgan_generator
from tfgan_models.models.gan import GRID25, RING8, fill_networks
from tfgan_models.models.gan_model import GANModel
from tfgan_models.registry import optimizer, register_variant

# The authors' optimizer, torch.optim.RMSprop(lr=5e-5): alpha (Keras's rho) 0.99, eps 1e-8 outside
# the square root, i.e. Keras's epsilon (under the root) 1e-16 (see the module docstring).
RMSPROP = optimizer("RMSprop", learning_rate=5e-5, rho=0.99, epsilon=1e-16)
PRESETS = {
    # paper: DCGAN networks at 64x64, m = 64, n_critic = 5, c = 0.01, RMSProp 5e-5 as PyTorch runs it
    "paper": dict(data="digits", data_shape=(64, 64, 1), latent_dim=100, width=64, batch_size=64, epochs=25,
                  g_optimizer=RMSPROP, d_optimizer=RMSPROP),
    # demo: 32x32 embedded digits, a larger learning rate to fit a CPU budget
    "demo": dict(data="digits", data_shape=(32, 32, 1), latent_dim=64, width=32, batch_size=64, epochs=40,
                 g_optimizer=optimizer("RMSprop", learning_rate=2e-4),
                 d_optimizer=optimizer("RMSprop", learning_rate=2e-4)),
    # tiny: test size
    "tiny": dict(data="digits", data_shape=(8, 8, 1), latent_dim=8, width=4, batch_size=8, epochs=1,
                 steps_per_epoch=2),
    "ring8": dict(RING8),
    "grid25": dict(GRID25),
}


@keras.saving.register_keras_serializable(package="tfgan_models")
@register_variant("wgan", PRESETS)
class WGAN(GANModel):
    """Wasserstein GAN with weight clipping (Arjovsky et al. 2017).

    Args:
        data_shape, latent_dim, width: as for :class:`~tfgan_models.models.dcgan.DCGAN`.
        clip_value: c, the weight-clipping bound (0.01).
        discriminator_steps: n_critic (5).
        generator, discriminator: optional networks replacing the defaults.
        **kwargs: ``ema_decay``, ``seed``; see :class:`GANModel`.
    """

    loss_names = ("d_loss", "g_loss", "wasserstein_estimate")
    jit_compile_note = "XLA ran at 0.38x the plain step on CPU at demo size (docs/bench/xla.json)"

    def __init__(self, data_shape=(64, 64, 3), latent_dim=100, width=64, clip_value=0.01,
                 discriminator_steps=5, packing=1, generator=None, discriminator=None, **kwargs):
        generator, discriminator = fill_networks(
            generator, discriminator, data_shape, latent_dim,
            lambda d_shape: (dcgan_generator(data_shape, latent_dim, width), dcgan_discriminator(d_shape, width)),
            packing)
        super().__init__(generator=generator, discriminator=discriminator, data_shape=data_shape,
                         latent_dim=latent_dim, discriminator_steps=discriminator_steps, packing=packing, **kwargs)
        self.width = width
        self.clip_value = float(clip_value)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "clip_value": self.clip_value}

    def default_optimizers(self):
        # torch.optim.RMSprop's defaults, as in the authors' code (see the module docstring).
        return (keras.optimizers.RMSprop(5e-5, rho=0.99, epsilon=1e-16),
                keras.optimizers.RMSprop(5e-5, rho=0.99, epsilon=1e-16))

    def train_step(self, data):
        # 1. n_critic times, on fresh real data: descend E[f(G(z))] - E[f(x)], then clip w to [-c, c].
        # 2. G step: descend -E[f(G(z))].
        # 3. EMA update (if enabled); report losses and the estimate E[f(x)] - E[f(G(z))].
        for real in self.real_batches(self.unpack_real(data)):
            batch = tf.shape(real)[0]
            fake = self.generator(self.latents(batch), training=True)
            with tf.GradientTape() as tape:
                d_loss = wasserstein_discriminator_loss(
                    self.judge(real), self.judge(fake))
            self.apply_gradients(self.d_optimizer, tape, d_loss, self.discriminator_variables)
            for w in self.discriminator_variables:
                w.assign(ops.clip(w, -self.clip_value, self.clip_value))
        with tf.GradientTape() as tape:
            fake = self.generator(self.latents(batch), training=True)
            g_loss = wasserstein_generator_loss(self.judge(fake))
        self.apply_gradients(self.g_optimizer, tape, g_loss, self.generator_variables)
        self.update_ema()
        return self.track(d_loss=d_loss, g_loss=g_loss, wasserstein_estimate=-d_loss)
