"""Classifier-based scores for generators of the embedded 8x8 digits.

There is no standard FID for small digits (TF-GAN's MNIST score also uses its
own classifier), so the package trains a small, deterministic classifier on the
``train`` split of :func:`tfgan_models.data.digits_arrays` and scores samples
with it:

* Fréchet distance between Gaussian fits of its hidden ``features`` layer, as
  FID does with Inception pool features (Heusel et al. 2017, "GANs Trained by
  a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium",
  arXiv:1706.08500; the distance itself is Dowson & Landau 1982);
* class shares of the predicted labels, the number of classes holding at
  least 5% of the samples and the KL divergence to uniform: mode dropping
  shows up here as in the "modes" score of Che et al. 2017 (Mode Regularized
  GANs, arXiv:1612.02136) and the Stacked-MNIST count of VEEGAN / PacGAN;
* the mean classifier confidence (an Inception-Score-like sharpness proxy,
  Salimans et al. 2016).

``real_vs_real_floor`` (train split vs test split) is the distance two real
samples of these sizes already have: a generator cannot be expected below it.
"""

import warnings

import numpy as np
import tensorflow as tf
import keras

from tfgan_models.data.embedded import digits_arrays
from tfgan_models.metrics.mixtures import kl_to_uniform

CLASSIFIER_SEED = 0
CLASSIFIER_EPOCHS = 40  # 99.7% test accuracy in ~3 s on 2 CPU cores (32x32)
CLASSIFIER_BATCH = 64
MIN_CLASS_SHARE = 0.05  # "classes over 5%": half the share of a uniform class

_CACHE = {}  # image_size -> (classifier, feature_model, test_accuracy): trained once per process


def frechet_distance(features_a, features_b, eps=1e-6):
    """Fréchet distance between Gaussian fits of two feature sets.

    ``d^2 = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))``
    (Dowson & Landau 1982; used as FID by Heusel et al. 2017).

    Args:
        features_a, features_b: ``(N_a, D)`` and ``(N_b, D)`` arrays, N >= 2.
        eps: added to both covariance diagonals only when the square root of
            ``S_a S_b`` is not finite or not accurate (as pytorch-fid does).
    Returns:
        A non-negative float.
    """
    a = np.asarray(features_a, dtype="float64")
    b = np.asarray(features_b, dtype="float64")
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(
            f"frechet_distance needs two (N, D) arrays with the same D and N >= 2, "
            f"received shapes {a.shape} and {b.shape}."
        )
    return frechet_distance_from_moments(a.mean(axis=0), np.cov(a, rowvar=False),
                                         b.mean(axis=0), np.cov(b, rowvar=False), eps=eps)


def frechet_distance_from_moments(mu_a, cov_a, mu_b, cov_b, eps=1e-6):
    """:func:`frechet_distance` from means ``(D,)`` and covariances ``(D, D)``.

    For streaming metrics that keep only the moments of their features.
    """
    mu_a, mu_b = np.atleast_1d(np.asarray(mu_a, "float64")), np.atleast_1d(np.asarray(mu_b, "float64"))
    cov_a, cov_b = np.atleast_2d(np.asarray(cov_a, "float64")), np.atleast_2d(np.asarray(cov_b, "float64"))
    d = len(mu_a)
    if mu_b.shape != (d,) or cov_a.shape != (d, d) or cov_b.shape != (d, d):
        raise ValueError(f"moments must be means (D,) and covariances (D, D) of one D; received "
                         f"{mu_a.shape}, {cov_a.shape}, {mu_b.shape}, {cov_b.shape}.")
    covmean, error = _sqrtm(cov_a @ cov_b)
    if error > 1e-6:
        offset = eps * np.eye(d)
        covmean, error = _sqrtm((cov_a + offset) @ (cov_b + offset))
        if not np.isfinite(error):
            raise ValueError("the feature covariances have no finite matrix square root: "
                             "are the features finite?")
    # S_a S_b is similar to a PSD matrix, so its root is real up to round-off;
    # sqrtm may still return tiny imaginary parts, which carry no information.
    covmean = np.real(covmean)
    diff = mu_a - mu_b
    value = diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(covmean)
    return float(max(value, 0.0))  # round-off can give -1e-12 for identical sets


def _sqrtm(matrix):
    """``(scipy.linalg.sqrtm(matrix), relative error ||X X - A||_F / ||A||_F)``; error inf if not finite.

    Dead ReLU units make feature covariances singular; sqrtm then warns
    ("Matrix is singular") although its root is usually exact, so the warning
    is replaced by this residual check.
    """
    from scipy import linalg

    if not np.all(np.isfinite(matrix)):
        return None, float("inf")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        root = linalg.sqrtm(matrix)
    if not np.all(np.isfinite(root)):
        return None, float("inf")
    return root, float(np.linalg.norm(root @ root - matrix) / max(np.linalg.norm(matrix), 1e-300))


def build_classifier(image_size=32, seed=CLASSIFIER_SEED):
    """images (B, H, W, 1) in [-1, 1] -> logits (B, 10): an MLP with a ``features`` layer.

    Weights are drawn from initializers with explicit seeds, so the network is
    reproducible without touching the global random state of the caller.
    """
    def init(k):
        return keras.initializers.GlorotUniform(seed=seed * 100 + k)

    images = keras.Input((image_size, image_size, 1), name="images")
    h = keras.layers.Flatten(name="flatten")(images)  # (B, H * W)
    h = keras.layers.Dense(256, activation="relu", kernel_initializer=init(1), name="hidden")(h)
    features = keras.layers.Dense(64, activation="relu", kernel_initializer=init(2), name="features")(h)
    logits = keras.layers.Dense(10, kernel_initializer=init(3), name="logits")(features)
    return keras.Model(images, logits, name="digits_classifier")


def _trained(image_size):
    """The cached ``(classifier, feature_model, test_accuracy)`` for ``image_size``."""
    if image_size in _CACHE:
        return _CACHE[image_size]
    x_train, y_train = digits_arrays("train", image_size)
    x_test, y_test = digits_arrays("test", image_size)
    classifier = build_classifier(image_size)
    classifier.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    # The batch order comes from a NumPy RandomState, not from fit(shuffle=True),
    # so training is deterministic and leaves the global seeds alone.
    rng = np.random.RandomState(CLASSIFIER_SEED)
    order = np.concatenate([rng.permutation(len(y_train)) for _ in range(CLASSIFIER_EPOCHS)])
    x, y = tf.constant(x_train), tf.constant(y_train)
    batches = (tf.data.Dataset.from_tensor_slices(order).batch(CLASSIFIER_BATCH)
               .map(lambda i: (tf.gather(x, i), tf.gather(y, i))))
    classifier.fit(batches, epochs=1, shuffle=False, verbose=0)
    feature_model = keras.Model(classifier.input, classifier.get_layer("features").output,
                                name="digits_features")
    accuracy = float(np.mean(np.argmax(classifier.predict(x_test, verbose=0), axis=1) == y_test))
    _CACHE[image_size] = (classifier, feature_model, accuracy)
    return _CACHE[image_size]


def class_scores(probs):
    """What a classifier's probabilities ``(N, 10)`` say about a sample set: ``class_shares``,
    ``classes_over_5pct``, ``kl_to_uniform`` (nats), ``mean_confidence``, ``num_samples``."""
    counts = np.bincount(np.argmax(probs, axis=1), minlength=10)
    shares = counts / counts.sum()
    return {"class_shares": [float(s) for s in shares],
            "classes_over_5pct": int(np.sum(shares >= MIN_CLASS_SHARE)),
            "kl_to_uniform": kl_to_uniform(counts),
            "mean_confidence": float(np.mean(np.max(probs, axis=1))),
            "num_samples": int(len(probs))}


class DigitsEvaluator:
    """Scores images against the embedded digits with the package's classifier.

    Args:
        image_size: side of the square images the classifier takes (32 for the
            ``demo`` presets). Images of another size are resized bilinearly,
            the way :func:`~tfgan_models.data.digits_arrays` resizes the 8x8 originals.
    """

    def __init__(self, image_size=32):
        if not isinstance(image_size, (int, np.integer)) or image_size < 8:
            raise ValueError(f"image_size must be an int >= 8, received {image_size!r}.")
        self.image_size = int(image_size)
        self.classifier, self.feature_model, self.test_accuracy = _trained(self.image_size)
        self._floor = None

    def _prepare(self, images):
        """(N, H, W[, 1]) float in [-1, 1] or uint8 -> float32 (N, S, S, 1) in [-1, 1]."""
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[..., None]
        if images.ndim != 4 or images.shape[-1] != 1 or len(images) == 0:
            raise ValueError(
                f"digits images must have shape (N, H, W, 1) or (N, H, W) with N >= 1, "
                f"received {images.shape}."
            )
        if images.dtype == np.uint8:
            images = images.astype("float32") / 127.5 - 1.0
        images = images.astype("float32")
        if not np.all(np.isfinite(images)):
            raise ValueError("digits images contain NaN or inf: did the generator diverge?")
        if images.shape[1:3] != (self.image_size, self.image_size):
            images = tf.image.resize(images, (self.image_size,) * 2, method="bilinear").numpy()
        return images

    def features(self, images):
        """Hidden ``features`` activations, ``(N, 64)`` float64."""
        return self.feature_model.predict(self._prepare(images), batch_size=256, verbose=0).astype("float64")

    def predict(self, images):
        """Class probabilities ``(N, 10)``."""
        logits = self.classifier.predict(self._prepare(images), batch_size=256, verbose=0)
        return keras.ops.convert_to_numpy(keras.ops.softmax(logits, axis=-1)).astype("float64")

    def frechet_distance(self, images_a, images_b):
        """Fréchet distance between the feature Gaussians of two image sets."""
        return frechet_distance(self.features(images_a), self.features(images_b))

    @property
    def real_vs_real_floor(self):
        """FD between the train split (1,400) and the test split (397)."""
        if self._floor is None:
            self._floor = self.frechet_distance(digits_arrays("train", self.image_size)[0],
                                                digits_arrays("test", self.image_size)[0])
        return self._floor

    def score(self, fake_images, real_images=None):
        """All scores of generated digits as a JSON-ready dict.

        ``real_images`` default to the train split. Keys: ``frechet_distance``,
        ``real_vs_real_floor``, ``class_shares`` (10 floats), ``classes_over_5pct``,
        ``kl_to_uniform`` (nats, of the predicted-class histogram),
        ``mean_confidence`` (mean max probability), ``test_accuracy``, ``num_samples``.
        """
        if real_images is None:
            real_images = digits_arrays("train", self.image_size)[0]
        probs = self.predict(fake_images)
        return {"frechet_distance": self.frechet_distance(fake_images, real_images),
                "real_vs_real_floor": self.real_vs_real_floor, **class_scores(probs),
                "test_accuracy": self.test_accuracy}
