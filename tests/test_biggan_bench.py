"""`tfgan bench biggan`: scoring a trained run, the target verdicts, the table (test-sized judges)."""

import json

import numpy as np

from tfgan_models import cli, metrics
from tfgan_models.benchmarks import biggan as bench
from tfgan_models.benchmarks import format_table


def _row(generator, truncation, accuracy, diversity, fd=10.0, shares=None, independent=None):
    return {"generator": generator, "truncation": truncation, "seed": 0, "conditional_accuracy": accuracy,
            "independent_accuracy": accuracy if independent is None else independent,
            "intra_class_diversity": diversity, "frechet_distance": fd, "real_intra_class_diversity": 16.0,
            "class_shares": shares if shares is not None else [0.1] * 10}


def _curve(generator, accuracies, diversities, **kw):
    return [_row(generator, t if t is not None else "none", a, d, **kw)
            for t, a, d in zip(bench.THRESHOLDS, accuracies, diversities)]


def test_verdicts_pass_and_fail_on_the_issue_targets():
    good = _curve("raw", [0.96, 0.97, 0.98, 0.99], [15, 14, 12, 10]) + \
        _curve("ema", [0.97, 0.98, 0.99, 0.99], [15, 13, 11, 9], fd=9.0)
    v = bench.verdicts(good)
    assert v["ema_at_least_raw"] and all(all(x.values()) for k, x in v.items() if k != "ema_at_least_raw")
    bad = _curve("raw", [0.96, 0.90, 0.98, 0.99], [15, 16, 12, 10], shares=[0.02] + [0.98 / 9] * 9) + \
        _curve("ema", [0.90, 0.95, 0.99, 0.99], [15, 13, 11, 9], fd=20.0, independent=0.8)
    v = bench.verdicts(bad)
    assert not v["raw"]["accuracy_does_not_fall"] and not v["raw"]["diversity_falls"]
    assert not v["raw"]["every_class_ge_5pct"] and not v["ema"]["untruncated_accuracy_ge_95"]
    assert not v["ema_at_least_raw"]


def test_quick_run_trains_the_demo_and_scores_it(tmp_path, small_mnist_judges, monkeypatch):
    monkeypatch.setattr(metrics, "MnistEvaluator", lambda size: small_mnist_judges[0])
    monkeypatch.setattr(metrics, "IndependentMnistJudge", lambda size: small_mnist_judges[1])
    monkeypatch.setattr(bench, "QUICK_STEPS", 2)
    monkeypatch.setattr(bench, "QUICK_PER_CLASS", 4)
    logged = []
    results = bench.run(quick=True, log=logged.append, out_dir=str(tmp_path))
    assert json.load(open(tmp_path / "seed0" / "config.json"))["settings"]["preset"] == "demo"
    rows = results["rows"]
    assert [(r["generator"], r["truncation"]) for r in rows] == [
        (g, t) for g in ("raw", "ema") for t in ("none", 2.0, 1.0, 0.5)]
    for r in rows:
        assert 0.0 <= r["conditional_accuracy"] <= 1.0 and 0.0 <= r["independent_accuracy"] <= 1.0
        assert r["intra_class_diversity"] > 0 and np.isfinite(r["frechet_distance"])
    assert len(rows[0]["class_shares"]) == 10 and len(logged) == len(rows) + 1  # + the training line
    assert rows[0]["train_s"] > 0 and rows[0]["steps"] == 2
    json.loads(json.dumps(results))
    table = format_table("biggan", results)
    assert "accuracy (PCA+kNN)" in table and "CIFAR-10 IS 9.22" in table


def test_runs_of_another_variant_are_refused(tmp_path, capsys):
    run = str(tmp_path / "dc")
    assert cli.main(["train", "dcgan", "--preset", "tiny", "--out", run]) == 0
    assert cli.main(["bench", "biggan", "--runs", run]) == 2
    assert "scores biggan runs" in capsys.readouterr().err
