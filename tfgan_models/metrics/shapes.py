"""Judges of text-to-image samples on captioned shapes: an attribute CNN and an independent reader.

Both read the attributes of :mod:`tfgan_models.data.captions` shapes (shape,
colour, size, position) from RGB images, uint8 or float in [-1, 1], at any
of the shapes resolutions (brought to :data:`JUDGE_SIZE` by an antialiased
resize). They learn from real renders only, of a draw of their own (seed 1;
the models train on seed 0), including the zero-shot combinations, which the
models never see: a judge must be able to read every attribute combination.

:class:`ShapesClassifier` is a small four-head CNN, trained on renders that are
softened for two batches in three (generated images are softer than renders,
and a judge of sharp renders alone reads sharpness). :class:`IndependentShapesJudge`
shares nothing with it: colour is the palette entry nearest to the mean colour of
the bright pixels (closed form), and shape, size and position are scikit-learn
logistic regressions on the histogram of oriented gradients (scikit-image) of the
grey image plus its bright-pixel share. A claim made with one must hold with the other.
"""

import os

import keras
import numpy as np
import tensorflow as tf

from tfgan_models.data import captions
from tfgan_models.metrics.mnist import keras_cache_dir

JUDGE_SIZE = 32
ATTRIBUTES = ("shape", "colour", "size", "position")
CLASSES = {"shape": len(captions.SHAPES), "colour": len(captions.COLOURS), "size": len(captions.SIZES),
           "position": len(captions.POSITIONS)}
JUDGE_SEED, EPOCHS, BATCH = 1, 6, 64
BRIGHT = 0.35  # a pixel is foreground when its brightest channel is above this (background <= 40 / 255)


def as_images(images, size=JUDGE_SIZE):
    """(N, S, S, 3) uint8 or float in [-1, 1] -> float32 (N, size, size, 3) in [-1, 1]."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or not len(images):
        raise ValueError(f"images must be RGB (N, H, W, 3) with N >= 1, received {images.shape}.")
    images = images.astype("float32") / 127.5 - 1.0 if images.dtype == np.uint8 else images.astype("float32")
    if not np.all(np.isfinite(images)):
        raise ValueError("images contain NaN or inf: did the generator diverge?")
    if images.shape[1:3] != (size, size):
        images = tf.image.resize(images, (size, size), method="bilinear", antialias=True).numpy()
    return np.clip(images, -1.0, 1.0)


def judge_data(resolution=JUDGE_SIZE, seed=JUDGE_SEED):
    """Real renders of every combination (train + zero-shot splits of their own seed) and their labels."""
    parts = [captions.shapes_arrays(split, resolution, seed=seed) for split in ("train", "zero_shot")]
    images = np.concatenate([p["images"] for p in parts])
    return images, {a: np.concatenate([p[a] for p in parts]) for a in ATTRIBUTES}


class _Judge:
    def predict_labels(self, images):  # noqa: D102  (each judge implements it)
        raise NotImplementedError

    def accuracy(self, images, labels):
        """``{attribute: share read right, "joint": shape, colour and size all right}``."""
        read = self.predict_labels(images)
        right = {a: read[a] == np.asarray(labels[a]) for a in ATTRIBUTES}
        scores = {a: float(np.mean(r)) for a, r in right.items()}
        scores["joint"] = float(np.mean(right["shape"] & right["colour"] & right["size"]))
        return scores


class ShapesClassifier(_Judge):
    """The package's judge: a four-head CNN, deterministic for a ``seed``, trained once per machine (cached)."""

    def __init__(self, seed=0, epochs=EPOCHS):
        keras.utils.set_random_seed(int(seed))
        self.network = self._network()
        folder = os.path.join(keras_cache_dir(), "tfgan_models", "judges")
        path = os.path.join(folder, f"shapes-v1-{seed}-{epochs}.weights.h5")
        if os.path.exists(path):
            try:
                self.network.load_weights(path)
                return
            except (OSError, ValueError):  # a damaged cache file: train again
                pass
        images, labels = judge_data()
        data = tf.data.Dataset.from_tensor_slices((images, {a: labels[a] for a in ATTRIBUTES}))
        data = data.shuffle(len(images), seed=int(seed)).batch(BATCH).map(
            lambda x, y: (self._soften(x), y), num_parallel_calls=tf.data.AUTOTUNE)
        self.network.fit(data, epochs=int(epochs), verbose=0)
        os.makedirs(folder, exist_ok=True)
        self.network.save_weights(path + ".tmp.weights.h5")
        os.replace(path + ".tmp.weights.h5", path)

    @staticmethod
    def _network():
        x = inputs = keras.Input((JUDGE_SIZE, JUDGE_SIZE, 3))
        for width in (32, 64, 64):
            x = keras.layers.Conv2D(width, 3, padding="same", activation="relu")(x)
            x = keras.layers.MaxPooling2D()(x)
        x = keras.layers.Dense(128, activation="relu")(keras.layers.Flatten()(x))
        heads = {a: keras.layers.Dense(k, name=a)(x) for a, k in CLASSES.items()}
        model = keras.Model(inputs, heads)
        model.compile("adam", loss={a: keras.losses.SparseCategoricalCrossentropy(from_logits=True) for a in heads})
        return model

    @staticmethod
    def _soften(x):
        """uint8 -> [-1, 1]; two batches in three resized down to 1/2 or 1/4 and back, plus faint noise."""
        x = tf.image.resize(tf.cast(x, tf.float32) / 127.5 - 1.0, (JUDGE_SIZE, JUDGE_SIZE), antialias=True)
        down = JUDGE_SIZE // tf.pow(2, tf.random.uniform((), 0, 3, tf.int32))
        x = tf.image.resize(tf.image.resize(x, tf.stack([down, down]), antialias=True), (JUDGE_SIZE, JUDGE_SIZE))
        return x + tf.random.normal(tf.shape(x), stddev=0.03)

    def probabilities(self, images):
        """``{attribute: (N, classes) probabilities}``."""
        logits = self.network.predict(as_images(images), batch_size=256, verbose=0)
        return {a: tf.nn.softmax(logits[a]).numpy() for a in ATTRIBUTES}

    def predict_labels(self, images):
        return {a: p.argmax(-1) for a, p in self.probabilities(images).items()}


class IndependentShapesJudge(_Judge):
    """Closed-form colour + HOG logistic regressions for shape, size and position (see the module docstring)."""

    def __init__(self):
        from sklearn.linear_model import LogisticRegression

        images, labels = judge_data()
        features = self._features(as_images(images))
        self.readers = {a: LogisticRegression(max_iter=2000).fit(features, labels[a])
                        for a in ("shape", "size", "position")}

    @staticmethod
    def _foreground(images):
        unit = (images + 1.0) / 2.0
        return unit, unit.max(axis=-1) > BRIGHT

    @classmethod
    def _features(cls, images):
        from skimage.feature import hog

        unit, mask = cls._foreground(images)
        grey = unit.mean(axis=-1)
        hogs = np.stack([hog(g, orientations=8, pixels_per_cell=(8, 8), cells_per_block=(2, 2)) for g in grey])
        return np.concatenate([hogs, mask.reshape(len(mask), -1).mean(axis=1, keepdims=True) * 4.0], axis=1)

    def predict_labels(self, images):
        images = as_images(images)
        unit, mask = self._foreground(images)
        counts = np.maximum(mask.sum(axis=(1, 2)), 1)[:, None]
        mean = (unit * mask[..., None]).sum(axis=(1, 2)) / counts                 # mean colour of the shape
        palette = captions.RGB / 255.0
        colour = np.argmin(((mean[:, None, :] - palette[None]) ** 2).sum(-1), axis=1)
        features = self._features(images)
        return {"colour": colour, **{a: r.predict(features) for a, r in self.readers.items()}}
