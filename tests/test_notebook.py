"""Executes colab/quickstart.ipynb with tiny settings."""

import os

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_quickstart_notebook_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("TFGAN_QUICKSTART_EPOCHS", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.read(os.path.join(ROOT, "colab", "quickstart.ipynb"), as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the sample grid was not displayed"
    text = "".join(o.get("text", "") for o in outputs)
    assert "reloaded and trained one more epoch" in text
    assert (tmp_path / "dcgan_quickstart.keras").exists()


def _install_cell(nb):
    cells = [c for c in nb.cells if c.cell_type == "code" and "REPO_URL" in c.source]
    assert len(cells) == 1, "the install cell (the one defining REPO_URL) is missing"
    return cells[0].source


def test_quickstart_install_cell_keeps_runtime_tensorflow(tmp_path, monkeypatch):
    """The install cell, run as if tfgan_models were missing, with pip calls recorded: it installs
    this repository with --no-deps (a checkout, or the REPO_URL git URL; never a PyPI name) and the
    light dependencies under a constraint pinning the installed tensorflow."""
    import importlib.util
    import subprocess
    import sys

    source = _install_cell(nbformat.read(os.path.join(ROOT, "colab", "quickstart.ipynb"), as_version=4))
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tfgan_models" else find_spec(name, *a))
    calls = []
    monkeypatch.setattr(subprocess, "check_call", lambda cmd: calls.append(cmd) or 0)
    monkeypatch.setattr(sys, "path", list(sys.path))

    monkeypatch.chdir(os.path.join(ROOT, "colab"))  # inside a clone
    exec(source, {})
    package, deps = calls
    assert package[-3:] == ["--no-deps", "-e", ROOT]
    constraint = deps[deps.index("-c") + 1]
    assert "tensorflow==" in open(constraint).read()
    assert not [d for d in deps[deps.index("-c") + 2:] if d.split(">")[0] in ("tensorflow", "keras", "tensorflow-text")]

    monkeypatch.chdir(tmp_path)  # Colab: no checkout, REPO_URL empty -> a clear error, nothing installed
    calls.clear()
    with pytest.raises(RuntimeError, match="REPO_URL"):
        exec(source, {})
    assert not calls
    exec(source.replace('REPO_URL = ""', 'REPO_URL = "https://example.org/OWNER/REPO"'), {})
    assert calls[0][-2:] == ["--no-deps", "tfgan_models @ git+https://example.org/OWNER/REPO"]
