"""LSGAN: Mao et al. 2017, "Least Squares Generative Adversarial Networks"
(arXiv:1611.04076).

Code name -> paper (eq. 2):
    a   the target D gives fake data
    b   the target D gives real data
    c   the value G wants D to believe for fake data
Defaults are the 0-1 coding a=0, b=1, c=1 (eq. 9) used in the paper's
experiments; a=-1, b=1, c=0 (eq. 8) is the Pearson chi^2 setting. D's output is
linear. Networks are DCGAN's, as in the paper's comparisons with DCGAN;
Adam(2e-4, beta_1 0.5).

The ``paper`` preset is that stability-comparison setting (the authors'
``stability_comparison`` code: DCGAN at 64x64, Adam 2e-4, beta_1 0.5, batch 64).
The paper's LSUN scene results use another network, not built here: 112x112
images, a 1024-d z, VGG-like G and D, Adam 1e-3 (the authors' ``train_lsun.py``).
Their code draws z ~ U(-1, 1), and so does the preset. Data: the embedded
digits instead of LSUN (offline).

Element spec: ``images`` ``(B, H, W, C)`` in [-1, 1] with H = W = 4 * 2^k, or
a tuple whose first entry is that. 2-D points use the PacGAN MLPs.
"""

import tensorflow as tf
import keras

from tfgan_models.losses import least_squares_discriminator_loss, least_squares_generator_loss
from tfgan_models.models.dcgan import dcgan_discriminator, dcgan_generator
from tfgan_models.models.gan import GRID25, PACGAN_ADAM, RING8, fill_networks
from tfgan_models.models.gan_model import GANModel
from tfgan_models.registry import register_variant

PRESETS = {
    # paper: the stability comparison: DCGAN networks at 64x64, z ~ U(-1, 1), 0-1 coding, Adam 2e-4, batch 64
    # (the paper's LSUN-scene network is another one: module docstring)
    "paper": dict(data="digits", data_shape=(64, 64, 1), latent_dim=100, z_prior="uniform", width=64, batch_size=64,
                  epochs=25),
    # demo: 32x32 embedded digits, a few CPU minutes
    "demo": dict(data="digits", data_shape=(32, 32, 1), latent_dim=64, width=32, batch_size=64, epochs=40),
    # tiny: test size
    "tiny": dict(data="digits", data_shape=(8, 8, 1), latent_dim=8, width=4, batch_size=8, epochs=1,
                 steps_per_epoch=2),
    "ring8": dict(RING8, g_optimizer=PACGAN_ADAM, d_optimizer=PACGAN_ADAM),
    "grid25": dict(GRID25, g_optimizer=PACGAN_ADAM, d_optimizer=PACGAN_ADAM),
}


@keras.saving.register_keras_serializable(package="tfgan_models")
@register_variant("lsgan", PRESETS)
class LSGAN(GANModel):
    """Least-squares GAN (Mao et al. 2017).

    Args:
        data_shape, latent_dim, width: as for :class:`~tfgan_models.models.dcgan.DCGAN`.
        a, b, c: the coding of eq. 2 (defaults 0, 1, 1).
        generator, discriminator: optional networks replacing the defaults.
        **kwargs: ``discriminator_steps``, ``ema_decay``, ``seed``; see :class:`GANModel`.
    """
    jit_compile_auto = True  # XLA 1.12x on CPU at demo size (docs/bench/xla.json)

    def __init__(self, data_shape=(64, 64, 3), latent_dim=100, width=64, a=0.0, b=1.0, c=1.0,
                 packing=1, generator=None, discriminator=None, **kwargs):
        generator, discriminator = fill_networks(
            generator, discriminator, data_shape, latent_dim,
            lambda d_shape: (dcgan_generator(data_shape, latent_dim, width), dcgan_discriminator(d_shape, width)),
            packing)
        super().__init__(generator=generator, discriminator=discriminator,
                         data_shape=data_shape, latent_dim=latent_dim, packing=packing, **kwargs)
        self.width = width
        self.a, self.b, self.c = float(a), float(b), float(c)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "a": self.a, "b": self.b, "c": self.c}

    def train_step(self, data):
        # 1. D step(s) on fresh real data: descend 1/2 (D(x) - b)^2 + 1/2 (D(G(z)) - a)^2.
        # 2. G step: descend 1/2 (D(G(z)) - c)^2.
        # 3. EMA update (if enabled); report the losses.
        for real in self.real_batches(self.unpack_real(data)):
            batch = tf.shape(real)[0]
            fake = self.generator(self.latents(batch), training=True)
            with tf.GradientTape() as tape:
                d_loss = least_squares_discriminator_loss(
                    self.judge(real), self.judge(fake),
                    a=self.a, b=self.b)
            self.apply_gradients(self.d_optimizer, tape, d_loss, self.discriminator_variables)
        with tf.GradientTape() as tape:
            fake = self.generator(self.latents(batch), training=True)
            g_loss = least_squares_generator_loss(self.judge(fake), c=self.c)
        self.apply_gradients(self.g_optimizer, tape, g_loss, self.generator_variables)
        self.update_ema()
        return self.track(d_loss=d_loss, g_loss=g_loss)
