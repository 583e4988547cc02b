"""Executes colab/faceapp.ipynb with tiny settings (one epoch of two steps of a small smile editor)."""

import json
import os

from notebooks import QUICKSTART, ROOT, execute, install_cell

NOTEBOOK = os.path.join(ROOT, "colab", "faceapp.ipynb")


def test_faceapp_notebook_install_cell_is_the_quickstarts():
    assert install_cell(NOTEBOOK) == install_cell(QUICKSTART)


def test_faceapp_notebook_runs(tmp_path, monkeypatch):
    small = {"data_shape": [32, 32, 3], "work_size": 32, "filters": 4, "blocks": 1, "d_filters": 4, "d_layers": 1}
    _, text, pictures = execute(NOTEBOOK, tmp_path, monkeypatch, {
        "KERAS_HOME": str(tmp_path / "keras"), "TFGAN_FACE_EPOCHS": "1", "TFGAN_FACE_STEPS": "2",
        "TFGAN_FACE_SET": json.dumps(small)})
    assert pictures >= 4, f"{pictures} pictures: renders, edits, the CLI edit, the phone file's edit"
    assert "exit status 0 | (256, 256, 3) -> (256, 256, 3)" in text
    assert "fp16 file vs Keras, max difference in 8-bit levels:" in text
    tflite = tmp_path / "export" / "models" / "cyclegan-smile" / "1" / "tflite"
    assert sorted(os.listdir(tflite)) == ["cyclegan-smile_b_to_a_fp16.tflite", "cyclegan-smile_b_to_a_int8.tflite",
                                          "cyclegan-smile_fp16.tflite", "cyclegan-smile_int8.tflite"]
