"""`tfgan bench inpaint-ar`: the quick protocol end to end (test-sized judges), verdicts, table, CLI options."""

import json


from tfgan_models import metrics
from tfgan_models.benchmarks import format_table
from tfgan_models.benchmarks import inpaint_ar as bench
from tfgan_models.cli import main


def test_quick_run_of_the_digits_and_context_encoder_parts(tmp_path, small_mnist_judges, monkeypatch):
    monkeypatch.setattr(metrics, "MnistEvaluator", lambda size: small_mnist_judges[0])
    monkeypatch.setattr(metrics, "IndependentMnistJudge", lambda size: small_mnist_judges[1])
    monkeypatch.setattr(bench, "QUICK_TEST", 40)
    results = bench.run(quick=True, parts=("pixelrnn_digits", "context_encoder_mnist"), out_dir=str(tmp_path),
                        log=lambda line: None)
    json.dumps(results)
    digits = [r for r in results["rows"] if r["part"] == "pixelrnn_digits"]
    assert sorted(r["architecture"] for r in digits) == sorted(bench.ARCHITECTURES)
    assert all(0 < r["test_nll_nats"] < 64 * 2 for r in digits)  # below 2 nats a pixel: trained, finite
    base = results["baselines"]
    assert base["neighbour_count_nats"] < base["bernoulli_nats"] < 64 * 0.7
    methods = {r["method"] for r in results["rows"] if r["part"] == "context_encoder_mnist"}
    assert methods == {"original", "mean_fill", "biharmonic", "context_encoder", "l2_only"}
    ce = next(r for r in results["rows"] if r["method"] == "context_encoder")
    assert ce["psnr"] > 0 and 0 <= ce["read_as_original_cnn"] <= 1 and ce["train_s"] > 0
    config = json.load(open(tmp_path / "ce-l2_only-seed0" / "config.json"))
    assert config["settings"]["model"]["l2_weight"] == 1.0 and config["settings"]["preset"] == "mnist"
    assert (tmp_path / "context_encoder-mnist.png").exists()
    table = format_table("inpaint-ar", results)
    assert "biharmonic" in table and "diagonal_bilstm" in table and "verdicts" in table


def test_verdicts_follow_the_targets():
    def summary(nll, train_s, psnr, read):
        return {"summary": [
            {"part": "pixelrnn_mnist", "architecture": "pixelcnn", "method": None, "test_nll_nats": nll,
             "train_s": train_s},
            {"part": "pixelrnn_digits", "architecture": "pixelcnn", "method": None, "test_nll_nats": nll / 5},
            {"part": "context_encoder_mnist", "architecture": None, "method": "biharmonic", "psnr": 8.0},
            {"part": "context_encoder_mnist", "architecture": None, "method": "context_encoder", "psnr": psnr,
             "read_as_original_cnn": read, "read_as_original_knn": read}]}
    good = bench.verdicts(summary(89.0, 1100, 10.5, 0.91))
    assert all(good.values()) and len(good) == 4
    bad = bench.verdicts(summary(96.0, 1300, 9.5, 0.89))
    assert not any(bad.values())


def test_parts_option_is_checked(capsys):
    assert main(["bench", "inpaint-ar", "--parts", "nonsense"]) == 2
    assert "unknown parts" in capsys.readouterr().err
    assert main(["bench", "digits", "--parts", "pixelrnn_digits"]) == 2
    assert "--parts applies to the inpaint-ar suite" in capsys.readouterr().err
