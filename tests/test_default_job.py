"""The default-job bench's judges: the independent 8x8 SVM judge and the pass/fail scoring of both judges."""

import numpy as np
import pytest

from tfgan_models.benchmarks import SUITES, format_table
from tfgan_models.benchmarks.default_job import MIN_CONFIDENCE, score_samples
from tfgan_models.data.embedded import digits_arrays
from tfgan_models.metrics import DigitsEvaluator
from tfgan_models.metrics import digits_judge
from tfgan_models.metrics.digits_judge import IndependentDigitsJudge


@pytest.fixture(scope="module")
def judge():
    return IndependentDigitsJudge()


@pytest.fixture(scope="module")
def real_scores(judge):
    return score_samples(digits_arrays("test", 32)[0], DigitsEvaluator(32), judge)


def test_judge_is_accurate_after_the_round_trip_and_gives_distributions(judge):
    assert judge.test_accuracy >= 0.97 and judge.native_test_accuracy >= 0.97
    images, labels = digits_arrays("test", 32)
    probs = judge.predict(images)
    assert probs.shape == (len(images), 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-9)
    assert np.all(probs >= 0.0)
    assert np.mean(probs.argmax(axis=1) == labels) == pytest.approx(judge.test_accuracy)
    # 8x8 originals and their 32x32 bilinear versions are read alike (area averaging back to 8x8).
    native = judge.predict(digits_arrays("test", 8)[0])
    assert np.mean(native.argmax(axis=1) == probs.argmax(axis=1)) >= 0.97


def test_judge_is_deterministic(judge):
    images = digits_arrays("test", 32)[0][:50]
    first = judge.predict(images)
    saved = dict(digits_judge._CACHE)
    digits_judge._CACHE.clear()
    try:
        again = IndependentDigitsJudge().predict(images)  # trained afresh
    finally:
        digits_judge._CACHE.clear()
        digits_judge._CACHE.update(saved)
    np.testing.assert_array_equal(first, again)


@pytest.mark.parametrize("images, match", [
    (np.zeros((4, 30, 30, 1), "float32"), r"\(4, 30, 30, 1\)"),
    (np.zeros((4, 32, 32, 3), "float32"), r"\(4, 32, 32, 3\)"),
    (np.zeros((4, 32, 16, 1), "float32"), r"\(4, 32, 16, 1\)"),
    (np.zeros((4, 24, 24, 1), "float32"), r"\(4, 24, 24, 1\)"),
    (np.zeros((0, 32, 32, 1), "float32"), r"N >= 1"),
    (np.zeros((32, 32), "float32"), r"\(32, 32\)"),
    (np.full((2, 32, 32, 1), 255.0, "float32"), r"\[-1, 1\]"),
    (np.full((2, 32, 32, 1), np.nan, "float32"), r"NaN"),
])
def test_judge_refuses_bad_images(judge, images, match):
    with pytest.raises(ValueError, match=match):
        judge.predict(images)


def test_real_digits_pass_both_judges(real_scores):
    for name in ("package", "independent"):
        scores = real_scores[name]
        assert scores["classes_over_5pct"] == 10 and scores["min_share"] >= 0.05, (name, scores)
        assert scores["mean_confidence"] >= MIN_CONFIDENCE, (name, scores)
        assert scores["pass_classes"] and scores["pass_confidence"]
    assert real_scores["pass"]


def test_identical_images_fail_the_class_share_target(judge):
    one = np.repeat(digits_arrays("test", 32)[0][:1], 200, axis=0)  # a collapsed generator: one image
    scores = score_samples(one, DigitsEvaluator(32), judge)
    for name in ("package", "independent"):
        assert scores[name]["classes_over_5pct"] == 1 and not scores[name]["pass_classes"]
    assert not scores["pass"]


def test_suite_is_registered_and_its_table_reads_the_rows(real_scores):
    assert "default_job" in SUITES
    row = {"seed": 0, "train_wall_s": 700.0, "pass_wall": False, "load_before": 1.0, "load_after": 2.0,
           **real_scores, "pass": False}
    results = {"suite": "default_job", "rows": [row], "pass": False, "wall_time_s": 1.0,
               "package_test_accuracy": 0.99, "independent_test_accuracy": 0.99,
               "protocol": {"command": "tfgan train dcgan --seed S --out DIR", "preset": "demo", "seeds": [0],
                            "num_samples": 397, "targets": {"min_class_share": 0.05, "min_mean_confidence": 0.85,
                                                            "max_train_wall_s": 600.0}}}
    table = format_table("default_job", results)
    assert "independent" in table and "package" in table
    assert table.count("FAIL") == 3  # the header and both judges' rows: 700 s is over the 10-minute target
