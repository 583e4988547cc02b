import keras
import numpy as np
import pytest

from tfgan_models import registry
from tfgan_models.models.discogan import DiscoGAN, discogan_discriminator, discogan_generator
from translation_helpers import (check_config_roundtrip, check_fit, check_save_reload, check_translate,
                                 check_wrong_data, tiny)


def test_standard(tmp_path):
    # the paper's recipe updates G and D on every step, as the shared checks expect; the authors' code
    # recipe (the default) is tested in test_discogan_recipe.py
    model = tiny("discogan", recipe="paper")
    assert model.data_kind == "unpaired" and model.two_way
    assert (model.generator.name, model.reverse_generator.name) == ("G_AB", "G_BA")
    assert (model.discriminator.name, model.reverse_discriminator.name) == ("D_B", "D_A")
    check_fit(model)
    check_translate(model)
    check_save_reload(model, tmp_path)


def test_config_roundtrip():
    check_config_roundtrip(tiny("discogan"))


def test_networks_follow_the_paper():
    g = discogan_generator(3, 64)
    convs = [l for l in g.layers if type(l) is keras.layers.Conv2D]
    deconvs = [l for l in g.layers if isinstance(l, keras.layers.Conv2DTranspose)]
    assert [l.filters for l in convs] == [64, 128, 256, 512]
    assert [l.filters for l in deconvs] == [256, 128, 64, 3]
    assert all(l.kernel_size == (4, 4) and l.strides == (2, 2) for l in convs + deconvs)
    assert sum(isinstance(l, keras.layers.BatchNormalization) for l in g.layers) == 3 + 3  # none on the first
    assert tuple(g(np.zeros((1, 64, 64, 3), "float32")).shape) == (1, 64, 64, 3)
    d = discogan_discriminator((64, 64, 3), 64)
    assert tuple(d(np.zeros((2, 64, 64, 3), "float32")).shape) == (2, 1)  # one logit per image
    defaults = registry.preset("discogan", "paper")
    assert defaults["data_shape"] == (64, 64, 3) and defaults["batch_size"] == 64


def test_batch_norm_is_deterministic_at_inference():
    model = tiny("discogan")
    x = np.random.RandomState(0).uniform(-1, 1, (3, 16, 16, 3)).astype("float32")
    y = model.translate(x, "b_to_a")
    np.testing.assert_allclose(model.translate(x[1:2], "b_to_a"), y[1:2], atol=1e-6)


def test_wrong_data_and_arguments_are_clear():
    model = tiny("discogan")
    check_wrong_data(model)
    with pytest.raises(ValueError, match="DiscoGAN trains on unpaired data"):
        DiscoGAN.check_data_spec("colorize:photos")
    with pytest.raises(ValueError, match="keeps no EMA"):
        tiny("discogan", ema_decay=0.99)
    with pytest.raises(ValueError, match="multiple of 16"):
        tiny("discogan", data_shape=(24, 24, 3))


def test_initialisation_is_the_authors_pytorch_defaults():
    """The authors' code keeps PyTorch 0.1's defaults: kernels U(+-1/sqrt(in_channels k k)), BN gamma U(0, 1)."""
    keras.utils.set_random_seed(0)
    for net, count in ((discogan_generator(3, 32), 4 + 4), (discogan_discriminator((32, 32, 3), 32), 4 + 1)):
        convs = [l for l in net.layers if isinstance(l, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))]
        assert len(convs) == count
        for layer in convs:
            kernel = layer.kernel.numpy()
            k = kernel.shape[0]
            fan = k * k * (kernel.shape[3] if isinstance(layer, keras.layers.Conv2DTranspose) else kernel.shape[2])
            bound = 1.0 / np.sqrt(fan)  # in_channels x k x k, for transposed convs too
            assert np.abs(kernel).max() <= bound and np.abs(kernel).max() > 0.9 * bound, layer.name
            assert kernel.std() == pytest.approx(bound / np.sqrt(3), rel=0.2), layer.name  # uniform
        for bn in (l for l in net.layers if isinstance(l, keras.layers.BatchNormalization)):
            gamma = bn.gamma.numpy()
            assert gamma.min() >= 0 and gamma.max() <= 1 and 0.3 < gamma.mean() < 0.7, bn.name
            assert not bn.beta.numpy().any() and (bn.momentum, bn.epsilon) == (0.9, 1e-5)
