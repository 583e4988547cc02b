"""`TextToImageModel`: plumbing shared by the text-to-image GANs (GAN-INT-CLS, StackGAN).

Nothing here is a GAN paper's algorithm. It holds:

* the text encoder inside the generator: ``generator([*noise, text])`` takes UTF-8
  captions, tokenizes them (:class:`~tfgan_models.layers.CharTokenizer`), embeds them
  with the char-CNN-RNN (:func:`~tfgan_models.layers.char_cnn_rnn`) and hands the
  embedding to the image network (the layer named ``core``). So a saved generator or
  SavedModel takes raw sentences, and users embed their own captions;
* the encoder's pretraining, a first training phase ``text_encoder``: the symmetric
  structured joint embedding (Reed et al. 2016, "Learning Deep Representations of
  Fine-Grained Visual Descriptions") against an image encoder trained with it. Reed et
  al. use fixed GoogLeNet features; offline there are none for captioned shapes, so
  both encoders learn together (a CNN of this module). The encoder is then frozen, as
  the GAN papers use precomputed embeddings;
* the matching-aware discriminator builder (Reed et al. 2016, "Generative Adversarial
  Text to Image Synthesis", sec. 4.1), wrong images, ``generate(texts=...)`` and
  ``interpolate``.

Element spec of ``train_step``: ``(images (B, H, W, C) in [-1, 1], captions string (B,),
classes int32 (B,))`` (:func:`tfgan_models.data.captions.load_captioned`); ``classes``
says which captions belong together (an attribute combination, an image).
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from tfgan_models.data import captions as captions_data
from tfgan_models.inputs import GeneratorInput
from tfgan_models.layers import CharTokenizer, char_cnn_rnn
from tfgan_models.losses import sje_loss
from tfgan_models.models.gan_model import GANModel

SAMPLE_CAPTIONS = ("a large red circle in the centre", "a small blue square in the top left",
                   "a large green triangle in the middle", "a big yellow square at the bottom right",
                   "a tiny crimson disc", "a huge azure triangle", "a small golden circle in the centre",
                   "a large emerald box")


def _init():
    return keras.initializers.RandomNormal(0.0, 0.02)


def text_generator(core, noise, length, text_encoder):
    """``[*noise, text] -> image``: tokenizer -> ``text_encoder`` -> ``core([*noise, embedding])``."""
    inputs = [keras.Input(tuple(spec.shape), name=spec.name) for spec in noise]
    text = keras.Input((), dtype="string", name="text")
    embedding = text_encoder(CharTokenizer(length, name="tokenizer")(text))
    return keras.Model([*inputs, text], core([*inputs, embedding]), name="generator")


def image_encoder_network(data_shape, embedding_dim, width=32, name="image_encoder"):
    """The SJE image side: strided convs + global average pool + linear -> ``(B, embedding_dim)``."""
    images = keras.Input(tuple(data_shape), name="images")
    h = images
    for i in range(3):
        h = keras.layers.Conv2D(width * 2 ** i, 3, 2 if i else 1, "same", activation="relu", name=f"conv_{i}")(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    return keras.Model(images, keras.layers.Dense(int(embedding_dim), name="embedding")(h), name=name)


def matching_discriminator(data_shape, embedding_dim, width, projection_dim, name="discriminator"):
    """D(x, phi) of Reed et al. 2016 (sec. 4.1) -> logits ``(B, 1)``.

    Stride-2 convs with batch norm and LeakyReLU down to 4x4; phi compressed by a dense
    layer (+ BN + LeakyReLU, as ``main_cls_int.lua``), replicated 4x4, depth-concatenated;
    a 1x1 conv + BN + LeakyReLU; a 4x4 valid conv gives the score.
    """
    h_size = int(data_shape[0])
    images = keras.Input(tuple(data_shape), name="images")
    phi = keras.Input((int(embedding_dim),), name="embedding")
    h, channels, i = images, int(width), 0
    while h_size > 4:
        h = keras.layers.Conv2D(channels, 4, 2, "same", use_bias=i == 0, kernel_initializer=_init(),
                                name=f"down_{i}")(h)
        if i:  # no batch norm on the first layer (DCGAN)
            h = keras.layers.BatchNormalization(name=f"bn_{i}")(h)
        h = keras.layers.LeakyReLU(0.2)(h)
        h_size, channels, i = h_size // 2, channels * 2, i + 1
    t = keras.layers.Dense(int(projection_dim), kernel_initializer=_init(), name="text_projection")(phi)
    t = keras.layers.LeakyReLU(0.2)(keras.layers.BatchNormalization(name="text_bn")(t))
    t = keras.layers.UpSampling2D(4, name="replicate")(keras.layers.Reshape((1, 1, int(projection_dim)))(t))
    h = keras.layers.Concatenate()([h, t])
    h = keras.layers.Conv2D(channels // 2, 1, use_bias=False, kernel_initializer=_init(), name="joint")(h)
    h = keras.layers.LeakyReLU(0.2)(keras.layers.BatchNormalization(name="joint_bn")(h))
    logits = keras.layers.Conv2D(1, 4, padding="valid", kernel_initializer=_init(), name="score")(h)
    return keras.Model([images, phi], keras.layers.Flatten(dtype="float32", name="logits")(logits), name=name)


@keras.saving.register_keras_serializable(package="tfgan_models")
class TextToImageModel(GANModel):
    """Base of text-to-image GANs: the generator takes ``[*noise, text]`` (see the module docstring).

    Subclasses build ``core`` (``[*noise, embedding] -> image``) and call :func:`text_generator`,
    declare ``noise_inputs()``, ``phases()`` (the first named ``text_encoder``), ``stage_losses`` and
    ``gan_step(images, phi, classes)``, and name the networks the ``generator`` optimizer trains
    (``generator_variables``).
    """

    optimizer_names = ("generator", "discriminator", "embedding")
    network_keys = ("generator", "discriminator", "image_encoder")
    stage_losses = {"text_encoder": ("sje_loss",)}

    def __init__(self, generator, discriminator, data_shape, image_encoder=None, text_length=64,
                 embedding_dim=128, encoder_epochs=2, cls_weight=0.5, sample_captions=SAMPLE_CAPTIONS,
                 stage="text_encoder", **kwargs):
        if not 0.0 <= float(cls_weight) < 1.0:
            raise ValueError(f"cls_weight must be in [0, 1), received {cls_weight!r}.")
        if stage not in self.stage_losses:
            raise ValueError(f"stage must be one of {', '.join(self.stage_losses)}; received {stage!r}.")
        self.text_length, self.embedding_dim = int(text_length), int(embedding_dim)
        self.encoder_epochs, self.cls_weight = int(encoder_epochs), float(cls_weight)
        self.sample_captions = tuple(str(c) for c in sample_captions)
        # The phase being trained: it decides which networks the optimizers update, so a saved model records
        # it and reloads with its optimizers built on the same variables (their state restored).
        self.stage = stage
        super().__init__(generator=generator, discriminator=discriminator, data_shape=data_shape, **kwargs)
        self.image_encoder = image_encoder or image_encoder_network(data_shape, self.embedding_dim)

    loss_names = property(lambda self: sorted({n for names in self.stage_losses.values() for n in names}))

    def get_config(self):
        return {**super().get_config(), "text_length": self.text_length, "embedding_dim": self.embedding_dim,
                "encoder_epochs": self.encoder_epochs, "cls_weight": self.cls_weight,
                "sample_captions": list(self.sample_captions), "stage": self.stage,
                "image_encoder": keras.saving.serialize_keras_object(self.image_encoder)}

    @staticmethod
    def text_encoder_network(text_length, embedding_dim, filters, pools, units):
        return char_cnn_rnn(text_length, embedding_dim, tuple(filters), tuple(pools), units)

    # ------------------------------------------------------------ networks
    @property
    def text_encoder(self):
        return self.generator.get_layer("text_encoder")

    @property
    def tokenizer(self):
        return self.generator.get_layer("tokenizer")

    @property
    def embedding_variables(self):
        return self.text_encoder.trainable_variables + self.image_encoder.trainable_variables

    def generator_inputs(self):
        return list(self.noise_inputs()) + [GeneratorInput.text("text")]

    def embed(self, texts, training=False):
        """Text embeddings phi(t) ``(B, embedding_dim)`` of UTF-8 captions (a string, a list or a tensor)."""
        if not tf.is_tensor(texts):
            texts = tf.constant([texts] if isinstance(texts, (str, bytes)) else list(texts), tf.string)
        return self.text_encoder(self.tokenizer(texts), training=training)

    def default_optimizers(self):
        # G and D: Adam(2e-4, 0.5) as both papers; the encoder: RMSprop as Reed et al.'s SJE
        # training (train_sje_hybrid.lua, lr 7e-4), gradients clipped at 5.
        return {"generator": keras.optimizers.Adam(2e-4, beta_1=0.5),
                "discriminator": keras.optimizers.Adam(2e-4, beta_1=0.5),
                "embedding": keras.optimizers.RMSprop(7e-4, clipvalue=5.0)}

    # -------------------------------------------------------------- phases
    def enter_phase(self, phase):
        self.stage = phase.name

    @property
    def metrics(self):
        names = self.stage_losses[self.stage]
        return [self.loss_trackers[n] for n in names] + list(self.reg_trackers.values())

    @classmethod
    def check_data_spec(cls, spec):
        """Fails early on a spec that is not captioned data."""
        captions_data.parse_captioned(spec)

    def stage_resolution(self):
        """The image size the current stage trains at (StackGAN's Stage-I is smaller)."""
        return int(self.data_shape[0])

    def training_dataset(self, spec, batch_size, seed):
        size = self.stage_resolution()
        dataset = captions_data.load_captioned(spec, batch_size=batch_size, image_size=size, seed=seed)
        return dataset, max(1, captions_data.captioned_size(spec) // int(batch_size))

    # ---------------------------------------------------------------- steps
    def unpack_captioned(self, data):
        if not isinstance(data, (tuple, list)) or len(data) != 3:
            raise ValueError(f"{type(self).__name__} trains on (images, captions, classes) batches; load "
                             "them with tfgan_models.data.captions.load_captioned(...).")
        return ops.cast(data[0], self.compute_dtype), data[1], ops.cast(data[2], "int32")

    def train_step(self, data):
        images, captions, classes = self.unpack_captioned(data)
        if self.stage == "text_encoder":
            # Symmetric SJE on the batch: images and captions of the same class close, others apart.
            with tf.GradientTape() as tape:
                loss = sje_loss(self.image_encoder(images, training=True),
                                self.embed(captions, training=True), classes)
            self.apply_gradients("embedding", tape, loss)
            return self.track(sje_loss=loss)
        phi = ops.stop_gradient(self.embed(captions))  # the encoder is frozen while the GAN trains
        return self.gan_step(images, phi, classes)

    def wrong_indices(self, classes):
        """For each example, a random other example of a different class (itself if the batch has none)."""
        batch = ops.shape(classes)[0]
        u = keras.random.uniform((batch, batch), seed=self.seed_generator) + 1.0
        other = ops.cast(ops.not_equal(classes[:, None], classes[None, :]), u.dtype)
        return ops.where(ops.max(other, axis=1) > 0, ops.argmax(u * other, axis=1), ops.arange(batch))

    # ------------------------------------------------------------ sampling
    def generator_arrays(self, n=None, seed=None, truncation=None, **given):
        if given.get("text") is None:  # no captions given: cycle through the sample captions
            rows = n if n is not None else len(next(v for v in given.values() if v is not None))
            given["text"] = np.resize(np.array(self.sample_captions, object), int(rows))
        return super().generator_arrays(n, seed=seed, truncation=truncation, **given)

    def generate(self, n=None, seed=None, batch_size=256, truncation=None, texts=None, n_per_text=1, **inputs):
        """Images in [-1, 1] for captions: ``texts=[...]`` gives ``n_per_text`` samples of each, in order
        (or ``text=`` one caption per sample); no captions: the model's ``sample_captions`` in turn."""
        if texts is not None:
            if inputs.get("text") is not None:
                raise ValueError("give texts= (captions, n_per_text each) or text= (one per sample), not both.")
            texts = [texts] if isinstance(texts, (str, bytes)) else list(texts)
            if not texts or int(n_per_text) < 1:
                raise ValueError(f"generate() needs at least one text and n_per_text >= 1, received "
                                 f"{len(texts)} texts and n_per_text={n_per_text!r}.")
            inputs["text"] = np.repeat(np.array(texts, object), int(n_per_text))
            n = len(inputs["text"])
        return super().generate(n, seed=seed, batch_size=batch_size, truncation=truncation, **inputs)

    def interpolate(self, text_a, text_b, steps=8, seed=0):
        """GAN-INT at sampling time: images for phi = (1 - b) phi(a) + b phi(b), b = 0 .. 1 in ``steps``,
        with the same noise for every step. Returns ``(steps, H, W, C)`` in [-1, 1]."""
        if int(steps) < 2:
            raise ValueError(f"interpolate() needs steps >= 2, received {steps!r}.")
        noise = self.generator_arrays(1, seed=seed, text=[text_a])[:-1]
        phi = ops.convert_to_numpy(self.embed(tf.constant([text_a, text_b])))
        beta = np.linspace(0.0, 1.0, int(steps), dtype="float32")[:, None]
        mixed = (1.0 - beta) * phi[0] + beta * phi[1]
        core = self.inference_generator.get_layer("core")
        out = core([np.repeat(a, int(steps), axis=0) for a in noise] + [mixed], training=False)
        return ops.convert_to_numpy(out).astype("float32")
