"""Fréchet Inception Distance as a streaming ``keras.metrics.Metric``.

Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to
a Local Nash Equilibrium" (arXiv:1706.08500): fit a Gaussian to the features
of real and of generated images and report their Fréchet distance
``||mu_r - mu_f||^2 + Tr(S_r + S_f - 2 (S_r S_f)^(1/2))``.

The distance itself is :func:`tfgan_models.metrics.digits.frechet_distance_from_moments`;
this module only streams the Gaussian fits.
"""

import numpy as np

from tfgan_models.metrics.digits import frechet_distance_from_moments
from tfgan_models.metrics.two_sample import SIDES, TwoSampleMetric, check_dims


class FrechetInceptionDistance(TwoSampleMetric):
    """FID between real and generated images (Heusel et al. 2017, arXiv:1706.08500).

    Streaming: each side keeps the count, the sum of features and the sum of
    their outer products (float64 variables of sizes 1, D and D x D), so memory
    is O(D^2) however many images it sees. With Inception features (D = 2048)
    that is 32 MiB per side.

    Args:
        features: ``images -> (N, D)``; default
            :class:`~tfgan_models.metrics.features.InceptionFeatures` (ImageNet
            weights from Keras's cache). Use
            :class:`~tfgan_models.metrics.features.DigitsFeatures` offline.

    ``result()`` is a Python float; at least 2 real and 2 fake images are needed.
    Keras's InceptionV3 weights are not the 2015 graph papers use, so compare
    values with each other, not with published FIDs.
    """

    def __init__(self, features=None, name="fid", dtype=None):
        super().__init__(features=features, name=name, dtype=dtype)
        self._moments = None  # side -> (count (), sum (D,), sum of outer products (D, D))
        dim = getattr(self.features, "feature_dim", None)
        if dim is not None:
            self._build(int(dim))

    def _build(self, dim):
        self._moments = {
            side: (self.add_variable((), "zeros", dtype="float64", name=f"{side}_count"),
                   self.add_variable((dim,), "zeros", dtype="float64", name=f"{side}_sum"),
                   self.add_variable((dim, dim), "zeros", dtype="float64", name=f"{side}_outer"))
            for side in SIDES
        }
        self.feature_dim = dim

    def _add(self, side, features):
        if self._moments is None:
            self._build(features.shape[1])
        check_dims(self, self.feature_dim, features)
        count, total, outer = self._moments[side]
        count.assign_add(float(len(features)))
        total.assign_add(features.sum(axis=0))
        outer.assign_add(features.T @ features)  # (D, D)

    def _clear(self, side):
        if self._moments is not None:
            for variable in self._moments[side]:
                variable.assign(np.zeros(variable.shape, "float64"))

    def statistics(self, side):
        """``(mean (D,), covariance (D, D), count)`` of one side's features (unbiased covariance)."""
        if side not in SIDES:
            raise ValueError(f"side must be 'real' or 'fake', received {side!r}.")
        if self._moments is None:
            return None, None, 0
        count, total, outer = (v.numpy() for v in self._moments[side])
        n = float(count)
        if n < 2:
            return None, None, int(n)
        mean = total / n
        cov = (outer - n * np.outer(mean, mean)) / (n - 1.0)
        return mean, (cov + cov.T) / 2.0, int(n)

    def result(self):
        (mu_r, cov_r, n_r), (mu_f, cov_f, n_f) = self.statistics("real"), self.statistics("fake")
        if min(n_r, n_f) < 2:
            raise ValueError(f"FID needs at least 2 real and 2 generated images; received {n_r} real "
                             f"and {n_f} generated.")
        return frechet_distance_from_moments(mu_r, cov_r, mu_f, cov_f)
