"""Shared plumbing of the notebook tests: the install cell every notebook copies, and a tiny-settings run."""

import os

import nbformat
from nbclient import NotebookClient

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICKSTART = os.path.join(ROOT, "colab", "quickstart.ipynb")


def install_cell(path):
    """The source of a notebook's install cell (the one defining REPO_URL)."""
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code" and "REPO_URL" in c.source]
    assert len(cells) == 1, f"{path}: the install cell (the one defining REPO_URL) is missing"
    return cells[0].source


def execute(path, tmp_path, monkeypatch, env):
    """Runs a notebook in ``tmp_path`` with ``env`` set (and this checkout importable); returns
    ``(outputs of every code cell, their text, the number of pictures)``, after checking no cell failed."""
    for name, value in {**env, "TF_CPP_MIN_LOG_LEVEL": "3"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    pictures = sum("image/png" in o.get("data", {}) for o in outputs)
    return outputs, "".join(o.get("text", "") for o in outputs), pictures
