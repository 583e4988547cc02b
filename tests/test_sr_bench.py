import json

from tfgan_models.benchmarks import sr


def test_sr_suite_at_a_toy_budget(tmp_path):
    logged = []
    results = sr.run(quick=True, log=logged.append, budget_s=2, models=(("srresnet", "tiny"),),
                     quantizations=("none", "int8"), keep=str(tmp_path))
    json.dumps(results)
    (row,) = results["rows"]
    assert row["variant"] == "srresnet" and row["steps"] >= 1 and row["train_s"] >= 2
    assert abs(row["bicubic_psnr_y"] - (26.84 + 27.29 + 31.48) / 3) < 0.01  # ANCHORS P3 baselines
    assert abs(row["psnr_gain_db"] - (row["psnr_y"] - row["bicubic_psnr_y"])) < 1e-9
    assert set(row["tflite"]) == {"none", "int8"}
    fp32 = row["tflite"]["none"]
    assert fp32["gate_passed"] and fp32["latency_ms_1t"] > 0 and abs(fp32["drop_db"]) < 0.01
    assert "gain dB" in sr.format_table(results) and len(logged) == 3
