"""Executes colab/biggan.ipynb with tiny settings (16x16 digits, one epoch of two steps)."""

import os

from notebooks import QUICKSTART, ROOT, execute, install_cell

NOTEBOOK = os.path.join(ROOT, "colab", "biggan.ipynb")


def test_biggan_notebook_install_cell_is_the_quickstarts():
    """tests/test_notebook.py checks what the quickstart's install cell does; this notebook reuses it verbatim."""
    assert install_cell(NOTEBOOK) == install_cell(QUICKSTART)


def test_biggan_notebook_runs(tmp_path, monkeypatch):
    _, text, pictures = execute(NOTEBOOK, tmp_path, monkeypatch, {
        "TFGAN_BIGGAN_PRESET": "tiny", "TFGAN_BIGGAN_EPOCHS": "1", "TFGAN_BIGGAN_STEPS": "2"})
    assert pictures >= 3, f"{pictures} pictures displayed: grids, truncation sweep, SavedModel samples"
    assert "all export gates passed: True" in text and "FAILED" not in text
    assert (tmp_path / "runs" / "biggan-tiny" / "generator.keras").exists()
    version = tmp_path / "export" / "models" / "biggan-tiny" / "1"
    assert (version / "saved_model.pb").exists()
    assert sorted(os.listdir(version / "tflite")) == ["biggan-tiny_int8.tflite", "biggan-tiny_none.tflite"]
    assert (version.parent / "export_report.json").exists()
