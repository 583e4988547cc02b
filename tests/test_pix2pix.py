import inspect

import keras
import numpy as np
import pytest

from tfgan_models import registry
from tfgan_models.metrics.macs import count_macs
from tfgan_models.models.pix2pix import Pix2Pix, unet_generator
from tfgan_models.models.translation import patchgan_discriminator
from translation_helpers import (check_config_roundtrip, check_fit, check_save_reload, check_translate,
                                 check_wrong_data, tiny, tiny_data)


def test_standard(tmp_path):
    model = tiny("pix2pix")
    assert model.data_kind == "paired" and not model.two_way and model.reverse_generator is None
    check_config_roundtrip(model)
    check_fit(model)
    check_translate(model)
    check_save_reload(model, tmp_path)


def test_data_is_the_paired_spec_the_preset_names():
    model = tiny("pix2pix")
    x, y = next(iter(tiny_data(model)))
    assert x.shape == y.shape == (2, 16, 16, 3)
    assert model.preview == ("colorize:photos", None)  # the before/after picture follows the training data


def test_wrong_data_is_clear():
    model = tiny("pix2pix")
    check_wrong_data(model)
    with pytest.raises(ValueError, match="Pix2Pix trains on paired data"):
        Pix2Pix.check_data_spec("unpaired:photos,hue:photos")
    with pytest.raises(ValueError, match="Pix2Pix trains on paired data"):
        model.training_dataset("tfds:cycle_gan/horse2zebra", 2, 0)
    assert Pix2Pix.check_data_spec("edges:photos") == "paired"


def test_bad_arguments_are_clear():
    with pytest.raises(ValueError, match="architecture"):
        Pix2Pix(data_shape=(16, 16, 3), architecture="vgg")
    with pytest.raises(ValueError, match="multiple of 2\\^depth"):
        Pix2Pix(data_shape=(24, 24, 3), filters=4, d_filters=4)
    with pytest.raises(ValueError, match="square RGB"):
        Pix2Pix(data_shape=(16, 16, 1), filters=4, d_filters=4, depth=2)


def test_generator_and_discriminator_follow_the_paper():
    g = unet_generator(3, 64, 8)  # U-Net-256
    assert abs(g.count_params() - 54.4e6) < 0.05e6  # ANCHORS: 54.4M
    dropouts = [l for l in g.layers if isinstance(l, keras.layers.Dropout)]
    assert len(dropouts) == 3 and all(l.rate == 0.5 for l in dropouts)  # CD512 x 3
    assert [g.get_layer(f"e{i}").filters for i in range(8)] == [64, 128, 256, 512, 512, 512, 512, 512]
    assert all(g.get_layer(f"e{i}").kernel_size == (4, 4) and g.get_layer(f"e{i}").strides == (2, 2)
               for i in range(8))
    assert sum(isinstance(l, keras.layers.Concatenate) for l in g.layers) == 7  # skips between mirrored layers
    d = patchgan_discriminator()  # 70x70 PatchGAN
    assert abs(d.count_params() - 2.77e6) < 0.01e6
    assert tuple(d(np.zeros((1, 256, 256, 3), "float32")).shape) == (1, 30, 30, 1)  # 30x30 patches at 256
    conditional = tiny("pix2pix").discriminator
    assert len(conditional.inputs) == 2  # D sees (input, target) pairs


def test_paper_defaults_and_mobile_budget():
    defaults = {k: p.default for k, p in inspect.signature(Pix2Pix.__init__).parameters.items()}
    assert defaults["l1_weight"] == 100.0 and defaults["dropout"] == 0.5 and defaults["architecture"] == "unet"
    paper = registry.preset("pix2pix", "paper")
    assert paper["data_shape"] == (256, 256, 3) and paper["batch_size"] == 1
    mobile = registry.get("pix2pix", "mobile", compile=False)
    assert count_macs(mobile.generator, 256) <= 3e9


def test_dropout_is_off_at_inference():
    model = tiny("pix2pix")
    x = np.random.RandomState(0).uniform(-1, 1, (1, 16, 16, 3)).astype("float32")
    np.testing.assert_array_equal(model.translate(x), model.translate(x))
    assert not np.array_equal(np.asarray(model.generator(x, training=True)),
                              np.asarray(model.generator(x, training=True)))


def test_translate_takes_uint8_as_its_message_says():
    model = tiny("pix2pix")
    image = np.random.RandomState(0).randint(0, 256, (1, 16, 16, 3)).astype("uint8")
    np.testing.assert_allclose(model.translate(image), model.translate(image / 127.5 - 1.0), atol=1e-5)


def test_initialisation_is_the_authors():
    """init_weights(net, 'normal', 0.02): kernels N(0, 0.02), biases 0, norm gamma N(1, 0.02), beta 0."""
    keras.utils.set_random_seed(0)
    for net in (unet_generator(3, 32, 6), patchgan_discriminator(3, 32, inputs=2)):
        convs = [l for l in net.layers if isinstance(l, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))]
        assert len(convs) == (6 + 6 if len(net.inputs) == 1 else 5)  # U-Net-64: 6 down, 6 up; D: 4 + logits
        for layer in convs:
            kernel = layer.kernel.numpy()
            assert abs(kernel.mean()) < 0.004 and kernel.std() == pytest.approx(0.02, rel=0.1), layer.name
            if layer.use_bias:
                assert not layer.bias.numpy().any(), layer.name
        norms = [l for l in net.layers if isinstance(l, keras.layers.GroupNormalization)]
        gammas = np.concatenate([l.gamma.numpy() for l in norms])
        assert gammas.mean() == pytest.approx(1.0, abs=0.004) and gammas.std() == pytest.approx(0.02, rel=0.15)
        assert not np.concatenate([l.beta.numpy() for l in norms]).any()
