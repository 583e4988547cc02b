"""Callbacks for training GANs with ``model.fit``."""

from tfgan_models.callbacks.collapse import CollapseDetector, StandingStatistics, TrainingCollapseError
from tfgan_models.callbacks.images import image_grid, samples_picture, scatter_raster
from tfgan_models.callbacks.metric_checkpoint import BestMetricCheckpoint, digits_fid_metric, generator_metric
from tfgan_models.callbacks.training import (
    AtomicBackup,
    AtomicCheckpoint,
    DivergenceError,
    HistoryLog,
    LinearDecay,
    NaNGuard,
    NonFiniteLossError,
    SampleGrid,
)

__all__ = ["AtomicBackup", "AtomicCheckpoint", "DivergenceError", "BestMetricCheckpoint", "CollapseDetector", "StandingStatistics", "TrainingCollapseError", "digits_fid_metric", "generator_metric", "HistoryLog", "LinearDecay", "NaNGuard", "NonFiniteLossError", "SampleGrid",
           "image_grid", "samples_picture", "scatter_raster"]
