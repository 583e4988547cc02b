import json

from tfgan_models.benchmarks import SUITES, format_table


def test_translation_suite_runs_end_to_end(tmp_path):
    results = SUITES["translation"](quick=True, log=lambda m: None, steps=2,
                                    models=(("pix2pix", "tiny"), ("cyclegan", "tiny")),
                                    cost=(("cyclegan", "tiny"),), keep=str(tmp_path))
    json.dumps(results)
    paired, unpaired = results["rows"]
    assert paired["variant"] == "pix2pix" and paired["steps"] == 2
    for key in ("psnr", "baseline_psnr", "l1", "baseline_l1", "ssim"):
        assert paired[key] == paired[key]  # finite numbers, not NaN
    assert unpaired["data"] == "unpaired:photos,hue:photos"
    assert 0.0 <= unpaired["classified_as_b"] <= 1.0 and unpaired["identity_error"] > 0.0
    cost = results["cost"][0]
    assert cost["gmacs"] > 0 and cost["tflite"]["fp16"]["size_bytes"] < cost["tflite"]["none"]["size_bytes"]
    table = format_table("translation", results)
    assert "PSNR model / grey" in table and "L1 vs truth / identity" in table and "GMACs" in table
