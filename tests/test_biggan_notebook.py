"""Executes colab/biggan.ipynb with tiny settings (16x16 digits, one epoch of two steps)."""

import os

import nbformat
from nbclient import NotebookClient

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK = os.path.join(ROOT, "colab", "biggan.ipynb")


def _install_cell(path):
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code" and "REPO_URL" in c.source]
    assert len(cells) == 1, f"{path}: the install cell (the one defining REPO_URL) is missing"
    return cells[0].source


def test_biggan_notebook_install_cell_is_the_quickstarts():
    """tests/test_notebook.py checks what the quickstart's install cell does; this notebook reuses it verbatim."""
    assert _install_cell(NOTEBOOK) == _install_cell(os.path.join(ROOT, "colab", "quickstart.ipynb"))


def test_biggan_notebook_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("TFGAN_BIGGAN_PRESET", "tiny")
    monkeypatch.setenv("TFGAN_BIGGAN_EPOCHS", "1")
    monkeypatch.setenv("TFGAN_BIGGAN_STEPS", "2")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    pictures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(pictures) >= 3, f"{len(pictures)} pictures displayed: grids, truncation sweep, SavedModel samples"
    text = "".join(o.get("text", "") for o in outputs)
    assert "all export gates passed: True" in text and "FAILED" not in text
    assert (tmp_path / "runs" / "biggan-tiny" / "generator.keras").exists()
    version = tmp_path / "export" / "models" / "biggan-tiny" / "1"
    assert (version / "saved_model.pb").exists()
    assert sorted(os.listdir(version / "tflite")) == ["biggan-tiny_int8.tflite", "biggan-tiny_none.tflite"]
    assert (version.parent / "export_report.json").exists()
