"""FID, KID, IS, precision/recall and conditional accuracy against hand-computable cases.

Offline: features are the identity on (N, D) arrays, hand-made predictions,
or the package's digits classifier; Inception runs only with explicit random
weights, as a shape check.
"""

import itertools

import numpy as np
import pytest

from tfgan_models.data import digits_arrays
from tfgan_models.metrics.classifier_scores import ConditionalAccuracy, InceptionScore
from tfgan_models.metrics.digits import frechet_distance
from tfgan_models.metrics.features import (
    INCEPTION_FEATURES_FILE,
    DigitsFeatures,
    InceptionFeatures,
    InceptionLogits,
    MissingInceptionWeightsError,
)
from tfgan_models.metrics.fid import FrechetInceptionDistance
from tfgan_models.metrics.kid import KernelInceptionDistance, polynomial_mmd2_unbiased
from tfgan_models.metrics.precision_recall import PrecisionRecall


def identity(x):
    return np.asarray(x, dtype="float64")


def streamed(metric, real, fake, chunks):
    """Feeds real and fake in ``chunks`` uneven pieces, interleaved."""
    r = np.linspace(0, len(real), chunks + 1).astype(int)
    f = np.linspace(0, len(fake), chunks + 1).astype(int)
    for i in range(chunks):
        metric.update_state(real=real[r[i] : r[i + 1]])
        metric.update_state(fake=fake[f[i] : f[i + 1]])
    return metric.result()


# --------------------------------------------------------------------- FID
def test_fid_of_a_set_with_itself_is_zero(rng):
    a = rng.randn(300, 16)
    fid = FrechetInceptionDistance(features=identity)
    fid.update_state(a, a)
    assert fid.result() == pytest.approx(0.0, abs=1e-6)


def test_fid_matches_the_closed_form_for_diagonal_gaussians():
    # A full factorial design has sample mean exactly 0 and sample covariance
    # exactly c * I (c = n / (n - 1)), so a = mu_a + X sd_a has covariance
    # c diag(sd_a^2) and d^2 = ||mu_a - mu_b||^2 + c sum (sd_a - sd_b)^2.
    x = np.array(list(itertools.product((-1.0, 1.0), repeat=3)))
    c = len(x) / (len(x) - 1)
    mu_a, mu_b = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.0])
    sd_a, sd_b = np.array([1.0, 2.0, 0.5]), np.array([3.0, 2.0, 1.5])
    fid = FrechetInceptionDistance(features=identity)
    fid.update_state(mu_a + x * sd_a, mu_b + x * sd_b)
    assert fid.result() == pytest.approx(5.0 + c * 5.0, rel=1e-9)


def test_fid_of_sampled_gaussians_approaches_the_population_value(rng):
    # N(0, I) vs N((1, 0), diag(1.5^2, 2^2)): 1 + (1 - 1.5)^2 + (1 - 2)^2 = 2.25.
    a = rng.randn(100_000, 2)
    b = np.array([1.0, 0.0]) + rng.randn(100_000, 2) * np.array([1.5, 2.0])
    fid = FrechetInceptionDistance(features=identity)
    fid.update_state(a, b)
    assert fid.result() == pytest.approx(2.25, abs=0.04)


def test_fid_streaming_equals_one_batch_and_the_batch_formula(rng):
    a, b = rng.randn(257, 6), rng.randn(131, 6) * 1.3 + 0.4
    one = FrechetInceptionDistance(features=identity)
    one.update_state(a, b)
    many = FrechetInceptionDistance(features=identity)
    assert streamed(many, a, b, chunks=7) == pytest.approx(one.result(), rel=1e-9)
    assert one.result() == pytest.approx(frechet_distance(a, b), rel=1e-9)
    assert [v.shape for v in one.variables[:3]] == [(), (6,), (6, 6)]  # O(D^2) state


def test_fid_reset_fake_keeps_the_real_side(rng):
    a, b = rng.randn(200, 4), rng.randn(200, 4) + 2.0
    fid = FrechetInceptionDistance(features=identity)
    fid.update_state(a, b)
    assert fid.result() > 10.0
    fid.reset_fake_state()
    fid.update_state(fake=a)
    assert fid.result() == pytest.approx(0.0, abs=1e-6)
    fid.reset_state()
    with pytest.raises(ValueError, match="at least 2 real and 2 generated"):
        fid.result()


def test_moments_distance_handles_a_singular_covariance(rng):
    from tfgan_models.metrics.digits import frechet_distance, frechet_distance_from_moments

    a, b = rng.randn(50, 5), rng.randn(60, 5) + 0.5
    a[:, 0] = b[:, 0] = 1.0  # a dead unit: singular covariances
    moments = [(x.mean(axis=0), np.cov(x, rowvar=False)) for x in (a, b)]
    np.testing.assert_allclose(frechet_distance_from_moments(*moments[0], *moments[1]),
                               frechet_distance(a, b), rtol=1e-9, atol=1e-12)


def test_fid_with_digits_features_separates_real_from_noise():
    features = DigitsFeatures(image_size=8)
    train, test = digits_arrays("train", 8)[0], digits_arrays("test", 8)[0]
    fid = FrechetInceptionDistance(features=features)
    assert fid.feature_dim == 64
    fid.update_state(real=train, fake=test)
    real_vs_real = fid.result()
    assert real_vs_real == pytest.approx(features.evaluator.frechet_distance(train, test), rel=1e-6)
    fid.reset_fake_state()
    fid.update_state(fake=np.random.RandomState(0).uniform(-1, 1, (300, 8, 8, 1)).astype("float32"))
    assert fid.result() > 10 * real_vs_real


# --------------------------------------------------------------------- KID
def mmd2_reference(x, y):
    """Unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3, one pair at a time."""
    d = x.shape[1]
    k = lambda a, b: (np.dot(a, b) / d + 1.0) ** 3  # noqa: E731
    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2.0 * xy


def test_unbiased_polynomial_mmd_matches_the_reference(rng):
    x, y = rng.randn(20, 3), rng.randn(27, 3) * 0.7 + 0.5
    assert polynomial_mmd2_unbiased(x, y) == pytest.approx(mmd2_reference(x, y), rel=1e-10)


def test_kid_on_whole_sets_matches_the_reference(rng):
    real, fake = rng.randn(30, 4), rng.randn(30, 4) + 0.3
    kid = KernelInceptionDistance(features=identity, subsets=3, subset_size=1000)
    kid.update_state(real, fake)
    # Subsets as large as the sets are permutations of them; MMD^2 does not see order.
    np.testing.assert_allclose(kid.subset_values(), mmd2_reference(fake, real), rtol=1e-10)


def test_kid_subset_average_matches_the_reference_protocol(rng):
    real, fake = rng.randn(40, 3), rng.randn(35, 3) * 1.2
    kid = KernelInceptionDistance(features=identity, subsets=4, subset_size=10, seed=7)
    kid.update_state(real, fake)
    draw = np.random.RandomState(7)  # Bińkowski et al.'s protocol: fake subset, then real subset
    expected = []
    for _ in range(4):
        x = fake[draw.choice(35, 10, replace=False)]
        y = real[draw.choice(40, 10, replace=False)]
        expected.append(mmd2_reference(x, y))
    assert kid.result() == pytest.approx(np.mean(expected), rel=1e-10)


def test_kid_is_unbiased_near_zero_for_one_distribution_and_streams(rng):
    a, b, c = rng.randn(400, 8), rng.randn(400, 8), rng.randn(400, 8) + 1.0
    same = KernelInceptionDistance(features=identity, subsets=10, subset_size=200)
    same.update_state(a, b)
    far = KernelInceptionDistance(features=identity, subsets=10, subset_size=200)
    assert streamed(far, a, c, chunks=5) > 100 * abs(same.result())
    one = KernelInceptionDistance(features=identity, subsets=10, subset_size=200)
    one.update_state(a, c)
    assert far.result() == pytest.approx(one.result(), rel=1e-12)


# ---------------------------------------------------------------------- IS
def test_inception_score_of_uniform_predictions_is_one():
    score = InceptionScore(classifier=identity, splits=10)
    score.update_state(np.full((200, 7), 1.0 / 7))
    assert score.result() == pytest.approx(1.0, abs=1e-12)
    logits = InceptionScore(classifier=identity, splits=5, from_logits=True)
    logits.update_state(np.zeros((50, 4)))
    assert logits.result() == pytest.approx(1.0, abs=1e-12)


def test_inception_score_of_confident_even_predictions_is_the_number_of_classes():
    k, splits = 5, 10
    # Sample i joins split i % 10; class (i // 10) % 5 gives every split all 5 classes equally.
    labels = (np.arange(500) // splits) % k
    score = InceptionScore(classifier=identity, splits=splits)
    score.update_state(np.eye(k)[labels])
    np.testing.assert_allclose(score.split_scores(), k, rtol=1e-12)
    collapsed = InceptionScore(classifier=identity, splits=splits)
    collapsed.update_state(np.eye(k)[np.zeros(500, int)])
    assert collapsed.result() == pytest.approx(1.0)


def test_inception_score_matches_the_formula_and_streams(rng):
    p = rng.dirichlet(np.ones(6) * 0.3, size=240)
    one = InceptionScore(classifier=identity, splits=4)
    one.update_state(p)
    many = InceptionScore(classifier=identity, splits=4)
    for piece in np.array_split(p, 7):
        many.update_state(piece)
    np.testing.assert_allclose(many.split_scores(), one.split_scores(), rtol=1e-12)
    group = p[np.arange(240) % 4 == 0]
    marginal = group.mean(axis=0)
    expected = np.exp(np.mean(np.sum(group * (np.log(group) - np.log(marginal)), axis=1)))
    assert one.split_scores()[0] == pytest.approx(expected, rel=1e-10)


def test_inception_score_rejects_logits_passed_as_probabilities(rng):
    score = InceptionScore(classifier=identity, splits=2)
    with pytest.raises(ValueError, match="from_logits=True"):
        score.update_state(rng.randn(10, 3))
    score = InceptionScore(classifier=identity, splits=20)
    score.update_state(np.full((10, 3), 1 / 3))
    with pytest.raises(ValueError, match="at least 20 samples"):
        score.result()


# ------------------------------------------------------- precision / recall
def test_precision_recall_of_identical_sets_is_one(rng):
    a = rng.randn(200, 5)
    pr = PrecisionRecall(features=identity, k=3)
    pr.update_state(a, a.copy())
    assert pr.result() == {"precision": 1.0, "recall": 1.0}


def test_precision_recall_of_far_apart_sets_is_zero(rng):
    pr = PrecisionRecall(features=identity, k=3)
    pr.update_state(rng.randn(100, 5), rng.randn(80, 5) + 100.0)
    assert pr.result() == {"precision": 0.0, "recall": 0.0}


def test_precision_recall_by_hand():
    # Real points 0, 1, 2, 3 on a line: with k = 1 every real ball has radius 1.
    # Fake 0.5 lies in a real ball, fake 10 does not: precision 1/2. The fake
    # balls have radius 9.5 (the other fake) and hold every real point: recall 1.
    real, fake = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([[0.5], [10.0]])
    pr = PrecisionRecall(features=identity, k=1)
    pr.update_state(real, fake)
    assert pr.result() == {"precision": 0.5, "recall": 1.0}


def test_precision_recall_sees_mode_collapse_and_streams(rng):
    real = np.concatenate([rng.randn(100, 2) * 0.1 + centre for centre in ((0, 0), (5, 0), (0, 5), (5, 5))])
    collapsed = rng.randn(200, 2) * 0.1  # one mode of four
    pr = PrecisionRecall(features=identity, k=3)
    result = streamed(pr, real, collapsed, chunks=3)
    assert result["precision"] > 0.9 and result["recall"] < 0.3
    one = PrecisionRecall(features=identity, k=3)
    one.update_state(real, collapsed)
    assert one.result() == result


# ---------------------------------------------------- conditional accuracy
def test_conditional_accuracy_against_hand_made_predictions():
    # Samples requested for labels 0,0,1,1,1,2 classified as 0,1,1,1,0,2:
    # per class 1/2, 2/3, 1/1 (class 3 never requested); overall 4/6.
    labels = np.array([0, 0, 1, 1, 1, 2])
    predictions = np.eye(4)[[0, 1, 1, 1, 0, 2]] * 0.7 + 0.075  # probabilities; only the argmax counts
    accuracy = ConditionalAccuracy(classifier=identity)
    accuracy.update_state(labels[:4], predictions[:4])
    accuracy.update_state(labels[4:], predictions[4:])
    assert accuracy.result() == pytest.approx(4 / 6)
    np.testing.assert_allclose(accuracy.per_class_accuracy(), [0.5, 2 / 3, 1.0, np.nan])
    with pytest.raises(ValueError, match="4 classes"):
        accuracy.update_state(np.array([4]), predictions[:1])
    accuracy.reset_state()
    with pytest.raises(ValueError, match="no samples"):
        accuracy.result()


# ---------------------------------------------------------------- Inception
def test_missing_inception_weights_raise_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    for build, filename in ((InceptionFeatures, "tf_kernels_notop.h5"), (InceptionLogits, "tf_kernels.h5")):
        with pytest.raises(MissingInceptionWeightsError) as err:
            build()
        message = str(err.value)
        assert str(tmp_path / "models") in message and filename in message
        assert "--inception-weights PATH" in message and "never downloads" in message
    with pytest.raises(MissingInceptionWeightsError):
        FrechetInceptionDistance()  # the default extractor is Inception
    with pytest.raises(MissingInceptionWeightsError, match="does not exist"):
        InceptionFeatures(weights=str(tmp_path / "nowhere.h5"))
    assert list(tmp_path.iterdir()) == []  # nothing was downloaded


def test_inception_extractors_shapes_and_weight_files(tmp_path, monkeypatch):
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    grey = np.linspace(-1, 1, 2 * 8 * 8).reshape(2, 8, 8, 1).astype("float32")
    features = InceptionFeatures(weights="random")  # shapes only: random weights mean nothing
    out = features(grey)
    assert out.shape == (2, 2048) and np.isfinite(out).all()
    logits = InceptionLogits(weights="random")(np.zeros((2, 8, 8, 3), "uint8"))
    assert logits.shape == (2, 1000) and np.isfinite(logits).all()
    with pytest.raises(ValueError, match="uint8"):
        features(grey * 255.0)
    # Stand-in for the ImageNet file: the random weights in the legacy HDF5
    # format and under the name of Keras's download, found through KERAS_HOME.
    cached = tmp_path / "models" / INCEPTION_FEATURES_FILE
    cached.parent.mkdir()
    with h5py.File(cached, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, features.model)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    np.testing.assert_allclose(InceptionFeatures()(grey), out, rtol=1e-4, atol=1e-5)
    # ... or given as a path (the network built from it is shared within the process).
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "elsewhere"))
    np.testing.assert_allclose(InceptionFeatures(weights=str(cached))(grey), out, rtol=1e-4, atol=1e-5)
