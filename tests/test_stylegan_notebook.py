"""Executes colab/stylegan.ipynb with tiny settings (two training steps, the tiny preset)."""

import os
import re

from notebooks import QUICKSTART, ROOT, execute, install_cell

NOTEBOOK = os.path.join(ROOT, "colab", "stylegan.ipynb")


def test_stylegan_notebook_install_cell_is_the_quickstarts():
    assert install_cell(NOTEBOOK) == install_cell(QUICKSTART)


def test_stylegan_notebook_runs(tmp_path, monkeypatch):
    _, text, pictures = execute(NOTEBOOK, tmp_path, monkeypatch, {
        "TFGAN_SG_PRESET": "tiny", "TFGAN_SG_EPOCHS": "1", "TFGAN_SG_STEPS": "2"})
    assert pictures >= 5, f"{pictures} pictures: truncation, mixing grid and row, W-space signatures, TFLite"
    assert "exit status 0" in text  # tfgan sample --style-mix
    assert "all export gates passed: True" in text and "FAILED" not in text
    assert "'mapping'" in text and "'truncated'" in text and "'w'" in text
    spread = [float(v) for v in re.search(r"at psi 1, 0.7, 0.5, 0: \[(.*)\]", text).group(1).split(",")]
    assert spread[-1] < 0.5 * spread[0]  # psi 0: every z has the same w; only the noise maps still differ
    difference = float(re.search(r"fp16 file vs Keras, max difference in \[0, 1\]: (\S+)", text).group(1))
    assert difference < 0.01
    assert (tmp_path / "mixing.png").exists()
    version = tmp_path / "export" / "models" / "stylegan-tiny" / "1"
    assert sorted(os.listdir(version / "tflite")) == ["stylegan-tiny_fp16.tflite", "stylegan-tiny_none.tflite"]
