"""Layers of inpainting networks (Context Encoders, Pathak et al. 2016)."""

import keras
from keras import ops

from tfgan_models.data.masks import apply_mask


@keras.saving.register_keras_serializable(package="tfgan_models")
class ChannelwiseDense(keras.layers.Layer):
    """The paper's channel-wise fully connected layer: each of the m maps (n x n) gets its own dense
    n^2 -> n^2 (m n^4 weights instead of m^2 n^4); no information flows between maps (sec. 3.1)."""

    def build(self, input_shape):
        _, h, w, m = input_shape
        self.kernel = self.add_weight(name="kernel", shape=(m, h * w, h * w),
                                      initializer=keras.initializers.RandomNormal(0.0, 0.02))
        self.bias = self.add_weight(name="bias", shape=(m, h * w), initializer="zeros")

    def call(self, x):
        _, h, w, m = x.shape
        flat = ops.transpose(ops.reshape(x, (-1, h * w, m)), (0, 2, 1))  # (B, m, n^2)
        out = ops.einsum("bmp,mpq->bmq", flat, self.kernel) + self.bias  # BATCH_MATMUL in TFLite
        return ops.reshape(ops.transpose(out, (0, 2, 1)), (-1, h, w, m))


@keras.saving.register_keras_serializable(package="tfgan_models")
class FillHole(keras.layers.Layer):
    """``(images, masks) -> images`` with the hole (mask 1) set to ``FILL``: the generator's own input."""

    def call(self, inputs):
        images, masks = inputs
        return apply_mask(images, ops.cast(masks, images.dtype))
