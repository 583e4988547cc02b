import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_models.metrics import sr
from tfgan_models.models.srresnet import abpn_generator, srresnet_generator


def test_y_channel_is_bt601_studio_range():
    assert sr.rgb_to_y(np.array([0, 0, 0])) == pytest.approx(16.0)
    assert sr.rgb_to_y(np.array([255, 255, 255])) == pytest.approx(235.0)
    assert sr.rgb_to_y(np.array([255, 0, 0])) == pytest.approx(16 + 65.481)


def test_psnr_of_known_arrays():
    hr = np.full((20, 20, 3), 100, np.uint8)
    test = np.full((20, 20, 3), 110, np.uint8)
    dy = 10 * (65.481 + 128.553 + 24.966) / 255  # 8.588 Y levels
    assert sr.psnr(hr, test) == pytest.approx(10 * math.log10(255**2 / dy**2), abs=1e-9)  # 29.45 dB
    assert sr.psnr(hr, test, y_channel=False) == pytest.approx(10 * math.log10(255**2 / 100), abs=1e-9)
    border = hr.copy()
    border[:4] = 0
    border[:, -4:] = 255
    assert sr.psnr(hr, border, border=4) == math.inf
    assert sr.psnr(hr, border, border=3) < 30


def test_ssim_identity_and_tf_cross_check():
    rng = np.random.RandomState(0)
    a = tf.image.resize(rng.uniform(0, 255, (1, 8, 8, 3)), (48, 40)).numpy()[0].round().astype(np.uint8)
    b = np.clip(a.astype(int) + rng.randint(-20, 21, a.shape), 0, 255).astype(np.uint8)
    assert sr.ssim(a, a) == pytest.approx(1.0, abs=1e-12)
    ya, yb = sr.rgb_to_y(a)[..., None], sr.rgb_to_y(b)[..., None]
    expected = float(tf.image.ssim(tf.constant(ya), tf.constant(yb), max_val=255.0))
    assert sr.ssim(a, b) == pytest.approx(expected, abs=1e-4)
    assert sr.ssim(a, b) < 0.99


def test_bicubic_baseline_matches_the_anchor_values():
    # ANCHORS P3 [M]: 26.84 / 27.29 / 31.48 dB on astronaut / coffee / chelsea.
    from tfgan_models.data.paired import eval_images

    scores = [sr.psnr(hr, sr.bicubic_upscale(lr, 4), 4) for _, lr, hr in eval_images("photos:test")]
    np.testing.assert_allclose(scores, [26.84, 27.29, 31.48], atol=0.01)


@pytest.mark.parametrize("build", [lambda: srresnet_generator(4, blocks=1, filters=4),
                                   lambda: abpn_generator(4, blocks=2, filters=6)])
def test_tiled_upscale_matches_whole_image(build):
    keras.utils.set_random_seed(0)
    g = build()
    if g.get_layer("sr").__class__.__name__ != "Conv2D":  # abpn: give the zero-initialised tail weights
        tail = g.get_layer("tail")
        tail.set_weights([np.random.RandomState(1).normal(0, 0.1, w.shape) for w in tail.get_weights()])
    image = np.random.RandomState(2).randint(0, 256, (30, 23, 3)).astype(np.uint8)
    x = image.astype("float32") / 127.5 - 1
    whole = sr.upscale(g, x, 4)
    tiled = sr.upscale(g, x, 4, tile=8, overlap=12)
    assert whole.shape == tiled.shape == (120, 92, 3)
    assert np.abs(whole - tiled).max() < 1e-3
    # Without enough context the seams show: the comparison above can fail.
    assert np.abs(whole - sr.upscale(g, x, 4, tile=8, overlap=0)).max() > 1e-3
    assert sr.upscale(g, image, 4, tile=8, overlap=12).dtype == np.uint8


def test_score_images_reports_the_gain_over_bicubic():
    hr = np.random.RandomState(0).randint(0, 256, (48, 48, 3)).astype(np.uint8)
    lr = sr.bicubic_upscale(hr, 1)[::4, ::4]
    oracle = lambda x: (hr[None].astype("float32") / 127.5 - 1.0)  # noqa: E731  returns the truth
    result = sr.score_images(oracle, [("a", lr, hr)], 4)["mean"]
    assert result["psnr_y"] == math.inf and result["ssim_y"] == pytest.approx(1.0)
    assert result["bicubic_psnr_y"] == pytest.approx(sr.psnr(hr, sr.bicubic_upscale(lr, 4), 4))


def _photo_pairs():
    """Crops of two real photos (RGB astronaut, grey camera) and Gaussian-noise versions of them."""
    from skimage import data

    rng = np.random.RandomState(0)
    noisy = lambda x, s: np.clip(x + rng.normal(0, s, x.shape).round(), 0, 255).astype(np.uint8)  # noqa: E731
    rgb, grey = data.astronaut()[100:196, 150:246], data.camera()[200:296, 200:296]
    return rgb, noisy(rgb, 8), noisy(rgb, 25), grey, noisy(grey, 8), noisy(grey, 25)


# The module's SSIM definition (Wang et al. 2004: Gaussian window sigma 1.5 truncated to 11x11, population
# covariances, L = 255, scores averaged over the 'valid' part) expressed in scikit-image's independent code.
_SKIMAGE_SSIM = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)


def test_ssim_of_rgb_without_y_matches_skimage_per_channel_mean():
    from skimage.metrics import structural_similarity

    rgb, light, heavy = _photo_pairs()[:3]
    assert sr.ssim(rgb, rgb, y_channel=False) == pytest.approx(1.0, abs=1e-12)
    scores = []
    for test in (light, heavy):
        expected = structural_similarity(rgb, test, channel_axis=-1, **_SKIMAGE_SSIM)
        assert sr.ssim(rgb, test, y_channel=False) == pytest.approx(expected, abs=1e-6)
        cropped = structural_similarity(rgb[4:-4, 4:-4], test[4:-4, 4:-4], channel_axis=-1, **_SKIMAGE_SSIM)
        assert sr.ssim(rgb, test, border=4, y_channel=False) == pytest.approx(cropped, abs=1e-6)
        # The default (Y channel) is a different quantity from the RGB mean, and also matches skimage on Y.
        on_y = structural_similarity(sr.rgb_to_y(rgb), sr.rgb_to_y(test), **_SKIMAGE_SSIM)
        assert sr.ssim(rgb, test) == pytest.approx(on_y, abs=1e-6)
        assert abs(sr.ssim(rgb, test) - expected) > 1e-3
        scores.append(expected)
    assert scores[0] > scores[1] + 0.1  # more noise, lower SSIM: the comparisons above are not vacuous


@pytest.mark.parametrize("keep_axis", [True, False])
def test_ssim_of_grey_images_matches_skimage(keep_axis):
    from skimage.metrics import structural_similarity

    grey, light, heavy = _photo_pairs()[3:]
    shape = (lambda x: x[..., None]) if keep_axis else (lambda x: x)
    for y_channel in (True, False):  # one channel: nothing to convert, both settings score it directly
        assert sr.ssim(shape(grey), shape(grey), y_channel=y_channel) == pytest.approx(1.0, abs=1e-12)
        for test in (light, heavy):
            expected = structural_similarity(grey, test, **_SKIMAGE_SSIM)
            assert sr.ssim(shape(grey), shape(test), y_channel=y_channel) == pytest.approx(expected, abs=1e-6)
    assert structural_similarity(grey, light, **_SKIMAGE_SSIM) > structural_similarity(grey, heavy, **_SKIMAGE_SSIM) + 0.1
    assert sr.psnr(shape(grey), shape(light)) > sr.psnr(shape(grey), shape(heavy)) + 5
