"""`ConditionalGANModel`: plumbing for class-conditional variants (cGAN, AC-GAN).

Adds to :class:`GANModel` what label conditioning needs and no algorithm:
unpacking ``(images, labels)`` batches, drawing fake labels, and the
``labels=`` argument of :meth:`generate`.
"""

import numpy as np
import keras
import tensorflow as tf
from keras import ops

from tfgan_models.inputs import GeneratorInput
from tfgan_models.models.gan_model import GANModel


@keras.saving.register_keras_serializable(package="tfgan_models")
class ConditionalGANModel(GANModel):
    """Base of class-conditional GANs: G takes ``[z, labels]``.

    Element spec of ``train_step``: ``(images (B, *data_shape), labels int (B,))``.
    ``generate(n, labels=...)`` takes one label per sample; without labels it
    cycles through the classes (0, 1, ..., K-1, 0, ...), which makes grids
    with one class per column.
    """

    requires_labels = True

    def __init__(self, generator, discriminator, num_classes=10, **kwargs):
        if int(num_classes) < 2:
            raise ValueError(f"num_classes must be >= 2, received {num_classes!r}.")
        self.num_classes = int(num_classes)
        super().__init__(generator=generator, discriminator=discriminator, **kwargs)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}

    def generator_inputs(self):
        """``[z, labels]``: labels are class indices; defaults cycle 0..K-1 (one class per grid column)."""
        return super().generator_inputs() + [GeneratorInput.categorical("labels", self.num_classes, cycle=True)]

    def unpack_labelled(self, data):
        """``(images, labels)`` of a batch, with a clear error when labels are missing."""
        if not isinstance(data, (tuple, list)) or len(data) < 2:
            raise ValueError(
                f"{type(self).__name__} trains on (images, labels) batches; load the data "
                "with tfgan_models.data.load(..., with_labels=True)."
            )
        labels = ops.cast(data[1], "int32")
        # A label outside [0, K) would one-hot to zeros and train silently on nothing: stop instead.
        check = tf.debugging.assert_less(labels, self.num_classes, message=(
            f"{type(self).__name__}: labels must be class indices in [0, {self.num_classes - 1}] "
            f"(num_classes={self.num_classes}); unlabelled data has -1"))
        check_low = tf.debugging.assert_non_negative(labels, message=(
            f"{type(self).__name__}: labels must be class indices in [0, {self.num_classes - 1}]; "
            "unlabelled data (label -1) cannot train a conditional model"))
        with tf.control_dependencies([check, check_low]):
            labels = tf.identity(labels)
        return self.unpack_real(data), labels

    def sample_labels(self, batch):
        """Fake-data labels, uniform over the classes, drawn like all noise (replica-exact)."""
        return self.draw(self.generator_inputs()[1], batch)

    def traversal(self, code="labels", rows=1, seed=0):
        """A grid with one row per noise vector and one column per class.

        Returns ``(samples (rows * K, *data_shape), columns K)``.
        """
        if code != "labels":
            raise ValueError(f"{type(self).__name__} can traverse 'labels', received {code!r}.")
        z = self.generator_arrays(int(rows), seed=seed)[0]
        z = np.repeat(z, self.num_classes, axis=0)
        labels = np.tile(np.arange(self.num_classes), int(rows))
        return self.generate(z=z, labels=labels), self.num_classes
