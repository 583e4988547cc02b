"""Feature extractors and classifiers for the generative metrics (FID, KID, IS, precision/recall).

A *feature extractor* is any callable ``images -> (N, D)`` array; a
*classifier* is any callable ``images -> (N, K)`` class probabilities, or
logits when it has ``from_logits = True``. The metrics take either kind as an
argument, so a user can plug in their own network. Provided here:

* :class:`InceptionFeatures` (2048-d pool features) and :class:`InceptionLogits`
  (1000 ImageNet logits): ``keras.applications.InceptionV3`` with ImageNet
  weights read from Keras's cache or a local file, **never downloaded**;
* :class:`DigitsFeatures` (64-d) and :class:`DigitsClassifier` (10 digits): the
  package's own small classifier (:class:`~tfgan_models.metrics.DigitsEvaluator`),
  trained offline in seconds on the embedded digits.

How the Inception path compares with the TF reference (TF-GAN ``tfgan.eval``,
which runs the 2015 ``inception-2015-12-05`` graph from TF-Hub):

* same: bilinear resize to 299 x 299, pixels in [-1, 1], grey images tiled to
  RGB, the 2048-d global-average ``pool_3`` features for FID/KID and the
  classifier logits for IS;
* differs: (1) the weights. Keras ships the 2016 retrained InceptionV3
  (1000 classes) while the reference graph is the 2015 release (1008 logits),
  so absolute FID/KID/IS values are **not comparable with papers' numbers**;
  compare runs with each other, scored the same way. (2) Resizing: TF-GAN uses
  TF1 ``resize_bilinear`` (corner-aligned sampling, ``half_pixel_centers=False``)
  on [0, 255] values then ``(x - 128) / 128``; this module uses TF2
  ``tf.image.resize`` (half-pixel centres, no antialiasing) on the package's
  [-1, 1] range, i.e. ``u / 127.5 - 1`` for a uint8 value ``u``. Both shift
  values by well under one grey level, but they do move FID by a little.
"""

import os

import keras
import numpy as np
import tensorflow as tf

INCEPTION_SIZE = 299
INCEPTION_FEATURES_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
INCEPTION_LOGITS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
RANDOM = "random"  # weights="random": untrained networks, for shape tests only

_INCEPTION_MODELS = {}  # (include_top, weights path) -> keras.Model, built once per process


class MissingInceptionWeightsError(FileNotFoundError):
    """The ImageNet InceptionV3 weights are neither in Keras's cache nor at the path given."""


def keras_models_dir():
    """Where ``keras.applications`` caches weights: ``$KERAS_HOME/models``, else ``~/.keras/models``.

    Like Keras, falls back to ``/tmp/.keras/models`` when the home directory is
    not writable. Read at call time, so setting ``KERAS_HOME`` later works.
    """
    home = os.path.expanduser(os.environ.get("KERAS_HOME") or os.path.join("~", ".keras"))
    existing = home if os.path.exists(home) else os.path.dirname(os.path.abspath(home))
    if not os.access(existing, os.W_OK):
        home = os.path.join("/tmp", ".keras")
    return os.path.join(home, "models")


def inception_weights_path(weights=None, include_top=False):
    """The weights file to load, ``None`` for ``weights="random"``; never downloads.

    Args:
        weights: ``None`` or ``"imagenet"`` (Keras's cache), a path to an ``.h5``
            file, or ``"random"`` (tests only).
        include_top: ``True`` for the classifier (IS), ``False`` for pool features.
    Raises:
        MissingInceptionWeightsError: with the exact cache path and the
            ``--inception-weights PATH`` option, when no file is found.
    """
    filename = INCEPTION_LOGITS_FILE if include_top else INCEPTION_FEATURES_FILE
    if weights == RANDOM:
        return None
    if weights is not None and weights != "imagenet":
        path = os.path.expanduser(str(weights))
        if not os.path.isfile(path):
            raise MissingInceptionWeightsError(
                f"Inception weights file {path!r} does not exist; expected a copy of {filename}."
            )
        return path
    path = os.path.join(keras_models_dir(), filename)
    if os.path.isfile(path):
        return path
    raise MissingInceptionWeightsError(
        f"the ImageNet InceptionV3 weights are not in Keras's cache ({path}) and this package never "
        f"downloads them. Either copy {filename} there (it is what "
        f"keras.applications.InceptionV3(include_top={include_top}, weights='imagenet') downloads on a "
        "machine with network access; KERAS_HOME moves the cache), or pass the file with "
        "--inception-weights PATH (Python: inception_weights=PATH). Offline alternative for digits: "
        "--features digits."
    )


def _inception(include_top, weights):
    path = inception_weights_path(weights, include_top)
    key = (include_top, path)
    if path is not None and key in _INCEPTION_MODELS:
        return _INCEPTION_MODELS[key]
    kwargs = dict(classifier_activation=None) if include_top else dict(pooling="avg")
    try:
        model = keras.applications.InceptionV3(include_top=include_top, weights=path,
                                               input_shape=(INCEPTION_SIZE, INCEPTION_SIZE, 3), **kwargs)
    except (ValueError, OSError) as err:
        wanted = INCEPTION_LOGITS_FILE if include_top else INCEPTION_FEATURES_FILE
        raise ValueError(f"cannot load InceptionV3 weights from {path!r}: expected {wanted} ({err}).") from err
    if path is not None:  # random networks are never shared: each test gets its own
        _INCEPTION_MODELS[key] = model
    return model


def image_batch(images):
    """``images`` as a NumPy ``(N, H, W, 1 or 3)`` array (a channel added to ``(N, H, W)``), or a ``ValueError``."""
    images = np.asarray(keras.ops.convert_to_numpy(images))
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or len(images) == 0:
        raise ValueError(f"images must have shape (N, H, W) or (N, H, W, 1 or 3) with N >= 1, "
                         f"received {images.shape}.")
    return images


def batched(forward, images, batch_size):
    """``forward`` (a ``tf.function`` on one batch) over ``images`` in batches, as one float64 array."""
    out = [forward(tf.constant(images[i : i + batch_size])).numpy() for i in range(0, len(images), batch_size)]
    return np.concatenate(out).astype("float64")


def rgb_images(images):
    """(N, H, W[, C]) in [-1, 1] (or uint8) -> float32 (N, H, W, 3) in [-1, 1]; grey tiled to RGB."""
    images = image_batch(images)
    if images.dtype == np.uint8:
        images = images.astype("float32") / 127.5 - 1.0
    images = images.astype("float32")
    if images.max() > 1.5:
        raise ValueError(f"float images must be in [-1, 1] (the package range) or uint8; received values "
                         f"up to {images.max():.1f}: convert with tfgan_models.data.to_model_range.")
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    return images


class _InceptionNetwork:
    include_top = False

    def __init__(self, weights=None, batch_size=64):
        self.weights = weights
        self.batch_size = int(batch_size)
        self.model = _inception(self.include_top, weights)
        model = self.model

        @tf.function(reduce_retracing=True)
        def forward(images):  # (B, H, W, 3) in [-1, 1] -> (B, D)
            resized = tf.image.resize(images, (INCEPTION_SIZE, INCEPTION_SIZE), method="bilinear")
            return model(resized, training=False)

        self._forward = forward

    def __call__(self, images):
        return batched(self._forward, rgb_images(images), self.batch_size)

    @property
    def name(self):
        source = "random (test only)" if self.weights == RANDOM else "imagenet"
        return f"{type(self).__name__}({source})"


class InceptionFeatures(_InceptionNetwork):
    """images -> (N, 2048) InceptionV3 global-average-pool features, for FID / KID / precision-recall.

    Args:
        weights: ``None`` / ``"imagenet"``: Keras's cache
            (``$KERAS_HOME/models/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5``,
            ``~/.keras`` by default); a path: that file; ``"random"``: untrained
            weights, **for tests only** (the numbers mean nothing). Nothing is
            ever downloaded: a missing file raises :class:`MissingInceptionWeightsError`.
        batch_size: images per forward pass (299 x 299 x 3 each).

    Images: ``(N, H, W, 1 or 3)`` in [-1, 1] or uint8; see the module
    docstring for how this matches the TF-GAN reference.
    """

    include_top = False
    feature_dim = 2048


class InceptionLogits(_InceptionNetwork):
    """images -> (N, 1000) InceptionV3 ImageNet logits, the classifier of the Inception Score.

    ``weights`` as for :class:`InceptionFeatures`, with the full network's
    file ``inception_v3_weights_tf_dim_ordering_tf_kernels.h5``. The TF
    reference graph has 1008 logits (the 2015 release); Keras's has 1000.
    """

    include_top = True
    from_logits = True
    num_classes = 1000


class DigitsFeatures:
    """images -> (N, 64) hidden features of the package's digits classifier: FID / KID / PR offline.

    Wraps :class:`~tfgan_models.metrics.DigitsEvaluator` (trained once per
    process and image size, deterministically, in a few seconds). Images are
    ``(N, H, W, 1)`` in [-1, 1] or uint8, resized bilinearly to ``image_size``.
    ``classifier`` is the matching :class:`DigitsClassifier` (for IS and
    conditional accuracy).
    """

    feature_dim = 64

    def __init__(self, image_size=32):
        from tfgan_models.metrics.digits import DigitsEvaluator

        self.evaluator = DigitsEvaluator(image_size)
        self.image_size = self.evaluator.image_size
        self.name = f"DigitsFeatures({self.image_size}x{self.image_size})"

    def __call__(self, images):
        return self.evaluator.features(images)

    @property
    def classifier(self):
        return DigitsClassifier(evaluator=self.evaluator)


class DigitsClassifier:
    """images -> (N, 10) class probabilities of the package's digits classifier (offline IS / accuracy)."""

    from_logits = False
    num_classes = 10

    def __init__(self, image_size=32, evaluator=None):
        if evaluator is None:
            from tfgan_models.metrics.digits import DigitsEvaluator

            evaluator = DigitsEvaluator(image_size)
        self.evaluator = evaluator
        self.name = f"DigitsClassifier({evaluator.image_size}x{evaluator.image_size})"

    def __call__(self, images):
        return self.evaluator.predict(images)


FEATURE_NAMES = ("fid_inception", "inception", "digits")


def feature_extractor(features):
    """A feature extractor from a callable (returned as is) or a name.

    Names: ``"fid_inception"`` (the standard FID network,
    :class:`~tfgan_models.metrics.fid_inception.FIDInceptionFeatures`: values
    comparable with papers), ``"inception"`` (Keras's ImageNet InceptionV3,
    :class:`InceptionFeatures`) and ``"digits"`` (:class:`DigitsFeatures`, 32 x 32).
    """
    if callable(features):
        return features
    if features == "fid_inception":
        from tfgan_models.metrics.fid_inception import FIDInceptionFeatures

        return FIDInceptionFeatures()
    if features == "inception":
        return InceptionFeatures()
    if features == "digits":
        return DigitsFeatures()
    raise ValueError(f"features must be a callable images -> (N, D) or one of {', '.join(FEATURE_NAMES)}; "
                     f"received {features!r}.")


def feature_array(extractor, images, what="features"):
    """``extractor(images)`` as a finite float64 ``(N, D)`` NumPy array, or a clear ``ValueError``."""
    out = np.asarray(keras.ops.convert_to_numpy(extractor(images)), dtype="float64")
    if out.ndim != 2 or len(out) == 0:
        raise ValueError(f"a {what} function must return an (N, D) array with N >= 1; "
                         f"{getattr(extractor, 'name', extractor)!r} returned shape {out.shape}.")
    if not np.all(np.isfinite(out)):
        raise ValueError(f"the {what} of these images are not all finite (NaN or inf): "
                         "did the generator diverge?")
    return out
