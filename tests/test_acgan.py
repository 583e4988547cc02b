import math

import keras
import numpy as np
import pytest

from helpers import check_standard_behaviour, tiny_data, tiny_model
from tfgan_models import data
from tfgan_models.models import ACGAN


def test_standard(tmp_path):
    check_standard_behaviour("acgan", tmp_path)


def test_discriminator_has_source_and_class_heads():
    model = ACGAN(data_shape=(16, 16, 1), latent_dim=8, num_classes=10, width=4)
    source, classes = model.discriminator(np.zeros((3, 16, 16, 1), "float32"))
    assert source.shape == (3, 1) and classes.shape == (3, 10)
    assert any(isinstance(l, keras.layers.Dropout) for l in model.discriminator.layers)


def test_class_losses_fall_when_training_only_the_classifier():
    """With G frozen, D's class head learns to classify real digits it has never seen (10% is chance)."""
    images, labels = data.digits_arrays("test", 8)  # held out: D trains on the train split
    model = tiny_model("acgan", class_loss_weight=1.0)

    def held_out_accuracy():
        return float(np.mean(np.argmax(model.discriminator(images, training=False)[1], axis=1) == labels))

    before = held_out_accuracy()
    model.compile(g_optimizer=keras.optimizers.SGD(0.0), d_optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(tiny_data(model, batch_size=32), epochs=6, steps_per_epoch=10, verbose=0).history
    after = held_out_accuracy()  # ~0.90 (seed 0); ~0.13 before training
    assert before < 0.3 and after > 0.7, (before, after)
    # d_class_loss = CE(real) + CE(fake), 2 log 10 at chance; it falls by the real half's gain.
    assert history["d_class_loss"][0] == pytest.approx(2 * math.log(10), abs=0.3)
    assert history["d_class_loss"][-1] < history["d_class_loss"][0] - 0.8
    # The frozen, untrained G's samples carry no readable class: G's class loss stays at chance, log 10.
    assert min(history["g_class_loss"]) > math.log(10) - 0.1
