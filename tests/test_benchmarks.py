"""Each benchmark suite end to end at a toy budget: keys, finite numbers, JSON, tables."""

import json
import math

import pytest

from tfgan_models.benchmarks import SUITES, format_table, resolve_seeds, summarize


def _finite_numbers(value):
    """Every int/float anywhere in a nested result is finite."""
    if isinstance(value, dict):
        return all(_finite_numbers(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_finite_numbers(v) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)
    return True


def _check_common(suite, results, logged):
    assert results["suite"] == suite
    for key in ("protocol", "machine", "wall_time_s", "rows"):
        assert key in results
    assert results["machine"]["cpu_count"] >= 1 and results["machine"]["tensorflow"]
    assert results["wall_time_s"] > 0 and results["rows"]
    json.loads(json.dumps(results))  # serialisable as-is, no NumPy scalars
    table = format_table(suite, results)
    assert isinstance(table, str) and suite in table
    assert logged, "the suite reports progress through log"
    return table


def test_suites_are_registered_and_unknown_names_fail():
    assert set(SUITES) == {"mixtures", "digits", "pipeline", "conditional", "export", "sr", "translation"}
    with pytest.raises(ValueError, match="unknown benchmark suite 'speed'"):
        format_table("speed", {"rows": []})
    with pytest.raises(ValueError, match="positive int"):
        resolve_seeds(0, quick=True, full_default=3)
    assert resolve_seeds(None, quick=True, full_default=3) == [0]
    assert resolve_seeds(None, quick=False, full_default=3) == [0, 1, 2]


def test_summarize_gives_mean_and_sample_std():
    rows = [{"v": "a", "x": 1.0}, {"v": "a", "x": 3.0}, {"v": "b", "x": 5.0}]
    a, b = summarize(rows, ("v",), ("x",))
    assert (a["runs"], a["x"], a["x_std"]) == (2, 2.0, pytest.approx(math.sqrt(2.0)))
    assert (b["x"], b["x_std"]) == (5.0, None)


def test_mixtures_suite_at_a_toy_budget():
    logged = []
    results = SUITES["mixtures"](quick=True, log=logged.append, steps=3, variants=["gan", "wgan_gp"],
                                 mixtures=["ring8"], num_samples=200)
    table = _check_common("mixtures", results, logged)
    assert results["protocol"]["steps"] == {"ring8": 3} and results["protocol"]["seeds"] == [0]
    assert [(r["variant"], r["mixture"]) for r in results["rows"]] == [("gan", "ring8"), ("wgan_gp", "ring8")]
    for row in results["rows"]:
        assert 0 <= row["modes"] <= row["num_modes"] == 8
        assert 0.0 <= row["hq_percent"] <= 100.0 and row["reverse_kl"] >= 0.0
        assert _finite_numbers(row)
    assert results["rows"][1]["discriminator_steps"] == 5
    assert {a["method"] for a in results["anchors"]} >= {"VEEGAN", "WGAN-GP"}
    assert "wgan_gp" in table and "VEEGAN" in table
    with pytest.raises(ValueError, match="unknown variant"):
        SUITES["mixtures"](quick=True, steps=1, variants=["stylegan"])


def test_digits_suite_at_a_toy_budget():
    logged = []
    results = SUITES["digits"](quick=True, log=logged.append, steps=2, variants="dcgan", num_samples=100)
    table = _check_common("digits", results, logged)
    (row,) = results["rows"]
    assert row["variant"] == "dcgan" and row["steps"] == 2 and row["num_samples"] == 100
    for key in ("frechet_distance", "real_vs_real_floor", "class_shares", "classes_over_5pct",
                "kl_to_uniform", "mean_confidence", "test_accuracy", "img_per_s", "wall_s"):
        assert key in row
    assert len(row["class_shares"]) == 10 and row["test_accuracy"] >= 0.97
    assert row["frechet_distance"] > row["real_vs_real_floor"]  # 2 steps cannot make digits
    assert _finite_numbers(results)
    assert "dcgan" in table


def test_pipeline_suite_at_a_toy_budget():
    logged = []
    results = SUITES["pipeline"](quick=True, log=logged.append, batches=3, train_steps=2, rounds=1, num_files=20)
    _check_common("pipeline", results, logged)
    assert [r["source"] for r in results["rows"]] == ["digits", "ring8", "folder (20 PNG)"]
    for row in results["rows"]:
        assert row["pipeline_per_s"] > 0 and row["train_per_s"] > 0 and row["cached_train_per_s"] > 0
        assert row["headroom"] == pytest.approx(row["pipeline_per_s"] / row["train_per_s"])
    assert _finite_numbers(results)
    assert isinstance(results["pipeline_is_bottleneck"], bool)


def test_conditional_suite_at_a_toy_budget():
    from tfgan_models.benchmarks import conditional

    results = conditional.run(quick=True, steps=2, variants=("cgan", "infogan"), log=lambda *a: None)
    rows = {r["variant"]: r for r in results["rows"]}
    assert set(rows) == {"cgan", "infogan"}
    assert 0.0 <= rows["cgan"]["conditional_accuracy"] <= 1.0 and len(rows["cgan"]["per_class_accuracy"]) == 10
    assert 0.1 <= rows["infogan"]["matched_accuracy"] <= 1.0  # a one-to-one matching is at least chance
    assert "conditional" in __import__("tfgan_models.benchmarks", fromlist=["x"]).format_table(
        "conditional", results)


def test_matched_accuracy_by_hand():
    from tfgan_models.benchmarks.conditional import matched_accuracy

    codes = [0, 0, 1, 1, 2, 2]
    predicted = [5, 5, 3, 4, 3, 3]  # best matching: 0->5, 1->4 (or 3), 2->3
    accuracy, mapping = matched_accuracy(codes, predicted, num_codes=3)
    assert accuracy == 5 / 6 and mapping[0] == 5 and mapping[2] == 3
