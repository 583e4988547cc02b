import keras
import numpy as np

from helpers import check_standard_behaviour, tiny_data, tiny_model
from tfgan_models.models import ACGAN


def test_standard(tmp_path):
    check_standard_behaviour("acgan", tmp_path)


def test_discriminator_has_source_and_class_heads():
    model = ACGAN(data_shape=(16, 16, 1), latent_dim=8, num_classes=10, width=4)
    source, classes = model.discriminator(np.zeros((3, 16, 16, 1), "float32"))
    assert source.shape == (3, 1) and classes.shape == (3, 10)
    assert any(isinstance(l, keras.layers.Dropout) for l in model.discriminator.layers)


def test_class_losses_fall_when_training_only_the_classifier():
    """With the source loss weighted out, D's class loss on real digits must drop (D learns to classify)."""
    model = tiny_model("acgan", class_loss_weight=1.0)
    model.compile(g_optimizer=keras.optimizers.SGD(0.0), d_optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(tiny_data(model, batch_size=32), epochs=6, steps_per_epoch=10, verbose=0).history
    assert history["d_class_loss"][-1] < history["d_class_loss"][0]
    assert np.isfinite(history["g_class_loss"]).all()
