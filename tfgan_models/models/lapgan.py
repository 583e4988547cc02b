"""LAPGAN: Denton, Chintala, Szlam & Fergus 2015, "Deep Generative Image Models using a Laplacian Pyramid
of Adversarial Networks" (NIPS; arXiv:1506.05751). Authors' code: ``facebook/eyescream`` (Torch),
``cifar/scripts/train_cifar.lua`` (base level), ``cifar/scripts/train_cifar_coarse_to_fine.lua``
(conditional levels), ``cifar/scripts/train_cifar_coarse_to_fine_classcond.lua`` (CC-LAPGAN),
``cifar/train/conditional_adversarial.lua`` (the training loop).

Levels run coarse to fine: level 0 (the base) makes the low-pass image ``I~_K`` at H / 2^K (8x8 for 32x32
and K = ``levels`` = 2); level j >= 1 is the paper's pyramid level k = K - j at H / 2^k.

Code name -> paper (sec. 2.3 the method, sec. 3 the networks):
    level0 (generator)      G_K: MLP z -> I~_K (linear output, as ``model_G`` of train_cifar.lua)
    level0 (discriminator)  D_K: MLP with ReLU and dropout; ``model_D`` of train_cifar.lua
    level{j} (generator)    G_k(z_k, l_k) -> the band-pass h~_k: [noise plane, l_k] -> conv 7x7 ReLU -> conv 7x7
                            ReLU -> conv 5x5 (linear); the noise is "a 4th colour plane" (``JoinTable``)
    level{j} (discriminator)  D_k(h, l_k): conv 5x5 (valid) ReLU -> conv 5x5 stride 2 ReLU -> dropout -> linear
    noise_{j}               z_k ~ U(-1, 1), one plane (B, s, s, 1) as ``noise_inputs:uniform(-1, 1)``
    up_{j}                  u(.): x2 bilinear; l_k = u(I_{k+1})
    image_{j}               I~_k = u(I~_{k+1}) + h~_k (sec. 2.3), clipped to [-1, 1]
    labels                  CC-LAPGAN's class c: one-hot -> linear -> ReLU -> one s x s plane concatenated to the
                            first layer's input (sec. 3, classcond script); the base MLPs concatenate the one-hot
    g_hidden, d_hidden      the base MLP widths (paper: 1200 and 600 units)
    g_width, d_width        ``hidden_G`` / ``hidden_D`` of the conv levels (64)

Training (sec. 2.3, 3): every level is an independent conditional GAN (BCE, non-saturating G loss) trained
on the *real* pyramid of the data, so the levels are phases (:meth:`phases`), each with fresh optimizers;
sampling chains them coarse to fine. D's BCE averages over the half-real, half-fake minibatch like the
code's ``BCECriterion``.

Where the paper and the code differ, followed: D_k takes ``h + l`` (the code's ``CAddTable``; the paper
describes D conditioned on l, which the sum also gives, D_k(h, l) here taking both); the 2-level 8 -> 16 -> 32
CIFAR pyramid of the code (the paper crops to 28 and goes 8 -> 14 -> 28); SGD lr 0.02 with momentum 0.5
(the default and ``paper`` optimizers). Followed the paper: d(.) is a Gaussian (binomial) blur + decimation
(:mod:`tfgan_models.layers.pyramid`; the code's ``image.scale`` is bilinear), the base MLP uses ReLU in both
hidden layers (train_cifar.lua has a Sigmoid after the second; its classcond script and the paper use ReLU)
with the paper's 1200 / 600 units (the script's 8000 / 1600 defaults are its 32x32 GAN's).
Differences of this port: pixels are in [-1, 1] (the code standardises each channel) and the chain clips
every I~_k to [-1, 1], the range of real low-pass images; G_K's output stays linear as the code's (D_K sees
it unclipped: a tanh, slow to reach MNIST's flat -1 background, let D_K win within a few hundred steps).
The base MLPs start from Keras's Glorot init: the code's N(0, 0.05) (G) / N(0, 0.005) (D) suits its SGD on
standardised CIFAR, but with Adam on MNIST it left D_K at chance and G_K collapsed; the conv levels keep
Torch's default init, as the code. The momentum ramp to 0.7 and the lr decay by 1.000004 per epoch are left
out (constant Keras SGD momentum; the decay is negligible), as are the Parzen-window model selection and
the 28x28 crops.

Element spec: images ``(B, H, W, C)`` in [-1, 1] at full resolution in every phase (a tuple's first entry);
``(images, labels int (B,))`` when ``num_classes`` is set.
"""

import itertools

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from tfgan_models.inputs import GeneratorInput
from tfgan_models.layers import OneHot
from tfgan_models.layers.pyramid import downsample, gaussian_pyramid, upsample
from tfgan_models.losses import minimax_discriminator_loss, non_saturating_generator_loss
from tfgan_models.models.conditional import ConditionalGANModel
from tfgan_models.models.gan_model import GANModel
from tfgan_models.models.generative import Phase
from tfgan_models.registry import optimizer, register_variant

MIN_BASE = 5  # a conditional D's two 5x5 valid convs need >= 9 pixels at level 1 (= 2 x base size)


def _torch_init():  # Torch's default: U(+-1 / sqrt(fan_in)), as the code's conv layers
    return keras.initializers.VarianceScaling(1.0 / 3.0, "fan_in", "uniform")


def _label_plane(labels, num_classes, size, name):
    """CC-LAPGAN: one-hot c -> linear -> ReLU -> one (h, w, 1) plane (the classcond script's ``class1/2``)."""
    h = keras.layers.Dense(size[0] * size[1], activation="relu", name=f"{name}_dense")(OneHot(num_classes)(labels))
    return keras.layers.Reshape((*size, 1), name=f"{name}_plane")(h)


def base_networks(shape, latent_dim, g_hidden, d_hidden, num_classes=None):
    """(G_K([z, labels?]) -> I~_K (linear), D_K([I_K, labels?]) -> logits (B, 1)): the MLPs of sec. 3."""
    z, images = keras.Input((latent_dim,), name="z"), keras.Input(shape, name="images")
    labels = [keras.Input((), dtype="int32", name="labels")] if num_classes else []
    onehot = lambda: [OneHot(num_classes)(labels[0])] if num_classes else []  # noqa: E731
    h = keras.layers.Concatenate()([z, *onehot()]) if num_classes else z
    for i in (1, 2):
        h = keras.layers.Dense(g_hidden, activation="relu", name=f"hidden_{i}")(h)
    x = keras.layers.Dense(int(np.prod(shape)), name="low_pass")(h)  # linear, as the code
    g = keras.Model([z, *labels], keras.layers.Reshape(shape)(x), name="level0")
    h = keras.layers.Flatten()(images)
    h = keras.layers.Concatenate()([h, *onehot()]) if num_classes else h
    for i in (1, 2):
        h = keras.layers.Dense(d_hidden, activation="relu", name=f"hidden_{i}")(h)
        h = keras.layers.Dropout(0.5)(h)
    d = keras.Model([images, *labels], keras.layers.Dense(1, name="logit")(h), name="level0")
    return g, d


def level_networks(size, channels, g_width, d_width, num_classes, name):
    """(G_k([noise, l, labels?]) -> h~_k, D_k([h, l, labels?]) -> logits (B, 1)) at ``size`` = (h, w)."""
    noise, coarse = keras.Input((*size, 1), name="noise"), keras.Input((*size, channels), name="coarse")
    band = keras.Input((*size, channels), name="band")
    labels = [keras.Input((), dtype="int32", name="labels")] if num_classes else []
    plane = lambda n: [_label_plane(labels[0], num_classes, size, n)] if num_classes else []  # noqa: E731
    conv = lambda c, k, s=1, p="same", a="relu": keras.layers.Conv2D(  # noqa: E731
        c, k, s, p, activation=a, kernel_initializer=_torch_init())
    h = keras.layers.Concatenate()([noise, *plane("class"), coarse])  # z as a 4th colour plane
    h = conv(channels, 5, a=None)(conv(g_width, 7)(conv(g_width, 7)(h)))
    g = keras.Model([noise, coarse, *labels], h, name=name)
    h = keras.layers.Add(name="reconstruct")([band, coarse])  # the code's CAddTable: D sees l + h
    h = keras.layers.Concatenate()([h, *plane("class")]) if num_classes else h
    h = conv(d_width, 5, 2, "valid")(conv(d_width, 5, p="valid")(h))
    h = keras.layers.Dropout(0.5)(keras.layers.Flatten()(h))
    d = keras.Model([band, coarse, *labels], keras.layers.Dense(1, name="logit")(h), name=name)
    return g, d


def lapgan_networks(data_shape, levels, latent_dim, g_hidden, d_hidden, g_width, d_width, num_classes=None):
    """The sampling chain (one generator: [z, noise_1..noise_K, labels?] -> I~_0) and the per-level Ds in one
    model ([I_K, (h, l) per level, labels?] -> [logits per level])."""
    c, sizes = data_shape[2], [tuple(s // 2 ** (levels - j) for s in data_shape[:2]) for j in range(levels + 1)]
    g0, d0 = base_networks((*sizes[0], c), latent_dim, g_hidden, d_hidden, num_classes)
    nets = [(g0, d0)] + [level_networks(sizes[j], c, g_width, d_width, num_classes, f"level{j}")
                         for j in range(1, levels + 1)]
    z = keras.Input((latent_dim,), name="z")
    noises = [keras.Input((*sizes[j], 1), name=f"noise_{j}") for j in range(1, levels + 1)]
    labels = [keras.Input((), dtype="int32", name="labels")] if num_classes else []
    # hard_tanh = clip to [-1, 1], the range of real low-pass images (TFLite: fused into ADD / MIN+MAX); unlike
    # a tanh it leaves I~_k = l + h~ exact wherever that is in range
    image = keras.layers.Activation("hard_tanh", name="image_0")(g0([z, *labels]))
    for j in range(1, levels + 1):  # sec. 2.3: I~_k = u(I~_{k+1}) + G_k(z_k, u(I~_{k+1}))
        coarse = keras.layers.UpSampling2D(2, interpolation="bilinear", name=f"up_{j}")(image)
        band = nets[j][0]([noises[j - 1], coarse, *labels])
        image = keras.layers.Activation("hard_tanh", name=f"image_{j}")(keras.layers.Add()([coarse, band]))
    generator = keras.Model([z, *noises, *labels], image, name="generator")
    real = [keras.Input((*sizes[0], c), name="level0_image")]
    real += [keras.Input((*sizes[j], c), name=f"level{j}_{part}") for j in range(1, levels + 1)
             for part in ("band", "coarse")]
    logits = [d0([real[0], *labels])] + [nets[j][1]([real[2 * j - 1], real[2 * j], *labels])
                                         for j in range(1, levels + 1)]
    return generator, keras.Model([*real, *labels], logits, name="discriminator")


class _RequiresLabels:
    """``model.requires_labels``: True for CC-LAPGAN (``num_classes`` set). False on the class itself, whose
    instances may go either way (the run settings then take labels only when asked)."""

    def __get__(self, model, owner=None):
        return model is not None and model.num_classes is not None


SGD = optimizer("SGD", learning_rate=0.02, momentum=0.5)
G_ADAM, D_ADAM = (optimizer("Adam", learning_rate=lr, beta_1=0.5) for lr in (2e-4, 4e-4))
PRESETS = {
    # paper: CIFAR-10 32x32, 8 -> 16 -> 32, base MLPs 1200 / 600 (paper), conv widths 64 (the code's hidden_G/D),
    # z 100-d U(-1, 1), batch 128, SGD lr 0.02 momentum 0.5 (the code); 100 epochs a level (the code runs until
    # stopped and keeps the best Parzen score)
    "paper": dict(data="tfds:cifar10", data_shape=(32, 32, 3), levels=2, latent_dim=100, g_hidden=1200, d_hidden=600,
                  g_width=64, d_width=64, level_epochs=(100, 100, 100), batch_size=128, epochs=300,
                  g_optimizer=SGD, d_optimizer=SGD),
    # demo: MNIST 32x32, 8 -> 16 -> 32, the paper's base MLPs, conv widths 32; 2400 / 1200 / 1200 steps a level.
    # Adam (beta_1 0.5): the code's SGD (tuned over days of CIFAR epochs) has barely started in CPU minutes;
    # D at 4e-4, G at 2e-4: at equal rates the dropout MLP D_K stayed near chance and the base samples blurred
    "demo": dict(data="mnist", data_shape=(32, 32, 1), levels=2, latent_dim=100, g_hidden=1200, d_hidden=600,
                 g_width=32, d_width=32, level_epochs=(6, 3, 3), phase_steps=400, batch_size=64, epochs=12,
                 g_optimizer=G_ADAM, d_optimizer=D_ADAM),
    # tiny: test size
    "tiny": dict(data="digits", data_shape=(32, 32, 1), levels=2, latent_dim=8, g_hidden=16, d_hidden=16, g_width=4,
                 d_width=4, level_epochs=1, phase_steps=2, batch_size=8, epochs=3),
}


@keras.saving.register_keras_serializable(package="tfgan_models")
@register_variant("lapgan", PRESETS)
class LAPGAN(GANModel):
    """LAPGAN (Denton et al. 2015): a coarse-to-fine chain of conditional GANs over a Laplacian pyramid.

    Args:
        data_shape: ``(H, W, C)``; H and W divisible by 2^levels, with a base of >= 5 pixels.
        levels: K, the conditional levels (the base is at H / 2^K): 2 for 8 -> 16 -> 32.
        latent_dim: size of z (the base's noise); z_prior: ``"uniform"`` (U(-1, 1), the code) or ``"normal"``.
        g_hidden, d_hidden: units of the base MLPs; g_width, d_width: channels of the conv levels.
        num_classes: None, or the classes of CC-LAPGAN (then the data come with labels).
        level_epochs: epochs of each level's phase (one int for all, or one per level, base first);
        phase_steps: steps per epoch (None: one pass over the data).
        level: the level being trained (recorded so a model saved mid-phase reloads its optimizers).
        generator, discriminator: networks as :func:`lapgan_networks` builds them.
    """
    jit_compile_note = "XLA ran at 0.66x the plain step on CPU at demo size (docs/bench/xla.json)"

    phase_epoch_keys = ("level_epochs", "phase_steps")  # tfgan train --set level_epochs=[2,2,4]
    requires_labels = _RequiresLabels()

    def __init__(self, data_shape=(32, 32, 3), levels=2, latent_dim=100, g_hidden=1200, d_hidden=600, g_width=64,
                 d_width=64, num_classes=None, z_prior="uniform", level_epochs=1, phase_steps=None, level=0,
                 generator=None, discriminator=None, **kwargs):
        data_shape = tuple(int(d) for d in data_shape)
        if len(data_shape) != 3:
            raise ValueError(f"data_shape must be (H, W, C), received {data_shape}.")
        if isinstance(levels, bool) or int(levels) != levels or not 1 <= levels <= 8:
            raise ValueError(f"levels must be an integer from 1 to 8, received {levels!r}.")
        levels = int(levels)
        if any(s % 2 ** levels or s // 2 ** levels < MIN_BASE for s in data_shape[:2]):
            raise ValueError(f"levels={levels} needs H and W divisible by {2 ** levels} with a base of at least "
                             f"{MIN_BASE} pixels (H / 2^levels); received data_shape {data_shape}.")
        if num_classes is not None and int(num_classes) < 2:
            raise ValueError(f"num_classes must be None or >= 2, received {num_classes!r}.")
        epochs = [level_epochs] * (levels + 1) if np.ndim(level_epochs) == 0 else list(level_epochs)
        if len(epochs) != levels + 1 or any(int(e) != e or e < 1 for e in epochs):
            raise ValueError(f"level_epochs must be an integer >= 1 or {levels + 1} of them (base first), "
                             f"received {level_epochs!r}.")
        if phase_steps is not None and int(phase_steps) < 1:
            raise ValueError(f"phase_steps must be None or >= 1, received {phase_steps!r}.")
        if int(level) != level or not 0 <= level <= levels:
            raise ValueError(f"level must be an integer from 0 to {levels}, received {level!r}.")
        if min(latent_dim, g_hidden, d_hidden, g_width, d_width) < 1:
            raise ValueError("latent_dim, g_hidden, d_hidden, g_width and d_width must be >= 1, received "
                             f"{latent_dim}, {g_hidden}, {d_hidden}, {g_width}, {d_width}.")
        self.levels, self.num_classes = levels, None if num_classes is None else int(num_classes)
        self.widths = dict(g_hidden=int(g_hidden), d_hidden=int(d_hidden), g_width=int(g_width), d_width=int(d_width))
        self.level_epochs, self.level = [int(e) for e in epochs], int(level)
        self.phase_steps = None if phase_steps is None else int(phase_steps)
        if generator is None or discriminator is None:
            g, d = lapgan_networks(data_shape, levels, int(latent_dim), num_classes=self.num_classes, **self.widths)
            generator, discriminator = generator or g, discriminator or d
        super().__init__(generator=generator, discriminator=discriminator, data_shape=data_shape,
                         latent_dim=latent_dim, z_prior=z_prior, **kwargs)

    def get_config(self):
        return {**super().get_config(), "levels": self.levels, **self.widths, "num_classes": self.num_classes,
                "level_epochs": list(self.level_epochs), "phase_steps": self.phase_steps, "level": self.level}

    def default_optimizers(self):  # the code's SGD (lr 0.02, momentum 0.5) for G and D
        return tuple(keras.optimizers.SGD(0.02, momentum=0.5) for _ in range(2))

    def size(self, j):
        """(h, w) of level j (0: the base)."""
        return tuple(s // 2 ** (self.levels - j) for s in self.data_shape[:2])

    def generator_inputs(self):
        """``[z, noise_1, ..., noise_K (U(-1, 1) planes, coarse to fine), labels (CC-LAPGAN)]``."""
        noise = [GeneratorInput.uniform(f"noise_{j}", (*self.size(j), 1), role="noise")
                 for j in range(1, self.levels + 1)]
        labels = [GeneratorInput.categorical("labels", self.num_classes, cycle=True)] if self.num_classes else []
        return super().generator_inputs() + noise + labels

    def discriminator_input_shapes(self):
        c = self.data_shape[-1]
        parts = [(*self.size(j), c) for j in range(1, self.levels + 1) for _ in range(2)]
        return [(*self.size(0), c), *parts] + ([()] if self.num_classes else [])

    # --------------------------------------------------------------- levels
    def phases(self):
        return [Phase(f"level{j}", self.level_epochs[j], self.phase_steps, reset_optimizers=True,
                      settings={"level": j}) for j in range(self.levels + 1)]

    def enter_phase(self, phase):
        self.level = int(phase.settings["level"])

    def level_generator(self, j, generator=None):
        return (generator or self.generator).get_layer(f"level{j}")

    def level_discriminator(self, j):
        return self.discriminator.get_layer(f"level{j}")

    @property
    def generator_variables(self):  # only the level being trained: the levels are independent GANs
        return self.level_generator(self.level).trainable_variables

    @property
    def discriminator_variables(self):
        return self.level_discriminator(self.level).trainable_variables

    def level_pair(self, images):
        """The current level's real pair: ``(I_K, [])`` for the base, else ``(h_k, [l_k])``, l_k = u(I_{k+1})."""
        fine = gaussian_pyramid(images, self.levels - self.level)[-1]  # I_k, k = K - j
        if self.level == 0:
            return fine, []
        coarse = upsample(downsample(fine))
        return fine - coarse, [coarse]

    def fake(self, coarse, labels, batch):
        """G_j's output for the real coarse images (level j >= 1) or z (the base), training mode."""
        first = self.latents(batch) if self.level == 0 else self.draw(self.generator_inputs()[self.level], batch)
        return self.level_generator(self.level)([first, *coarse, *labels], training=True)

    # ----------------------------------------------------------------- step
    def train_step(self, data):
        # 1. The current level's real pair from the Gaussian pyramid of the full-resolution batch: the low-pass
        #    I_K for the base; l_k = u(I_{k+1}) (the *real* coarse image) and h_k = I_k - l_k for level j = K - k.
        # 2. D_j step(s) on fresh real data: BCE of D_j(h_k, l_k) -> 1 and D_j(G_j(z_k, l_k), l_k) -> 0, averaged
        #    over the half-real, half-fake minibatch (the code's criterion).
        # 3. G_j step: non-saturating -log D_j(G_j(z_k, l_k), l_k). The other levels' networks do not move.
        # 4. EMA update (if enabled); report the losses.
        if self.num_classes:  # (images, labels), checked like the other conditional variants
            images, labels = ConditionalGANModel.unpack_labelled(self, data)
            chunks = zip(self.real_batches(images), self.real_batches(labels))
        else:
            chunks = zip(self.real_batches(self.unpack_real(data)), itertools.repeat(None))
        d = self.level_discriminator(self.level)
        for x, y in chunks:
            labels, batch = [] if y is None else [y], ops.shape(x)[0]
            real, coarse = self.level_pair(x)
            fake = self.fake(coarse, labels, batch)
            with tf.GradientTape() as tape:
                d_loss = 0.5 * minimax_discriminator_loss(d([real, *coarse, *labels], training=True),
                                                          d([fake, *coarse, *labels], training=True))
            self.apply_gradients("discriminator", tape, d_loss)
        with tf.GradientTape() as tape:
            g_loss = non_saturating_generator_loss(d([self.fake(coarse, labels, batch), *coarse, *labels],
                                                     training=True))
        self.apply_gradients("generator", tape, g_loss)
        self.update_ema()
        return self.track(d_loss=d_loss, g_loss=g_loss)

    # ------------------------------------------------------------- sampling
    def generate_levels(self, n=None, seed=None, **inputs):
        """``[I~_K, ..., I~_0]``: float32 arrays in [-1, 1], coarsest first, each at its own size; the chain
        :meth:`generate` runs (the same seed and inputs give the same last image)."""
        g = self.inference_generator
        chain = keras.Model(g.inputs, [g.get_layer(f"image_{j}").output for j in range(self.levels + 1)])
        arrays = self.generator_arrays(n, seed=seed, **inputs)
        return [ops.convert_to_numpy(x).astype("float32") for x in chain(arrays, training=False)]
