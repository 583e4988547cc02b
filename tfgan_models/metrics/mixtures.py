"""Mode-collapse scores on the 2-D Gaussian mixtures (ring8, grid25).

The protocol of VEEGAN (Srivastava et al. 2017, "VEEGAN: Reducing Mode Collapse
in GANs using Implicit Variational Learning", arXiv:1705.07761, sec. 5.1) and
PacGAN (Lin et al. 2018, "PacGAN: The power of two samples in generative
adversarial networks", arXiv:1712.04086, sec. 5.1):

* a sample is *high quality* (HQ) if it lies within ``3 * sigma`` (Euclidean)
  of its nearest mixture mean;
* a mode is *captured* when at least one HQ sample has it as nearest mean;
* the *reverse KL* is KL(generated || data) over modes: every sample is
  assigned to its nearest mean, and the histogram of assignments is compared
  with the data's uniform distribution over modes.

Both papers score 2,500 samples of a trained generator. Pure NumPy.
"""

import numpy as np

from tfgan_models.data.mixtures import mixture

HQ_THRESHOLD_SIGMAS = 3.0  # VEEGAN / PacGAN: "within three standard deviations"
_LOG_EPS = 1e-12  # guards log(0); empty bins contribute exactly 0 (p log p -> 0)


def nearest_modes(samples, means):
    """``(index (N,) int, distance (N,) float)`` of each sample's nearest mean."""
    diff = samples[:, None, :] - means[None, :, :]  # (N, K, 2)
    dist = np.sqrt(np.sum(diff * diff, axis=-1))  # (N, K)
    index = np.argmin(dist, axis=1)
    return index, dist[np.arange(len(samples)), index]


def kl_to_uniform(counts):
    """KL(p || uniform) of a histogram ``counts`` (K,), in nats; 0 for a uniform histogram.

    ``sum_k p_k log(p_k K)``; bins with p_k = 0 contribute 0 (the limit of
    p log p), so the value is finite even under total mode collapse, where it
    reaches its maximum log K.
    """
    counts = np.asarray(counts, dtype="float64")
    if counts.ndim != 1 or len(counts) == 0 or np.any(counts < 0) or counts.sum() <= 0:
        raise ValueError(f"counts must be a non-empty 1-D histogram with a positive total, received {counts!r}.")
    p = counts / counts.sum()
    return float(np.sum(p * np.log(np.maximum(p, _LOG_EPS) * len(p))))


def mixture_scores(samples, name=None, means=None, sigma=None):
    """Modes captured, % high-quality samples and reverse KL of generated points.

    Args:
        samples: ``(N, 2)`` generated points (NumPy or tensor).
        name: a mixture of :func:`tfgan_models.data.mixture` (``"ring8"``,
            ``"grid25"``), or ``None`` with explicit ``means`` (K, 2) and ``sigma``.
    Returns:
        ``{"modes": int, "num_modes": int, "hq_percent": float, "reverse_kl": float,
        "num_samples": int, "mode_counts": list}``; ``mode_counts`` holds the HQ
        samples per mode.
    """
    if name is not None:
        means, sigma = mixture(name)
    elif means is None or sigma is None:
        raise ValueError("mixture_scores needs a mixture name, or both means and sigma.")
    means = np.asarray(means, dtype="float64")
    samples = np.asarray(samples, dtype="float64")
    if samples.ndim != 2 or samples.shape[1] != means.shape[1] or len(samples) == 0:
        raise ValueError(
            f"samples must have shape (N, {means.shape[1]}) with N >= 1, received {samples.shape}."
        )
    if not np.all(np.isfinite(samples)):
        # A diverged generator: count non-finite points as low quality, assigned nowhere.
        finite = np.all(np.isfinite(samples), axis=1)
    else:
        finite = np.ones(len(samples), dtype=bool)
    index, dist = nearest_modes(np.where(finite[:, None], samples, 0.0), means)
    hq = finite & (dist <= HQ_THRESHOLD_SIGMAS * float(sigma))
    k = len(means)
    hq_counts = np.bincount(index[hq], minlength=k)
    all_counts = np.bincount(index[finite], minlength=k)
    return {
        "modes": int(np.count_nonzero(hq_counts)),
        "num_modes": int(k),
        "hq_percent": float(100.0 * hq.mean()),
        "reverse_kl": kl_to_uniform(all_counts) if all_counts.sum() else float(np.log(k)),
        "num_samples": int(len(samples)),
        "mode_counts": hq_counts.tolist(),
    }
