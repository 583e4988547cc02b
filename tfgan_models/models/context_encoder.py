"""Context Encoders: Pathak et al. 2016, "Context Encoders: Feature Learning by Inpainting" (CVPR 2016,
arXiv:1604.07379); authors' code ``pathak22/context-encoder`` (Torch: ``train.lua`` centre region,
``train_random.lua`` random regions).

Paper / code -> here:
    * Encoder (``train.lua``): 4x4 stride-2 convs with ``nef`` x 1, 1, 2, 4, 8 channels down to 4x4,
      LeakyReLU 0.2, batch norm on every layer but the first; then the bottleneck: the code's 4x4
      valid conv to 1x1 x ``nBottleneck`` (4000) with BN + LReLU (``bottleneck="dense"``), or the
      paper's channel-wise fully connected layer (sec. 3.1: m maps of n x n, m n^4 weights, followed
      by a stride-1 conv mixing the channels; ``bottleneck="channelwise"``), which the released
      code omits (pathak22/context-encoder#10).
    * Decoder: DCGAN transposed convs (``ngf`` x 8, 4, 2, 1) with BN + ReLU, then tanh. It predicts
      the whole image, as ``train_random.lua`` does, so one network serves centre and random masks;
      only the hole and the overlap ring count in the loss, and :meth:`ContextEncoder.inpaint`
      keeps every pixel outside the hole exactly.
    * Hole filling: the generator's input has the hole set to ``FILL`` (0, mid-grey; the authors use
      the mean colour). The network takes ``(images, masks)`` and fills the hole itself, so the
      exported graph is the same function.
    * Losses: L_D = BCE(D(x), 1) + BCE(D(G(x')), 0); L_G = 0.999 L_rec + 0.001 BCE(D(G(x')), 1)
      (``wtl2 = 0.999``). L_rec is the mean squared error over the predicted region, weighted 1 in the
      hole and 10 (``overlapL2Weight``) on a ring of ``overlap`` pixels around it (``overlapPred = 4``
      at 128 px). Here the ring lies *outside* the user's hole (the code's hole is the 64x64 centre
      minus that ring), so a user's mask is never partly trusted.
    * D: a DCGAN discriminator on the predicted region only, unconditioned on the context
      (``conditionAdv = 0``): the centre patch with its ring for centre masks, the whole predicted
      image for random masks (``train_random.lua``).
    * Optimisers: Adam(beta_1 0.5); D at 2e-4 and G at **10x** (2e-3) as ``train.lua`` sets when
      0 < wtl2 < 1 (ports that use one learning rate do not reproduce the paper). The code's G step
      reuses D's output from before D's update (a Torch shortcut); here G's step reads the updated D.
    * Init N(0, 0.02), BN gamma ~ N(1, 0.02) (the code's ``weights_init``).

Masks are 1 in the hole (see :mod:`tfgan_models.data.masks`).
"""

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from tfgan_models.data import load as load_data
from tfgan_models.data.pipeline import held_out_spec
from tfgan_models.data.masks import FILL, MASK_KINDS, apply_mask, center_mask, check_masks, masked_crops
from tfgan_models.inputs import GeneratorInput
from tfgan_models.layers.inpainting import ChannelwiseDense, FillHole
from tfgan_models.losses import minimax_discriminator_loss, non_saturating_generator_loss
from tfgan_models.models.gan_model import GANModel
from tfgan_models.registry import register_variant

BOTTLENECKS = ("dense", "channelwise")
PHOTO_SPECS = ("photos", "folder", "tfds")  # trained on random crops; other specs on whole images


def _init():
    return keras.initializers.RandomNormal(0.0, 0.02)


def _bn(name):
    # Torch's running-average momentum 0.1 (the authors' nn.SpatialBatchNormalization) is Keras's 0.9; Keras's
    # default 0.99 leaves the inference statistics hundreds of steps behind on short CPU runs.
    return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, gamma_initializer=keras.initializers.RandomNormal(1.0, 0.02), name=name)


def _sizes(side):
    """Encoder feature sizes from ``side`` down to 4 (``same`` padding: 28 -> 14 -> 7 -> 4)."""
    sizes = [int(side)]
    while sizes[-1] > 4:
        sizes.append(math.ceil(sizes[-1] / 2))
    if sizes[-1] != 4:
        raise ValueError(f"context-encoder images must halve down to 4x4 (e.g. 28, 32, 64, 128); received {side}.")
    return sizes


def context_encoder_generator(data_shape, nef=64, ngf=64, bottleneck="dense", bottleneck_size=4000,
                              name="generator"):
    """``(images, masks) -> predicted images`` (B, H, W, C) in [-1, 1]; the hole is filled here."""
    h, w, c = data_shape
    sizes = _sizes(h)
    images = keras.Input((h, w, c), name="images")
    masks = keras.Input((h, w, 1), name="masks")
    x = FillHole(name="fill_hole")([images, masks])
    for i in range(len(sizes) - 1):  # encoder: 4x4/s2 convs, nef x 1, 1, 2, 4, 8, ...
        x = keras.layers.Conv2D(nef * min(2 ** max(i - 1, 0), 8), 4, 2, padding="same", use_bias=i == 0,
                                kernel_initializer=_init(), name=f"enc{i}")(x)
        if i:
            x = _bn(f"enc{i}_bn")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"enc{i}_lrelu")(x)
    if bottleneck == "dense":  # the code: 4x4 valid conv to 1x1 x nBottleneck, then up to 4x4 again
        x = keras.layers.Conv2D(bottleneck_size, 4, padding="valid", use_bias=False, kernel_initializer=_init(),
                                name="bottleneck")(x)
        x = keras.layers.LeakyReLU(0.2, name="bottleneck_lrelu")(_bn("bottleneck_bn")(x))
        x = keras.layers.Conv2DTranspose(ngf * 8, 4, padding="valid", use_bias=False, kernel_initializer=_init(),
                                         name="dec_in")(x)
    else:  # the paper: channel-wise FC, then a stride-1 conv to mix the channels
        x = ChannelwiseDense(name="channelwise_fc")(x)
        x = keras.layers.Conv2D(ngf * 8, 1, use_bias=False, kernel_initializer=_init(), name="dec_in")(x)
    x = keras.layers.ReLU(name="dec_in_relu")(_bn("dec_in_bn")(x))
    ups = list(reversed(sizes[:-1]))  # e.g. [7, 14, 28]
    for i, size in enumerate(ups):
        last = i == len(ups) - 1
        x = keras.layers.Conv2DTranspose(c if last else ngf * min(2 ** (len(ups) - 2 - i), 8), 4, 2, padding="same",
                                         use_bias=last, kernel_initializer=_init(), name=f"dec{i}")(x)
        if x.shape[1] != size:  # an odd size (28 -> 7): crop the transposed conv's extra row and column
            x = keras.layers.Cropping2D(((0, x.shape[1] - size), (0, x.shape[2] - size)), name=f"dec{i}_crop")(x)
        if not last:
            x = keras.layers.ReLU(name=f"dec{i}_relu")(_bn(f"dec{i}_bn")(x))
    outputs = keras.layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model([images, masks], outputs, name=name)


def patch_discriminator(patch_shape, ndf=64, name="discriminator"):
    """The DCGAN discriminator on the predicted region: 4x4/s2 convs (ndf x 1, 2, 4, 8) down to 4x4, a logit."""
    x = inputs = keras.Input(patch_shape, name="patch")
    layers, side = 0, int(patch_shape[0])
    while side > 4:  # halve down to at most 4x4 (72 -> 36 -> 18 -> 9 -> 5 -> 3)
        layers, side = layers + 1, math.ceil(side / 2)
    for i in range(max(layers, 1)):
        x = keras.layers.Conv2D(ndf * min(2**i, 8), 4, 2, padding="same", use_bias=i == 0,
                                kernel_initializer=_init(), name=f"conv{i}")(x)
        if i:
            x = _bn(f"conv{i}_bn")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"conv{i}_lrelu")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    return keras.Model(inputs, keras.layers.Dense(1, kernel_initializer=_init(), dtype="float32", name="logit")(x), name=name)


PRESETS = {
    # paper: 128x128, 64x64 centre hole, 4000-d bottleneck, batch 64 (the authors' README command;
    # pass --data folder:PARIS_STREETVIEW or tfds:..., the embedded photos only smoke-test it)
    "paper": dict(data="photos", data_shape=(128, 128, 3), mask="center", overlap=4, nef=64, ngf=64, ndf=64,
                  bottleneck_size=4000, batch_size=64, epochs=500, steps_per_epoch=100),
    # demo: MNIST with random regions (20-30% of the image), the paper's channel-wise FC bottleneck, ~4 CPU
    # minutes (as good as the code's 512-d dense bottleneck at 10 epochs, and 35% faster)
    "demo": dict(data="mnist", data_shape=(28, 28, 1), mask="random", overlap=1, nef=32, ngf=32, ndf=32,
                 bottleneck="channelwise", batch_size=64, epochs=10, steps_per_epoch=300),
    # mnist: 28x28 with the 14x14 centre hole (the benchmark's setting), channel-wise FC, ~4 CPU minutes
    "mnist": dict(data="mnist", data_shape=(28, 28, 1), mask="center", overlap=1, nef=32, ngf=32, ndf=32,
                  bottleneck="channelwise", batch_size=64, epochs=10, steps_per_epoch=300),
    # photos: 64x64 crops of the 6 embedded training photos, 32x32 centre hole (the bench's held-out photos)
    "photos": dict(data="photos", data_shape=(64, 64, 3), mask="center", overlap=2, nef=32, ngf=32, ndf=32,
                   bottleneck="channelwise", batch_size=32, epochs=10, steps_per_epoch=300),
    # tiny: test size
    "tiny": dict(data="digits", data_shape=(16, 16, 1), mask="center", overlap=1, nef=4, ngf=4, ndf=4,
                 bottleneck_size=16, batch_size=8, epochs=1, steps_per_epoch=2),
}


@keras.saving.register_keras_serializable(package="tfgan_models")
@register_variant("context_encoder", PRESETS)
class ContextEncoder(GANModel):
    """Context Encoder (Pathak et al. 2016): inpainting by an encoder-decoder with L2 + adversarial losses.

    Element spec of ``train_step``: ``(masked images, masks, originals)`` as
    ``tfgan_models.data.load(spec, mask="center"|"random")`` yields (the masked
    images are recomputed from the originals, so any fill works).

    Args:
        data_shape: ``(H, W, C)``; H == W halving down to 4 (28, 32, 64, 128, ...).
        mask: the training masks, ``"center"`` (half the side) or ``"random"`` (20-30% regions).
        overlap: width of the ring around the hole that is also predicted, at ``overlap_weight`` (10x).
        l2_weight: lambda_rec (0.999); the adversarial weight is ``1 - l2_weight``; 1.0 is the L2-only ablation.
        bottleneck: ``"dense"`` (the code's 1x1 x ``bottleneck_size``) or ``"channelwise"`` (the paper's).
        nef, ngf, ndf: encoder, decoder and discriminator widths (64).
        d_learning_rate: D's Adam rate (2e-4); G's is ``g_lr_ratio`` (10) times it.
    """

    loss_names = ("d_loss", "g_loss", "l2_loss", "adversarial_loss")
    jit_compile_auto = True  # XLA 2.05x on CPU at demo size (docs/bench/xla.json)

    def __init__(self, data_shape=(128, 128, 3), mask="center", overlap=4, overlap_weight=10.0, l2_weight=0.999,
                 bottleneck="dense", bottleneck_size=4000, nef=64, ngf=64, ndf=64, d_learning_rate=2e-4,
                 g_lr_ratio=10.0, generator=None, discriminator=None, **kwargs):
        data_shape = tuple(int(d) for d in data_shape)
        if len(data_shape) != 3 or data_shape[0] != data_shape[1]:
            raise ValueError(f"data_shape must be square (H, H, C), received {data_shape}.")
        if mask not in MASK_KINDS:
            raise ValueError(f"mask must be one of {MASK_KINDS}, received {mask!r}.")
        if bottleneck not in BOTTLENECKS:
            raise ValueError(f"bottleneck must be one of {BOTTLENECKS}, received {bottleneck!r}.")
        if not 0.0 < float(l2_weight) <= 1.0:
            raise ValueError(f"l2_weight must be in (0, 1], received {l2_weight!r}.")
        self.mask, self.overlap, self.overlap_weight = mask, int(overlap), float(overlap_weight)
        self.l2_weight, self.bottleneck, self.bottleneck_size = float(l2_weight), bottleneck, int(bottleneck_size)
        self.nef, self.ngf, self.ndf = int(nef), int(ngf), int(ndf)
        self.d_learning_rate, self.g_lr_ratio = float(d_learning_rate), float(g_lr_ratio)
        self.data_shape = data_shape
        if generator is None:
            generator = context_encoder_generator(data_shape, nef, ngf, bottleneck, bottleneck_size)
        if discriminator is None:
            discriminator = patch_discriminator(self.patch_shape(), ndf)
        super().__init__(generator=generator, discriminator=discriminator, data_shape=data_shape, **kwargs)

    def generator_inputs(self):
        h, w, _ = self.data_shape
        return [GeneratorInput.image("images", self.data_shape), GeneratorInput.mask("masks", (h, w, 1))]

    def discriminator_input_shapes(self):
        return [self.patch_shape()]

    def patch_shape(self):
        """What D judges: the centre hole with its ring (centre masks) or the whole image (random masks)."""
        h, w, c = self.data_shape
        if self.mask == "random":
            return (h, w, c)
        return (h // 2 + 2 * self.overlap, w // 2 + 2 * self.overlap, c)

    def get_config(self):
        return {**super().get_config(), "mask": self.mask, "overlap": self.overlap,
                "overlap_weight": self.overlap_weight, "l2_weight": self.l2_weight, "bottleneck": self.bottleneck,
                "bottleneck_size": self.bottleneck_size, "nef": self.nef, "ngf": self.ngf, "ndf": self.ndf,
                "d_learning_rate": self.d_learning_rate, "g_lr_ratio": self.g_lr_ratio}

    def default_optimizers(self):
        return {"generator": keras.optimizers.Adam(self.d_learning_rate * self.g_lr_ratio, beta_1=0.5),
                "discriminator": keras.optimizers.Adam(self.d_learning_rate, beta_1=0.5)}

    # ------------------------------------------------------------------ data
    def training_dataset(self, spec, batch_size, seed):
        """The runs hook: ``(repeated (masked, mask, original) batches, steps per epoch or None)``."""
        h, w, c = self.data_shape
        self.preview = spec
        if str(spec).split(":")[0] in PHOTO_SPECS:  # photographs: random crops (and flips) of the whole images
            if c != 3:
                raise ValueError(f"{spec!r} holds colour photographs: train a 3-channel model (data_shape (H, W, 3)).")
            return masked_crops(spec, h, batch_size, self.mask, seed=seed or 0), None
        ds = load_data(spec, batch_size=batch_size, image_size=(h, w), channels=c, seed=seed, mask=self.mask,
                       mask_seed=seed or 0)
        steps = int(ds.cardinality())
        return ds.repeat(), (steps if steps > 0 else None)

    def reconstruction_weights(self, masks):
        """1 in the hole, ``overlap_weight`` on the ``overlap``-pixel ring around it, 0 elsewhere (B, H, W, 1)."""
        if not self.overlap:
            return masks
        k = 2 * self.overlap + 1
        ring = ops.max_pool(masks, k, strides=1, padding="same") - masks
        return masks + self.overlap_weight * ring

    def region(self, images):
        """The part of ``images`` D judges (see :meth:`patch_shape`)."""
        if self.mask == "random":
            return images
        ph, pw, _ = self.patch_shape()
        top, left = (self.data_shape[0] - ph) // 2, (self.data_shape[1] - pw) // 2
        return images[:, top : top + ph, left : left + pw]

    def train_step(self, data):
        # 1. x: originals, M: masks (1 = hole). G predicts the image from (x with the hole filled, M).
        # 2. D step: BCE(D(region(x)), 1) + BCE(D(region(G)), 0) on the predicted region only.
        # 3. G step: 0.999 * weighted L2 over hole + ring (ring 10x) + 0.001 * BCE(D(region(G)), 1).
        if not isinstance(data, (tuple, list)) or len(data) != 3:
            raise ValueError("ContextEncoder trains on (masked images, masks, originals) batches: "
                             "tfgan_models.data.load(spec, mask='center'|'random').")
        _, masks, real = (ops.cast(t, self.compute_dtype) for t in data)
        weights = self.reconstruction_weights(masks)
        adversarial = self.l2_weight < 1.0
        d_loss = ops.zeros(())
        if adversarial:
            fake = self.generator([real, masks], training=True)
            with tf.GradientTape() as tape:
                d_loss = minimax_discriminator_loss(self.discriminator(self.region(real), training=True),
                                                    self.discriminator(self.region(fake), training=True))
            self.apply_gradients(self.d_optimizer, tape, d_loss, self.discriminator_variables)
        with tf.GradientTape() as tape:
            fake = self.generator([real, masks], training=True)
            squared = weights * ops.square(fake - real)  # (B, H, W, C)
            l2_loss = ops.sum(squared) / (ops.sum(ops.cast(weights > 0, squared.dtype)) * self.data_shape[-1])
            adversarial_loss = (non_saturating_generator_loss(self.discriminator(self.region(fake), training=True))
                                if adversarial else ops.zeros(()))
            g_loss = self.l2_weight * l2_loss + (1.0 - self.l2_weight) * adversarial_loss
        self.apply_gradients(self.g_optimizer, tape, g_loss, self.generator_variables)
        self.update_ema()
        return self.track(d_loss=d_loss, g_loss=g_loss, l2_loss=l2_loss, adversarial_loss=adversarial_loss)

    # ------------------------------------------------------------- inference
    def inpaint(self, images, masks, batch_size=64):
        """Fills the holes: float32 images in [-1, 1] equal to ``images`` wherever ``masks`` is 0.

        ``images``: (B, H, W, C) floats in [-1, 1] (or uint8) of the model's size; ``masks``: (H, W) or
        (B, H, W[, 1]), nonzero in the hole. An empty mask, a full one, or a wrong size is a ``ValueError``.
        """
        images = np.asarray(images)
        images = images.astype("float32") / 127.5 - 1.0 if images.dtype == np.uint8 else images.astype("float32")
        if images.ndim == 3:
            images = images[None]
        if images.ndim != 4 or tuple(images.shape[1:]) != self.data_shape:
            raise ValueError(f"{type(self).__name__} inpaints images of shape (B, {', '.join(map(str, self.data_shape))}); "
                             f"received {tuple(images.shape)}.")
        masks = check_masks(masks, images.shape)
        out = []
        for i in range(0, len(images), int(batch_size)):
            x, m = images[i : i + batch_size], masks[i : i + batch_size]
            predicted = ops.convert_to_numpy(self.inference_generator([x, m], training=False))
            out.append(np.where(m > 0.5, predicted, x))  # exact outside the hole, whatever G does there
        return np.concatenate(out).astype("float32")

    def inpaint_image(self, image, mask):
        """One uint8 image ``(H, W, C)`` of any size and its ``(H, W)`` mask -> the uint8 inpainted image.

        The network sees both resized to its size; its prediction is resized back and pasted into the
        hole only, so every pixel outside the hole is the input's, bit for bit.
        """
        image = np.asarray(image)
        if image.ndim != 3 or image.dtype != np.uint8:
            raise ValueError(f"inpaint_image takes one uint8 (H, W, C) image, received {image.dtype} {image.shape}.")
        masks = check_masks(mask, (1, *image.shape[:2], 1))
        out = composite_any_size(self.inference_generator, tf.constant(image[None]), tf.constant(masks),
                                 self.data_shape)
        return out.numpy()[0]

    def generate(self, *args, **kwargs):
        raise ValueError("ContextEncoder fills holes in images: use model.inpaint(images, masks).")

    def sample_picture(self, seed=0, n=8):
        """Rows: held-out originals, masked inputs, inpainted outputs (uint8 grid)."""
        from tfgan_models.data.images import to_uint8

        images, masks = self.preview_batch(n, seed)
        rows = [images, apply_mask(images, masks), self.inpaint(images, masks)]
        grid = np.concatenate([np.concatenate(list(r), axis=1) for r in rows], axis=0)
        grid = to_uint8(grid)
        return np.repeat(grid, 3, axis=-1) if grid.shape[-1] == 1 else grid

    preview_spec = "digits:test"

    @property
    def preview(self):
        return self.preview_spec

    @preview.setter
    def preview(self, value):
        """``runs.sample`` hands over ``(the run's data spec, domains)``: preview its held-out split."""
        self.preview_spec = held_out_spec(value[0] if isinstance(value, tuple) else value)

    def preview_batch(self, n=8, seed=0):
        """``n`` held-out images (``preview_spec``) and their masks, fixed for a seed."""
        h, w, c = self.data_shape
        batch = next(iter(load_data(self.preview_spec, batch_size=n, image_size=(h, w), channels=c, shuffle=False,
                                    mask=self.mask, mask_seed=seed, drop_remainder=False)))
        return batch[2].numpy(), batch[1].numpy()


def composite_any_size(generator, images, masks, data_shape):
    """uint8 ``(B, H, W, C)`` images and float 0/1 ``(B, H, W, 1)`` masks -> uint8 inpainted images (TF ops).

    Images and masks are resized to the network's ``data_shape`` (area for images; a mask pixel of the
    small mask is a hole if any of its source pixels is), the prediction is resized back bilinearly and
    used only inside the hole. Graph-safe: the SavedModel's serving function is this function.
    """
    h, w, c = data_shape
    size = tf.shape(images)[1:3]
    x = tf.image.resize(tf.cast(images, tf.float32), (h, w), method="area") / 127.5 - 1.0
    m = tf.cast(tf.image.resize(masks, (h, w), method="area") > 0.0, tf.float32)
    predicted = generator([x, m], training=False)
    predicted = tf.image.resize(predicted, size, method="bilinear")
    predicted = tf.cast(tf.clip_by_value(tf.round((predicted + 1.0) * 127.5), 0.0, 255.0), tf.uint8)
    return tf.where(masks > 0.5, predicted, images)
