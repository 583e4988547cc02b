"""DCGAN: Radford, Metz & Chintala 2015, "Unsupervised Representation Learning
with Deep Convolutional Generative Adversarial Networks" (arXiv:1511.06434).

Architecture guidelines of the paper (sec. 3), as built by :func:`dcgan_generator`
and :func:`dcgan_discriminator`:
    * strided convolutions in D, fractionally-strided (transposed) ones in G;
    * batch norm in both, except G's output layer and D's input layer;
    * no fully connected hidden layers (z is projected and reshaped to 4x4);
    * ReLU in G with tanh output; LeakyReLU(0.2) in D;
    * weights ~ N(0, 0.02); Adam(lr 2e-4, beta_1 0.5); minibatch 128.
The game is the non-saturating GAN of Goodfellow et al. 2014.

The ``paper`` preset draws z ~ U(-1, 1) as the paper and the authors' code
(Newmu/dcgan_code) do (the other presets: N(0, I)). Where it still differs, and
why: batch-norm scales start at 1 (the authors' code draws them from
N(1, 0.02)) and keep Keras's running-average defaults (momentum 0.99, eps 1e-3;
dcgan.torch's are 0.9 and 1e-5 in Keras terms), shared by every DCGAN-family
variant's builder; only inference (``generate``) sees the running averages.
Data: the embedded digits at 64x64 instead of LSUN / ImageNet / faces (offline).

Element spec: ``images`` ``(B, H, W, C)`` in [-1, 1] with H = W = 4 * 2^k, or
a tuple whose first entry is that. 2-D points use the PacGAN MLPs.
"""

import tensorflow as tf
import keras

from tfgan_models.losses import minimax_discriminator_loss, non_saturating_generator_loss
from tfgan_models.models.gan import GRID25, RING8, fill_networks
from tfgan_models.models.gan_model import GANModel
from tfgan_models.registry import register_variant


def _init():
    return keras.initializers.RandomNormal(0.0, 0.02)


def num_upsamplings(data_shape):
    """k such that H = W = 4 * 2^k; a clear error for sizes DCGAN cannot produce."""
    if len(data_shape) != 3:
        raise ValueError(f"DCGAN networks need an image shape (H, W, C), received {tuple(data_shape)}.")
    h, w, _ = data_shape
    k = max(int(h) // 4, 1).bit_length() - 1
    if h != w or h < 8 or h != 4 * 2**k:
        raise ValueError(
            f"DCGAN networks produce square images of 4 * 2^k pixels (8, 16, 32, 64, ...); "
            f"received {h}x{w}."
        )
    return k


def dcgan_generator(data_shape, latent_dim=100, width=64, name="generator", sync_batch_norm=False):
    """z (B, latent_dim) -> images (B, H, W, C) in [-1, 1]; 4x4 with width*2^(k-1) channels first.

    ``sync_batch_norm``: batch statistics over the global batch under ``tf.distribute``
    (``BatchNormalization(synchronized=True)``), not each replica's slice of it.
    """
    k = num_upsamplings(data_shape)
    channels = width * 2 ** (k - 1)
    z = keras.Input((latent_dim,), name="z")
    x = keras.layers.Dense(4 * 4 * channels, use_bias=False, kernel_initializer=_init(), name="project")(z)
    x = keras.layers.Reshape((4, 4, channels))(x)  # (B, 4, 4, width * 2^(k-1))
    x = keras.layers.BatchNormalization(synchronized=sync_batch_norm, name="bn_0")(x)
    x = keras.layers.ReLU()(x)
    for i in range(1, k):
        channels //= 2
        x = keras.layers.Conv2DTranspose(channels, 4, 2, "same", use_bias=False,
                                         kernel_initializer=_init(), name=f"up_{i}")(x)
        x = keras.layers.BatchNormalization(synchronized=sync_batch_norm, name=f"bn_{i}")(x)
        x = keras.layers.ReLU()(x)
    x = keras.layers.Conv2DTranspose(data_shape[-1], 4, 2, "same", kernel_initializer=_init(),
                                     name=f"up_{k}")(x)
    images = keras.layers.Activation("tanh", dtype="float32", name="images")(x)
    return keras.Model(z, images, name=name)


def dcgan_discriminator(data_shape, width=64, norm="batch", dropout=0.0, name="discriminator",
                        sync_batch_norm=False):
    """images (B, H, W, C) -> logits (B, 1); ``norm`` in {"batch", "layer", None}.

    WGAN-GP replaces batch norm by layer norm, since its penalty is per sample;
    AC-GAN adds dropout after each block. The flattened features are the layer
    named ``features``, for variants that add heads (AC-GAN's classifier).
    ``sync_batch_norm``: as in :func:`dcgan_generator`.
    """
    if norm not in ("batch", "layer", None):
        raise ValueError(f"norm must be 'batch', 'layer' or None, received {norm!r}.")
    k = num_upsamplings(data_shape)
    images = keras.Input(tuple(data_shape), name="images")
    x = keras.layers.Conv2D(width, 4, 2, "same", kernel_initializer=_init(), name="down_1")(images)
    x = keras.layers.LeakyReLU(0.2)(x)
    if dropout:
        x = keras.layers.Dropout(dropout)(x)
    channels = width
    for i in range(2, k + 1):
        channels *= 2
        x = keras.layers.Conv2D(channels, 4, 2, "same", use_bias=norm is None,
                                kernel_initializer=_init(), name=f"down_{i}")(x)
        if norm == "batch":
            x = keras.layers.BatchNormalization(synchronized=sync_batch_norm, name=f"bn_{i}")(x)
        elif norm == "layer":
            x = keras.layers.LayerNormalization(axis=[1, 2, 3], name=f"ln_{i}")(x)
        x = keras.layers.LeakyReLU(0.2)(x)
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
    x = keras.layers.Flatten(name="features")(x)  # (B, 4 * 4 * width * 2^(k-1))
    logits = keras.layers.Dense(1, kernel_initializer=_init(), dtype="float32", name="logits")(x)
    return keras.Model(images, logits, name=name)


PRESETS = {
    # paper: 64x64, 1024 channels at 4x4 (Fig. 1), z of 100 ~ U(-1, 1), batch 128
    "paper": dict(data="digits", data_shape=(64, 64, 1), latent_dim=100, z_prior="uniform", width=128,
                  batch_size=128, epochs=25),
    # demo: 32x32 embedded digits, half-width networks, a few CPU minutes. PacGAN packing 2 (Lin et al. 2018): D
    # judges pairs, so a G short of a class is seen; 32 pairs = the 64 images per step of the unpacked recipe (same
    # cost). Unpacked, seed 2 drew 3.7% 1s by the SVM judge (tfgan bench default_job; EMA 0.99-0.999 kept 3.5-3.8%).
    "demo": dict(data="digits", data_shape=(32, 32, 1), latent_dim=64, width=32, packing=2, batch_size=32,
                 epochs=100),
    # tiny: test size
    "tiny": dict(data="digits", data_shape=(8, 8, 1), latent_dim=8, width=4, batch_size=8, epochs=1,
                 steps_per_epoch=2),
    # points: PacGAN's MLPs with DCGAN's optimizer (Adam 2e-4, beta_1 0.5), which is what tells
    # dcgan apart from gan (PacGAN's Adam 1e-4, beta_1 0.8) on 2-D data
    "ring8": dict(RING8),
    "grid25": dict(GRID25),
}


@keras.saving.register_keras_serializable(package="tfgan_models")
@register_variant("dcgan", PRESETS)
class DCGAN(GANModel):
    """Deep convolutional GAN (Radford et al. 2015).

    Args:
        data_shape: ``(H, W, C)`` with H = W = 4 * 2^k, or ``(2,)`` for points.
        latent_dim: size of z ~ N(0, I) (100 in the paper).
        width: channels of D's first layer and G's last hidden layer.
        sync_batch_norm: batch statistics of the global batch under ``tf.distribute`` (synchronised
            across replicas and workers), so N replicas train as one device on the same batch; the
            default normalises each replica's slice (the per-device statistics of most multi-GPU runs).
        generator, discriminator: optional networks replacing the defaults.
        **kwargs: ``discriminator_steps``, ``ema_decay``, ``seed``; see :class:`GANModel`.
    """
    jit_compile_note = "XLA ran at 0.80x the plain step on CPU at demo size (docs/bench/xla.json)"

    def __init__(self, data_shape=(64, 64, 3), latent_dim=100, width=64, sync_batch_norm=False,
                 packing=1, generator=None, discriminator=None, **kwargs):
        generator, discriminator = fill_networks(
            generator, discriminator, data_shape, latent_dim,
            lambda d_shape: (dcgan_generator(data_shape, latent_dim, width, sync_batch_norm=bool(sync_batch_norm)),
                             dcgan_discriminator(d_shape, width, sync_batch_norm=bool(sync_batch_norm))), packing)
        super().__init__(generator=generator, discriminator=discriminator,
                         data_shape=data_shape, latent_dim=latent_dim, packing=packing, **kwargs)
        self.width = width
        self.sync_batch_norm = bool(sync_batch_norm)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "sync_batch_norm": self.sync_batch_norm}

    def train_step(self, data):
        # 1. D step(s) on fresh real data: descend -[log D(x) + log(1 - D(G(z)))].
        # 2. G step: descend the non-saturating loss -log D(G(z)).
        # 3. EMA update (if enabled); report the losses.
        for real in self.real_batches(self.unpack_real(data)):
            batch = tf.shape(real)[0]
            fake = self.generator(self.latents(batch), training=True)
            with tf.GradientTape() as tape:
                d_loss = minimax_discriminator_loss(
                    self.judge(real), self.judge(fake))
            self.apply_gradients(self.d_optimizer, tape, d_loss, self.discriminator_variables)
        with tf.GradientTape() as tape:
            fake = self.generator(self.latents(batch), training=True)
            g_loss = non_saturating_generator_loss(self.judge(fake))
        self.apply_gradients(self.g_optimizer, tape, g_loss, self.generator_variables)
        self.update_ema()
        return self.track(d_loss=d_loss, g_loss=g_loss)
