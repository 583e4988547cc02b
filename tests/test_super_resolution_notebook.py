"""Executes colab/super_resolution.ipynb with tiny settings (two SRResNet steps, fp32 and fp16 TFLite files)."""

import json
import math
import os
import re

from notebooks import QUICKSTART, ROOT, execute, install_cell

NOTEBOOK = os.path.join(ROOT, "colab", "super_resolution.ipynb")


def test_super_resolution_notebook_install_cell_is_the_quickstarts():
    assert install_cell(NOTEBOOK) == install_cell(QUICKSTART)


def test_super_resolution_notebook_runs(tmp_path, monkeypatch):
    _, text, pictures = execute(NOTEBOOK, tmp_path, monkeypatch, {
        "TFGAN_SR_PRESET": "tiny", "TFGAN_SR_EPOCHS": "1", "TFGAN_SR_STEPS": "2", "TFGAN_SR_QUANTIZE": "none,fp16"})
    assert pictures >= 4, f"{pictures} pictures: training pairs, tfgan sample, close-up, TFLite vs Keras"
    assert text.count("exit status 0") == 3  # tfgan eval sr, tfgan sample, tfgan export
    assert "LR (8, 24, 24, 3) -> HR (8, 96, 96, 3)" in text
    # the CLI's scores (sr.json) are the ones printed, and the Python API gives the CLI's figure on image 0
    scores = json.loads((tmp_path / "sr.json").read_text())
    first = scores["images"][0]
    model, bicubic, gain = map(float, re.search(
        r"PSNR-Y: model (\S+) dB, bicubic (\S+) dB, gain (\S+) dB", text).groups())
    assert abs(model - scores["mean"]["psnr_y"]) < 0.01 and abs(gain - scores["mean"]["psnr_gain_db"]) < 0.01
    assert 20 < bicubic < 40 and math.isfinite(model)
    python_bicubic = float(re.search(rf"{first['image']}: .*\n  bicubic  PSNR-Y (\S+) dB", text).group(1))
    python_model = float(re.search(r"SRResNet PSNR-Y (\S+) dB", text).group(1))
    assert abs(python_bicubic - first["bicubic_psnr_y"]) < 0.01 and abs(python_model - first["psnr_y"]) < 0.01
    # every .tflite file, run with LiteRT on a held-out photo, is within its export gate of Keras
    assert re.search(r"none     file vs Keras on \w+: max difference \S+ levels", text)
    assert re.search(r"fp16     file vs Keras on \w+: max difference \S+ levels", text)
    assert "every file within its gate: True" in text and "FAILED" not in text
    assert (tmp_path / "sr.png").exists() and (tmp_path / "runs" / "srresnet-tiny" / "generator.keras").exists()
    version = tmp_path / "export" / "models" / "srresnet-tiny" / "1"
    assert (version / "saved_model.pb").exists()
    assert sorted(os.listdir(version / "tflite")) == ["srresnet-tiny_fp16.tflite", "srresnet-tiny_none.tflite"]
