"""MnistEvaluator and IndependentMnistJudge on real MNIST, with test-sized training (a few seconds)."""

import json
import math

import numpy as np
import pytest

from tfgan_models import data
from tfgan_models.metrics import IndependentMnistJudge, MnistEvaluator
from tfgan_models.metrics import mnist as mnist_metrics
from tfgan_models.metrics.mnist import mean_intra_class_distance

TRAIN_SIZE, EPOCHS = 3000, 2
STEM = f"mnist_classifier_v1_32_n{TRAIN_SIZE}_e{EPOCHS}"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("mnist_cache")


@pytest.fixture(scope="module")
def evaluator(cache_dir):
    return MnistEvaluator(32, cache_dir=cache_dir, train_size=TRAIN_SIZE, epochs=EPOCHS)


@pytest.fixture(scope="module")
def mnist_test():
    return data.mnist_arrays("test")


def _small(**kw):
    return MnistEvaluator(32, train_size=TRAIN_SIZE, epochs=EPOCHS, **kw)


def test_small_classifier_reaches_90_percent_and_records_it(evaluator, cache_dir):
    assert evaluator.test_accuracy >= 0.90
    record = json.loads((cache_dir / f"{STEM}.json").read_text())
    assert record["test_accuracy"] == evaluator.test_accuracy
    assert record["train_size"] == TRAIN_SIZE and record["epochs"] == EPOCHS
    assert _small(cache_dir=cache_dir).classifier is evaluator.classifier  # trained once per process


def test_test_sized_classifiers_stay_out_of_the_default_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert mnist_metrics._cache_paths(32, None, TRAIN_SIZE, EPOCHS) is None
    weights, record = mnist_metrics._cache_paths(32, None, None, mnist_metrics.CLASSIFIER_EPOCHS)
    assert weights == str(tmp_path / "tfgan_models" / "mnist_classifier_v1_32.weights.h5")
    assert record == str(tmp_path / "tfgan_models" / "mnist_classifier_v1_32.json")


def test_images_are_prepared_exactly_as_data_load_prepares_them(evaluator, mnist_test):
    loaded, labels = next(iter(data.load("mnist:test", batch_size=300, image_size=32, with_labels=True,
                                         shuffle=False)))
    np.testing.assert_array_equal(labels.numpy(), mnist_test[1][:300])
    np.testing.assert_allclose(evaluator._prepare(mnist_test[0][:300]), loaded.numpy(), atol=1e-6)
    np.testing.assert_allclose(evaluator.predict(mnist_test[0][:300]), evaluator.predict(loaded), atol=1e-5)
    assert evaluator.features(np.zeros((3, 64, 48), "float32")).shape == (3, 128)  # any size, cropped


def test_real_test_images_match_their_labels_and_not_shuffled_ones(evaluator, mnist_test, rng):
    images, labels = mnist_test[0][:2000], mnist_test[1][:2000]
    probs = evaluator.predict(images)
    assert probs.shape == (2000, 10) and probs.dtype == np.float64
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-9)
    scores = evaluator.score(images, labels=labels)
    assert scores["conditional_accuracy"] >= 0.9
    assert len(scores["per_class_accuracy"]) == 10 and min(scores["per_class_accuracy"]) >= 0.7
    assert scores["conditional_accuracy"] == np.mean(np.argmax(probs, axis=1) == labels)
    assert scores["classes_over_5pct"] == 10 and scores["kl_to_uniform"] < 0.05
    assert scores["num_samples"] == 2000
    shuffled = evaluator.score(images, labels=rng.permutation(labels))
    assert shuffled["conditional_accuracy"] < 0.2
    absent = evaluator.score(images[labels != 7], labels=labels[labels != 7])["per_class_accuracy"]
    assert absent[7] is None and absent[3] == scores["per_class_accuracy"][3]


def test_real_images_are_close_and_noise_far(evaluator, mnist_test, rng):
    train = data.mnist_arrays("train")[0]
    real_vs_real = evaluator.frechet_distance(train[:1000], mnist_test[0][:1000])
    noise = rng.uniform(-1, 1, (1000, 32, 32, 1)).astype("float32")
    assert evaluator.frechet_distance(noise, mnist_test[0][:1000]) > 20 * real_vs_real
    floor = evaluator.real_vs_real_floor
    assert 0 < floor < real_vs_real  # 10k vs 10k: less sampling noise than 1k vs 1k
    assert evaluator.real_vs_real_floor == floor  # computed once
    scores = evaluator.score(noise)  # default reference: the 10k test images
    assert scores["frechet_distance"] > 20 * floor and scores["real_vs_real_floor"] == floor


def test_intra_class_diversity_of_a_hand_computed_case():
    features = np.array([[0.0, 0.0], [3.0, 4.0],  # class 0: one pair at distance 5
                         [0.0, 0.0], [1.0, 0.0], [0.0, 1.0],  # class 1: 1, 1, sqrt(2)
                         [9.0, 9.0]])  # class 2: alone, skipped
    labels = np.array([0, 0, 1, 1, 1, 2])
    expected = (5.0 + (2.0 + math.sqrt(2.0)) / 3.0) / 2.0
    assert mean_intra_class_distance(features, labels) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="2 or more"):
        mean_intra_class_distance(features[[0, 2, 5]], labels[[0, 2, 5]])


def test_intra_class_diversity_of_images(evaluator, mnist_test):
    images, labels = mnist_test
    same = np.repeat(images[:2], 5, axis=0)  # two digits, five copies each, plus a lone third
    same = np.concatenate([same, images[2:3]])
    assert evaluator.intra_class_diversity(same, [0] * 5 + [1] * 5 + [2]) == pytest.approx(0.0, abs=1e-5)
    diverse = evaluator.intra_class_diversity(images[:500], labels[:500])
    assert diverse > 1.0
    assert diverse == pytest.approx(mean_intra_class_distance(evaluator.features(images[:500]), labels[:500]))
    assert evaluator.score(images[:500], labels=labels[:500])["intra_class_diversity"] == pytest.approx(diverse)


def test_disk_cache_is_reused_and_a_damaged_one_retrained(tmp_path, mnist_test, monkeypatch):
    tiny = dict(cache_dir=tmp_path, train_size=500, epochs=1)  # its own key: the module's classifier is kept
    weights = tmp_path / "mnist_classifier_v1_32_n500_e1.weights.h5"
    images = mnist_test[0][:100]

    def no_training(*args):
        raise AssertionError("retrained although the disk cache is valid")

    def quick_accuracy(predict_labels, image_size):  # 1,000 test images: this test is about the files
        images = mnist_metrics._resize(mnist_metrics._as_images(mnist_test[0][:1000]), image_size)
        return float(np.mean(predict_labels(images) == mnist_test[1][:1000]))

    monkeypatch.setattr(mnist_metrics, "_accuracy_on_test", quick_accuracy)
    global_state = np.random.get_state()[1].copy()
    trained = MnistEvaluator(32, **tiny)
    np.testing.assert_array_equal(np.random.get_state()[1], global_state)  # global seeds left alone
    monkeypatch.setattr(mnist_metrics, "_CACHE", {})
    with monkeypatch.context() as m:
        m.setattr(mnist_metrics, "_fit", no_training)
        loaded = MnistEvaluator(32, **tiny)
    assert loaded.classifier is not trained.classifier and loaded.test_accuracy == trained.test_accuracy
    np.testing.assert_allclose(loaded.predict(images), trained.predict(images), atol=1e-6)

    good = weights.read_bytes()
    weights.write_bytes(good[: len(good) // 2])  # a truncated copy
    monkeypatch.setattr(mnist_metrics, "_CACHE", {})
    with pytest.warns(UserWarning, match="unreadable"):
        retrained = MnistEvaluator(32, **tiny)
    assert retrained.test_accuracy == trained.test_accuracy  # deterministic training
    assert weights.stat().st_size == len(good)  # replaced by a whole file
    assert not list(tmp_path.glob(".tmp-*"))
    monkeypatch.setattr(mnist_metrics, "_CACHE", {})
    with monkeypatch.context() as m:
        m.setattr(mnist_metrics, "_fit", no_training)
        MnistEvaluator(32, **tiny)  # the rewritten cache loads


def test_bad_input_is_refused_with_a_clear_error(evaluator):
    with pytest.raises(ValueError, match=r"\(N, H, W, 1\)"):
        evaluator.features(np.zeros((4, 32, 32, 3), "float32"))
    with pytest.raises(ValueError, match=r"\(N, H, W, 1\)"):
        evaluator.predict(np.zeros((0, 32, 32), "float32"))
    with pytest.raises(ValueError, match="NaN"):
        evaluator.score(np.full((4, 32, 32, 1), np.nan, "float32"))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        evaluator.features(np.full((4, 28, 28), 255.0, "float32"))
    with pytest.raises(ValueError, match="uint8 or float"):
        evaluator.features(np.full((4, 28, 28), "a"))
    images = np.zeros((4, 32, 32), "float32")
    with pytest.raises(ValueError, match="4 integers"):
        evaluator.score(images, labels=[1, 2, 3])
    with pytest.raises(ValueError, match="0..9"):
        evaluator.intra_class_diversity(images, [0, 1, 2, 10])
    with pytest.raises(ValueError, match="image_size"):
        MnistEvaluator(8)  # too small for two valid convolutions and a pooling twice
    with pytest.raises(ValueError, match="train_size"):
        IndependentMnistJudge(32, train_size=0)


def test_independent_judge_on_a_subset(mnist_test, rng):
    judge = IndependentMnistJudge(32, train_size=2000)
    assert judge.test_accuracy >= 0.85
    images, labels = mnist_test[0][:1000], mnist_test[1][:1000]
    at_32 = data.load("mnist:test", batch_size=1000, image_size=32, shuffle=False)
    predicted = judge.predict_labels(next(iter(at_32)).numpy())
    assert predicted.shape == (1000,) and predicted.dtype == np.int64
    assert np.mean(predicted == labels) >= 0.85
    assert np.mean(judge.predict_labels(images) == labels) >= 0.85  # uint8 28x28 as well
    assert np.mean(predicted == rng.permutation(labels)) < 0.2
    assert IndependentMnistJudge(32, train_size=2000).knn is judge.knn  # fitted once per process
