"""StackGAN: Zhang, Xu, Li, Zhang, Wang, Huang & Metaxas 2017, "StackGAN: Text to Photo-realistic
Image Synthesis with Stacked Generative Adversarial Networks" (ICCV; arXiv:1612.03242). Authors'
code: ``hanzhanggit/StackGAN`` (TensorFlow, ``stageI/``, ``stageII/``) and ``hanzhanggit/StackGAN-Pytorch``.

Code name -> paper:
    phi               the text embedding phi_t (a char-CNN-RNN inside the generator, :mod:`.text_to_image`)
    ca_1, ca_2        Conditioning Augmentation (sec. 3.1): a dense layer (+ LeakyReLU 0.2, as the TF
                      code) gives mu and log sigma; c = mu + sigma * eps, eps ~ N(0, I) an input of its own
    kl_weight         lambda of the KL(N(mu, sigma) || N(0, I)) term in L_G; 2.0, the value of every
                      shipped config (birds.yml, flowers.yml, coco_s1/s2.yml); the paper says 1
    stage1            Stage-I G (sec. 3.2): [c_1; z] -> dense (no bias) + BN + ReLU to 4x4x(8 ngf) ->
                      up-blocks (nearest x2, conv 3x3, BN, ReLU) -> conv 3x3 -> tanh, at ``stage1_size``
    stage2            Stage-II G (sec. 3.3): the Stage-I image encoded by a conv and two stride-2 convs,
                      c_2 replicated and concatenated, conv 3x3, ``residual_blocks`` residual blocks,
                      up-blocks to ``data_shape`` (4x the encoded size per two up-blocks)
    stage1_discriminator, discriminator   D_0 and D (sec. 3.2-3.3): the matching-aware D of
                      GAN-CLS at each size; L_D = real + (wrong + fake) / 2, as the TF code's
                      ``compute_losses``

Training (sec. 4 and the TF code): three phases, the text encoder (SJE), Stage-I, then Stage-II with
Stage-I frozen (not trained, batch norm in inference mode); Adam 2e-4, beta_1 0.5, batch 64.
Followed the TF code where the two differ: LeakyReLU after the CA dense layer, KL weight 2, D
conditioned on its own projection of phi (the PyTorch port feeds it mu), N(0, I) eps (the TF code
draws a truncated normal). Not included: the PyTorch Stage-II D's extra unconditional logit.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from tfgan_models.inputs import GeneratorInput
from tfgan_models.losses import kl_to_standard_normal, matching_aware_discriminator_loss, non_saturating_generator_loss
from tfgan_models.models.generative import Phase
from tfgan_models.models.text_to_image import TextToImageModel, matching_discriminator, text_generator
from tfgan_models.registry import register_variant


def _bn_relu(h, name):
    return keras.layers.ReLU()(keras.layers.BatchNormalization(name=f"{name}_bn")(h))


def _up_block(h, channels, name):
    """Nearest x2, conv 3x3, BN, ReLU (the official ``upBlock``)."""
    h = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_up")(h)
    return _bn_relu(keras.layers.Conv2D(channels, 3, padding="same", use_bias=False, name=f"{name}_conv")(h), name)


def conditioning_augmentation(embedding_dim, ca_dim, name):
    """phi -> [mu, log sigma] ``(B, 2 ca_dim)``: dense + LeakyReLU 0.2 (TF code)."""
    phi = keras.Input((int(embedding_dim),), name="embedding")
    h = keras.layers.LeakyReLU(0.2)(keras.layers.Dense(2 * int(ca_dim), name="dense")(phi))
    return keras.Model(phi, h, name=name)


@keras.saving.register_keras_serializable(package="tfgan_models")
class AugmentedCondition(keras.layers.Layer):
    """[mu ; log sigma], eps -> c = mu + sigma * eps (sec. 3.1), or mu alone when CA is off (``on=False``)."""

    def __init__(self, on=True, **kwargs):
        super().__init__(**kwargs)
        self.on = bool(on)

    def call(self, params, eps):
        mu, log_sigma = ops.split(params, 2, axis=-1)
        return mu + ops.exp(log_sigma) * eps if self.on else mu

    def compute_output_shape(self, params_shape, eps_shape):
        return tuple(eps_shape)

    def get_config(self):
        return {**super().get_config(), "on": self.on}


def stage1_network(size, latent_dim, embedding_dim, ca_dim, ngf, ca=True):
    """[z, eps_1, phi] -> [Stage-I image (size x size x 3), CA parameters]."""
    z, eps, phi = (keras.Input((int(d),), name=n) for d, n in
                   ((latent_dim, "z"), (ca_dim, "eps_1"), (embedding_dim, "embedding")))
    params = conditioning_augmentation(embedding_dim, ca_dim, "ca_1")(phi)
    c = AugmentedCondition(ca, name="c_1")(params, eps)
    h = keras.layers.Dense(4 * 4 * 8 * ngf, use_bias=False, name="project")(keras.layers.Concatenate()([c, z]))
    h = _bn_relu(keras.layers.Reshape((4, 4, 8 * ngf))(h), "project")
    for i in range(int(np.log2(size // 4))):
        h = _up_block(h, max(8 * ngf // 2 ** (i + 1), 8), f"up_{i}")
    image = keras.layers.Conv2D(3, 3, padding="same", activation="tanh", dtype="float32", name="to_rgb")(h)
    return keras.Model([z, eps, phi], [image, params], name="stage1")


def stage2_network(size1, size, embedding_dim, ca_dim, ngf, residual_blocks, ca=True):
    """[Stage-I image, eps_2, phi] -> [Stage-II image (size x size x 3), CA parameters]."""
    low = keras.Input((size1, size1, 3), name="stage1_image")
    eps, phi = keras.Input((int(ca_dim),), name="eps_2"), keras.Input((int(embedding_dim),), name="embedding")
    params = conditioning_augmentation(embedding_dim, ca_dim, "ca_2")(phi)
    c = AugmentedCondition(ca, name="c_2")(params, eps)
    h = keras.layers.ReLU()(keras.layers.Conv2D(ngf, 3, padding="same", name="encode_0")(low))
    for i, ch in enumerate((2 * ngf, 4 * ngf)):
        name = f"encode_{i + 1}"
        h = _bn_relu(keras.layers.Conv2D(ch, 4, 2, "same", use_bias=False, name=name)(h), name)
    maps = keras.layers.UpSampling2D(size1 // 4, name="replicate")(keras.layers.Reshape((1, 1, int(ca_dim)))(c))
    h = keras.layers.Concatenate()([h, maps])
    h = _bn_relu(keras.layers.Conv2D(4 * ngf, 3, padding="same", use_bias=False, name="joint")(h), "joint")
    for i in range(int(residual_blocks)):
        name = f"res_{i}_a"
        r = _bn_relu(keras.layers.Conv2D(4 * ngf, 3, padding="same", use_bias=False, name=name)(h), name)
        r = keras.layers.BatchNormalization(name=f"res_{i}_b_bn")(
            keras.layers.Conv2D(4 * ngf, 3, padding="same", use_bias=False, name=f"res_{i}_b")(r))
        h = keras.layers.ReLU()(keras.layers.Add()([h, r]))
    for i in range(int(np.log2(size // (size1 // 4)))):
        h = _up_block(h, max(4 * ngf // 2 ** (i + 1), 8), f"up_{i}")
    image = keras.layers.Conv2D(3, 3, padding="same", activation="tanh", dtype="float32", name="to_rgb")(h)
    return keras.Model([low, eps, phi], [image, params], name="stage2")


def stackgan_core(stage1, stage2, latent_dim, embedding_dim, ca_dim):
    """[z, eps_1, eps_2, phi] -> the Stage-II image: the two stages in one graph (for export)."""
    z, e1, e2, phi = (keras.Input((int(d),), name=n) for d, n in
                      ((latent_dim, "z"), (ca_dim, "eps_1"), (ca_dim, "eps_2"), (embedding_dim, "embedding")))
    low, _ = stage1([z, e1, phi])
    return keras.Model([z, e1, e2, phi], stage2([low, e2, phi])[0], name="core")


PRESETS = {
    # paper: Stage-I 64x64, Stage-II 256x256, phi 1024, c 128, ngf 128 (birds GF_DIM), ndf 64, 4 residual
    # blocks (TF), batch 64, 600 + 600 epochs; COCO captions (the paper's COCO IS is 8.45)
    "paper": dict(data="tfds:coco_captions", data_shape=(256, 256, 3), stage1_size=64, latent_dim=100,
                  embedding_dim=1024, ca_dim=128, ngf=128, ndf=64, residual_blocks=4, text_length=201,
                  encoder_filters=(384, 512, 256), encoder_pools=(3, 3, 2), encoder_units=256, encoder_epochs=20,
                  stage1_epochs=600, stage2_epochs=600, batch_size=64, epochs=1220),
    # demo: captioned shapes, Stage-I 16x16 -> Stage-II 32x32, c 32, 2 residual blocks, CPU minutes
    "demo": dict(data="shapes", data_shape=(32, 32, 3), stage1_size=16, latent_dim=32, embedding_dim=64, ca_dim=32,
                 ngf=16, ndf=32, residual_blocks=2, text_length=64, encoder_filters=(64, 64), encoder_pools=(3, 3),
                 encoder_units=64, encoder_epochs=30, stage1_epochs=30, stage2_epochs=20, batch_size=64, epochs=80),
    # tiny: test size
    "tiny": dict(data="shapes", data_shape=(32, 32, 3), stage1_size=16, latent_dim=8, embedding_dim=16, ca_dim=8,
                 ngf=4, ndf=8, residual_blocks=1, text_length=24, encoder_filters=(8,), encoder_pools=(2,),
                 encoder_units=8, encoder_epochs=1, stage1_epochs=1, stage2_epochs=1, phase_steps=2,
                 batch_size=8, epochs=3),
}


@keras.saving.register_keras_serializable(package="tfgan_models")
@register_variant("stackgan", PRESETS)
class StackGAN(TextToImageModel):
    """StackGAN (Zhang et al. 2017): conditioning augmentation and two stacked text-conditional GANs.

    Args:
        data_shape: the Stage-II ``(H, W, 3)``; ``stage1_size``: the Stage-I side (H / stage1_size a power of 2).
        latent_dim, ca_dim: sizes of z and of c (N_c); embedding_dim: of phi(t).
        ngf, ndf, residual_blocks: network widths and Stage-II's residual blocks.
        kl_weight: the KL coefficient (2.0, the official configs); ca: conditioning augmentation on
            (off: c = mu, no KL, for the ablation).
        encoder_epochs, stage1_epochs, stage2_epochs, phase_steps: the three phases (steps per epoch,
            None: one pass over the data).
    """
    jit_compile_note = "XLA cannot compile its step: it tokenizes string captions (DT_STRING) inside the step"

    network_keys = ("generator", "discriminator", "stage1_discriminator", "image_encoder")
    # tfgan train --set KEY=N: each phase has its own budget (no --epochs)
    phase_epoch_keys = ("encoder_epochs", "stage1_epochs", "stage2_epochs", "phase_steps")
    stage_losses = {"text_encoder": ("sje_loss",), "stage1": ("d_loss", "g_loss", "kl_loss"),
                    "stage2": ("d_loss", "g_loss", "kl_loss")}

    def __init__(self, data_shape=(32, 32, 3), stage1_size=16, latent_dim=32, embedding_dim=64, ca_dim=32, ngf=16,
                 ndf=32, residual_blocks=2, kl_weight=2.0, ca=True, text_length=64, encoder_filters=(64, 64),
                 encoder_pools=(3, 3), encoder_units=64, stage1_epochs=16, stage2_epochs=8, phase_steps=None,
                 generator=None, discriminator=None, stage1_discriminator=None, **kwargs):
        size, size1 = int(data_shape[0]), int(stage1_size)
        if size1 < 8 or size % size1 or size // size1 not in (1, 2, 4, 8) or size1 & (size1 - 1):
            raise ValueError(f"stage1_size must be a power of 2 >= 8 dividing {size} by 1, 2, 4 or 8; "
                             f"received {stage1_size!r}.")
        self.latent_dim, self.ca_dim, self.stage1_size = int(latent_dim), int(ca_dim), size1
        self.ngf, self.ndf, self.residual_blocks = int(ngf), int(ndf), int(residual_blocks)
        self.kl_weight, self.ca = float(kl_weight), bool(ca)
        self.encoder = dict(filters=list(encoder_filters), pools=list(encoder_pools), units=int(encoder_units))
        self.stage1_epochs, self.stage2_epochs, self.phase_steps = int(stage1_epochs), int(stage2_epochs), phase_steps
        if generator is None:
            encoder = self.text_encoder_network(text_length, embedding_dim, encoder_filters, encoder_pools,
                                                encoder_units)
            stage1 = stage1_network(size1, latent_dim, embedding_dim, ca_dim, self.ngf, self.ca)
            stage2 = stage2_network(size1, size, embedding_dim, ca_dim, self.ngf, residual_blocks, self.ca)
            core = stackgan_core(stage1, stage2, latent_dim, embedding_dim, ca_dim)
            generator = text_generator(core, self.noise_inputs(), text_length, encoder)
        if discriminator is None:
            discriminator = matching_discriminator(data_shape, embedding_dim, ndf, ndf, name="discriminator")
        self.stage1_discriminator = stage1_discriminator or matching_discriminator(
            (size1, size1, 3), embedding_dim, ndf, ndf, name="stage1_discriminator")
        super().__init__(generator=generator, discriminator=discriminator, data_shape=data_shape,
                         latent_dim=latent_dim, text_length=text_length, embedding_dim=embedding_dim, **kwargs)

    def get_config(self):
        return {**super().get_config(), "stage1_size": self.stage1_size, "ca_dim": self.ca_dim, "ngf": self.ngf,
                "ndf": self.ndf, "residual_blocks": self.residual_blocks, "kl_weight": self.kl_weight, "ca": self.ca,
                "encoder_filters": self.encoder["filters"], "encoder_pools": self.encoder["pools"],
                "encoder_units": self.encoder["units"], "stage1_epochs": self.stage1_epochs,
                "stage2_epochs": self.stage2_epochs, "phase_steps": self.phase_steps,
                "stage1_discriminator": keras.saving.serialize_keras_object(self.stage1_discriminator)}

    def noise_inputs(self):
        return [GeneratorInput.normal("z", self.latent_dim), GeneratorInput.normal("eps_1", self.ca_dim),
                GeneratorInput.normal("eps_2", self.ca_dim)]

    def discriminator_input_shapes(self):
        return [self.data_shape, (self.embedding_dim,)]

    def phases(self):
        steps = self.phase_steps
        size1 = (self.stage1_size, self.stage1_size, 3)
        return ([Phase("text_encoder", self.encoder_epochs, steps)] if self.encoder_epochs else []) + [
            Phase("stage1", self.stage1_epochs, steps, data_shape=size1, reset_optimizers=True),
            Phase("stage2", self.stage2_epochs, steps, data_shape=self.data_shape, reset_optimizers=True)]

    def stage_resolution(self):
        return self.stage1_size if self.stage == "stage1" else int(self.data_shape[0])

    # ------------------------------------------------------------ networks
    def stage_network(self, index, generator=None):
        return (generator or self.generator).get_layer("core").get_layer(f"stage{index}")

    @property
    def generator_variables(self):  # Stage-I while it trains; then Stage-II only (Stage-I frozen)
        return self.stage_network(2 if self.stage == "stage2" else 1).trainable_variables

    @property
    def discriminator_variables(self):
        d = self.discriminator if self.stage == "stage2" else self.stage1_discriminator
        return d.trainable_variables

    # ---------------------------------------------------------------- step
    def gan_step(self, images, phi, classes):
        # 1. Stage-I: fake = G_0(z, c_1); Stage-II: fake = G(G_0(z, c_1) (frozen, inference BN), c_2).
        # 2. D step: real + its text -> 1; (wrong image + text, fake + text) -> 0, each weighted 1/2.
        # 3. G step: non-saturating -log D(fake, phi) + kl_weight * KL(N(mu, sigma) || N(0, I)) of its stage's CA.
        stage2 = self.stage == "stage2"
        d = self.discriminator if stage2 else self.stage1_discriminator
        batch = ops.shape(images)[0]
        z, eps_1, eps_2 = (self.draw(spec, batch) for spec in self.noise_inputs())
        wrong = ops.take(images, self.wrong_indices(classes), axis=0)

        def fake_and_params():
            low, params = self.stage_network(1)([z, eps_1, phi], training=not stage2)
            return self.stage_network(2)([low, eps_2, phi], training=True) if stage2 else (low, params)

        fake, _ = fake_and_params()
        with tf.GradientTape() as tape:
            d_loss = matching_aware_discriminator_loss(d([images, phi], training=True), d([wrong, phi], training=True),
                                                       d([fake, phi], training=True), self.cls_weight)
        self.apply_gradients("discriminator", tape, d_loss)
        with tf.GradientTape() as tape:
            fake, params = fake_and_params()
            mu, log_sigma = ops.split(params, 2, axis=-1)
            kl = kl_to_standard_normal(mu, log_sigma) if self.ca else ops.zeros(())
            g_loss = non_saturating_generator_loss(d([fake, phi], training=True))
            total = g_loss + self.kl_weight * kl
        self.apply_gradients("generator", tape, total)
        return self.track(d_loss=d_loss, g_loss=g_loss, kl_loss=kl)

    # ------------------------------------------------------------- sampling
    def generate_stages(self, texts, n_per_text=1, seed=0):
        """``(Stage-I images, Stage-II images)`` in [-1, 1] for the same captions and noise."""
        texts = [texts] if isinstance(texts, (str, bytes)) else list(texts)
        text = np.repeat(np.array(texts, object), int(n_per_text))
        z, e1, e2 = map(ops.convert_to_tensor, self.generator_arrays(len(text), seed=seed, text=text)[:3])
        phi = self.embed(tf.constant(text.astype(str)))
        core = self.inference_generator.get_layer("core")
        low, _ = core.get_layer("stage1")([z, e1, phi], training=False)
        high, _ = core.get_layer("stage2")([low, e2, phi], training=False)
        return ops.convert_to_numpy(low), ops.convert_to_numpy(high)
