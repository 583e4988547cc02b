"""Multiply-accumulate counts (MACs) of a Keras network at a given input size.

Counted: ``Conv2D``, ``DepthwiseConv2D``, ``SeparableConv2D``, ``Conv2DTranspose`` and
``Dense`` layers (norms, activations, additions and padding are not
counted, as in the usual convention). Transposed convolutions are counted at
**output** resolution by default (``H_out * W_out * k * k * C_in * C_out``),
the convention of GAN Compression's figures (CycleGAN ResNet-9 at 256x256 =
56.8G); ``transposed="input"`` counts input positions (the same network: 49.6G),
which is what the kernels really compute.
"""

import keras
import numpy as np

COUNTED = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D,
           keras.layers.Conv2DTranspose, keras.layers.Dense)


def count_macs(model, input_size, transposed="output"):
    """MACs of one forward pass of ``model`` on one image of ``input_size`` ``(H, W)``.

    ``model``: a functional Keras model with one image input; nested models are counted through.
    """
    if transposed not in ("output", "input"):
        raise ValueError(f"transposed must be 'output' or 'input', received {transposed!r}.")
    h, w = (int(input_size), int(input_size)) if np.isscalar(input_size) else map(int, input_size)
    layers = [layer for layer in _flat_layers(model) if isinstance(layer, COUNTED)]
    if not layers:
        return 0
    probe = keras.Model(model.inputs, [t for layer in layers for t in (layer.input, layer.output)])
    shapes = probe([np.zeros((1, h, w, int(model.inputs[0].shape[-1])), "float32")])
    total = 0
    for i, layer in enumerate(layers):
        shape_in, shape_out = tuple(shapes[2 * i].shape), tuple(shapes[2 * i + 1].shape)
        total += _layer_macs(layer, shape_in, shape_out, transposed)
    return int(total)


def _flat_layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _flat_layers(layer)
        else:
            yield layer


def _layer_macs(layer, shape_in, shape_out, transposed):
    if isinstance(layer, keras.layers.Dense):
        return int(np.prod(shape_out[1:-1] or (1,))) * shape_in[-1] * shape_out[-1]
    kh, kw = layer.kernel_size
    c_in, c_out = shape_in[-1], shape_out[-1]
    positions_out = shape_out[1] * shape_out[2]
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return positions_out * kh * kw * c_in * layer.depth_multiplier
    if isinstance(layer, keras.layers.SeparableConv2D):
        return positions_out * (kh * kw * c_in * layer.depth_multiplier + c_in * layer.depth_multiplier * c_out)
    if isinstance(layer, keras.layers.Conv2DTranspose):
        positions = positions_out if transposed == "output" else shape_in[1] * shape_in[2]
        return positions * kh * kw * c_in * c_out
    return positions_out * kh * kw * c_in * c_out // getattr(layer, "groups", 1)
