import keras
import numpy as np
import pytest

from helpers import check_points, check_standard_behaviour, tiny_model
from tfgan_models.models.dcgan import DCGAN, dcgan_discriminator, dcgan_generator


def test_standard(tmp_path):
    check_standard_behaviour("dcgan", tmp_path)


def test_points():
    check_points("dcgan")


def test_architecture_follows_the_paper():
    g = dcgan_generator((64, 64, 3), latent_dim=100, width=128)
    assert g.get_layer("bn_0").output.shape[1:] == (4, 4, 1024)  # Fig. 1: 4x4x1024 projection
    assert g.output.shape[1:] == (64, 64, 3)
    assert g.layers[-1].activation.__name__ == "tanh"
    assert not any(isinstance(l, keras.layers.BatchNormalization) for l in g.layers[-3:])
    d = dcgan_discriminator((64, 64, 3), width=64)
    first_conv = d.get_layer("down_1")
    assert first_conv.strides == (2, 2)
    # no batch norm right after the input layer
    assert not isinstance(d.layers[2], keras.layers.BatchNormalization)
    assert any(isinstance(l, keras.layers.LeakyReLU) for l in d.layers)
    assert np.std(g.get_layer("up_1").kernel.numpy()) == pytest.approx(0.02, rel=0.1)


@pytest.mark.parametrize("size", [4, 12, 30, 48])
def test_impossible_sizes_are_rejected(size):
    with pytest.raises(ValueError, match="4 \\* 2\\^k"):
        DCGAN(data_shape=(size, size, 1), latent_dim=8, width=4)


def test_custom_networks_roundtrip():
    g = dcgan_generator((16, 16, 1), latent_dim=8, width=2, name="my_g")
    model = DCGAN(data_shape=(16, 16, 1), latent_dim=8, width=4, generator=g)
    clone = DCGAN.from_config(model.get_config())
    assert clone.generator.name == "my_g"
    assert clone.generator.count_params() == g.count_params()


def test_wrong_data_shape_is_a_clear_error():
    model = tiny_model("dcgan")
    bad = np.zeros((8, 16, 16, 1), "float32")
    with pytest.raises(ValueError, match=r"expects real data of shape \(batch, 8, 8, 1\)"):
        model.fit(bad, epochs=1, verbose=0, batch_size=8)


def test_paper_preset_draws_a_uniform_z():
    """The paper (Fig. 1) and the authors' code draw z ~ U(-1, 1); the other presets keep N(0, I)."""
    from tfgan_models import registry

    model = registry.get("dcgan", "paper", compile=False)
    z = np.asarray(model.latents(4000))
    assert z.shape == (4000, 100) and z.min() >= -1.0 and z.max() <= 1.0
    assert z.std() == pytest.approx(1 / np.sqrt(3), rel=0.02)  # U(-1, 1), not N(0, 1) clipped
    assert tiny_model("dcgan").z_prior == "normal"
