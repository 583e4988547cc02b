"""2-D Gaussian mixtures of the PacGAN / VEEGAN mode-collapse benchmarks.

``ring8``: 8 means on the unit circle at angles 2*pi*k/8 (no duplicated
endpoint, unlike some reference notebooks), sigma 0.01.
``grid25``: means on {-4, -2, 0, 2, 4}^2, sigma 0.05.
"""

import numpy as np

NUM_TRAINING_POINTS = 100_000  # as in PacGAN


def mixture(name):
    """``(means (K, 2), sigma)`` of a named mixture."""
    if name == "ring8":
        angles = 2.0 * np.pi * np.arange(8) / 8.0
        return np.stack([np.cos(angles), np.sin(angles)], axis=1).astype("float32"), 0.01
    if name == "grid25":
        axis = np.arange(-4.0, 5.0, 2.0)
        return np.array([(x, y) for x in axis for y in axis], dtype="float32"), 0.05
    raise ValueError(f"unknown mixture {name!r}; known: ring8, grid25.")


def sample_mixture(name, n=NUM_TRAINING_POINTS, seed=0):
    """``(points (n, 2) float32, component (n,) int32)`` drawn uniformly over components."""
    means, sigma = mixture(name)
    rng = np.random.RandomState(seed)
    component = rng.randint(len(means), size=n).astype("int32")
    points = means[component] + sigma * rng.randn(n, 2).astype("float32")
    return points.astype("float32"), component
