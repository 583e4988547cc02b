"""`tfgan bench text2image` end to end at tiny size: the four text-to-image runs trained from the CLI's
settings, read by two CNN judges and the independent one, the JSON and table; then a `--runs` re-score."""

import functools
import json
import math

import numpy as np
import pytest

from tfgan_models.benchmarks import text2image
from tfgan_models.cli import main

LIMIT = 60  # captions per split: the figures' ranges and the structure, not their values, are under test
SMALL = dict(judge_epochs=1, limit=LIMIT)  # one-epoch CNN judges in a KERAS_HOME of the test's own


def _unit(value):
    return isinstance(value, float) and 0.0 <= value <= 1.0


def _check_accuracy(scores, seeds=2):
    cnn = scores["cnn"]
    assert len(cnn["per_seed"]) == seeds
    for a in text2image.ATTRIBUTES:
        assert all(_unit(cnn[stat][a]) for stat in ("mean", "min", "max"))
        assert cnn["min"][a] <= cnn["mean"][a] <= cnn["max"][a]
        assert _unit(scores["independent"][a])


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    folder = tmp_path_factory.mktemp("text2image")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KERAS_HOME", str(folder / "keras"))
        mp.setattr(text2image, "run", functools.partial(text2image.run, keep=str(folder / "runs"), **SMALL))
        assert main(["bench", "text2image", "--quick", "--seeds", "2", "--json", str(folder / "t2i.json")]) == 0
    return json.loads((folder / "t2i.json").read_text()), folder


def test_quick_bench_trains_the_four_runs_and_reports_every_figure(quick):
    results, _ = quick
    assert results["suite"] == "text2image" and results["command"] == "tfgan bench text2image --quick --seeds 2"
    assert results["protocol"]["judge_seeds"] == [0, 1] and results["protocol"]["preset"] == "tiny"
    assert results["machine"]["cpu_count"] >= 1 and results["machine"]["platform"] and results["wall_time_s"] > 0
    rows = {r["name"]: r for r in results["rows"]}
    assert list(rows) == list(text2image.CONFIGS) and set(results["train_s"]) == set(rows)
    assert rows["gan_plain"]["overrides"] == {"cls_weight": 0, "interpolation": False}
    assert rows["stackgan_no_ca"]["overrides"] == {"ca": False} and rows["stackgan"]["overrides"] == {}
    for row in rows.values():
        assert row["preset"] == "tiny" and row["train_s"] > 0 and row["captions"] == {"test": LIMIT, "zero_shot": LIMIT}
        for split in text2image.SPLITS:
            _check_accuracy(row["accuracy"][split])
        for judge, checks in row["targets"].items():
            assert len(checks) == 4
            for check in checks.values():
                assert check["met"] is (check["value"] >= check["target"])
        assert row["targets"]["cnn"]["test_joint"]["value"] == row["accuracy"]["test"]["cnn"]["mean"]["joint"]
        assert _unit(row["matching_auc"]) and row["diversity"] >= 0.0
    for name in ("gan_int_cls", "gan_plain"):
        interp = rows[name]["interpolation"]
        assert interp["pairs"] == 40 and interp["steps"] == 8 and _unit(interp["rising_share"])
        assert interp["spearman"] is None or -1.0 <= interp["spearman"] <= 1.0
        assert 0 <= interp["constant_pairs"] <= 40 and "stages" not in rows[name]
    for name in ("stackgan", "stackgan_no_ca"):
        stages = rows[name]["stages"]
        assert (stages["stage1_size"], stages["stage2_size"]) == (16, 32) and "interpolation" not in rows[name]
        for split in text2image.SPLITS:
            _check_accuracy(stages["accuracy"][split]["stage1"])
            assert stages["accuracy"][split]["stage2"] == rows[name]["accuracy"][split]  # the same images
        sharp = stages["sharpness"]
        for key in ("stage2_over_real", "stage1_upsampled_over_real", "stage1_over_real_stage1_size"):
            assert sharp[key] >= 0.0 and math.isfinite(sharp[key])
        assert sharp["stage2_over_real"] == pytest.approx(sharp["stage2"] / sharp["real_stage2_size"])
    ca = results["ca_diversity"]
    assert ca["ratio"] == pytest.approx(ca["stackgan"] / ca["stackgan_no_ca"])
    assert set(results["cls_vs_plain"]) == {"test/cnn", "test/independent", "zero_shot/cnn", "zero_shot/independent"}
    for key, entry in results["cls_vs_plain"].items():
        assert entry["difference"] == pytest.approx(entry["gan_int_cls"] - entry["gan_plain"])
    real = results["judge_accuracy_real"]
    assert set(real) == {"test@16", "zero_shot@16", "test@32", "zero_shot@32"}
    for scores in real.values():
        _check_accuracy(scores)
    assert real["test@32"]["independent"]["colour"] >= 0.95  # the closed-form colour reader on real renders
    assert {a["method"]: a["inception_score_cub"] for a in results["anchors"]} == {"GAN-INT-CLS": 2.88,
                                                                                    "StackGAN": 3.70}
    assert results["targets"]["zero_shot"] == {"joint": 0.40}
    table = text2image.format_table(results)
    for text in ("text2image", "not met", "D match AUC", "GAN-INT-CLS", "sharp II/real", "with CA / without CA",
                 "anchors"):
        assert text in table


def test_runs_rescores_a_trained_run_the_same_way(quick, monkeypatch):
    first, folder = quick
    monkeypatch.setenv("KERAS_HOME", str(folder / "keras"))  # the judges trained by the quick bench
    run_dir = str(folder / "runs" / "gan_int_cls-tiny")
    results = text2image.run(quick=True, seeds=2, run_dirs=[f"gan_int_cls={run_dir}"], log=lambda m: None, **SMALL)
    json.dumps(results)
    (row,) = results["rows"]
    before = next(r for r in first["rows"] if r["name"] == "gan_int_cls")
    assert row["name"] == "gan_int_cls" and row["train_s"] is None and results["train_s"] == {}
    assert results["command"] == f"tfgan bench text2image --quick --seeds 2 --runs gan_int_cls={run_dir}"
    for split in text2image.SPLITS:  # deterministic: the same run, the same judges, the same figures
        for judge in ("cnn", "independent"):
            got, want = text2image.headline(row["accuracy"][split])[judge], \
                text2image.headline(before["accuracy"][split])[judge]
            assert got == pytest.approx(want)
    assert row["matching_auc"] == pytest.approx(before["matching_auc"])
    assert results["cls_vs_plain"] == {} and results["ca_diversity"]["ratio"] is None
    assert "D match AUC" in text2image.format_table(results)
    for bad in (["stylegan=/tmp/x"], ["/just/a/dir"]):
        with pytest.raises(ValueError, match="NAME=DIR"):
            text2image.run(quick=True, run_dirs=bad)


def test_sharpness_is_the_variance_of_the_laplacian():
    from scipy import ndimage

    images = np.random.RandomState(0).uniform(-1, 1, (3, 16, 16, 3)).astype("float32")
    grey = (images + 1.0) / 2.0
    want = np.mean([ndimage.laplace(g.mean(axis=-1).astype("float64"), mode="reflect").var() for g in grey])
    assert text2image.sharpness(images) == pytest.approx(want, rel=1e-5)
    uint8 = np.round((images + 1.0) * 127.5).astype("uint8")  # uint8 images are read on the same [0, 1] scale
    assert text2image.sharpness(uint8) == pytest.approx(want, rel=0.05)
    assert text2image.sharpness(np.zeros((2, 8, 8, 3), "float32")) == 0.0
