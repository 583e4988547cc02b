"""Executes colab/inpainting_and_pixelrnn.ipynb with tiny settings (one epoch of two steps for each model)."""

import os

import nbformat
from nbclient import NotebookClient

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK = os.path.join(ROOT, "colab", "inpainting_and_pixelrnn.ipynb")


def _install_cell(path):
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code" and "REPO_URL" in c.source]
    assert len(cells) == 1, f"{path}: the install cell (the one defining REPO_URL) is missing"
    return cells[0].source


def test_inpaint_notebook_install_cell_is_the_quickstarts():
    """tests/test_notebook.py checks what the quickstart's install cell does; this notebook reuses it verbatim."""
    assert _install_cell(NOTEBOOK) == _install_cell(os.path.join(ROOT, "colab", "quickstart.ipynb"))


def test_inpaint_notebook_runs(tmp_path, monkeypatch):
    for name, value in (("TFGAN_CE_PRESET", "tiny"), ("TFGAN_CE_EPOCHS", "1"), ("TFGAN_CE_STEPS", "2"),
                        ("TFGAN_PIXELRNN_PRESET", "tiny"), ("TFGAN_PIXELRNN_EPOCHS", "1"),
                        ("TFGAN_PIXELRNN_STEPS", "2"), ("TF_CPP_MIN_LOG_LEVEL", "3")):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    pictures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(pictures) >= 4, f"{len(pictures)} pictures displayed: grids of fills, samples, completions"
    text = "".join(o.get("text", "") for o in outputs)
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
