"""Each benchmark suite end to end at a toy budget: keys, finite numbers, JSON, tables."""

import json
import math

import numpy as np
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
    assert set(SUITES) == {"mixtures", "digits", "pipeline", "conditional", "export", "sr", "translation", "biggan",
                           "inpaint-ar", "faceapp", "text2image", "multiscale", "xla", "throughput", "default_job",
                           "stacked_mnist", "mnist"}
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


def _mixture_reference(samples, name):
    """Modes / HQ % / reverse KL of 2-D samples computed directly (VEEGAN / PacGAN definitions)."""
    from tfgan_models import data

    means, sigma = data.mixture(name)
    dist = np.linalg.norm(samples[:, None, :] - means[None], axis=-1)
    nearest, hq = dist.argmin(1), dist.min(1) <= 3 * sigma
    p = np.bincount(nearest, minlength=len(means)) / len(samples)
    reverse_kl = float(np.sum(p[p > 0] * np.log(p[p > 0] * len(means))))
    return len(set(nearest[hq])), 100.0 * hq.mean(), reverse_kl


def test_mixtures_suite_at_a_toy_budget(monkeypatch):
    from tfgan_models.benchmarks import mixtures

    scored = []  # the samples the suite scores, to check its figures against a direct computation

    def spy(samples, name):
        scored.append(np.asarray(samples, "float64"))
        return real_scores(samples, name)

    real_scores = mixtures.mixture_scores
    monkeypatch.setattr(mixtures, "mixture_scores", spy)
    logged = []
    results = SUITES["mixtures"](quick=True, log=logged.append, steps=3, variants=["gan", "wgan_gp"],
                                 mixtures=["ring8"], num_samples=200)
    table = _check_common("mixtures", results, logged)
    assert results["protocol"]["steps"] == {"ring8": 3} and results["protocol"]["seeds"] == [0]
    assert [(r["variant"], r["mixture"]) for r in results["rows"]] == [("gan", "ring8"), ("wgan_gp", "ring8")]
    assert len(scored) == 2 and all(s.shape == (200, 2) for s in scored)
    for row, samples in zip(results["rows"], scored):
        modes, hq_percent, reverse_kl = _mixture_reference(samples, "ring8")
        assert row["num_modes"] == 8 and row["modes"] == modes
        assert row["hq_percent"] == pytest.approx(hq_percent) and row["reverse_kl"] == pytest.approx(reverse_kl)
        assert sum(row["mode_counts"]) == round(2 * hq_percent)  # HQ samples per mode, of 200
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
        assert row["bottleneck"] is (row["pipeline_per_s"] < row["train_per_s"])
    assert _finite_numbers(results)
    assert results["pipeline_is_bottleneck"] is any(r["pipeline_per_s"] < r["train_per_s"] for r in results["rows"])


def _best_matching(table):
    """The best one-to-one code -> class total of a (codes, classes) count table, by exhaustive DP over subsets."""
    best = {0: 0}
    for code in range(table.shape[0]):
        nxt = {}
        for used, total in best.items():
            for k in range(table.shape[1]):
                if not used >> k & 1:
                    key = used | 1 << k
                    nxt[key] = max(nxt.get(key, -1), total + table[code, k])
        best = nxt
    return max(best.values())


def test_conditional_suite_at_a_toy_budget(monkeypatch):
    from tfgan_models.benchmarks import conditional
    from tfgan_models.metrics import DigitsEvaluator

    models = {}  # the trained models the suite scores, to recompute its figures from their samples

    def spy(model, evaluator, seed):
        models[type(model).__name__] = (model, seed)
        return real_score(model, evaluator, seed)

    real_score = conditional.score
    monkeypatch.setattr(conditional, "score", spy)
    results = conditional.run(quick=True, steps=2, variants=("cgan", "infogan"), log=lambda *a: None)
    rows = {r["variant"]: r for r in results["rows"]}
    assert set(rows) == {"cgan", "infogan"} and set(models) == {"CGAN", "InfoGAN"}
    evaluator = DigitsEvaluator(32)

    model, seed = models["CGAN"]
    labels = np.repeat(np.arange(10), conditional.PER_CLASS)
    predicted = evaluator.predict(model.generate(len(labels), seed=seed, labels=labels)).argmax(1)
    per_class = [np.mean(predicted[labels == k] == k) for k in range(10)]
    np.testing.assert_allclose(rows["cgan"]["per_class_accuracy"], per_class)
    assert rows["cgan"]["conditional_accuracy"] == pytest.approx(np.mean(predicted == labels))

    model, seed = models["InfoGAN"]
    codes = np.repeat(np.arange(model.num_categories), conditional.PER_CLASS)
    samples = model.generate(len(codes), seed=seed, codes={"categorical": codes})
    predicted = evaluator.predict(samples).argmax(1)
    table = np.zeros((model.num_categories, 10), int)
    np.add.at(table, (codes, predicted), 1)
    row = rows["infogan"]
    mapping = {int(c): k for c, k in row["code_to_class"].items()}
    assert sorted(mapping) == list(range(model.num_categories)) and len(set(mapping.values())) == len(mapping)
    assert row["matched_accuracy"] == pytest.approx(np.mean(predicted == np.array([mapping[c] for c in codes])))
    assert row["matched_accuracy"] == pytest.approx(_best_matching(table) / len(codes))  # and no matching beats it
    assert "conditional" in __import__("tfgan_models.benchmarks", fromlist=["x"]).format_table(
        "conditional", results)


def test_best_matching_reference_by_hand():
    # codes x classes; greedy (0->0: 5) would leave 1 -> 2 (0): total 5; the best is 0->1, 1->0: 4 + 4 = 8.
    assert _best_matching(np.array([[5, 4, 0], [4, 0, 0]])) == 8


def test_matched_accuracy_by_hand():
    from tfgan_models.benchmarks.conditional import matched_accuracy

    codes = [0, 0, 1, 1, 2, 2]
    predicted = [5, 5, 3, 4, 3, 3]  # best matching: 0->5, 1->4 (or 3), 2->3
    accuracy, mapping = matched_accuracy(codes, predicted, num_codes=3)
    assert accuracy == 5 / 6 and mapping[0] == 5 and mapping[2] == 3
