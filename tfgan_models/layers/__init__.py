"""Layers shared by two or more variants."""

from tfgan_models.layers.conditioning import LabelMaps, OneHot
from tfgan_models.layers.maxout import Maxout

__all__ = ["LabelMaps", "Maxout", "OneHot"]
