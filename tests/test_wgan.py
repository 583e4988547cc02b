import numpy as np

from helpers import check_fit_changes_both, check_points, check_standard_behaviour, tiny_model
from tfgan_models.models import WGAN


def test_standard(tmp_path):
    check_standard_behaviour("wgan", tmp_path)


def test_points():
    check_points("wgan")


def test_paper_defaults():
    model = WGAN(data_shape=(16, 16, 1), latent_dim=8, width=4)
    model.compile()
    assert model.discriminator_steps == 5 and model.clip_value == 0.01
    assert type(model.d_optimizer).__name__ == "RMSprop"
    assert float(model.d_optimizer.learning_rate) == np.float32(5e-5)


def test_critic_weights_stay_clipped():
    model = tiny_model("wgan", clip_value=0.005)
    check_fit_changes_both(model, steps=2)
    for w in model.discriminator.trainable_weights:
        assert np.abs(w.numpy()).max() <= 0.005 + 1e-7, w.name
