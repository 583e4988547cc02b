"""`tfgan bench mnist`: the scoring pieces (the figures themselves: README, docs/bench/mnist.json)."""

import os

import numpy as np
import pytest

from helpers import tiny_model
from tfgan_models.benchmarks import mnist


def _judges():
    """A fake judge: the class is the image's mean brightness bucket; confidence 1 on it."""
    predict = lambda x: np.clip(((np.asarray(x).reshape(len(x), -1).mean(axis=1) + 1) * 5).astype(int), 0, 9)  # noqa
    return {"cnn": (predict, lambda x: np.eye(10)[predict(x)]), "knn": (predict, None)}


def _images(classes):
    return np.stack([np.full((8, 8, 1), c / 5 - 1 + 0.1, "float32") for c in classes])


def test_judge_scores_closed_forms():
    every = _images(np.arange(100) % 10)
    scores = mnist.judge_scores(every, _judges())
    assert scores["min_class_share_cnn"] == pytest.approx(0.1) and scores["classes_over_5pct_knn"] == 10
    assert scores["mean_confidence_cnn"] == 1.0 and "mean_confidence_knn" not in scores
    labels = np.arange(100) % 10
    assert mnist.judge_scores(every, _judges(), labels=labels)["conditional_accuracy_cnn"] == 1.0
    assert mnist.judge_scores(every, _judges(), labels=(labels + 1) % 10)["conditional_accuracy_knn"] == 0.0
    codes = (labels + 3) % 10  # a permutation of the classes: matching undoes it
    assert mnist.judge_scores(every, _judges(), codes=codes)["matched_accuracy_cnn"] == 1.0
    collapsed = mnist.judge_scores(_images([4] * 100), _judges())
    assert collapsed["min_class_share_cnn"] == 0.0 and collapsed["classes_over_5pct_cnn"] == 1


def test_reference_moments_are_cached_whole(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    calls = []
    features = lambda x: (calls.append(len(x)), np.asarray(x).reshape(len(x), -1)[:, :3].astype("float64"))[1]  # noqa
    images = np.random.default_rng(0).normal(size=(20, 4, 4, 1))
    mu, sigma = mnist.reference_moments(images, features, "unit")
    np.testing.assert_allclose(mu, images.reshape(20, -1)[:, :3].mean(axis=0))
    again = mnist.reference_moments(images, features, "unit")
    assert calls == [20] and np.array_equal(again[1], sigma)
    assert os.listdir(tmp_path / "tfgan_models") == ["fid_inception_unit.npz"]  # no temporary left behind


@pytest.mark.parametrize("variant", ["dcgan", "cgan", "infogan"])
def test_score_reads_each_kind_of_variant(variant):
    model = tiny_model(variant)
    features = lambda x: np.asarray(x).reshape(len(x), -1)[:, :4].astype("float64")  # noqa: E731
    reference = (np.zeros(4), np.eye(4))
    row = mnist.score(model, 0, features, reference, _judges(), fid_samples=16)
    assert np.isfinite(row["fid"]) and row["fid"] > 0
    key = {"dcgan": "min_class_share_cnn", "cgan": "conditional_accuracy_cnn", "infogan": "matched_accuracy_cnn"}
    assert 0.0 <= row[key[variant]] <= 1.0


def test_bad_arguments():
    with pytest.raises(ValueError, match="variants must be among"):
        mnist.run(variants=("stylegan",))
