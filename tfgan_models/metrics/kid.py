"""Kernel Inception Distance (unbiased) as a ``keras.metrics.Metric``.

Bińkowski et al. 2018, "Demystifying MMD GANs" (arXiv:1801.01401, sec. 4 and
app. D): the squared maximum mean discrepancy between real and generated
features under the cubic polynomial kernel ``k(x, y) = (x . y / d + 1)^3``,
estimated without bias and averaged over random subsets, as the authors' code
(``polynomial_mmd_averages``) and clean-fid / torch-fidelity do. Unlike FID it
has an unbiased estimator, so values from small sample sizes can be compared.
Papers often print ``KID x 10^3``; this module returns the raw value.
"""

import numpy as np

from tfgan_models.metrics.two_sample import StoredFeaturesMetric


def polynomial_kernel(x, y):
    """``(x y^T / d + 1)^3`` for ``x`` (m, d) and ``y`` (n, d): the KID kernel (m, n)."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def polynomial_mmd2_unbiased(x, y):
    """Unbiased MMD^2 between feature sets ``x`` (m, d) and ``y`` (n, d), m, n >= 2.

    ``sum_{i != j} k(x_i, x_j) / (m (m - 1)) + sum_{i != j} k(y_i, y_j) / (n (n - 1))
    - 2 sum_{i, j} k(x_i, y_j) / (m n)`` (Gretton et al. 2012, eq. 3).
    """
    x, y = np.asarray(x, "float64"), np.asarray(y, "float64")
    m, n = len(x), len(y)
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    return float((k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
                 + (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
                 - 2.0 * k_xy.sum() / (m * n))


class KernelInceptionDistance(StoredFeaturesMetric):
    """KID: unbiased polynomial-kernel MMD^2 of features (Bińkowski et al. 2018, arXiv:1801.01401).

    ``result()`` is the mean over ``subsets`` random subsets of ``m`` fake and
    ``m`` real feature vectors (drawn without replacement, fake first, from
    ``numpy.random.RandomState(seed)``), ``m = min(subset_size, #real, #fake)``;
    :meth:`subset_values` gives every subset's value, whose standard deviation
    is the usual "KID std". 100 subsets of 1,000 are clean-fid's defaults.

    The kernel needs every pair of vectors, so this metric keeps all features
    (N x D float64: 16 KiB per Inception image) rather than running sums.

    Args:
        features: ``images -> (N, D)``; default Inception pool features.
        subsets, subset_size: the averaging protocol.
        seed: seeds the subset draws, so ``result()`` is reproducible.
    """

    def __init__(self, features=None, subsets=100, subset_size=1000, seed=0, name="kid", dtype=None):
        super().__init__(features=features, name=name, dtype=dtype)
        if int(subsets) < 1 or int(subset_size) < 2:
            raise ValueError(f"KID needs subsets >= 1 and subset_size >= 2, received subsets={subsets!r}, "
                             f"subset_size={subset_size!r}.")
        self.subsets, self.subset_size, self.seed = int(subsets), int(subset_size), int(seed)

    def subset_values(self):
        """Unbiased MMD^2 of each subset, ``(subsets,)``."""
        real, fake = self.all_features("real"), self.all_features("fake")
        m = min(self.subset_size, len(real), len(fake))
        if m < 2:
            raise ValueError(f"KID needs at least 2 real and 2 generated images; received {len(real)} real "
                             f"and {len(fake)} generated.")
        rng = np.random.RandomState(self.seed)
        values = []
        for _ in range(self.subsets):
            x = fake[rng.choice(len(fake), m, replace=False)]
            y = real[rng.choice(len(real), m, replace=False)]
            values.append(polynomial_mmd2_unbiased(x, y))
        return np.array(values)

    def result(self):
        return float(np.mean(self.subset_values()))

    def get_config(self):
        return {**super().get_config(), "subsets": self.subsets, "subset_size": self.subset_size,
                "seed": self.seed}
