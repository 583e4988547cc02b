"""GAN-INT-CLS: Reed, Akata, Yan, Logeswaran, Schiele & Lee 2016, "Generative Adversarial
Text to Image Synthesis" (ICML; arXiv:1605.05396). Authors' code: ``reedscot/icml2016``
(``main_cls_int.lua``, ``scripts/train_cub.sh``).

Code name -> paper:
    phi(t)            the text embedding, a char-CNN-RNN (Reed et al. 2016, CVPR) inside the
                      generator (:mod:`.text_to_image`), pretrained by SJE in the first phase
    core              G(z, phi): phi compressed by a dense layer to ``projection_dim`` (128) +
                      LeakyReLU 0.2, concatenated with z, then DCGAN up-convolutions (sec. 4.1)
    discriminator     D(x, phi): stride-2 convs + BN + LeakyReLU to 4x4, phi projected and
                      replicated 4x4, depth-concatenated, 1x1 conv, 4x4 conv to the score
    cls_weight        GAN-CLS (Alg. 1): s_r = D(x, h), s_w = D(x_wrong, h), s_f = D(G(z, h), h);
                      L_D = log s_r + (log(1 - s_w) + log(1 - s_f)) / 2, i.e. the code's
                      ``cls_weight`` 0.5 (0 gives a plain conditional GAN)
    interpolation     GAN-INT (sec. 4.3): the G batch adds B/2 embeddings beta t1 + (1 - beta) t2
                      with beta = 0.5 (``interp_type=1``, ``interp_weight`` 1); they have no real
                      image, so only G sees them (D scores them with their own embedding)

Followed: the paper and the code agree on the losses. Wrong images come from a different class,
as ``data/donkey_folder_txt.lua`` draws them (here: another example of the batch whose class, an
attribute combination or an image, differs). Where this differs, and why:

* Reed et al. average 4 caption embeddings per image (``numCaption``); the datasets here yield one
  caption per example (an image with several captions is several examples), so no average is taken;
* the ``paper`` preset has the paper's networks (ngf 128, ndf 64, 64x64, phi 1024 -> 128) but not
  the bottleneck residual blocks of the code's "v2" networks;
* Reed et al.'s embeddings come from a separate SJE training on GoogLeNet image features; here the
  encoder trains first against an image CNN learnt with it (:mod:`.text_to_image`).

Optimizer (both papers' code): Adam 2e-4, beta_1 0.5, batch 64.
"""

import keras
import tensorflow as tf
from keras import ops

from tfgan_models.inputs import GeneratorInput
from tfgan_models.losses import matching_aware_discriminator_loss, non_saturating_generator_loss
from tfgan_models.models.dcgan import dcgan_generator
from tfgan_models.models.generative import Phase
from tfgan_models.models.text_to_image import TextToImageModel, matching_discriminator, text_generator
from tfgan_models.registry import register_variant

BETA = 0.5  # GAN-INT's interpolation weight (sec. 4.3: "in practice we found that fixing beta = 0.5 works well")


def with_interpolations(phi, beta=BETA):
    """GAN-INT's generator conditions: the B embeddings, then B/2 of beta phi_i + (1 - beta) phi_{i + B/2}."""
    half = ops.shape(phi)[0] // 2
    return ops.concatenate([phi, beta * phi[:half] + (1.0 - beta) * phi[half : 2 * half]], axis=0)


def gan_int_cls_core(data_shape, latent_dim, embedding_dim, projection_dim, width):
    """G(z, phi) -> images: phi -> dense (projection_dim) + LeakyReLU, concatenated with z, DCGAN up-convs."""
    z = keras.Input((int(latent_dim),), name="z")
    phi = keras.Input((int(embedding_dim),), name="embedding")
    t = keras.layers.Dense(int(projection_dim), kernel_initializer=keras.initializers.RandomNormal(0.0, 0.02),
                           name="text_projection")(phi)
    h = keras.layers.Concatenate()([z, keras.layers.LeakyReLU(0.2)(t)])
    body = dcgan_generator(data_shape, int(latent_dim) + int(projection_dim), width, name="dcgan_generator")
    return keras.Model([z, phi], body(h), name="core")


_ENCODER_PAPER = dict(text_length=201, encoder_filters=(384, 512, 256), encoder_pools=(3, 3, 2), encoder_units=256)
PRESETS = {
    # paper: 64x64, z 100, phi 1024 -> 128, ngf 128 (4x4x1024), ndf 64, batch 64, 600 epochs on a captioned set
    # (CUB / Oxford-102 as captions:DIR, or COCO, whose IS the StackGAN paper reports)
    "paper": dict(data="tfds:coco_captions", data_shape=(64, 64, 3), latent_dim=100, embedding_dim=1024,
                  projection_dim=128, width=128, d_width=64, encoder_epochs=20, gan_epochs=600, batch_size=64,
                  epochs=620, **_ENCODER_PAPER),
    # demo: captioned shapes at 32x32, a small char-CNN-GRU, CPU minutes
    "demo": dict(data="shapes", data_shape=(32, 32, 3), latent_dim=32, embedding_dim=64, projection_dim=32,
                 width=32, d_width=32, text_length=64, encoder_filters=(64, 64), encoder_pools=(3, 3),
                 encoder_units=64, encoder_epochs=30, gan_epochs=40, batch_size=64, epochs=70),
    # tiny: test size
    "tiny": dict(data="shapes", data_shape=(16, 16, 3), latent_dim=8, embedding_dim=16, projection_dim=8, width=8,
                 d_width=8, text_length=24, encoder_filters=(8,), encoder_pools=(2,), encoder_units=8,
                 encoder_epochs=1, gan_epochs=1, encoder_steps=2, gan_steps=2, batch_size=8, epochs=2),
}


@keras.saving.register_keras_serializable(package="tfgan_models")
@register_variant("gan_int_cls", PRESETS)
class GANINTCLS(TextToImageModel):
    """GAN-INT-CLS (Reed et al. 2016): a matching-aware D and interpolated text embeddings for G.

    Args:
        data_shape: ``(H, W, 3)`` with H = W = 4 * 2^k.
        latent_dim: size of z ~ N(0, I).
        embedding_dim, projection_dim: size of phi(t) and of its compression in G and D.
        width, d_width: G's channels (4x4 has ``width * 2^(k-1)``) and D's first-layer channels.
        text_length, encoder_filters, encoder_pools, encoder_units: the char-CNN-RNN.
        encoder_epochs, gan_epochs (and ``encoder_steps`` / ``gan_steps`` per epoch, None: the data's):
            the two training phases.
        cls_weight: 0.5 (GAN-CLS) or 0 (no wrong-text pairs); interpolation: GAN-INT on or off.
        **kwargs: ``seed``, ``sample_captions``; see :class:`TextToImageModel`.
    """
    jit_compile_note = "XLA cannot compile its step: it tokenizes string captions (DT_STRING) inside the step"

    # tfgan train --set KEY=N: each phase has its own budget (no --epochs)
    phase_epoch_keys = ("encoder_epochs", "gan_epochs", "encoder_steps", "gan_steps")
    stage_losses = {"text_encoder": ("sje_loss",), "gan": ("d_loss", "g_loss", "d_wrong")}

    def __init__(self, data_shape=(32, 32, 3), latent_dim=32, embedding_dim=64, projection_dim=32, width=32,
                 d_width=32, text_length=64, encoder_filters=(64, 64), encoder_pools=(3, 3), encoder_units=64,
                 gan_epochs=20, encoder_steps=None, gan_steps=None, interpolation=True, generator=None,
                 discriminator=None, **kwargs):
        self.latent_dim = int(latent_dim)
        self.projection_dim, self.width, self.d_width = int(projection_dim), int(width), int(d_width)
        self.encoder = dict(filters=list(encoder_filters), pools=list(encoder_pools), units=int(encoder_units))
        self.gan_epochs, self.interpolation = int(gan_epochs), bool(interpolation)
        self.encoder_steps, self.gan_steps = encoder_steps, gan_steps
        if generator is None:
            encoder = self.text_encoder_network(text_length, embedding_dim, encoder_filters, encoder_pools,
                                                encoder_units)
            core = gan_int_cls_core(data_shape, latent_dim, embedding_dim, projection_dim, width)
            generator = text_generator(core, self.noise_inputs(), text_length, encoder)
        if discriminator is None:
            discriminator = matching_discriminator(data_shape, embedding_dim, d_width, projection_dim)
        super().__init__(generator=generator, discriminator=discriminator, data_shape=data_shape,
                         latent_dim=latent_dim, text_length=text_length, embedding_dim=embedding_dim, **kwargs)

    def get_config(self):
        return {**super().get_config(), "projection_dim": self.projection_dim, "width": self.width,
                "d_width": self.d_width, "encoder_filters": self.encoder["filters"],
                "encoder_pools": self.encoder["pools"], "encoder_units": self.encoder["units"],
                "gan_epochs": self.gan_epochs, "encoder_steps": self.encoder_steps, "gan_steps": self.gan_steps,
                "interpolation": self.interpolation}

    def noise_inputs(self):
        return [GeneratorInput.normal("z", self.latent_dim)]

    def discriminator_input_shapes(self):
        return [self.data_shape, (self.embedding_dim,)]

    def phases(self):
        encoder = [Phase("text_encoder", self.encoder_epochs, self.encoder_steps)] if self.encoder_epochs else []
        return encoder + [Phase("gan", self.gan_epochs, self.gan_steps)]

    @property
    def generator_variables(self):
        return self.generator.get_layer("core").trainable_variables

    def gan_step(self, images, phi, classes):
        # 1. D step: real image + its text -> 1; a real image of another class + this text -> 0 (cls_weight);
        #    G(z, phi) + phi -> 0 (1 - cls_weight).
        # 2. G step on B fakes of the batch's texts plus, with GAN-INT, B/2 fakes of beta t1 + (1 - beta) t2:
        #    non-saturating -log D(G(z, t), t) over all 1.5 B.
        core = self.generator.get_layer("core")
        batch = ops.shape(images)[0]
        wrong = ops.take(images, self.wrong_indices(classes), axis=0)
        fake = core([self.latents(batch), phi], training=True)
        with tf.GradientTape() as tape:
            d_wrong = self.discriminator([wrong, phi], training=True)
            d_loss = matching_aware_discriminator_loss(self.discriminator([images, phi], training=True), d_wrong,
                                                       self.discriminator([fake, phi], training=True),
                                                       self.cls_weight)
        self.apply_gradients("discriminator", tape, d_loss)
        if self.interpolation:
            phi = with_interpolations(phi)
        with tf.GradientTape() as tape:
            fake = core([self.latents(ops.shape(phi)[0]), phi], training=True)
            g_loss = non_saturating_generator_loss(self.discriminator([fake, phi], training=True))
        self.apply_gradients("generator", tape, g_loss)
        # d_wrong: mean D probability on (real image, wrong text); a matching-aware D drives it to 0.
        return self.track(d_loss=d_loss, g_loss=g_loss, d_wrong=ops.mean(ops.sigmoid(d_wrong)))
