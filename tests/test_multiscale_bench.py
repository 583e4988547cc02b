"""`tfgan bench multiscale`: the verdicts, the table, the pooling and the CLI's checks (no training here)."""

import json

import numpy as np
import pytest

from tfgan_models import cli
from tfgan_models.benchmarks import format_table
from tfgan_models.benchmarks import multiscale as bench


def _row(model, fd, shares=None, confidence=0.95, stage="final", seed=0, **extra):
    shares = shares if shares is not None else [0.1] * 10
    return {"model": model, "seed": seed, "stage": stage, "resolution": 32, "frechet_distance": fd, "floor": 0.5,
            "class_shares": shares, "independent_class_shares": shares, "classes_over_5pct": 10,
            "mean_confidence": confidence, "diversity": 10.0, "train_s": 60.0, **extra}


def test_verdicts_pass_and_fail_on_the_issue_targets():
    good = [_row("lapgan", 8.0), _row("lapgan", 30.0, stage="8x8", confidence=0.5), _row("progan", 7.0),
            _row("stylegan", 5.0, truncation=1.0, mixing_agreement=0.8), _row("stylegan", 9.0, truncation=0.5),
            _row("dcgan", 6.0)]
    v = bench.verdicts(good)
    assert all(all(x.values()) for x in v.values()) and set(v) == {"lapgan", "progan", "stylegan"}
    assert v["stylegan"]["fd_le_dcgan_same_time"]  # a coarse stage and psi 0.5 are not judged
    bad = [_row("lapgan", 8.0, shares=[0.02] + [0.98 / 9] * 9), _row("progan", 7.0, confidence=0.8),
           _row("stylegan", 7.0, truncation=1.0, mixing_agreement=0.5), _row("dcgan", 6.0)]
    v = bench.verdicts(bad)
    assert not v["lapgan"]["every_class_ge_5pct"] and not v["progan"]["mean_confidence_ge_0.9"]
    assert not v["stylegan"]["mixing_agreement_ge_0.7"] and not v["stylegan"]["fd_le_dcgan_same_time"]


def test_table_names_the_floor_the_targets_and_the_anchors():
    rows = [_row("progan", 7.0), _row("progan", 2.0, stage="8x8"), _row("stylegan", 5.0, truncation=1.0,
                                                                          mixing_agreement=0.8)]
    results = {"protocol": {"preset": "demo", "data": "mnist (32x32)", "samples": 100},
               "classifier_test_accuracy": 0.99, "independent_test_accuracy": 0.97, "wall_time_s": 10.0,
               "rows": rows, "verdicts": bench.verdicts(rows)}
    json.loads(json.dumps(results))
    table = format_table("multiscale", results)
    assert "floor" in table and "mixing agreement >= 0.7" in table and "CIFAR-10 IS 8.80" in table
    assert sum(line.startswith("progan ") for line in table.splitlines()) == 2


def test_pooling_and_diversity_are_exact():
    x = np.arange(2 * 4 * 4).reshape(2, 4, 4, 1).astype("float64")
    np.testing.assert_allclose(bench.pooled(x, 2)[0, :, :, 0], [[2.5, 4.5], [10.5, 12.5]])
    features = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 0.0]])
    assert bench.pairwise_diversity(features) == pytest.approx((5 + 0 + 5) / 3)


def test_quick_overrides_cut_every_phase():
    for variant in ("lapgan", "progan", "stylegan"):
        from tfgan_models import runs

        settings = runs.run_settings(variant, "demo", **bench.quick_overrides(variant))
        model = runs.build_model(settings)
        phases = model.phases() or []
        assert all(p.epochs == 1 for p in phases), variant


def test_runs_of_another_variant_are_refused(tmp_path, capsys):
    run = str(tmp_path / "w")
    assert cli.main(["train", "wgan", "--preset", "tiny", "--out", run]) == 0
    capsys.readouterr()
    assert cli.main(["bench", "multiscale", "--runs", run]) == 2
    assert "holds a wgan run" in capsys.readouterr().err
