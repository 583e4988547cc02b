"""Improved precision and recall (k-NN manifolds) as a ``keras.metrics.Metric``.

Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for Assessing
Generative Models" (arXiv:1904.06991, sec. 2): each set's manifold is the
union of balls around its feature vectors, each ball reaching the vector's
k-th nearest neighbour in the same set (k = 3 in the paper).

* precision: the share of generated samples inside the real manifold (quality);
* recall: the share of real samples inside the generated manifold (coverage).

A mode-collapsed generator keeps a high precision and loses recall; FID mixes
the two into one number.
"""

import numpy as np

from tfgan_models.metrics.two_sample import StoredFeaturesMetric

ROW_CHUNK = 1024  # rows of the distance matrix computed at once: 1024 x N float64


def _squared_distances(a, b, b_norms):
    """``||a_i - b_j||^2`` (len(a), len(b)) via the expansion, with its round-off set to 0.

    ``|a|^2 + |b|^2 - 2 a.b`` of two equal vectors is ~1e-16 relative, not 0;
    values that small are exactly 0 so a point always lies in its own ball.
    """
    a_norms = np.sum(a * a, axis=1)[:, None]
    d2 = a_norms + b_norms[None, :] - 2.0 * (a @ b.T)
    return np.where(d2 <= 1e-10 * (a_norms + b_norms[None, :]), 0.0, d2)


def manifold_radii(features, k=3):
    """Squared distance of each vector to its k-th nearest neighbour in ``features`` (itself excluded)."""
    norms = np.sum(features * features, axis=1)
    radii = []
    for i in range(0, len(features), ROW_CHUNK):
        d2 = _squared_distances(features[i : i + ROW_CHUNK], features, norms)
        radii.append(np.partition(d2, k, axis=1)[:, k])  # index 0 is the point itself (distance 0)
    return np.concatenate(radii)


def coverage(points, centres, radii):
    """Share of ``points`` within the ball of at least one centre (squared ``radii``)."""
    norms = np.sum(centres * centres, axis=1)
    inside = [np.any(_squared_distances(points[i : i + ROW_CHUNK], centres, norms) <= radii[None, :], axis=1)
              for i in range(0, len(points), ROW_CHUNK)]
    return float(np.mean(np.concatenate(inside)))


def knn_precision_recall(real, fake, k=3):
    """``(precision, recall)`` of feature sets ``real`` (N, D) and ``fake`` (M, D), both > k vectors."""
    real, fake = np.asarray(real, "float64"), np.asarray(fake, "float64")
    if min(len(real), len(fake)) <= k:
        raise ValueError(f"precision/recall with k={k} needs more than {k} real and generated samples; "
                         f"received {len(real)} real and {len(fake)} generated.")
    precision = coverage(fake, real, manifold_radii(real, k))
    recall = coverage(real, fake, manifold_radii(fake, k))
    return precision, recall


class PrecisionRecall(StoredFeaturesMetric):
    """Improved precision and recall (Kynkäänniemi et al. 2019, arXiv:1904.06991), k-NN manifolds.

    ``result()`` is ``{"precision": float, "recall": float}``. The manifolds
    need every pairwise distance, so this metric keeps all features; the
    distance matrix is computed ``ROW_CHUNK`` rows at a time. The paper uses
    k = 3 with 50k samples per side and VGG-16 features; the values depend on
    the sample sizes and on k, so compare runs scored with equal ones.

    Args:
        features: ``images -> (N, D)``; default Inception pool features.
        k: the neighbour that sets each ball's radius.
    """

    def __init__(self, features=None, k=3, name="precision_recall", dtype=None):
        super().__init__(features=features, name=name, dtype=dtype)
        if int(k) < 1:
            raise ValueError(f"k must be >= 1, received {k!r}.")
        self.k = int(k)

    def result(self):
        precision, recall = knn_precision_recall(self.all_features("real"), self.all_features("fake"), self.k)
        return {"precision": precision, "recall": recall}

    def get_config(self):
        return {**super().get_config(), "k": self.k}
