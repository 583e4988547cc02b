"""Executes colab/inpainting_and_pixelrnn.ipynb with tiny settings (one epoch of two steps for each model)."""

import os

from notebooks import QUICKSTART, ROOT, execute, install_cell

NOTEBOOK = os.path.join(ROOT, "colab", "inpainting_and_pixelrnn.ipynb")


def test_inpaint_notebook_install_cell_is_the_quickstarts():
    """tests/test_notebook.py checks what the quickstart's install cell does; this notebook reuses it verbatim."""
    assert install_cell(NOTEBOOK) == install_cell(QUICKSTART)


def test_inpaint_notebook_runs(tmp_path, monkeypatch):
    _, text, pictures = execute(NOTEBOOK, tmp_path, monkeypatch, {
        "TFGAN_CE_PRESET": "tiny", "TFGAN_CE_EPOCHS": "1", "TFGAN_CE_STEPS": "2",
        "TFGAN_PIXELRNN_PRESET": "tiny", "TFGAN_PIXELRNN_EPOCHS": "1", "TFGAN_PIXELRNN_STEPS": "2"})
    assert pictures >= 4, f"{pictures} pictures displayed: grids of fills, samples, completions"
    assert "outside the hole the output equals the input exactly: True" in text
    assert "all export gates passed: True" in text and "FAILED" not in text
    assert "largest |log_prob - (-model.nll)|:" in text
    for run in ("context_encoder-tiny", "pixelrnn-tiny"):
        assert (tmp_path / "runs" / run / "generator.keras").exists()
        assert (tmp_path / "export" / "models" / run / "1" / "saved_model.pb").exists()
        assert (tmp_path / "export" / "models" / run / "export_report.json").exists()
    models = tmp_path / "export" / "models"
    assert sorted(os.listdir(models / "context_encoder-tiny" / "1" / "tflite")) == [
        "context_encoder-tiny_int8.tflite", "context_encoder-tiny_none.tflite"]
    assert os.listdir(models / "pixelrnn-tiny" / "1" / "tflite") == ["pixelrnn-tiny_none.tflite"]
    assert (tmp_path / "digit_inpainted.png").exists()  # written by `tfgan inpaint` in the notebook
    assert "host loop on the .tflite reproduces model.sample:" in text  # the repository's export/ kit is here
