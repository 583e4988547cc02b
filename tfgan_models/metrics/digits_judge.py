"""An independent judge of generated digits: an RBF support-vector machine on the native 8x8 pixels.

The package's own digits scores (:class:`~tfgan_models.metrics.DigitsEvaluator`)
come from a small neural network trained on the 32x32 digits. A generator can
learn to please one network (its blind spots are shared by networks of the
same kind), so a claim about class coverage or sharpness should also hold
under a classifier of a different kind, trained on different inputs. This one
is the classic scikit-learn digits classifier:

* ``SVC(kernel="rbf", gamma=0.001, C=10)`` on the 64 raw pixels in scikit-learn's
  0..16 scale (scikit-learn's "Recognizing hand-written digits" example uses
  gamma 0.001; C 10 is its usual grid-search optimum), trained on the ``train``
  split (1,400) of :func:`tfgan_models.data.digits_arrays` at 8x8;
* probabilities by Platt scaling (Platt 1999, "Probabilistic Outputs for
  Support Vector Machines"), fitted on 5-fold cross-validated decision values
  and then applied to one SVM fitted on the whole split:
  ``CalibratedClassifierCV(SVC(...), ensemble=False)``, what scikit-learn 1.9
  recommends in place of the deprecated ``SVC(probability=True)``, which
  did the same with an internal cross-validation. Folds are unshuffled, so
  training is deterministic.

Generated ``(N, H, W, 1)`` images in [-1, 1] (H = W = 8 * 2^j) are mapped back
to 8x8 by area averaging (``tf.image.resize(..., method="area")``: the mean of
each (H/8)x(W/8) block) and rescaled to 0..16. ``test_accuracy`` is measured on
the ``test`` split (397) after the same 8 -> 32 -> 8 round trip (bilinear up,
as the training data, area down) that generated images go through.

Its confidence is a calibrated margin, not a realism score: far from every
training digit the RBF kernel vanishes and the decision values fall back to
the intercepts, so 50-step noise reads 0.98 (the package MLP: 0.17). Read it
with the class shares (that run held one class), never alone.
"""

import numpy as np
import tensorflow as tf

from tfgan_models.data.embedded import digits_arrays
from tfgan_models.metrics.digits import class_scores

SVC_GAMMA = 0.001
SVC_C = 10.0
CALIBRATION_FOLDS = 5
ROUND_TRIP_SIZE = 32  # the demo presets' image size: the round trip of test_accuracy

_CACHE = {}  # "model" -> (fitted classifier, round-trip test accuracy, native test accuracy)


def to_native_pixels(images):
    """``(N, H, W, 1)`` or ``(N, H, W)`` images in [-1, 1] (or uint8) -> ``(N, 64)`` float64 in 0..16.

    H = W must be 8 * 2^j (8, 16, 32, 64, ...); larger images are area-averaged to 8x8.
    """
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    side = images.shape[1] if images.ndim == 4 else 0
    if (images.ndim != 4 or images.shape[-1] != 1 or len(images) == 0 or images.shape[2] != side
            or side < 8 or side % 8 or (side // 8) & (side // 8 - 1)):
        raise ValueError(f"the digits judge takes images of shape (N, S, S, 1) or (N, S, S) with N >= 1 and "
                         f"S = 8 * 2^j (8, 16, 32, 64, ...), received {images.shape}.")
    if images.dtype == np.uint8:
        images = images.astype("float32") / 127.5 - 1.0
    images = images.astype("float32")
    if not np.all(np.isfinite(images)):
        raise ValueError("digits images contain NaN or inf: did the generator diverge?")
    if images.min() < -1.01 or images.max() > 1.01:  # tanh outputs; [0, 1] or [0, 255] floats are a mistake
        raise ValueError(f"digits images must be in [-1, 1] (or uint8), received values in "
                         f"[{images.min():.3g}, {images.max():.3g}].")
    if side != 8:
        images = tf.image.resize(images, (8, 8), method="area").numpy()  # (N, 8, 8, 1): 4x4 block means at 32
    pixels = (np.clip(images, -1.0, 1.0) + 1.0) * 8.0  # [-1, 1] -> scikit-learn's 0..16
    return pixels.reshape(len(pixels), 64).astype("float64")


def _trained():
    """The cached ``(classifier, round-trip test accuracy, native test accuracy)``."""
    if "model" not in _CACHE:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import SVC

        x_train, y_train = digits_arrays("train", 8)
        classifier = CalibratedClassifierCV(SVC(kernel="rbf", gamma=SVC_GAMMA, C=SVC_C),
                                            method="sigmoid", cv=CALIBRATION_FOLDS, ensemble=False)
        classifier.fit(to_native_pixels(x_train), y_train)
        x_native, y_test = digits_arrays("test", 8)
        x_round_trip, _ = digits_arrays("test", ROUND_TRIP_SIZE)
        round_trip = float(np.mean(classifier.predict(to_native_pixels(x_round_trip)) == y_test))
        native = float(np.mean(classifier.predict(to_native_pixels(x_native)) == y_test))
        _CACHE["model"] = (classifier, round_trip, native)
    return _CACHE["model"]


class IndependentDigitsJudge:
    """Class probabilities of digits images from an RBF SVM on the native 8x8 pixels (see the module).

    Attributes:
        test_accuracy: accuracy on the test split after the 8 -> 32 -> 8 round trip (0.990).
        native_test_accuracy: accuracy on the test split at 8x8 (0.992).
    """

    name = "svm_rbf_8x8"

    def __init__(self):
        self.classifier, self.test_accuracy, self.native_test_accuracy = _trained()

    def predict(self, images):
        """Class probabilities ``(N, 10)`` float64, rows summing to 1; images as :func:`to_native_pixels`."""
        probs = self.classifier.predict_proba(to_native_pixels(images)).astype("float64")
        return probs / probs.sum(axis=1, keepdims=True)

    def score(self, images):
        """``class_shares``, ``classes_over_5pct``, ``kl_to_uniform``, ``mean_confidence``,
        ``num_samples`` (as :func:`~tfgan_models.metrics.digits.class_scores`) and ``test_accuracy``."""
        return {**class_scores(self.predict(images)), "test_accuracy": self.test_accuracy}
