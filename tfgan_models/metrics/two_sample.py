"""`TwoSampleMetric`: the streaming plumbing of metrics that compare real and generated features.

FID, KID and precision/recall all extract features of real and fake images
batch by batch and compare the two sets at :meth:`result` time. This base
class holds what they share (feature extraction, ``update_state(real, fake)``,
resetting one side) and no formula.
"""

import keras
import numpy as np

from tfgan_models.metrics.features import feature_array, feature_extractor

SIDES = ("real", "fake")


class TwoSampleMetric(keras.metrics.Metric):
    """Base of the real-vs-fake metrics; a subclass implements ``_add``, ``_clear`` and ``result``.

    ``update_state(real=None, fake=None)`` takes a batch of real images, of
    generated images, or both, in any order and any number of calls: the
    result does not depend on how the sets were split into batches. It runs
    eagerly (the extractor is an arbitrary Python callable), so call it from
    Python (an evaluation loop, a callback), not inside a compiled ``train_step``.

    ``reset_state()`` clears both sides; ``reset_fake_state()`` keeps the real
    side, so a callback extracts the real features once and scores a new
    generator every few epochs.

    Args:
        features: a callable ``images -> (N, D)`` or a name of
            :func:`~tfgan_models.metrics.features.feature_extractor`
            (``"fid_inception"``: the standard FID network; ``"inception"``;
            ``"digits"``); ``None`` builds
            :class:`~tfgan_models.metrics.features.InceptionFeatures` (which
            needs the ImageNet weights in Keras's cache and never downloads them).
    """

    def __init__(self, features=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.features = feature_extractor("inception" if features is None else features)

    def update_state(self, real=None, fake=None, sample_weight=None):
        if sample_weight is not None:
            raise ValueError(f"{type(self).__name__} does not weight samples; received sample_weight.")
        if real is None and fake is None:
            raise ValueError(f"{type(self).__name__}.update_state needs real or fake images, received neither.")
        for side, images in (("real", real), ("fake", fake)):
            if images is not None:
                self._add(side, feature_array(self.features, images))

    def reset_state(self):
        for side in SIDES:
            self._clear(side)

    def reset_fake_state(self):
        """Forgets the generated samples and keeps the real ones."""
        self._clear("fake")

    def _add(self, side, features):  # features: float64 (N, D)
        raise NotImplementedError

    def _clear(self, side):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}  # the extractor is code, not config


def check_dims(metric, have, features):
    """A clear error when a batch's feature size differs from earlier batches'."""
    if have is not None and features.shape[1] != have:
        raise ValueError(f"{type(metric).__name__} received features of size {features.shape[1]} "
                         f"after features of size {have}: use one extractor for both sides.")


class StoredFeaturesMetric(TwoSampleMetric):
    """A real-vs-fake metric that keeps every feature vector (pairwise kernels, k-NN balls).

    Subclasses read :meth:`all_features` in ``result``.
    """

    def __init__(self, features=None, name=None, dtype=None):
        super().__init__(features=features, name=name, dtype=dtype)
        self._features = {side: [] for side in SIDES}
        self._dim = None

    def _add(self, side, features):
        check_dims(self, self._dim, features)
        self._dim = features.shape[1]
        self._features[side].append(features)

    def _clear(self, side):
        self._features[side] = []
        if not any(self._features.values()):
            self._dim = None

    def all_features(self, side):
        """Every feature vector seen on one side, ``(N, D)`` float64 (``(0, 0)`` when none)."""
        chunks = self._features[side]
        return np.concatenate(chunks) if chunks else np.zeros((0, 0))
