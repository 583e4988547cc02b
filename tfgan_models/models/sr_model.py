"""`SRModel`: plumbing shared by the super-resolution variants (SRResNet, SRGAN, ESRGAN).

Nothing here is a paper's algorithm: the paired pipeline hook, the
before/after picture, starting from another run's generator, and the frozen
VGG19 that perceptual losses read (built on first ``fit``, never saved).
"""

import os

import keras
import numpy as np
from keras import ops

from tfgan_models.data import paired
from tfgan_models.inputs import GeneratorInput
from tfgan_models.models.gan_model import GANModel

PICTURE_PHOTO = "astronaut"   # a held-out photo (ANCHORS P3 test split)
PICTURE_CROP = 192            # HR pixels per side of each panel
PICTURE_TOP_LEFT = (20, 180)  # the astronaut's face


class _Unsaved:
    """Holds an object out of Keras's sight: saving walks attributes that are Keras objects only."""

    def __init__(self, value=None):
        self.value = value


@keras.saving.register_keras_serializable(package="tfgan_models")
class SRModel(GANModel):
    """Base class of the super-resolution variants (a :class:`GANModel`, plumbing only).

    Element spec of ``train_step``: ``(LR (B, H/s, W/s, C), HR (B, H, W, C))``
    in [-1, 1], as :func:`tfgan_models.data.paired.load_pairs` yields, with
    ``data_shape = (H, W, C)`` the HR crop and ``s = scale``. The generator is
    fully convolutional: ``(B, h, w, C) -> (B, s*h, s*w, C)``, so it upscales
    whole images of any size after training on crops.

    A subclass implements ``train_step`` (opening with a numbered plan),
    ``loss_names`` and ``default_optimizers``; variants with a perceptual loss
    set ``perceptual_layer`` (a VGG19 layer) and ``perceptual_before_activation``
    and read :meth:`perceptual_network` in their step.

    Args:
        scale: 2, 3, 4 or 8 (4 by default).
        data_shape: HR crop ``(H, W, C)``; H == W, a multiple of ``scale``.
        degradation: ``None`` (bicubic LR) or ``"realistic"`` / a dict (blur,
            noise, JPEG); see :mod:`tfgan_models.data.paired`.
        init: a run directory (or ``.keras`` generator file) whose generator
            weights start this model, e.g. SRGAN from a trained SRResNet run.
            Applied once at construction, not stored in the config.
        vgg_weights: perceptual-loss variants: the VGG19 no-top ``.h5`` file
            (default: Keras's cache); ``"random"`` is for tests only.
    """

    perceptual_layer = None
    perceptual_before_activation = False

    def __init__(self, generator, discriminator, data_shape=(96, 96, 3), scale=4, degradation=None,
                 init=None, vgg_weights=None, **kwargs):
        data_shape = tuple(int(d) for d in data_shape)
        if len(data_shape) != 3 or data_shape[0] != data_shape[1]:
            raise ValueError(f"data_shape must be a square HR crop (H, H, C), received {data_shape}.")
        scale = paired.check_scale(scale, data_shape[0])
        super().__init__(generator=generator, discriminator=discriminator, data_shape=data_shape, **kwargs)
        self.scale = scale
        self.degradation = paired.check_degradation(degradation)
        self.vgg_weights = None if vgg_weights is None else os.fspath(vgg_weights)
        self._perceptual = _Unsaved()
        if init is not None:
            self.load_generator_weights(init)

    def generator_inputs(self):
        """``[images (None, None, C)]``: LR images in [-1, 1] of any size."""
        return [GeneratorInput.image("images", (None, None, self.data_shape[-1]))]

    def get_config(self):
        config = super().get_config()
        return {**config, "scale": self.scale, "degradation": self.degradation, "vgg_weights": self.vgg_weights}

    # ------------------------------------------------------------------ data
    def training_dataset(self, spec, batch_size, seed):
        """The runs hook: ``(repeated (LR, HR) batches, steps per epoch)`` for a paired spec."""
        if self.uses_perceptual_loss():
            # A run without VGG weights fails here, before it writes anything to its directory.
            from tfgan_models.losses.perceptual import resolve_vgg_weights

            resolve_vgg_weights(self.vgg_weights)
        ds = paired.load_pairs(spec, scale=self.scale, hr_crop=self.data_shape[0], batch_size=batch_size,
                               degradation=self.degradation, seed=seed)
        return ds, paired.steps_per_epoch(spec, self.data_shape[0], batch_size)

    def unpack_pairs(self, data):
        """``(LR, HR)`` of a batch, checked against ``data_shape`` and ``scale``."""
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise ValueError(f"{type(self).__name__} trains on (LR, HR) pairs (tfgan_models.data.paired."
                             f"load_pairs); received {type(data).__name__}.")
        lr, hr = data
        h, w, c = self.data_shape
        want_lr = (h // self.scale, w // self.scale, c)
        if tuple(hr.shape[1:]) != self.data_shape or tuple(lr.shape[1:]) != want_lr:
            raise ValueError(f"{type(self).__name__} (x{self.scale}) expects LR of shape (batch, "
                             f"{', '.join(map(str, want_lr))}) and HR of shape (batch, "
                             f"{', '.join(map(str, self.data_shape))}); received {tuple(lr.shape)} and "
                             f"{tuple(hr.shape)}.")
        return ops.cast(lr, self.compute_dtype), ops.cast(hr, self.compute_dtype)

    # ------------------------------------------------------------ perceptual
    def perceptual_network(self):
        """The frozen VGG19 feature extractor (built once; raises ``VGGWeightsError`` without weights)."""
        if self.perceptual_layer is None:
            raise ValueError(f"{type(self).__name__} uses no perceptual loss.")
        if self._perceptual.value is None:
            from tfgan_models.losses.perceptual import vgg19_features

            self._perceptual.value = vgg19_features(self.perceptual_layer, self.perceptual_before_activation,
                                                    self.vgg_weights)
        return self._perceptual.value

    def uses_perceptual_loss(self):
        return self.perceptual_layer is not None

    def fit(self, *args, **kwargs):
        # The VGG is built before tracing the step (no variables are created inside
        # a tf.function), and a missing weights file fails before any training.
        if self.uses_perceptual_loss():
            self.perceptual_network()
        return super().fit(*args, **kwargs)

    def train_on_batch(self, *args, **kwargs):
        if self.uses_perceptual_loss():
            self.perceptual_network()
        return super().train_on_batch(*args, **kwargs)

    # ------------------------------------------------------------- weights
    def load_generator_weights(self, source):
        """Copies generator weights from a run directory, a ``.keras`` file or a Keras model."""
        if isinstance(source, keras.Model):
            donor, where = source, source.name
        else:
            path = os.fspath(source)
            if os.path.isdir(path):  # a run directory: its generator.keras
                if not os.path.isfile(os.path.join(path, "generator.keras")):
                    raise FileNotFoundError(f"init {path!r} holds no generator.keras (no epoch has finished).")
                donor = keras.models.load_model(os.path.join(path, "generator.keras"))
            elif os.path.isfile(path):
                donor = keras.models.load_model(path)
            else:
                raise FileNotFoundError(f"init {path!r} is neither a run directory nor a .keras file.")
            where = path
        mine, theirs = self.generator.weights, donor.weights
        shapes = lambda ws: [tuple(w.shape) for w in ws]  # noqa: E731
        if shapes(mine) != shapes(theirs):
            raise ValueError(f"cannot start from {where!r}: its generator has {len(theirs)} weights of "
                             f"{donor.count_params()} parameters, this model's has {len(mine)} of "
                             f"{self.generator.count_params()} (build both from the same architecture).")
        self.generator.set_weights(donor.get_weights())
        if self.generator_ema is not None:
            self.generator_ema.set_weights(donor.get_weights())

    # ------------------------------------------------------------ inference
    def generate(self, *args, **kwargs):
        raise ValueError(f"{type(self).__name__} is a super-resolution model: use model.upscale(images) "
                         "or tfgan_models.metrics.sr.upscale(generator, image, scale) for large images.")

    def upscale(self, images, batch_size=8):
        """LR images ``(N, h, w, C)`` in [-1, 1] -> SR images ``(N, s*h, s*w, C)``, float32 NumPy."""
        images = np.asarray(images, "float32")
        if images.ndim != 4:
            raise ValueError(f"upscale() takes a batch (N, h, w, C), received shape {images.shape}.")
        out = [ops.convert_to_numpy(self.inference_generator(images[i : i + batch_size], training=False))
               for i in range(0, len(images), batch_size)]
        return np.concatenate(out).astype("float32")

    def sample_picture(self, seed=0):
        """uint8 before/after panels on a held-out photo: LR (nearest) | bicubic | this model | HR.

        Seed 0 shows the astronaut's face; other seeds a random crop of it.
        """
        from tfgan_models.data.images import to_uint8
        from tfgan_models.data.paired import bicubic_upscale

        image = paired.photo(PICTURE_PHOTO)
        side = PICTURE_CROP // self.scale * self.scale
        if seed:
            rng = np.random.RandomState(seed)
            top, left = rng.randint(0, image.shape[0] - side + 1), rng.randint(0, image.shape[1] - side + 1)
        else:
            top, left = PICTURE_TOP_LEFT
        hr = image[top : top + side, left : left + side]
        lr = paired.downscale(hr.astype("float32"), self.scale).numpy().astype("uint8")
        sr = to_uint8(self.upscale((lr[None].astype("float32") / 127.5 - 1.0))[0])
        nearest = np.repeat(np.repeat(lr, self.scale, axis=0), self.scale, axis=1)
        panels = [nearest, bicubic_upscale(lr, self.scale), sr, hr]
        gap = np.full((side, 2, 3), 255, "uint8")
        return np.concatenate(sum(([p, gap] for p in panels), [])[:-1], axis=1)
