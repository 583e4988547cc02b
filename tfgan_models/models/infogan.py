"""InfoGAN: Chen et al. 2016, "InfoGAN: Interpretable Representation Learning
by Information Maximizing Generative Adversarial Nets" (arXiv:1606.03657).

Code name -> paper:
    z                    incompressible noise (62-d for MNIST); U(-1, 1) in the authors' code
                         (``Uniform(62)`` in run_mnist_exp.py), used by the ``paper`` preset
                         (``z_prior="uniform"``); the demo keeps N(0, I)
    categorical code     c_1 ~ Cat(K = 10), fed one-hot
    continuous codes     c_2, c_3 ~ U(-1, 1)
    discriminator        D and Q share one body (sec. 6): outputs [D logits,
                         Q categorical logits, Q continuous means]
    info_weight          lambda in min_{G,Q} max_D V(D, G) - lambda L_I(G, Q)  (eq. 5), = 1
    L_I                  variational lower bound on I(c; G(z, c)) (eq. 4): the
                         categorical log-likelihood plus, for continuous codes, a
                         factored Gaussian with FIXED unit variance (as the authors'
                         code for MNIST); constants dropped.
Both D's optimizer (which owns Q's head) and G's optimizer descend lambda * (-L_I),
as in the authors' code. Networks follow appendix C.1 (MNIST), adapted to
H x W = 4k x 4k (``architecture="paper"``); the CPU demo uses DCGAN networks in
the same roles (``"dcgan"``). Adam with lr 2e-4 for D and 1e-3 for G, beta_1 0.5.

Element spec: ``images`` ``(B, H, W, C)`` in [-1, 1] (labels, if present, are ignored:
InfoGAN is unsupervised). Sampling: ``generate(n, codes={"categorical": (n,) ints,
"continuous": (n, C) floats})``; missing codes are drawn from their priors with
``seed`` (0 when None, so a given z always gives the same sample).
"""

import numpy as np
import tensorflow as tf
import keras

from tfgan_models.inputs import GeneratorInput
from tfgan_models.layers import OneHot
from tfgan_models.models.dcgan import dcgan_discriminator, dcgan_generator
from tfgan_models.losses import (
    categorical_code_loss,
    gaussian_code_loss,
    minimax_discriminator_loss,
    non_saturating_generator_loss,
)
from tfgan_models.models.gan_model import GANModel
from tfgan_models.registry import register_variant


def _bn_act(x, act):
    return act(keras.layers.BatchNormalization()(x))


def infogan_generator(data_shape, latent_dim, num_categories, num_continuous, width=64, hidden=1024,
                      name="generator"):
    """[z, categorical, continuous] -> images: FC hidden, FC (H/4)(W/4)(2 width), up width, up C.

    Appendix C.1 has width 64 and hidden 1024.
    """
    h, w, c = data_shape
    if h % 4 or w % 4:
        raise ValueError(f"InfoGAN networks need H and W divisible by 4; received {h}x{w}.")
    z = keras.Input((latent_dim,), name="z")
    cat = keras.Input((), dtype="int32", name="categorical")
    cont = keras.Input((num_continuous,), name="continuous")
    x = keras.layers.Concatenate()([z, OneHot(num_categories, name="onehot")(cat), cont])
    x = _bn_act(keras.layers.Dense(hidden, use_bias=False)(x), keras.layers.ReLU())
    x = _bn_act(keras.layers.Dense((h // 4) * (w // 4) * 2 * width, use_bias=False)(x), keras.layers.ReLU())
    x = keras.layers.Reshape((h // 4, w // 4, 2 * width))(x)
    x = _bn_act(keras.layers.Conv2DTranspose(width, 4, 2, "same", use_bias=False)(x), keras.layers.ReLU())
    images = keras.layers.Conv2DTranspose(c, 4, 2, "same", activation="tanh", dtype="float32", name="images")(x)
    return keras.Model([z, cat, cont], images, name=name)


def infogan_discriminator(data_shape, num_categories, num_continuous, width=64, hidden=1024,
                          name="discriminator"):
    """images -> [D logits (B, 1), Q categorical logits (B, K), Q continuous means (B, C)].

    Shared body: conv width, conv 2 width, FC hidden; Q adds FC 128 (App. C.1).
    """
    images = keras.Input(tuple(data_shape), name="images")
    x = keras.layers.LeakyReLU(0.1)(keras.layers.Conv2D(width, 4, 2, "same")(images))
    x = _bn_act(keras.layers.Conv2D(2 * width, 4, 2, "same", use_bias=False)(x), keras.layers.LeakyReLU(0.1))
    x = _bn_act(keras.layers.Dense(hidden, use_bias=False)(keras.layers.Flatten()(x)), keras.layers.LeakyReLU(0.1))
    logits = keras.layers.Dense(1, dtype="float32", name="logits")(x)
    q = _bn_act(keras.layers.Dense(128, use_bias=False, name="q_hidden")(x), keras.layers.LeakyReLU(0.1))
    q_categorical = keras.layers.Dense(num_categories, name="q_categorical")(q)
    q_continuous = keras.layers.Dense(num_continuous, name="q_continuous")(q)
    return keras.Model(images, [logits, q_categorical, q_continuous], name=name)


def infogan_dcgan_networks(data_shape, latent_dim, num_categories, num_continuous, width):
    """DCGAN networks in InfoGAN's roles: G on [z, onehot(c_1), c_2..], D/Q sharing DCGAN's body.

    Q's head is the paper's (FC 128, BN, LeakyReLU). On the small embedded
    digits these train faster and more stably than the appendix networks,
    whose 1024-unit FC layers overfit 1,797 images (see the conditional bench).
    """
    z = keras.Input((latent_dim,), name="z")
    cat = keras.Input((), dtype="int32", name="categorical")
    cont = keras.Input((num_continuous,), name="continuous")
    body = dcgan_generator(data_shape, latent_dim + num_categories + num_continuous, width, name="dcgan_generator")
    images = body(keras.layers.Concatenate()([z, OneHot(num_categories, name="onehot")(cat), cont]))
    generator = keras.Model([z, cat, cont], images, name="generator")
    critic = dcgan_discriminator(data_shape, width, name="dcgan_discriminator")
    q = _bn_act(keras.layers.Dense(128, use_bias=False, name="q_hidden")(critic.get_layer("features").output),
                keras.layers.LeakyReLU(0.1))
    outputs = [critic.output, keras.layers.Dense(num_categories, name="q_categorical")(q),
               keras.layers.Dense(num_continuous, name="q_continuous")(q)]
    return generator, keras.Model(critic.input, outputs, name="discriminator")


PRESETS = {
    # paper: MNIST setting (62-d z, one 10-way and two continuous codes, batch 64)
    "paper": dict(data="mnist", data_shape=(28, 28, 1), latent_dim=62, z_prior="uniform", batch_size=64, epochs=50),
    # demo: DCGAN networks (width 64) on 16x16 embedded digits (twice their 8x8 resolution, 4x cheaper
    # per step than 32x32, so 10.5k steps fit in a few CPU minutes: categorical codes need them)
    "demo": dict(data="digits", data_shape=(16, 16, 1), latent_dim=62, architecture="dcgan", width=64,
                 batch_size=64, epochs=375),
    # tiny: test size
    "tiny": dict(data="digits", data_shape=(8, 8, 1), latent_dim=4, num_categories=3, num_continuous=1,
                 width=4, hidden=16, batch_size=8, epochs=1, steps_per_epoch=2),
}


@keras.saving.register_keras_serializable(package="tfgan_models")
@register_variant("infogan", PRESETS)
class InfoGAN(GANModel):
    """InfoGAN (Chen et al. 2016): a GAN whose codes c stay recoverable by Q.

    Args:
        data_shape: ``(H, W, C)`` with H, W divisible by 4.
        latent_dim: size of the incompressible noise z ~ N(0, I) (62).
        num_categories: size of the categorical code (10).
        num_continuous: number of continuous codes ~ U(-1, 1) (2).
        architecture: ``"paper"`` (appendix C.1 networks) or ``"dcgan"`` (DCGAN networks, used by
            the CPU demo).
        width, hidden: conv channels and FC units of the networks (64, 1024 in the paper).
        info_weight: lambda (1).
        generator, discriminator: optional networks with the signatures above.
        **kwargs: ``discriminator_steps``, ``ema_decay``, ``seed``; see :class:`GANModel`.
    """

    loss_names = ("d_loss", "g_loss", "info_loss")
    jit_compile_auto = True  # XLA 1.19x on CPU at demo size (docs/bench/xla.json)

    def __init__(self, data_shape=(28, 28, 1), latent_dim=62, num_categories=10, num_continuous=2,
                 architecture="paper", width=64, hidden=1024, info_weight=1.0, generator=None, discriminator=None,
                 **kwargs):
        if architecture not in ("paper", "dcgan"):
            raise ValueError(f"architecture must be 'paper' or 'dcgan', received {architecture!r}.")
        self._codes = (int(num_categories), int(num_continuous))
        if architecture == "dcgan" and (generator is None or discriminator is None):
            g, d = infogan_dcgan_networks(data_shape, latent_dim, num_categories, num_continuous, width)
            generator = generator if generator is not None else g
            discriminator = discriminator if discriminator is not None else d
        if generator is None:
            generator = infogan_generator(data_shape, latent_dim, num_categories, num_continuous, width, hidden)
        if discriminator is None:
            discriminator = infogan_discriminator(data_shape, num_categories, num_continuous, width, hidden)
        super().__init__(generator=generator, discriminator=discriminator, data_shape=data_shape,
                         latent_dim=latent_dim, **kwargs)
        self.num_categories, self.num_continuous = self._codes
        self.architecture, self.width, self.hidden = architecture, width, hidden
        self.info_weight = float(info_weight)

    def get_config(self):
        return {**super().get_config(), "num_categories": self.num_categories, "width": self.width,
                "architecture": self.architecture,
                "hidden": self.hidden, "num_continuous": self.num_continuous, "info_weight": self.info_weight}

    def generator_inputs(self):
        """``[z, categorical c_1 ~ Cat(K), continuous c_2.. ~ U(-1, 1)]``."""
        return super().generator_inputs() + [GeneratorInput.categorical("categorical", self._codes[0]),
                                             GeneratorInput.uniform("continuous", self._codes[1])]

    def default_optimizers(self):
        return keras.optimizers.Adam(1e-3, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5)

    def sample_codes(self, batch):
        """c_1 ~ Cat(K) and c_2.. ~ U(-1, 1), drawn like all noise (replica-exact)."""
        _, categorical, continuous = self.generator_inputs()
        return self.draw(categorical, batch), self.draw(continuous, batch)

    def info_loss(self, q_categorical, q_continuous, categorical, continuous):
        """-L_I up to a constant: categorical NLL plus fixed-variance Gaussian NLL."""
        return categorical_code_loss(q_categorical, categorical) + gaussian_code_loss(q_continuous, continuous)

    def generate(self, n=None, seed=None, batch_size=256, codes=None, **inputs):
        """As :meth:`GenerativeModel.generate`; ``codes={"categorical": (n,), "continuous": (n, C)}``
        is short for the two inputs by name."""
        codes = dict(codes or {})
        unknown = set(codes) - {"categorical", "continuous"}
        if unknown:
            raise ValueError(f"codes has keys 'categorical' and 'continuous'; received {sorted(unknown)}.")
        return super().generate(n, seed=seed, batch_size=batch_size, **codes, **inputs)

    def traversal(self, code="categorical", rows=1, seed=0, steps=10):
        """A latent-traversal grid as in the paper's Fig. 2: one row per fixed z.

        ``code="categorical"``: columns are the K categories (continuous codes at 0).
        ``code="continuous:I"``: columns vary code I over [-2, 2] in ``steps``
        steps (beyond the prior's [-1, 1], as the paper shows), the categorical
        code set to the row index mod K and the other continuous codes at 0.
        Returns ``(samples, columns)``.
        """
        rows = int(rows)
        z = self.generator_arrays(rows, seed=seed)[0]
        if code == "categorical":
            cols = self.num_categories
            categorical = np.tile(np.arange(cols), rows)
            continuous = np.zeros((rows * cols, self.num_continuous), "float32")
        elif code.startswith("continuous:") and code.split(":", 1)[1].isdigit() \
                and int(code.split(":", 1)[1]) < self.num_continuous:
            cols, index = int(steps), int(code.split(":", 1)[1])
            categorical = np.repeat(np.arange(rows) % self.num_categories, cols)
            continuous = np.zeros((rows * cols, self.num_continuous), "float32")
            continuous[:, index] = np.tile(np.linspace(-2.0, 2.0, cols), rows)
        else:
            raise ValueError(f"InfoGAN traverses 'categorical' or 'continuous:I' with I < {self.num_continuous}; "
                             f"received {code!r}.")
        z = np.repeat(z, cols, axis=0)
        return self.generate(z=z, codes={"categorical": categorical, "continuous": continuous}), cols

    def train_step(self, data):
        # 1. D step(s) on fresh real x: descend -V(D, G) + lambda * (-L_I) on G(z, c), c ~ p(c) (Q trains here).
        # 2. G step: descend -log D(G(z, c)) + lambda * (-L_I).
        # 3. EMA update (if enabled); report the losses and -L_I.
        for real in self.real_batches(self.unpack_real(data)):
            batch = tf.shape(real)[0]
            categorical, continuous = self.sample_codes(batch)
            fake = self.generator([self.latents(batch), categorical, continuous], training=True)
            with tf.GradientTape() as tape:
                real_logits, _, _ = self.discriminator(real, training=True)
                fake_logits, q_cat, q_cont = self.discriminator(fake, training=True)
                info = self.info_loss(q_cat, q_cont, categorical, continuous)
                d_loss = minimax_discriminator_loss(real_logits, fake_logits) + self.info_weight * info
            self.apply_gradients(self.d_optimizer, tape, d_loss, self.discriminator_variables)
        categorical, continuous = self.sample_codes(batch)
        with tf.GradientTape() as tape:
            fake = self.generator([self.latents(batch), categorical, continuous], training=True)
            fake_logits, q_cat, q_cont = self.discriminator(fake, training=True)
            info = self.info_loss(q_cat, q_cont, categorical, continuous)
            g_loss = non_saturating_generator_loss(fake_logits) + self.info_weight * info
        self.apply_gradients(self.g_optimizer, tape, g_loss, self.generator_variables)
        self.update_ema()
        return self.track(d_loss=d_loss, g_loss=g_loss, info_loss=info)
