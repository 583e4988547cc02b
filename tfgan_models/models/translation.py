"""`TranslationModel`: plumbing shared by the image-translation variants (Pix2Pix, CycleGAN, DiscoGAN),
and the two networks more than one of them uses.

Networks:

* :func:`patchgan_discriminator`: the 70x70 PatchGAN of Isola et al. 2017
  (appendix 6.1.2), also CycleGAN's D: C64-C128-C256-C512, 4x4 convs,
  LeakyReLU(0.2), no norm on C64, then a 1-channel conv: one logit per
  overlapping 70x70 patch.
* :func:`resnet_generator`: the ResNet generator of Johnson et al. 2016 as
  CycleGAN uses it (appendix 7.2): c7s1-64, d128, d256, R256 x blocks, u128,
  u64, c7s1-3, reflect padding, instance norm, tanh. ``separable=True`` makes
  each residual block's 3x3 convs depthwise-separable (the ``mobile``
  presets: MobileNet-style, as GAN Compression's searched generators).

Instance norm is ``GroupNormalization(groups=-1)`` (a builtin TFLite op).

Initialisation, as the authors' code (``init_weights(net, 'normal', 0.02)`` of
pix2pix / CycleGAN): every conv, transposed conv and depthwise kernel ~ N(0, 0.02),
biases 0; norm scales gamma ~ N(1, 0.02), offsets beta 0 (``weight_init``,
``instance_norm``). One difference from CycleGAN's code, on purpose: its
``InstanceNorm2d`` is not affine (no gamma / beta) and the convs before it carry
biases, which the mean subtraction cancels; here the convs before a norm have no
bias and the norm has a learnable gamma / beta, as in pix2pix's batch-norm
networks, so the ResNet-9 generator has 11,383,427 parameters against the
authors' 11,378,179 (+5,248 = the 5,248 normalised channels x 2 - their 5,248
dead biases). At initialisation both compute the same function up to gamma's
N(1, 0.02) spread.

Nothing here is a paper's algorithm: the paired / unpaired pipeline hook,
input checks, ``translate`` (reflect pad to the size the network needs, crop
back: what the SavedModel does), and the before/after picture.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from tfgan_models.data import translation as translation_data
from tfgan_models.inputs import GeneratorInput
from tfgan_models.models.gan_model import GANModel
from tfgan_models.models.networks import probe_image_generator

DIRECTIONS = ("a_to_b", "b_to_a")


def weight_init():
    """N(0, 0.02): the kernel initialisation of the pix2pix / CycleGAN code (``init_type='normal'``, gain 0.02)."""
    return keras.initializers.RandomNormal(0.0, 0.02)


def instance_norm(name):
    """Instance norm, gamma ~ N(1, 0.02) and beta = 0 as the authors' ``init_weights`` sets norm layers."""
    gamma = keras.initializers.RandomNormal(1.0, 0.02)
    return keras.layers.GroupNormalization(groups=-1, epsilon=1e-5, gamma_initializer=gamma, beta_initializer="zeros",
                                           name=name)


class ReflectPad(keras.layers.Layer):
    """Reflect padding of H and W (CycleGAN pads every 3x3 / 7x7 conv this way); TFLite MIRROR_PAD."""

    def __init__(self, pad, **kwargs):
        super().__init__(**kwargs)
        self.pad = int(pad)

    def call(self, x):
        p = self.pad
        return ops.pad(x, [[0, 0], [p, p], [p, p], [0, 0]], mode="reflect")

    def compute_output_shape(self, shape):
        grow = lambda d: None if d is None else d + 2 * self.pad  # noqa: E731
        return (shape[0], grow(shape[1]), grow(shape[2]), shape[3])

    def get_config(self):
        return {**super().get_config(), "pad": self.pad}


keras.saving.register_keras_serializable(package="tfgan_models")(ReflectPad)


@keras.saving.register_keras_serializable(package="tfgan_models")
class AddChangeAtInputSize(keras.layers.Layer):
    """``[images, edited, small]`` -> ``clip(images + resize(edited - small, size of images), -1, 1)``.

    The second half of :func:`at_work_size`: only the *change* the network made at its working
    resolution is upsampled, so what it left alone keeps the input's full detail. Bilinear, without
    antialiasing: TFLite's builtin RESIZE_BILINEAR.
    """

    def call(self, inputs):
        images, edited, small = inputs
        change = tf.image.resize(edited - small, tf.shape(images)[1:3], method="bilinear")
        return tf.clip_by_value(images + change, -1.0, 1.0)

    def compute_output_shape(self, shapes):
        return shapes[0]


def at_work_size(network, size, name=None):
    """A generator for images of any size that runs ``network`` at ``size`` x ``size``.

    Images -> bilinear resize to ``size`` -> ``network`` -> the change it made, resized back and added
    to the input (:class:`AddChangeAtInputSize`). An editor trained on ``size`` crops of centred faces
    then edits a face photo of any resolution the way it learned to, instead of seeing features at a
    scale it never saw. At ``size`` itself the wrapper is the network (resizing to the same size is
    the identity), so training is unchanged.
    """
    images = keras.Input((None, None, 3), name="images")
    small = keras.layers.Resizing(int(size), int(size), interpolation="bilinear", name="to_work_size")(images)
    edited = network(small)
    out = AddChangeAtInputSize(name="add_change")([images, edited, small])
    return keras.Model(images, out, name=name or network.name)


def patchgan_discriminator(channels=3, filters=64, layers=3, inputs=1, name="discriminator"):
    """Images (B, H, W, channels) [x ``inputs``, concatenated] -> patch logits (B, H/8 - 2, W/8 - 2, 1).

    ``layers=3`` is the 70x70 PatchGAN (C64-C128-C256-C512); widths double up to 8x ``filters``.
    Pix2Pix's conditional D takes two inputs (the input image and a real or generated target).
    """
    images = [keras.Input((None, None, channels), name=n) for n in (("images",) if inputs == 1
                                                                        else ("inputs", "targets"))]
    x = images[0] if inputs == 1 else keras.layers.Concatenate(name="pair")(images)
    for i in range(layers + 1):
        width = filters * min(2**i, 8)
        stride = 2 if i < layers else 1
        x = keras.layers.ZeroPadding2D(1, name=f"pad_{i}")(x)
        x = keras.layers.Conv2D(width, 4, strides=stride, use_bias=i == 0, kernel_initializer=weight_init(),
                                name=f"conv_{i}")(x)
        if i:
            x = instance_norm(f"norm_{i}")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"lrelu_{i}")(x)
    x = keras.layers.ZeroPadding2D(1, name="pad_out")(x)
    logits = keras.layers.Conv2D(1, 4, kernel_initializer=weight_init(), dtype="float32", name="logits")(x)
    return keras.Model(images if inputs > 1 else images[0], logits, name=name)


def _conv_block(x, filters, kernel, name, stride=1, reflect=True, separable=False):
    if reflect:
        x = ReflectPad(kernel // 2, name=f"{name}_pad")(x)
    if separable:
        x = keras.layers.DepthwiseConv2D(kernel, use_bias=False, depthwise_initializer=weight_init(),
                                         name=f"{name}_dw")(x)
        x = keras.layers.Conv2D(filters, 1, use_bias=False, kernel_initializer=weight_init(), name=f"{name}_pw")(x)
    else:
        x = keras.layers.Conv2D(filters, kernel, strides=stride, padding="valid" if reflect else "same",
                                use_bias=False, kernel_initializer=weight_init(), name=name)(x)
    return instance_norm(f"{name}_norm")(x)


def resnet_generator(channels=3, filters=64, blocks=9, downsamplings=2, separable=False, name="generator"):
    """Images (B, H, W, channels) -> images (B, H, W, channels) in [-1, 1]; H, W multiples of 2^downsamplings."""
    images = keras.Input((None, None, channels), name="images")
    x = keras.layers.ReLU(name="c7s1_relu")(_conv_block(images, filters, 7, "c7s1"))
    for i in range(downsamplings):  # d128, d256: 3x3 stride-2 convs
        width = filters * 2 ** (i + 1)
        x = keras.layers.Conv2D(width, 3, strides=2, padding="same", use_bias=False, kernel_initializer=weight_init(),
                                name=f"d{i}")(x)
        x = keras.layers.ReLU(name=f"d{i}_relu")(instance_norm(f"d{i}_norm")(x))
    width = filters * 2**downsamplings
    for i in range(blocks):  # R256: two 3x3 convs, same width, identity shortcut
        y = keras.layers.ReLU(name=f"r{i}_relu")(_conv_block(x, width, 3, f"r{i}_a", separable=separable))
        y = _conv_block(y, width, 3, f"r{i}_b", separable=separable)
        x = keras.layers.Add(name=f"r{i}")([x, y])
    for i in reversed(range(downsamplings)):  # u128, u64: fractionally strided 3x3 convs
        width = filters * 2**i
        x = keras.layers.Conv2DTranspose(width, 3, strides=2, padding="same", use_bias=False,
                                         kernel_initializer=weight_init(), name=f"u{i}")(x)
        x = keras.layers.ReLU(name=f"u{i}_relu")(instance_norm(f"u{i}_norm")(x))
    x = ReflectPad(3, name="out_pad")(x)
    x = keras.layers.Conv2D(channels, 7, kernel_initializer=weight_init(), name="out_conv")(x)
    return keras.Model(images, keras.layers.Activation("tanh", dtype="float32", name="tanh")(x), name=name)


@keras.saving.register_keras_serializable(package="tfgan_models")
class TranslationModel(GANModel):
    """Base class of the image-translation variants (a :class:`GANModel`, plumbing only).

    Element spec of ``train_step``: two image batches ``(B, S, S, 3)`` in [-1, 1],
    ``data_shape = (S, S, 3)``: ``(input, target)`` pairs for paired variants
    (``data_kind = "paired"``), ``(a, b)`` from two domains for unpaired ones,
    as :mod:`tfgan_models.data.translation` yields. Generators are fully
    convolutional and translate images of any size (padded by reflection to
    the multiple they need, then cropped back).

    Two-way variants (CycleGAN, DiscoGAN) hold ``generator`` (a -> b) and
    ``reverse_generator`` (b -> a), ``discriminator`` (judges b) and
    ``reverse_discriminator`` (judges a); both generators share ``g_optimizer``
    and both discriminators ``d_optimizer``.
    """

    data_kind = "paired"
    two_way = False
    picture_rows = 3

    def __init__(self, generator, discriminator, data_shape=(256, 256, 3), reverse_generator=None,
                 reverse_discriminator=None, **kwargs):
        data_shape = tuple(int(d) for d in data_shape)
        if len(data_shape) != 3 or data_shape[0] != data_shape[1] or data_shape[2] != 3:
            raise ValueError(f"data_shape must be square RGB crops (S, S, 3), received {data_shape}.")
        if kwargs.get("ema_decay") is not None and self.two_way:
            raise ValueError(f"{type(self).__name__} keeps no EMA generator (ema_decay must be None).")
        if self.two_way and (reverse_generator is None or reverse_discriminator is None):
            raise ValueError(f"{type(self).__name__} needs reverse_generator and reverse_discriminator.")
        super().__init__(generator=generator, discriminator=discriminator, data_shape=data_shape, **kwargs)
        self.reverse_generator = reverse_generator
        self.reverse_discriminator = reverse_discriminator
        self.preview = None  # (data spec, domains) of the before/after picture; set by training_dataset
        self._size_multiple = None

    def generator_inputs(self):
        """``[images (None, None, 3)]``: RGB images in [-1, 1] of any size (a multiple of the size multiple)."""
        return [GeneratorInput.image("images", (None, None, 3))]

    def discriminator_input_shapes(self):
        return [(None, None, 3)]

    def get_config(self):
        config = super().get_config()
        if self.two_way:
            config["reverse_generator"] = keras.saving.serialize_keras_object(self.reverse_generator)
            config["reverse_discriminator"] = keras.saving.serialize_keras_object(self.reverse_discriminator)
        return config

    network_keys = ("generator", "discriminator", "reverse_generator", "reverse_discriminator")

    @property
    def generator_variables(self):
        extra = self.reverse_generator.trainable_variables if self.two_way else []
        return self.generator.trainable_variables + extra

    @property
    def discriminator_variables(self):
        extra = self.reverse_discriminator.trainable_variables if self.two_way else []
        return self.discriminator.trainable_variables + extra

    @property
    def inference_reverse_generator(self):
        return self.reverse_generator

    # ------------------------------------------------------------------ data
    @classmethod
    def check_data_spec(cls, spec):
        """Fails early on a spec this variant cannot train on."""
        kind = translation_data.spec_kind(spec)
        if kind != cls.data_kind:
            hint = ("paired:DIR_A,DIR_B, colorize:SOURCE or edges:SOURCE" if cls.data_kind == "paired"
                    else "unpaired:SOURCE_A,SOURCE_B, tfds:cycle_gan/NAME or tfds:celeb_a with --domains")
            raise ValueError(f"{cls.__name__} trains on {cls.data_kind} data ({hint}); {spec!r} is {kind}.")
        return kind

    def training_dataset(self, spec, batch_size, seed, domains=None):
        """The runs hook: ``(repeated batches, steps per epoch or None)`` for a translation spec."""
        self.check_data_spec(spec)
        ds, steps, _ = translation_data.load(spec, size=self.data_shape[0], batch_size=batch_size, seed=seed,
                                             domains=domains)
        self.preview = (spec, domains)
        return ds, steps

    def unpack_pair(self, data):
        """The two image batches of a step, checked against ``data_shape``."""
        names = "(input, target)" if self.data_kind == "paired" else "(a, b)"
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise ValueError(f"{type(self).__name__} trains on {names} image pairs "
                             f"(tfgan_models.data.translation); received {type(data).__name__}.")
        for x in data:
            if tuple(x.shape[1:]) != self.data_shape:
                raise ValueError(f"{type(self).__name__} expects {names} batches of shape (batch, "
                                 f"{', '.join(map(str, self.data_shape))}); received {tuple(data[0].shape)} "
                                 f"and {tuple(data[1].shape)}.")
        return tuple(ops.cast(x, self.compute_dtype) for x in data)

    # ------------------------------------------------------------ inference
    def generate(self, *args, **kwargs):
        raise ValueError(f"{type(self).__name__} translates images: use model.translate(images) "
                         "(uint8 or [-1, 1] floats, any size).")

    def size_multiple(self):
        """The side multiple the generator needs (probed once: the architecture never changes)."""
        if self._size_multiple is None:
            self._size_multiple = probe_image_generator(self.inference_generator)[0]
        return self._size_multiple

    def translate(self, images, direction="a_to_b", batch_size=8):
        """Images ``(N, H, W, 3)``, uint8 or float in [-1, 1] -> translated images, float32 [-1, 1], same size.

        Any H, W: the batch is reflect-padded to the multiple the network needs
        and cropped back, as the exported SavedModel does. ``direction``:
        ``"a_to_b"`` (the generator) or ``"b_to_a"`` (two-way variants).
        """
        if direction not in DIRECTIONS or (direction == "b_to_a" and not self.two_way):
            allowed = DIRECTIONS if self.two_way else DIRECTIONS[:1]
            raise ValueError(f"direction must be one of {', '.join(allowed)} for {type(self).__name__}; "
                             f"received {direction!r}.")
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[-1] != 3 or not len(images):
            raise ValueError(f"translate() takes RGB images (N, H, W, 3) with N >= 1, received shape {images.shape}.")
        images = images.astype("float32") / 127.5 - 1.0 if images.dtype == np.uint8 else images.astype("float32")
        network = self.inference_generator if direction == "a_to_b" else self.inference_reverse_generator
        m = self.size_multiple()
        h, w = images.shape[1:3]
        padded = np.pad(images, [(0, 0), (0, -h % m), (0, -w % m), (0, 0)], mode="reflect")
        out = [ops.convert_to_numpy(network(padded[i : i + batch_size], training=False))
               for i in range(0, len(padded), batch_size)]
        return np.concatenate(out)[:, :h, :w].astype("float32")

    def sample_picture(self, seed=0):
        """uint8 before/after rows on held-out data: input | output | target (paired), or
        a | G(a) | F(G(a)) (two-way); from the data the model was trained on (embedded
        photos by default)."""
        from tfgan_models.data.images import to_uint8

        spec, domains = self.preview or (self.default_preview, None)
        first, second = translation_data.held_out(spec, self.data_shape[0], self.picture_rows, domains,
                                                  seed=int(seed))
        x = first.astype("float32") / 127.5 - 1.0
        y = self.translate(x)
        third = second if not self.two_way else to_uint8(self.translate(y, "b_to_a"))
        rows = [np.concatenate([a, _gap(a), to_uint8(b), _gap(a), c], axis=1)
                for a, b, c in zip(first, y, third)]
        picture = np.concatenate(sum(([r, _gap(r, vertical=True)] for r in rows), [])[:-1], axis=0)
        zoom = -(-256 // picture.shape[1])  # small crops are shown enlarged (nearest), at least 256 px wide
        return np.repeat(np.repeat(picture, zoom, axis=0), zoom, axis=1)

    default_preview = "colorize:photos"


def _gap(image, vertical=False):
    h, w = image.shape[:2]
    return np.full((2, w, 3) if vertical else (h, 2, 3), 255, "uint8")
