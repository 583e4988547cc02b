"""`evaluate_generator` on a tiny trained run, scored offline with the digits features."""

import numpy as np
import pytest

from tfgan_models import runs
from tfgan_models.evaluate import evaluate_generator, real_images, resolve_features
from tfgan_models.metrics.digits import frechet_distance
from tfgan_models.metrics.features import DigitsClassifier, DigitsFeatures, MissingInceptionWeightsError


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


# Independent references (plain NumPy, whole matrices) for the scores evaluate_generator reports.
def _kid_reference(x, y):
    """Unbiased MMD^2 with the cubic polynomial kernel k(a, b) = (a.b / d + 1)^3 (Binkowski et al.)."""
    d, m, n = x.shape[1], len(x), len(y)
    kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
    return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
            - 2 * kxy.mean())


def _is_reference(p, splits=10):
    """Salimans et al.: mean over splits (sample i in split i % splits) of exp E_x KL(p(y|x) || p(y))."""
    scores = []
    for s in range(splits):
        group = p[s::splits]
        marginal = group.mean(axis=0)
        terms = np.where(group > 0, group * (np.log(np.where(group > 0, group, 1)) - np.log(marginal)), 0.0)
        scores.append(np.exp(terms.sum(axis=1).mean()))
    return float(np.mean(scores))


def _pr_reference(real, fake, k=3):
    """Kynkaanniemi et al.: the share of each set inside the other's k-NN balls."""
    dist = lambda a, b: np.sqrt(np.maximum(((a[:, None] - b[None]) ** 2).sum(-1), 0))  # noqa: E731
    r_real, r_fake = np.sort(dist(real, real), 1)[:, k], np.sort(dist(fake, fake), 1)[:, k]
    cross = dist(fake, real)
    return float(np.mean((cross <= r_real[None]).any(1))), float(np.mean((cross.T <= r_fake[None]).any(1)))


class RealDigitsRun:
    """A stand-in for a run's model whose "samples" are real held-out digits: the scores' upper reference."""

    data_shape = (8, 8, 1)

    def generate(self, n, seed=0):
        return real_images("digits:test", self.data_shape, n, seed=seed + 5)


def _scores_against_references(run_dir):
    model, _ = runs.load_model(run_dir)
    fake = model.generate(100, seed=0)
    features, classifier = DigitsFeatures(8), DigitsClassifier(8)
    kid = evaluate_generator(run_dir, "kid", n=100, data="digits:test", features="digits")
    assert kid["data"] == "digits:test" and kid["subsets"] == 1 and kid["kid_std"] is None
    expected = _kid_reference(features(fake).astype("float64"),
                              features(real_images("digits:test", (8, 8, 1), 100, seed=0)).astype("float64"))
    assert kid["kid"] == pytest.approx(expected, rel=1e-6, abs=1e-9)
    score = evaluate_generator(run_dir, "is", n=100)
    assert score["splits"] == 10 and score["num_real"] == 0
    assert score["is"] == pytest.approx(_is_reference(np.asarray(classifier(fake), "float64")), rel=1e-5)
    pr = evaluate_generator(run_dir, "pr", n=100)
    assert pr["k"] == 3
    real = real_images("digits", (8, 8, 1), 100, seed=0)
    expected = _pr_reference(features(real).astype("float64"), features(fake).astype("float64"))
    assert (pr["precision"], pr["recall"]) == pytest.approx(expected, abs=0.011)  # one sample at most
    return kid["kid"], score["is"], pr["precision"], pr["recall"]


def test_kid_is_and_pr_of_a_trained_run(run_dir, monkeypatch):
    kid, inception_score, precision, recall = _scores_against_references(run_dir)
    # The same scores of real held-out digits put the (barely trained) run far from real data.
    model, settings = runs.load_model(run_dir)
    monkeypatch.setattr(runs, "load_model", lambda path: (RealDigitsRun(), settings))
    real_kid, real_is, real_precision, real_recall = _scores_against_references(run_dir)
    assert abs(real_kid) < 0.05 * kid
    assert real_is > 4.0 > inception_score + 2.0  # ~5.8 (10 samples a split) vs ~1.0 for a collapsed run
    assert min(real_precision, real_recall) > 0.5 and max(precision, recall) < 0.3


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
