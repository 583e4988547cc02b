"""`evaluate_generator` on a tiny trained run, scored offline with the digits features."""

import math

import numpy as np
import pytest

from tfgan_models import runs
from tfgan_models.evaluate import evaluate_generator, real_images, resolve_features
from tfgan_models.metrics.digits import frechet_distance
from tfgan_models.metrics.features import DigitsFeatures, MissingInceptionWeightsError


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("run"))
    runs.train(runs.run_settings("dcgan", "tiny"), out, verbose=0)
    return out


def test_fid_of_a_trained_run_matches_a_direct_computation(run_dir):
    result = evaluate_generator(run_dir, "fid", n=200, seed=1)
    assert result["features"] == "DigitsFeatures(8x8)"  # "auto" on an 8x8 1-channel run
    assert (result["metric"], result["num_fake"], result["num_real"], result["data"]) == ("fid", 200, 200, "digits")
    model, _ = runs.load_model(run_dir)
    features = DigitsFeatures(8)
    expected = frechet_distance(features(real_images("digits", (8, 8, 1), 200, seed=1)),
                                features(model.generate(200, seed=1)))
    assert result["fid"] == pytest.approx(expected, rel=1e-6)
    assert evaluate_generator(run_dir, "fid", n=200, seed=1)["fid"] == result["fid"]  # reproducible


def test_kid_is_and_pr_of_a_trained_run(run_dir):
    kid = evaluate_generator(run_dir, "kid", n=100, data="digits:test", features="digits")
    assert kid["data"] == "digits:test" and kid["subsets"] == 1 and kid["kid_std"] is None
    assert math.isfinite(kid["kid"]) and kid["kid"] > 0  # an untrained-ish generator is far from digits
    score = evaluate_generator(run_dir, "is", n=100)
    assert 1.0 <= score["is"] <= 10.0 and score["splits"] == 10 and score["num_real"] == 0
    pr = evaluate_generator(run_dir, "pr", n=100)
    assert 0.0 <= pr["precision"] <= 1.0 and 0.0 <= pr["recall"] <= 1.0 and pr["k"] == 3


def test_bad_requests_are_explained(run_dir, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="fid, kid, is, pr"):
        evaluate_generator(run_dir, "lpips")
    with pytest.raises(ValueError, match="auto, digits, inception"):
        evaluate_generator(run_dir, "fid", features="vgg")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(MissingInceptionWeightsError, match="--inception-weights"):
        evaluate_generator(run_dir, "fid", n=20, features="inception")
    with pytest.raises(ValueError, match="2-D points"):
        resolve_features("auto", (2,))
    with pytest.raises(ValueError, match="--features inception"):
        resolve_features("digits", (32, 32, 3))
    assert resolve_features("auto", (32, 32, 3)) == "inception"
    assert resolve_features("auto", (28, 28, 1)) == "digits"
    assert resolve_features("auto", (128, 128, 1)) == "inception"
    with pytest.raises(FileNotFoundError):
        evaluate_generator(str(tmp_path / "missing"), "fid")


def test_real_images_takes_at_most_n(run_dir):
    images = real_images("digits:test", (8, 8, 1), 1000)
    assert images.shape == (397, 8, 8, 1) and images.min() >= -1.0 and images.max() <= 1.0
    np.testing.assert_array_equal(real_images("digits", (8, 8, 1), 50, seed=2),
                                  real_images("digits", (8, 8, 1), 50, seed=2))
