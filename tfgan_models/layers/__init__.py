"""Layers shared by two or more variants."""

from tfgan_models.layers.biggan import ConditionalBatchNorm, OrthogonalRegularizer, Projection, SelfAttention, sn
from tfgan_models.layers.conditioning import LabelMaps, OneHot
from tfgan_models.layers.maxout import Maxout

__all__ = ["ConditionalBatchNorm", "LabelMaps", "Maxout", "OneHot", "OrthogonalRegularizer", "Projection",
           "SelfAttention", "sn"]
from tfgan_models.layers.autoregressive import DiagonalBiLSTM, MaskedConv2D, RowLSTM

__all__ += ["DiagonalBiLSTM", "MaskedConv2D", "RowLSTM"]
from tfgan_models.layers.inpainting import ChannelwiseDense, FillHole

__all__ += ["ChannelwiseDense", "FillHole"]
from tfgan_models.layers.text import CharTokenizer, caption_ids, char_cnn_rnn

__all__ += ["CharTokenizer", "caption_ids", "char_cnn_rnn"]
from tfgan_models.layers.style import (BiasActivation, ConstantInput, Downsample2D, EqualizedConv2D, EqualizedDense,
                                       MinibatchStdDev, ModulatedConv2D, NoiseInjection, PixelNorm, Upsample2D)

__all__ += ["BiasActivation", "ConstantInput", "Downsample2D", "EqualizedConv2D", "EqualizedDense", "MinibatchStdDev",
            "ModulatedConv2D", "NoiseInjection", "PixelNorm", "Upsample2D"]
