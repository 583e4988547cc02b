import keras
import numpy as np
import pytest

from sr_helpers import check_config_roundtrip, check_fit, check_save_reload, check_shapes, tiny_sr, train_tiny_run
from tfgan_models import runs
from tfgan_models.losses import VGGWeightsError, vgg19_features, vgg_content_loss
from tfgan_models.models.srgan import SRGAN, srgan_discriminator


def test_standard(tmp_path):
    model = tiny_sr("srgan", vgg_weights="random")
    check_shapes(model)
    check_config_roundtrip(model)
    check_fit(model)
    check_save_reload(model, tmp_path)


def test_discriminator_follows_the_paper():
    d = srgan_discriminator((96, 96, 3))
    convs = [l for l in d.layers if isinstance(l, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [64, 64, 128, 128, 256, 256, 512, 512]
    assert [c.strides[0] for c in convs] == [1, 2] * 4
    assert sum(isinstance(l, keras.layers.BatchNormalization) for l in d.layers) == 7
    assert d.get_layer("dense").units == 1024 and d.output.shape[1:] == (1,)


def test_content_loss_is_rescaled_feature_mse():
    assert float(vgg_content_loss(np.full((1, 2, 2, 3), 12.75), np.zeros((1, 2, 2, 3)))) == pytest.approx(1.0)


def test_vgg_preprocessing_matches_keras_applications():
    keras.utils.set_random_seed(0)
    ours = vgg19_features("block2_conv2", vgg_weights="random")
    ours_linear = vgg19_features("block2_conv2", before_activation=True, vgg_weights="random")
    reference = keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))
    reference = keras.Model(reference.input, reference.get_layer("block2_conv2").output)
    for model in (ours, ours_linear):
        model.set_weights(reference.get_weights())
    x = np.random.RandomState(0).uniform(-1, 1, (2, 16, 16, 3)).astype("float32")
    expected = reference(keras.applications.vgg19.preprocess_input((x + 1.0) * 127.5))
    np.testing.assert_allclose(ours(x), expected, rtol=1e-4, atol=1e-3)
    linear = np.asarray(ours_linear(x))
    assert linear.min() < 0  # before the ReLU
    np.testing.assert_allclose(np.maximum(linear, 0), expected, rtol=1e-4, atol=1e-3)


def test_missing_vgg_weights_fail_with_instructions(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    model = tiny_sr("srgan")  # building and saving need no VGG
    with pytest.raises(VGGWeightsError, match="--vgg-weights") as err:
        model.fit(np.zeros((2, 8, 8, 3), "float32"), np.zeros((2, 32, 32, 3), "float32"), verbose=0)
    assert str(tmp_path / "keras_home" / "models") in str(err.value)
    with pytest.raises(VGGWeightsError):  # a run fails before it writes anything
        runs.train(runs.run_settings("srgan", "tiny"), str(tmp_path / "run"), verbose=0)
    assert not (tmp_path / "run").exists()
    with pytest.raises(VGGWeightsError, match="does not exist"):
        tiny_sr("srgan", vgg_weights=str(tmp_path / "missing.h5")).perceptual_network()


def test_init_from_a_srresnet_run(tmp_path):
    run = train_tiny_run("srresnet", tmp_path / "srresnet", data_shape=(32, 32, 3))
    donor = keras.models.load_model(f"{run}/generator.keras")
    model = tiny_sr("srgan", init=run, vgg_weights="random")
    for a, b in zip(model.generator.get_weights(), donor.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert "init" not in model.get_config()
    with pytest.raises(ValueError, match="same architecture"):
        SRGAN(scale=4, data_shape=(32, 32, 3), blocks=2, filters=4, d_filters=4, dense=8, init=run)


def test_paper_preset_follows_the_papers_schedule():
    """Sec. 3.2: Adam(beta_1 0.9), 10^5 updates at 1e-4 then 10^5 at 1e-5, for G and D."""
    from tfgan_models import registry

    preset = registry.preset("srgan", "paper")
    assert preset["epochs"] * preset["steps_per_epoch"] == 200_000 and preset["batch_size"] == 16
    for role in ("g_optimizer", "d_optimizer"):
        opt = keras.optimizers.get(preset[role])
        assert type(opt).__name__ == "Adam" and opt.beta_1 == 0.9
        rates = [float(opt._learning_rate(step)) for step in (0, 99_000, 101_000, 199_999)]
        np.testing.assert_allclose(rates, [1e-4, 1e-4, 1e-5, 1e-5], rtol=1e-6)
