"""`ConditionalGANModel`: plumbing for class-conditional variants (cGAN, AC-GAN).

Adds to :class:`GANModel` what label conditioning needs and no algorithm:
unpacking ``(images, labels)`` batches, drawing fake labels, and the
``labels=`` argument of :meth:`generate`.
"""

import numpy as np
import keras
from keras import ops

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
        super().__init__(generator=generator, discriminator=discriminator, **kwargs)
        self.num_classes = int(num_classes)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}

    def generator_input_shapes(self):
        return [(self.latent_dim,), ()]

    def unpack_labelled(self, data):
        """``(images, labels)`` of a batch, with a clear error when labels are missing."""
        if not isinstance(data, (tuple, list)) or len(data) < 2:
            raise ValueError(
                f"{type(self).__name__} trains on (images, labels) batches; load the data "
                "with tfgan_models.data.load(..., with_labels=True)."
            )
        return self.unpack_real(data), ops.cast(data[1], "int32")

    def sample_labels(self, batch):
        """Fake-data labels, uniform over the classes, drawn like all noise (replica-exact)."""
        u = self.noise((batch,), distribution="uniform")
        return ops.minimum(ops.cast(ops.floor(u * self.num_classes), "int32"), self.num_classes - 1)

    def condition_inputs(self, n, seed=None, labels=None, **unexpected):
        if unexpected:
            raise ValueError(f"{type(self).__name__} takes labels=, not {sorted(unexpected)}.")
        if labels is None:
            labels = np.arange(n) % self.num_classes
        labels = np.asarray(labels).astype("int32").reshape(-1)
        if labels.shape != (n,):
            raise ValueError(f"labels must hold one label per sample ({n}), received shape {labels.shape}.")
        if labels.min() < 0 or labels.max() >= self.num_classes:
            raise ValueError(f"labels must be in [0, {self.num_classes - 1}], received {sorted(set(labels.tolist()))}.")
        return [labels]

    def traversal(self, code="labels", rows=1, seed=0):
        """A grid with one row per noise vector and one column per class.

        Returns ``(samples (rows * K, *data_shape), columns K)``.
        """
        if code != "labels":
            raise ValueError(f"{type(self).__name__} can traverse 'labels', received {code!r}.")
        z = keras.random.normal((int(rows), self.latent_dim), seed=seed)
        z = np.repeat(ops.convert_to_numpy(z), self.num_classes, axis=0)
        labels = np.tile(np.arange(self.num_classes), int(rows))
        return self.generate(z=z, labels=labels), self.num_classes
