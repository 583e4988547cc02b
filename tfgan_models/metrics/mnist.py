"""Scores of MNIST generators: the package's CNN judge and an independent PCA + kNN judge.

:class:`MnistEvaluator` is :class:`~tfgan_models.metrics.digits.DigitsEvaluator`
for full MNIST (same scores and names), with a small deterministic CNN trained on
the 60,000 train images of :func:`tfgan_models.data.mnist_arrays` and cached on
disk in ``<KERAS_HOME or ~/.keras>/tfgan_models``; with labels it also scores
class-conditional generators. :class:`IndependentMnistJudge` shares nothing with
it, to check that a claim made with the CNN also holds with another classifier.
Images: float in [-1, 1] or uint8, (N, H, W[, 1]); other sizes are centre-cropped
and resized as :func:`tfgan_models.data.load` does, so real MNIST scores as real.
"""

import hashlib
import json
import os
import pathlib
import time
import uuid
import warnings

import numpy as np
import tensorflow as tf
import keras

from tfgan_models.data.mnist import mnist_arrays
from tfgan_models.metrics.digits import class_scores, frechet_distance

CLASSIFIER_VERSION = 1  # part of the cache file name: bump it when the network or its training changes
CLASSIFIER_SEED = 0
CLASSIFIER_EPOCHS = 2  # 99.34% test accuracy after 86 s of training on 2 busy CPU cores
CLASSIFIER_BATCH = 64
FLOOR_SIZE = 10_000  # train images compared with the 10,000 test images by real_vs_real_floor
JUDGE_COMPONENTS, JUDGE_NEIGHBOURS, JUDGE_SEED = 50, 5, 0

_CACHE = {}  # (image_size, train_size, epochs) -> (classifier, test_accuracy)
_JUDGES = {}  # (image_size, train_size) -> (pca, knn, test_accuracy)


def keras_cache_dir():
    """Keras's cache folder: ``$KERAS_HOME``, else ``~/.keras``."""
    return os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")


def _as_images(images):
    """(N, H, W[, 1]) float in [-1, 1] or uint8 -> float32 (N, H, W, 1) in [-1, 1]."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] != 1 or min(images.shape[:3]) == 0:
        raise ValueError(f"MNIST images must have shape (N, H, W, 1) or (N, H, W) with N, H, W >= 1, "
                         f"received {images.shape}.")
    if images.dtype.kind not in "uif":
        raise ValueError(f"MNIST images must be uint8 or float in [-1, 1], received dtype {images.dtype}.")
    images = images.astype("float32") / 127.5 - 1.0 if images.dtype == np.uint8 else images.astype("float32")
    if not np.all(np.isfinite(images)):
        raise ValueError("MNIST images contain NaN or inf: did the generator diverge?")
    if images.min() < -2.0 or images.max() > 2.0:  # a little overshoot is fine, 0..255 floats are not
        raise ValueError(f"float MNIST images must lie in [-1, 1], received values in "
                         f"[{images.min():g}, {images.max():g}] (pass 0..255 pixels as uint8).")
    return images


def _resize(images, size):
    """Centre square crop, then the antialiased bilinear resize of ``data.load``, to ``size`` x ``size``."""
    height, width = images.shape[1:3]
    if (height, width) == (size, size):
        return images
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    images = images[:, top:top + side, left:left + side]
    return tf.image.resize(images, (size, size), method="bilinear", antialias=True).numpy()


def _as_labels(labels, count):
    """Integer class labels ``(count,)`` in 0..9."""
    labels = np.asarray(labels)
    if (labels.shape != (count,) or labels.dtype.kind not in "uif"
            or not np.all(np.isfinite(labels)) or np.any(labels != np.rint(labels))):
        raise ValueError(f"labels must be {count} integers (one per image), received shape {labels.shape} "
                         f"and dtype {labels.dtype}.")
    if count and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"MNIST labels must lie in 0..9, received {labels.min():g}..{labels.max():g}.")
    return labels.astype("int64")


def _check_size(name, value, low, high):
    if value is not None and (not isinstance(value, (int, np.integer)) or not low <= value <= high):
        raise ValueError(f"{name} must be an int in {low}..{high} or None, received {value!r}.")


def _train_subset(train_size):
    """uint8 train images and labels: all 60,000, or a fixed random ``train_size`` of them."""
    images, labels = mnist_arrays("train")
    if train_size is None:
        return images, labels
    keep = np.sort(np.random.RandomState(CLASSIFIER_SEED).permutation(len(labels))[:train_size])
    return images[keep], labels[keep]


def mean_intra_class_distance(features, labels):
    """Mean over classes of the mean pairwise Euclidean distance between the features of that class.

    Classes with fewer than 2 members are skipped; ``ValueError`` if none has 2.
    """
    from scipy.spatial.distance import pdist

    features = np.asarray(features, "float64")
    labels = np.asarray(labels)
    if features.ndim != 2 or labels.shape != (len(features),):
        raise ValueError(f"features must be (N, D) with one label each, received {features.shape} and "
                         f"{labels.shape}.")
    means = [pdist(features[labels == c]).mean() for c in np.unique(labels) if np.sum(labels == c) >= 2]
    if not means:
        raise ValueError("intra-class diversity needs at least one class with 2 or more images.")
    return float(np.mean(means))


def build_classifier(image_size=32, seed=CLASSIFIER_SEED):
    """images (B, S, S, 1) in [-1, 1] -> logits (B, 10): conv32-conv32-pool-conv64-conv64-pool-dense128
    (the ``features`` layer)-dropout-dense10, 3x3 valid convolutions, ReLU.

    Initializers and dropout have explicit seeds: reproducible without the global seeds.
    """
    def init(k):
        return keras.initializers.HeUniform(seed=seed * 100 + k)

    images = keras.Input((image_size, image_size, 1), name="images")
    h = images
    for k, filters in enumerate((32, 32, 64, 64)):  # valid padding: 40% fewer operations than same
        h = keras.layers.Conv2D(filters, 3, padding="valid", activation="relu", kernel_initializer=init(k),
                                name=f"conv{k + 1}")(h)
        if k % 2:
            h = keras.layers.MaxPooling2D(name=f"pool{k // 2 + 1}")(h)
    h = keras.layers.Flatten(name="flatten")(h)
    features = keras.layers.Dense(128, activation="relu", kernel_initializer=init(4), name="features")(h)
    h = keras.layers.Dropout(0.3, seed=seed * 100 + 5, name="dropout")(features)
    logits = keras.layers.Dense(10, kernel_initializer=keras.initializers.GlorotUniform(seed=seed * 100 + 6),
                                name="logits")(h)
    return keras.Model(images, logits, name="mnist_classifier")


def _fit(image_size, train_size, epochs):
    """A freshly trained classifier: Adam, batch order from a NumPy RandomState (global seeds untouched)."""
    images, labels = _train_subset(train_size)
    x = tf.constant(_resize(_as_images(images), image_size))
    y = tf.constant(labels.astype("int32"))
    classifier = build_classifier(image_size)
    steps = epochs * -(-len(labels) // CLASSIFIER_BATCH)
    classifier.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, steps)),
                       loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.RandomState(CLASSIFIER_SEED)
    order = np.concatenate([rng.permutation(len(labels)) for _ in range(epochs)])
    batches = (tf.data.Dataset.from_tensor_slices(order).batch(CLASSIFIER_BATCH)
               .map(lambda i: (tf.gather(x, i), tf.gather(y, i))))
    classifier.fit(batches, epochs=1, shuffle=False, verbose=0)
    return classifier


def _accuracy_on_test(predict_labels, image_size):
    """Accuracy on the 10,000 test images, brought to ``image_size`` as ``data.load`` does."""
    images, labels = mnist_arrays("test")
    return float(np.mean(predict_labels(_resize(_as_images(images), image_size)) == labels))


def _cache_paths(image_size, cache_dir, train_size, epochs):
    """(weights .h5, JSON record) of a classifier, or None: test-sized ones stay out of the default cache."""
    custom = train_size is not None or epochs != CLASSIFIER_EPOCHS
    if custom and cache_dir is None:
        return None
    folder = os.path.join(keras_cache_dir(), "tfgan_models") if cache_dir is None else os.fspath(cache_dir)
    stem = f"mnist_classifier_v{CLASSIFIER_VERSION}_{image_size}" + (f"_n{train_size}_e{epochs}" if custom else "")
    return os.path.join(folder, stem + ".weights.h5"), os.path.join(folder, stem + ".json")


def _sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def _load(image_size, paths):
    """``(classifier, test_accuracy)`` from the disk cache; None if absent, damaged or not matching its record."""
    if paths is None or not os.path.exists(paths[0]):
        return None
    try:
        with open(paths[1]) as f:
            record = json.load(f)
        if record["weights_sha256"] != _sha256(paths[0]):
            raise ValueError("the weights do not match the checksum of their JSON record")
        classifier = build_classifier(image_size)
        classifier.load_weights(paths[0])
        return classifier, float(record["test_accuracy"])
    except Exception as err:  # a damaged cache is never fatal: it is retrained and overwritten
        warnings.warn(f"the MNIST classifier cache {paths[0]} is unreadable ({type(err).__name__}: {err}); "
                      f"retraining it.", stacklevel=4)
        return None


def _save(classifier, paths, record):
    """Weights, then their JSON record, each written to a temporary name in place and moved (atomic)."""
    tmps = [os.path.join(os.path.dirname(p), f".tmp-{uuid.uuid4().hex}-{os.path.basename(p)}") for p in paths]
    try:
        os.makedirs(os.path.dirname(paths[0]), exist_ok=True)
        classifier.save_weights(tmps[0])
        with open(tmps[1], "w") as f:
            json.dump(dict(record, weights_sha256=_sha256(tmps[0])), f, indent=1)
        for tmp, path in zip(tmps, paths):
            os.replace(tmp, path)
    except (OSError, ValueError) as err:  # a read-only or full disk: the classifier is still usable
        warnings.warn(f"could not cache the MNIST classifier in {paths[0]} ({err}).", stacklevel=4)
    for tmp in tmps:
        if os.path.exists(tmp):
            os.remove(tmp)


def _trained(image_size, cache_dir, train_size, epochs):
    """The cached ``(classifier, test_accuracy)``: from memory, from disk, or trained now."""
    key = (image_size, train_size, epochs)
    if key not in _CACHE:
        paths = _cache_paths(image_size, cache_dir, train_size, epochs)
        loaded = _load(image_size, paths)
        if loaded is None:
            start = time.perf_counter()
            classifier = _fit(image_size, train_size, epochs)
            seconds = round(time.perf_counter() - start, 1)
            accuracy = _accuracy_on_test(
                lambda x: np.argmax(classifier.predict(x, batch_size=512, verbose=0), axis=1), image_size)
            if paths is not None:
                _save(classifier, paths, {"image_size": image_size, "train_size": train_size, "epochs": epochs,
                                          "test_accuracy": accuracy, "train_seconds": seconds})
            loaded = classifier, accuracy
        _CACHE[key] = loaded
    return _CACHE[key]


class MnistEvaluator:
    """Scores images against real MNIST with the package's CNN (see the module docstring).

    Args:
        image_size: side of the square images the classifier takes (32: MNIST
            loaded with ``image_size=(32, 32)``). Other sizes are resized.
        cache_dir: folder of the weights cache; default ``<keras cache>/tfgan_models``.
        train_size, epochs: for tests only (a fixed subset of the train split, fewer
            epochs); such a classifier is cached on disk only in an explicit ``cache_dir``.
    """

    def __init__(self, image_size=32, cache_dir=None, train_size=None, epochs=None):
        _check_size("image_size", image_size, 16, 1024)
        _check_size("train_size", train_size, 10, 60_000)
        _check_size("epochs", epochs, 1, 1000)
        self.image_size = int(image_size)
        train_size = None if train_size in (None, 60_000) else int(train_size)
        epochs = CLASSIFIER_EPOCHS if epochs is None else int(epochs)
        self.classifier, self.test_accuracy = _trained(self.image_size, cache_dir, train_size, epochs)
        self._both = keras.Model(self.classifier.input, [self.classifier.get_layer("features").output,
                                                         self.classifier.output], name="mnist_features_logits")
        self._floor = self._test_features = None

    def _prepare(self, images):
        return _resize(_as_images(images), self.image_size)

    def _features_and_probs(self, images):
        features, logits = self._both.predict(self._prepare(images), batch_size=512, verbose=0)
        logits = np.asarray(logits, "float64")
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        return np.asarray(features, "float64"), probs / probs.sum(axis=1, keepdims=True)

    def features(self, images):
        """``features`` layer activations, ``(N, 128)`` float64."""
        return self._features_and_probs(images)[0]

    def predict(self, images):
        """Class probabilities ``(N, 10)`` float64."""
        return self._features_and_probs(images)[1]

    def frechet_distance(self, images_a, images_b):
        """Fréchet distance between the feature Gaussians of two image sets."""
        return frechet_distance(self.features(images_a), self.features(images_b))

    def _real_features(self):
        if self._test_features is None:
            self._test_features = self.features(mnist_arrays("test")[0])
        return self._test_features

    @property
    def real_vs_real_floor(self):
        """FD between a fixed 10,000 of the train split and the 10,000 test images."""
        if self._floor is None:
            images, _ = mnist_arrays("train")
            keep = np.sort(np.random.RandomState(CLASSIFIER_SEED + 1).permutation(len(images))[:FLOOR_SIZE])
            self._floor = frechet_distance(self.features(images[keep]), self._real_features())
        return self._floor

    def intra_class_diversity(self, images, labels):
        """Mean over classes of the mean pairwise feature distance within the class (classes of 1 skipped)."""
        images = _as_images(images)
        return mean_intra_class_distance(self.features(images), _as_labels(labels, len(images)))

    def score(self, fake_images, labels=None, real_images=None):
        """All scores of generated digits as a JSON-ready dict.

        ``real_images`` default to the 10,000 test images (the floor's reference
        set). Keys as :meth:`DigitsEvaluator.score`; with ``labels`` (the classes
        the generator was asked for) also ``conditional_accuracy``,
        ``per_class_accuracy`` (10 floats, None for absent classes),
        ``intra_class_diversity`` and ``real_intra_class_diversity`` (test split).
        """
        fake_images = _as_images(fake_images)
        if labels is not None:
            labels = _as_labels(labels, len(fake_images))
        features, probs = self._features_and_probs(fake_images)
        real = self._real_features() if real_images is None else self.features(real_images)
        predicted = np.argmax(probs, axis=1)
        scores = {"frechet_distance": frechet_distance(features, real), "real_vs_real_floor": self.real_vs_real_floor,
                  **class_scores(probs), "test_accuracy": self.test_accuracy}
        if labels is not None:
            hits = predicted == labels
            scores["conditional_accuracy"] = float(np.mean(hits))
            scores["per_class_accuracy"] = [float(np.mean(hits[labels == c])) if np.any(labels == c) else None
                                            for c in range(10)]
            scores["intra_class_diversity"] = mean_intra_class_distance(features, labels)
            scores["real_intra_class_diversity"] = mean_intra_class_distance(self._real_features(),
                                                                             mnist_arrays("test")[1])
        return scores


class IndependentMnistJudge:
    """A second MNIST classifier of another kind: PCA (50 components) + 5-nearest neighbours on pixels.

    Inputs are resized to 28x28 and scaled to [0, 1]. ``test_accuracy`` is
    measured on the 10,000 test images brought to ``image_size`` as
    ``data.load`` does (and back to 28x28). ``train_size``: for tests only.
    """

    def __init__(self, image_size=32, train_size=None):
        _check_size("image_size", image_size, 8, 1024)
        _check_size("train_size", train_size, 100, 60_000)  # PCA needs more samples than components
        self.image_size = int(image_size)
        key = (self.image_size, None if train_size in (None, 60_000) else int(train_size))
        if key not in _JUDGES:
            from sklearn.decomposition import PCA
            from sklearn.neighbors import KNeighborsClassifier

            images, labels = _train_subset(key[1])
            pixels = images.reshape(len(images), -1).astype("float32") / 255.0
            self.pca = PCA(JUDGE_COMPONENTS, random_state=JUDGE_SEED).fit(pixels)
            self.knn = KNeighborsClassifier(JUDGE_NEIGHBOURS).fit(self.pca.transform(pixels), labels)
            _JUDGES[key] = (self.pca, self.knn, _accuracy_on_test(self.predict_labels, self.image_size))
        self.pca, self.knn, self.test_accuracy = _JUDGES[key]

    def predict_labels(self, images):
        """Predicted classes ``(N,)`` int64."""
        images = _resize(_as_images(images), 28)
        pixels = (images.reshape(len(images), -1) + 1.0) / 2.0
        return self.knn.predict(self.pca.transform(pixels)).astype("int64")
