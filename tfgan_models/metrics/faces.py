"""Judges of face edits: the package's attribute CNN and an independent HOG + logistic-regression reader.

Both read every attribute of :mod:`tfgan_models.data.avatars` (the four edits
Smile, Glasses, GreyHair, Beard and the identity parts skin, hair, clothing,
eyes) from RGB faces, uint8 or float in [-1, 1], of any square size: faces
are brought to :data:`JUDGE_SIZE` by an antialiased resize, so a 256x256
edit and a 128x128 render are read alike. They are trained on real renders of
training identities only (never on generated images) and
:meth:`AttributeClassifier.accuracy` measures them on held-out identities.

:class:`AttributeClassifier` is a small multi-head CNN (one softmax head per
attribute). :class:`IndependentFaceJudge` shares nothing with it: histogram
of oriented gradients of the grey face (scikit-image) plus a coarse colour
thumbnail, one scikit-learn logistic regression per attribute. A claim made
with the first must also hold with the second.
"""

import os

import numpy as np
import tensorflow as tf
import keras

from tfgan_models.data import avatars

JUDGE_SIZE = 128
JUDGE_VERSION = "v2"  # part of the cached weights' file name: bump it when the network or its training changes
TRAIN_FACES, TRAIN_SEED = 3000, 1  # a stream of training identities of their own (not the editors' seed 0)
EPOCHS, BATCH = 6, 32
THUMBNAIL = 24  # side of the colour thumbnail the independent judge reads beside HOG


def as_faces(images, size=JUDGE_SIZE):
    """(N, S, S, 3) uint8 or float in [-1, 1] -> float32 (N, size, size, 3) in [-1, 1]."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.shape[1] != images.shape[2] or not len(images):
        raise ValueError(f"faces must be square RGB images (N, S, S, 3) with N >= 1, received {images.shape}.")
    images = images.astype("float32") / 127.5 - 1.0 if images.dtype == np.uint8 else images.astype("float32")
    if not np.all(np.isfinite(images)):
        raise ValueError("faces contain NaN or inf: did the editor diverge?")
    if images.shape[1] != size:
        images = tf.image.resize(images, (size, size), method="bilinear", antialias=True).numpy()
    return images


def soften(images, seed=0):
    """uint8 batch -> float [-1, 1], resized down to 1/2 or 1/4 of its side and back for two batches in
    three, plus faint noise: generated faces are softer than renders, and a judge trained on sharp renders
    alone read attributes of edits by their sharpness (two seeds of it disagreed by 49 points on the same
    Pix2Pix edits)."""
    x = tf.cast(images, tf.float32) / 127.5 - 1.0
    side = JUDGE_SIZE
    factor = tf.random.uniform((), 0, 3, tf.int32, seed=int(seed))
    down = tf.cast(side, tf.float32) / tf.cast(tf.pow(2, factor), tf.float32)
    small = tf.image.resize(x, tf.cast(tf.stack([down, down]), tf.int32), antialias=True)
    x = tf.image.resize(small, (side, side))
    return x + tf.random.normal(tf.shape(x), stddev=0.02)


class _Judge:
    def predict_labels(self, images):  # noqa: D102  (each judge implements it)
        raise NotImplementedError

    def accuracy(self, images, labels):
        """``{attribute: share read right}`` on faces with known labels (e.g. held-out renders)."""
        read = self.predict_labels(images)
        return {name: float(np.mean(read[name] == np.asarray(labels[name]))) for name in avatars.ATTRIBUTES}


class AttributeClassifier(_Judge):
    """A multi-head CNN reading every avatar attribute; trained on ``train_faces`` renders of training
    identities (seed ``TRAIN_SEED``), deterministic for a ``seed``."""

    def __init__(self, seed=0, train_faces=TRAIN_FACES, epochs=EPOCHS):
        keras.utils.set_random_seed(int(seed))
        self.network = self._network()
        path = os.path.join(avatars.cache_dir(), f"judge-{JUDGE_VERSION}-{seed}-{train_faces}-{epochs}.weights.h5")
        if os.path.exists(path):  # trained once per machine, as the MNIST judge
            try:
                self.network.load_weights(path)
                return
            except (OSError, ValueError):  # a damaged file: train again
                pass
        images, labels = avatars.faces(int(train_faces), JUDGE_SIZE, "train", TRAIN_SEED)
        targets = {name: labels[name] for name in avatars.ATTRIBUTES}
        self.network.compile(keras.optimizers.Adam(1e-3),
                             loss={n: keras.losses.SparseCategoricalCrossentropy(from_logits=True) for n in targets})
        ds = (tf.data.Dataset.from_tensor_slices((images, targets)).shuffle(len(images), seed=int(seed))
              .batch(BATCH).map(lambda x, y: (soften(x, seed), y)))
        self.network.fit(ds, epochs=int(epochs), verbose=0)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            partial = f"{path}.{os.getpid()}.partial.weights.h5"
            self.network.save_weights(partial)
            os.replace(partial, path)
        except OSError:  # a read-only home: keep the trained judge for this process only
            pass

    @staticmethod
    def _network():
        faces = keras.Input((JUDGE_SIZE, JUDGE_SIZE, 3), name="faces")
        x = faces
        for i, width in enumerate((32, 64, 96, 128, 160)):  # 128 -> 4
            x = keras.layers.Conv2D(width, 3, strides=2, padding="same", use_bias=False, name=f"conv{i}")(x)
            x = keras.layers.ReLU(name=f"relu{i}")(keras.layers.BatchNormalization(name=f"bn{i}")(x))
        x = keras.layers.Flatten(name="flatten")(x)  # keeps where a part is: mouth, eyes, hair, clothes
        x = keras.layers.Dropout(0.3, name="dropout")(x)
        heads = {name: keras.layers.Dense(len(avatars.classes(name)), name=name)(x) for name in avatars.ATTRIBUTES}
        return keras.Model(faces, heads, name="avatar_attributes")

    def predict_labels(self, images):
        """``{attribute: (N,) int class index}``."""
        logits = self.network.predict(as_faces(images), batch_size=64, verbose=0)
        return {name: np.asarray(logits[name]).argmax(-1) for name in avatars.ATTRIBUTES}


class IndependentFaceJudge(_Judge):
    """HOG of the grey face + a 16x16 colour thumbnail -> one logistic regression per attribute."""

    def __init__(self, train_faces=TRAIN_FACES, max_iter=1000):
        """``max_iter``: of each logistic regression (tests use fewer: on 200 faces 200 iterations read the
        test faces as well as 1,000, in a sixth of the time)."""
        from sklearn.linear_model import LogisticRegression

        images, labels = avatars.faces(int(train_faces), JUDGE_SIZE, "train", TRAIN_SEED)
        features = self.features(images)
        # No standardisation: HOG blocks are already normalised, and scaling features that barely vary
        # in clean renders to unit variance made the faint artefacts of generated faces dominate
        self.readers = {name: LogisticRegression(C=1.0, max_iter=int(max_iter)).fit(features, labels[name])
                        for name in avatars.ATTRIBUTES}

    @staticmethod
    def features(images):
        from skimage.feature import hog

        # Everything is read softened to half its side and back (train and test alike): generated faces are
        # softer than renders, and HOG of sharp renders misread the hair of 93% of edits the CNN read as kept.
        faces = (as_faces(images, JUDGE_SIZE // 2) + 1.0) / 2.0
        faces = tf.image.resize(faces, (JUDGE_SIZE, JUDGE_SIZE)).numpy()
        grey = faces.mean(axis=-1)
        shapes = np.stack([hog(g, orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2)) for g in grey])
        thumbnail = tf.image.resize(faces, (THUMBNAIL, THUMBNAIL), antialias=True).numpy().reshape(len(faces), -1)
        return np.concatenate([shapes, thumbnail], axis=1).astype("float32")

    def predict_labels(self, images):
        features = self.features(images)
        return {name: reader.predict(features) for name, reader in self.readers.items()}


def edit_scores(judge, inputs, edited, attribute, target):
    """Edit success and identity kept of ``edited`` faces (edits of ``inputs``) as ``judge`` reads them.

    ``success``: the share read as having ``attribute`` == ``target`` (0/1). ``identity_kept``: the share
    whose identity parts (skin, hair, clothing, eyes) are read the same as in the input.
    """
    before, after = judge.predict_labels(inputs), judge.predict_labels(edited)
    same = np.all([before[name] == after[name] for name in avatars.IDENTITY], axis=0)
    return {"success": float(np.mean(after[attribute] == int(target))), "identity_kept": float(np.mean(same)),
            "per_part_kept": {name: float(np.mean(before[name] == after[name])) for name in avatars.IDENTITY}}
