"""Progressive GAN: Karras, Aila, Laine & Lehtinen 2017, "Progressive Growing of GANs for Improved Quality,
Stability, and Variation" (ICLR 2018; arXiv:1710.10196). Authors' code: ``tkarras/progressive_growing_of_gans``
(``networks.py`` G_paper / D_paper, ``loss.py`` G_wgan_acgan / D_wgangp_acgan, ``train.py`` TrainingSchedule /
process_reals, ``config.py``).

Code name -> paper / authors' code:
    progan_generator, progan_discriminator  G_paper, D_paper with ``structure='linear'`` (Table 2): one network
                      at the final resolution holding every resolution's block, toRGB and fromRGB
    LevelOfDetail     the networks' non-trainable ``lod`` variable: halvings from the final resolution,
                      fractional while a new block fades in (sec. 2, Fig. 2: alpha = 1 - (lod - floor(lod)))
    LerpClip          ``lerp_clip`` of the ``Grow_lod%d`` scopes: G blends toRGB(new block) with the nearest-
                      upsampled image below; D blends the new block's output with fromRGB(2x2-average-pooled x)
    block_RxR, to_rgb_lodL, from_rgb_lodL   the code's "%dx%d", ToRGB_lod%d, FromRGB_lod%d scopes
    nf(stage)         min(fmap_base / 2^stage, fmap_max) feature maps
    process_reals     FadeLOD + UpscaleLOD: reals downscaled to the lod and blended with their 2x2 average by
                      the same alpha as G and D (sec. 2, Fig. 2)
    stable_images, fade_images   lod_training_kimg, lod_transition_kimg (x 1000); final_images: what total_kimg
                      leaves for the last stabilise phase; minibatch_base, minibatch_dict: the code's
    gradient_penalty_weight, drift_weight   wgan_lambda = 10, wgan_epsilon = eps_drift = 0.001 (sec. A.1)
    ema_decay         G_smoothing = 0.999 (the code's Gs)

Followed the TF code where it differs from the paper: 600k images per phase (the paper says 800k), the
v2 1-GPU minibatch dict, Adam state reset at *every* phase boundary (``reset_opt_for_new_lod`` resets when
floor(lod) or ceil(lod) changes: at the start of each fade and of each stabilise phase). Nearest upsampling
+ conv and conv + 2x2 average pooling are the code's ``fused_scale=False`` forms (its fused ones compute the
same). Left out: the AC-GAN label term, mirror augmentation, ``minibatch_repeats`` (lod moves every step here),
per-resolution learning rates (the 1-GPU preset changes only 1024x1024). The networks are built in the linear
structure (one static graph: what export needs); the training step runs them in the recursive structure
(only the blocks at and below the current resolution), which computes the same.

Element spec: images ``(B, H, W, C)`` in [-1, 1] at the final resolution, H = W a power of 2 >= 4, or a
tuple whose first entry is that. Every phase sees full-resolution data; the step brings it to the lod.
"""

import contextlib
import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from tfgan_models.layers.style import BiasActivation, EqualizedConv2D, EqualizedDense, MinibatchStdDev, PixelNorm
from tfgan_models.losses import gradient_penalty
from tfgan_models.models.gan_model import GANModel
from tfgan_models.models.generative import Phase
from tfgan_models.registry import optimizer, register_variant


@keras.saving.register_keras_serializable(package="tfgan_models")
class LevelOfDetail(keras.layers.Layer):
    """Holds the network's ``lod`` (a non-trainable scalar weight, so checkpoints keep it); outputs it as
    a ``(1, 1, 1, 1)`` tensor that broadcasts over NHWC (the input only anchors it in the graph)."""

    def build(self, input_shape):
        self.lod = self.add_weight(shape=(), name="lod", initializer="zeros", trainable=False,
                                   aggregation="only_first_replica")

    def call(self, reference):
        return ops.reshape(ops.cast(self.lod, self.compute_dtype), (1, 1, 1, 1))

    def compute_output_shape(self, input_shape):
        return (1, 1, 1, 1)


@keras.saving.register_keras_serializable(package="tfgan_models")
class LerpClip(keras.layers.Layer):
    """``[new, old, lod] -> new + (old - new) * clip(lod - level, 0, 1)`` (``networks.py:lerp_clip``)."""

    def __init__(self, level, **kwargs):
        super().__init__(**kwargs)
        self.level = int(level)

    def call(self, inputs):
        new, old, lod = inputs
        return new + (old - new) * ops.clip(lod - float(self.level), 0.0, 1.0)

    def compute_output_shape(self, input_shapes):
        return tuple(input_shapes[0])

    def get_config(self):
        return {**super().get_config(), "level": self.level}


def _lrelu(x):
    return keras.layers.LeakyReLU(0.2)(x)


def _conv(x, filters, kernel=3, pixel_norm=False):
    """Equalized conv + bias, LeakyReLU 0.2, and PixelNorm after every generator conv (sec. 4.2)."""
    x = _lrelu(EqualizedConv2D(filters, kernel)(x))
    return PixelNorm()(x) if pixel_norm else x


def progan_generator(data_shape, latent_dim, nf):
    """G_paper (linear): z -> ``data_shape`` image, the lod's toRGB nearest-upsampled to full size."""
    final, channels = int(math.log2(data_shape[0])), int(data_shape[-1])
    z = keras.Input((int(latent_dim),), name="z")
    lod = LevelOfDetail(name="lod")(z)
    h_in = keras.Input((int(latent_dim),))
    h = EqualizedDense(16 * nf(1), gain=math.sqrt(2) / 4, use_bias=False)(PixelNorm()(h_in))  # normalize_latents
    h = PixelNorm()(BiasActivation("lrelu", gain=1.0)(keras.layers.Reshape((4, 4, nf(1)))(h)))
    x = keras.Model(h_in, _conv(h, nf(1), pixel_norm=True), name="block_4x4")(z)
    images = EqualizedConv2D(channels, 1, gain=1.0, name=f"to_rgb_lod{final - 2}")(x)
    for res in range(3, final + 1):
        level, h_in = final - res, keras.Input(tuple(x.shape[1:]))
        h = keras.layers.UpSampling2D(2, interpolation="nearest")(h_in)
        h = _conv(_conv(h, nf(res - 1), pixel_norm=True), nf(res - 1), pixel_norm=True)
        x = keras.Model(h_in, h, name=f"block_{2 ** res}x{2 ** res}")(x)
        image = EqualizedConv2D(channels, 1, gain=1.0, name=f"to_rgb_lod{level}")(x)
        images = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"upscale_lod{level}")(images)
        images = LerpClip(level, name=f"grow_lod{level}")([image, images, lod])
    return keras.Model(z, images, name="generator")


def progan_discriminator(data_shape, nf, mbstd_group_size=4):
    """D_paper (linear): image -> score ``(B, 1)``, reading the lod's resolution through its fromRGB."""
    final = int(math.log2(data_shape[0]))

    def from_rgb(res):
        x_in = keras.Input((2 ** res, 2 ** res, int(data_shape[-1])))
        return keras.Model(x_in, _conv(x_in, nf(res - 1), kernel=1), name=f"from_rgb_lod{final - res}")

    images = keras.Input(tuple(data_shape), name="images")
    lod = LevelOfDetail(name="lod")(images)
    x, small = from_rgb(final)(images), images
    for res in range(final, 2, -1):
        level, h_in = final - res, keras.Input(tuple(x.shape[1:]))
        h = keras.layers.AveragePooling2D(2)(_conv(_conv(h_in, nf(res - 1)), nf(res - 2)))
        x = keras.Model(h_in, h, name=f"block_{2 ** res}x{2 ** res}")(x)
        small = keras.layers.AveragePooling2D(2, name=f"downscale_lod{level}")(small)
        x = LerpClip(level, name=f"grow_lod{level}")([x, from_rgb(res - 1)(small), lod])
    h_in = keras.Input(tuple(x.shape[1:]))
    h = _conv(MinibatchStdDev(mbstd_group_size)(h_in), nf(1))
    h = EqualizedDense(1, gain=1.0)(_lrelu(EqualizedDense(nf(0))(keras.layers.Flatten()(h))))
    return keras.Model(images, keras.Model(h_in, h, name="block_4x4")(x), name="discriminator")


def process_reals(x, lod, level=None):
    """``train.py:process_reals`` on full-size reals: average-pool 2^level (the dataset's lod level),
    ``x = lerp(x, upsample(avgpool2(x)), lod - level)`` (FadeLOD), nearest-upsample 2^level (UpscaleLOD).

    ``level`` defaults to floor(lod) (``lod`` then a number); a fade passes its stage's level, so the
    pooling stays static while ``lod - level`` runs from 1 to 0.
    """
    level = int(math.floor(lod)) if level is None else int(level)
    size = 2 ** level
    x = tf.nn.avg_pool2d(x, size, size, "VALID") if level else x
    y = tf.nn.avg_pool2d(x, 2, 2, "VALID")
    y = tf.repeat(tf.repeat(y, 2, axis=1), 2, axis=2)
    x = x + (y - x) * tf.cast(lod - level, x.dtype)
    return tf.repeat(tf.repeat(x, size, axis=1), size, axis=2) if level else x


DEMO_ADAM = optimizer("Adam", learning_rate=5e-3, beta_1=0.0, beta_2=0.99, epsilon=1e-8)
PRESETS = {
    # paper: CIFAR-10 (in the TF code's dataset list), G_paper/D_paper defaults (fmaps 8192 / 2^stage up to 512,
    # latent 512), 600k + 600k images per phase, total_kimg 12000 (the last stabilise phase gets the other 8.4M),
    # config.py preset-v2-1gpu minibatches
    "paper": dict(data="tfds:cifar10", data_shape=(32, 32, 3), latent_dim=512, fmap_base=8192, fmap_max=512,
                  stable_images=600_000, fade_images=600_000, final_images=8_400_000, epoch_images=100_000,
                  minibatch_base=4, minibatch_dict={4: 128, 8: 128, 16: 128, 32: 64}, batch_size=4, epochs=120),
    # demo: MNIST 4 -> 8 -> 16 -> 32, fmaps 64..32, latent 64, 16k images per phase and 32k for the last (128k in
    # all, 8k steps of batch 16; the code shows 600k per phase), about 8 CPU minutes with the recursive step; Adam lr
    # 5e-3, not 1e-3: 1k steps per phase where the code runs 4.7k-9.4k (in a 16x16 MNIST trial, lr 5e-3 at batch 16
    # matched the real pixel statistics better than 1e-3 at batch 32 or 1e-2)
    "demo": dict(data="mnist", data_shape=(32, 32, 1), latent_dim=64, fmap_base=512, fmap_max=64,
                 stable_images=16_000, fade_images=16_000, final_images=32_000, epoch_images=8_000,
                 minibatch_base=16, batch_size=16, epochs=16, g_optimizer=DEMO_ADAM, d_optimizer=DEMO_ADAM),
    # faces: CelebA (tfds:celeb_a, or --data folder:DIR) at 128x128, the code's G_paper/D_paper sizes, 600k + 600k
    # images per phase, 1.2M for the last, the 1-GPU minibatch dict; for a GPU (days on this CPU)
    "faces": dict(data="tfds:celeb_a", data_shape=(128, 128, 3), latent_dim=512, fmap_base=8192, fmap_max=512,
                  stable_images=600_000, fade_images=600_000, final_images=1_200_000, epoch_images=100_000,
                  minibatch_base=16, minibatch_dict={4: 128, 8: 128, 16: 128, 32: 64, 64: 32, 128: 16},
                  batch_size=16, epochs=72),
    # tiny: test size, 4 -> 8, two steps per phase
    "tiny": dict(data="digits", data_shape=(8, 8, 1), latent_dim=8, fmap_base=32, fmap_max=16,
                 stable_images=16, fade_images=16, epoch_images=16, minibatch_base=8, batch_size=8, epochs=3),
}
IMAGE_COUNTS = ("stable_images", "fade_images", "final_images", "epoch_images")


@keras.saving.register_keras_serializable(package="tfgan_models")
@register_variant("progan", PRESETS)
class ProGAN(GANModel):
    """Progressive GAN (Karras et al. 2017): WGAN-GP + drift, growing G and D from ``start_resolution``.

    Args:
        data_shape: the final ``(H, H, C)``, H a power of 2 >= 4; latent_dim: z (pixel-normalised in G).
        fmap_base, fmap_max: nf(stage) = min(fmap_base / 2^stage, fmap_max); mbstd_group_size: D's group.
        start_resolution: the first resolution (lod_initial_resolution).
        stable_images, fade_images: real images per stabilise and per fade phase; final_images: the last
            stabilise phase (None: stable_images); epoch_images: images per Keras epoch (a checkpoint and a
            sample grid each); minibatch_dict: batch size per resolution, others minibatch_base (the phases
            set their batch sizes: a run's batch_size is not used).
        gradient_penalty_weight, drift_weight: lambda and eps_drift; discriminator_steps: D_repeats (1).
        phase: the phase being trained (see :meth:`phases`; default the first), recorded in the config.
        generator, discriminator: replacements for the defaults; they must hold a :class:`LevelOfDetail` layer
            named ``lod`` (and G the ``block_RxR`` / ``to_rgb_lodL`` layers for :meth:`generate_levels`).
        Defaults: the authors' code (G_paper, D_paper, TrainingSchedule, train_progressive_gan).
    """

    loss_names = ("d_loss", "g_loss", "gradient_penalty", "drift", "wasserstein_estimate", "lod")
    jit_compile_auto = True  # XLA 2.43x on CPU at demo size (docs/bench/xla.json)
    phase_epoch_keys = IMAGE_COUNTS  # tfgan train --set stable_images=N ...: each phase has its own budget

    def __init__(self, data_shape=(32, 32, 3), latent_dim=512, fmap_base=8192, fmap_max=512, mbstd_group_size=4,
                 start_resolution=4, stable_images=600_000, fade_images=600_000, final_images=None,
                 epoch_images=100_000, minibatch_base=16, minibatch_dict=None, gradient_penalty_weight=10.0,
                 drift_weight=0.001, discriminator_steps=1, phase=None, ema_decay=0.999, generator=None,
                 discriminator=None, **kwargs):
        size = int(data_shape[0])
        if len(data_shape) != 3 or size != int(data_shape[1]) or size < 4 or size & (size - 1):
            raise ValueError(f"data_shape must be (H, H, C) with H a power of 2 >= 4, received {tuple(data_shape)}.")
        self.resolutions = [2 ** r for r in range(2, int(math.log2(size)) + 1)]
        if int(start_resolution) not in self.resolutions:
            raise ValueError(f"start_resolution must be one of {self.resolutions}, received {start_resolution!r}.")
        sizes = dict(zip(IMAGE_COUNTS, (stable_images, fade_images, final_images, epoch_images)),
                     fmap_base=fmap_base, fmap_max=fmap_max, latent_dim=latent_dim, mbstd_group_size=mbstd_group_size,
                     minibatch_base=minibatch_base)
        for key, value in sizes.items():
            if value is not None and int(value) < 1 or value is None and key != "final_images":
                raise ValueError(f"{key} must be an integer >= 1, received {value!r}.")
        minibatch_dict = {int(k): int(v) for k, v in dict(minibatch_dict or {}).items()}
        if not set(minibatch_dict) <= set(self.resolutions) or min(minibatch_dict.values(), default=1) < 1:
            raise ValueError(f"minibatch_dict maps resolutions {self.resolutions} to batch sizes >= 1, received "
                             f"{minibatch_dict}.")
        if float(gradient_penalty_weight) < 0 or float(drift_weight) < 0:
            raise ValueError(f"gradient_penalty_weight and drift_weight must be >= 0, received "
                             f"{gradient_penalty_weight!r}, {drift_weight!r}.")
        for key in ("fmap_base", "fmap_max", "mbstd_group_size", "minibatch_base", *IMAGE_COUNTS):
            setattr(self, key, None if sizes[key] is None else int(sizes[key]))
        self.start_resolution, self.minibatch_dict = int(start_resolution), minibatch_dict
        self.gradient_penalty_weight, self.drift_weight = float(gradient_penalty_weight), float(drift_weight)
        names = [p.name for p in self.phases()]
        self.phase = names[0] if phase is None else phase
        if self.phase not in names:
            raise ValueError(f"phase must be one of {', '.join(names)}; received {phase!r}.")
        generator = generator or progan_generator(data_shape, latent_dim, self.nf)
        discriminator = discriminator or progan_discriminator(data_shape, self.nf, self.mbstd_group_size)
        super().__init__(generator=generator, discriminator=discriminator, data_shape=data_shape,
                         latent_dim=latent_dim, discriminator_steps=discriminator_steps, ema_decay=ema_decay, **kwargs)
        # Real images shown in the current phase: drives alpha; a weight, so model.save / BackupAndRestore keep it.
        self.images_seen = self.add_weight(shape=(), name="images_seen", initializer="zeros", trainable=False,
                                           aggregation="only_first_replica")

    def nf(self, stage):
        return min(int(self.fmap_base / 2.0 ** stage), self.fmap_max)

    def get_config(self):
        keys = ("fmap_base", "fmap_max", "mbstd_group_size", "start_resolution", "minibatch_base", *IMAGE_COUNTS,
                "gradient_penalty_weight", "drift_weight", "phase")
        return {**super().get_config(), **{k: getattr(self, k) for k in keys},
                "minibatch_dict": {str(k): v for k, v in sorted(self.minibatch_dict.items())}}

    def default_optimizers(self):
        return (keras.optimizers.Adam(1e-3, beta_1=0.0, beta_2=0.99, epsilon=1e-8),
                keras.optimizers.Adam(1e-3, beta_1=0.0, beta_2=0.99, epsilon=1e-8))

    # -------------------------------------------------------------- phases
    def phases(self):
        """``res4_stable``, then ``resR_fade`` and ``resR_stable`` per resolution R (TrainingSchedule), each
        with fresh Adam state; a phase of N images runs ceil(N / epoch_images) epochs of its batch size."""
        plan, final = [], self.resolutions[-1]
        for res in self.resolutions[self.resolutions.index(self.start_resolution):]:
            if res > self.start_resolution:
                plan.append((f"res{res}_fade", res, True, self.fade_images))
            last = res == final and self.final_images is not None
            plan.append((f"res{res}_stable", res, False, self.final_images if last else self.stable_images))
        phases = []
        for name, res, fade, images in plan:
            batch = self.minibatch_dict.get(res, self.minibatch_base)
            epochs = max(1, math.ceil(images / self.epoch_images))
            steps = math.ceil(images / (epochs * batch))
            phases.append(Phase(name, epochs, steps, batch_size=batch, reset_optimizers=True,
                                settings={"level": int(math.log2(final // res)), "fade": fade}))
        return phases

    def phase_settings(self):
        return next(p.settings for p in self.phases() if p.name == self.phase)

    def enter_phase(self, phase):
        self.phase = phase.name
        self.images_seen.assign(0.0)

    # ----------------------------------------------------------- level of detail
    def fade_alpha(self):
        """alpha of the current fade: images seen in it / fade_images, clipped to [0, 1] (1 when stable)."""
        if not self.phase_settings()["fade"]:
            return ops.convert_to_tensor(1.0)
        return ops.clip(ops.cast(self.images_seen, "float32") / float(self.fade_images), 0.0, 1.0)

    def current_lod(self):
        """The stage's level (halvings from the final resolution), plus 1 - alpha during a fade."""
        return float(self.phase_settings()["level"]) + 1.0 - self.fade_alpha()

    def lod_variables(self, networks=None):
        """The ``lod`` weights of ``networks`` (default G, D and G EMA)."""
        networks = networks or [self.generator, self.discriminator, self.generator_ema]
        return [net.get_layer("lod").lod for net in networks if net is not None]

    def process_reals(self, real, lod):
        return process_reals(real, lod, self.phase_settings()["level"])

    @contextlib.contextmanager
    def level_of_detail(self, lod, networks=None):
        """Sets ``lod`` on ``networks`` (default G, D and G EMA) inside a ``with`` block, then restores theirs."""
        if not 0.0 <= float(lod) <= len(self.resolutions) - 1:
            raise ValueError(f"lod must be in [0, {len(self.resolutions) - 1}], received {lod!r}.")
        variables = self.lod_variables(networks)
        saved = [v.numpy() for v in variables]
        try:
            for v in variables:
                v.assign(float(lod))
            yield
        finally:
            for v, value in zip(variables, saved):
                v.assign(value)

    # ----------------------------------------------- the recursive structure
    # G and D of the linear structure compute every block at every lod. The step instead runs only the blocks
    # of the current resolution and below (the authors' structure='recursive'), with the same weights and the
    # same full-size inputs and outputs: G's image is nearest-upsampled to full size and D average-pools its
    # input first, so the losses and the gradient penalty (taken w.r.t. the full-size x_hat, as the code's)
    # are the linear networks' (tested equal), at a fraction of the cost in the low-resolution phases.
    def grown_generator(self, z, level, blend, training=True):
        """G at resolution final / 2^level; ``blend`` = lod - level (1 - alpha; 0 when stable)."""
        net, x, old = self.generator, z, None
        for res in self.resolutions[: len(self.resolutions) - level]:
            if res == self.resolutions[-1 - level] and level + 1 < len(self.resolutions):
                old = net.get_layer(f"to_rgb_lod{level + 1}")(x)
            x = net.get_layer(f"block_{res}x{res}")(x, training=training)
        image = net.get_layer(f"to_rgb_lod{level}")(x)
        if old is not None:
            image = image + (tf.repeat(tf.repeat(old, 2, axis=1), 2, axis=2) - image) * blend
        size = 2 ** level
        return tf.repeat(tf.repeat(image, size, axis=1), size, axis=2) if level else image

    def grown_discriminator(self, images, level, blend, training=True):
        """D reading full-size ``images`` at resolution final / 2^level (see :meth:`grown_generator`)."""
        net, size = self.discriminator, 2 ** level
        small = tf.nn.avg_pool2d(images, size, size, "VALID") if level else images
        res = self.resolutions[-1 - level]
        h = net.get_layer(f"from_rgb_lod{level}")(small, training=training)
        if res > 4:
            h = net.get_layer(f"block_{res}x{res}")(h, training=training)
            old = net.get_layer(f"from_rgb_lod{level + 1}")(tf.nn.avg_pool2d(small, 2, 2, "VALID"), training=training)
            h = h + (old - h) * blend
            for lower in reversed(self.resolutions[1 : self.resolutions.index(res)]):
                h = net.get_layer(f"block_{lower}x{lower}")(h, training=training)
        return net.get_layer("block_4x4")(h, training=training)

    def grown_variables(self, network, level):
        """The trainable weights the recursive step reaches at ``level`` (the blocks above it get no gradient)."""
        res = self.resolutions[-1 - level]
        names = {f"block_{r}x{r}" for r in self.resolutions if r <= res} | {
            f"{kind}_lod{lv}" for kind in ("to_rgb", "from_rgb") for lv in (level, level + 1)}
        return [v for layer in network.layers if layer.name in names for v in layer.trainable_variables]

    # ---------------------------------------------------------------- step
    def train_step(self, data):
        # 1. lod of this step: the stage's level, + 1 - alpha in a fade (alpha from images seen, never from u);
        #    the same lod goes to G, D and G EMA before any forward pass.
        # 2. Reals brought to that lod (process_reals): pooled, faded with the same alpha, upsampled back.
        # 3. D step (D_repeats times): D(G(z)) - D(x) + lambda (||grad D(x_hat)|| - 1)^2 + eps_drift D(x)^2,
        #    x_hat = lerp(x, G(z), u) with its own u ~ U(0, 1) per sample.
        # 4. G step: -D(G(z)) on fresh z. 5. EMA of G; count the images; report.
        lod = self.current_lod()
        for v in self.lod_variables():
            v.assign(lod)
        level = self.phase_settings()["level"]
        blend = ops.cast(lod, "float32") - float(level)
        generator = lambda z, training=True: self.grown_generator(z, level, blend, training)  # noqa: E731
        discriminator = lambda x, training=True: self.grown_discriminator(x, level, blend, training)  # noqa: E731
        for real in self.real_batches(self.unpack_real(data)):
            real = self.process_reals(real, lod)
            batch = tf.shape(real)[0]
            fake = generator(self.latents(batch))
            u = self.noise((batch,), distribution="uniform")
            with tf.GradientTape() as tape:
                real_scores = discriminator(real)
                wasserstein = ops.mean(discriminator(fake)) - ops.mean(real_scores)
                penalty = gradient_penalty(discriminator, real, fake, epsilon=u,
                                           loss_scale=self.loss_scale("discriminator"))
                drift = ops.mean(ops.square(real_scores))
                d_loss = wasserstein + self.gradient_penalty_weight * penalty + self.drift_weight * drift
            self.apply_gradients("discriminator", tape, d_loss, self.grown_variables(self.discriminator, level))
            self.images_seen.assign_add(ops.cast(batch * tf.distribute.get_replica_context().num_replicas_in_sync,
                                                 "float32"))
        with tf.GradientTape() as tape:
            g_loss = -ops.mean(discriminator(generator(self.latents(batch))))
        self.apply_gradients("generator", tape, g_loss, self.grown_variables(self.generator, level))
        self.update_ema()
        return self.track(d_loss=d_loss, g_loss=g_loss, gradient_penalty=penalty, drift=drift,
                          wasserstein_estimate=-wasserstein, lod=lod)

    # ------------------------------------------------------------- sampling
    def generate(self, n=None, seed=None, batch_size=256, truncation=None, lod=None, **inputs):
        """Samples at ``lod``, nearest-upsampled to full size and clipped to [-1, 1] (toRGB is linear; the authors
        clip when saving images). ``lod=None``: the lod being trained, as the authors' snapshots (so sample grids
        show the resolution in training), which is 0, the final resolution, for a new model and after the last
        phase. A given ``lod`` is set for this call only: the training lod is restored afterwards."""
        lod = float(self.inference_generator.get_layer("lod").lod.numpy()) if lod is None else lod
        with self.level_of_detail(lod, [self.inference_generator]):
            samples = super().generate(n, seed=seed, batch_size=batch_size, truncation=truncation, **inputs)
        return np.clip(samples, -1.0, 1.0)

    def generate_levels(self, n=None, seed=None, **inputs):
        """One float32 array in [-1, 1] per resolution, coarsest (4x4) first, each at its own size: the toRGB
        of that resolution's block from the same z (G at that lod without the upsampling, clipped)."""
        z = self.generator_arrays(n, seed=seed, **inputs)[0]
        net, final = self.inference_generator, len(self.resolutions) + 1
        levels, x = [], ops.convert_to_tensor(z)
        for res in self.resolutions:
            x = net.get_layer(f"block_{res}x{res}")(x, training=False)
            rgb = net.get_layer(f"to_rgb_lod{final - int(math.log2(res))}")(x)
            levels.append(np.clip(ops.convert_to_numpy(rgb), -1.0, 1.0).astype("float32"))
        return levels
