"""Executes colab/deploy.ipynb with tiny settings (one DCGAN epoch of two steps, fp32 and int8 TFLite files)."""

import os
import re

from notebooks import QUICKSTART, ROOT, execute, install_cell

NOTEBOOK = os.path.join(ROOT, "colab", "deploy.ipynb")


def test_deploy_notebook_install_cell_is_the_quickstarts():
    assert install_cell(NOTEBOOK) == install_cell(QUICKSTART)


def test_deploy_notebook_runs(tmp_path, monkeypatch):
    _, text, pictures = execute(NOTEBOOK, tmp_path, monkeypatch, {
        "TFGAN_DEPLOY_PRESET": "tiny", "TFGAN_DEPLOY_EPOCHS": "1", "TFGAN_DEPLOY_QUANTIZE": "none,int8"})
    assert pictures >= 3, f"{pictures} pictures: training samples, REST images, served vs TFLite rows"
    assert text.count("exit status 0") == 3  # tfgan train, tfgan export, export/client.py against the stand-in
    # the signatures listing, as saved_model_cli shows them
    for signature in ("seed", "serving_default", "truncated"):
        assert f"signature_def['{signature}']:" in text
    assert re.search(r"input  seed\s+int64\s+\(None,\)", text) and re.search(r"input  z\s+float32\s+\(None, 8\)", text)
    assert re.search(r"output images\s+uint8\s+\(None, 8, 8, 1\)", text)
    # export/client.py's requests, answered by the SavedModel as TF Serving would
    assert "client from " + os.path.join(ROOT, "export", "client.py") in text
    assert "POST http://localhost:8501/v1/models/dcgan-tiny:predict" in text
    assert '{"signature_name": "seed", "instances": [{"seed": 1}, {"seed": 2}' in text
    assert "the PNGs equal the REST images: True" in text
    assert "model_spec: dcgan-tiny seed | inputs: {'seed': ('int64', [8])}" in text
    assert "gRPC images equal the REST images: True" in text
    assert float(re.search(r"served images_float vs Keras on the same z: max difference (\S+)", text).group(1)) <= 1e-5
    # every .tflite file, run with export/client.py's run_tflite, is within its export gate of Keras
    assert re.search(r"none .* kB: max difference from Keras \S+ levels", text)
    int8 = float(re.search(r"int8 .* kB: max difference from Keras \S+ levels, PSNR (\S+) dB", text).group(1))
    assert int8 >= 30
    assert "every file within its gate: True" in text and "FAILED" not in text
    assert sorted(os.listdir(tmp_path / "samples")) == [f"dcgan-tiny_{i:03d}.png" for i in range(4)]
    version = tmp_path / "export" / "models" / "dcgan-tiny" / "1"
    assert (version / "saved_model.pb").exists()
    assert sorted(os.listdir(version / "tflite")) == ["dcgan-tiny_int8.tflite", "dcgan-tiny_none.tflite"]
