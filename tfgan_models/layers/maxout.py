"""Maxout units (Goodfellow et al. 2013, "Maxout Networks")."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfgan_models")
class Maxout(keras.layers.Layer):
    """Dense maxout: ``units`` outputs, each the max over ``pieces`` affine maps.

    The discriminator of Goodfellow et al. 2014 and of PacGAN's mixture
    experiments. ``(B, F) -> (B, units)``.
    """

    def __init__(self, units, pieces=5, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.pieces = int(pieces)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.dense = keras.layers.Dense(
            self.units * self.pieces, kernel_initializer=self.kernel_initializer, name="affine"
        )

    def build(self, input_shape):
        self.dense.build(input_shape)

    def call(self, x):
        y = self.dense(x)  # (B, units * pieces)
        y = ops.reshape(y, (-1, self.units, self.pieces))
        return ops.max(y, axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "pieces": self.pieces,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }
