"""Executes colab/translation.ipynb with tiny settings (Pix2Pix and CycleGAN, two steps each, fp16 TFLite files)."""

import os
import re

from notebooks import QUICKSTART, ROOT, execute, install_cell

NOTEBOOK = os.path.join(ROOT, "colab", "translation.ipynb")


def test_translation_notebook_install_cell_is_the_quickstarts():
    assert install_cell(NOTEBOOK) == install_cell(QUICKSTART)


def test_translation_notebook_runs(tmp_path, monkeypatch):
    _, text, pictures = execute(NOTEBOOK, tmp_path, monkeypatch, {
        "TFGAN_TR_PRESET": "tiny", "TFGAN_TR_EPOCHS": "1", "TFGAN_TR_STEPS": "2", "TFGAN_TR_QUANTIZE": "fp16"})
    assert pictures >= 5, f"{pictures} pictures: Pix2Pix crops, a whole photo, CycleGAN both ways, SavedModel, TFLite"
    assert text.count("exit status 0") == 4  # tfgan translate (both models), tfgan export (both models)
    assert "'data': 'colorize:photos'" in text and "'data': 'unpaired:digits,inverted:digits'" in text
    assert "exit status 0 | (400, 600, 3) -> (400, 600, 3)" in text  # tfgan translate keeps any size
    assert "the file equals translate(b, 'b_to_a'): True" in text  # tfgan translate --direction b_to_a
    # the known mapping scores the translations; doing nothing (identity) is far from it
    a_to_b, b_to_a, identity = map(float, re.search(
        r"L1 to the true mapping: A->B (\S+), B->A (\S+) \(identity (\S+)\)", text).groups())
    assert 0.5 < identity < 0.8 and 0 <= a_to_b <= 1 and 0 <= b_to_a <= 1
    # the SavedModel both ways equals model.translate (up to a rounding tie), and its PNG signature too
    assert "'a_to_b', 'a_to_b_bytes', 'b_to_a', 'b_to_a_bytes', 'bytes', 'serving_default'" in text
    for direction in ("a_to_b", "b_to_a"):
        found = re.search(rf"SavedModel {direction}: \(8, 16, 16, 3\) uint8, max difference from Keras (\d+) levels",
                          text)
        assert found and int(found.group(1)) <= 1, direction
    assert "b_to_a_bytes: PNG in, PNG out, equal to b_to_a: True" in text
    # the fp16 file run with LiteRT is within its export gate of Keras
    levels = float(re.search(r"fp16 file vs Keras: max difference (\S+) levels, .* -> within the gate", text).group(1))
    assert levels <= 4 and "FAILED" not in text
    assert (tmp_path / "coffee_coloured.png").exists() and (tmp_path / "digit.png").exists()
    models = tmp_path / "export" / "models"
    for run in ("pix2pix-tiny", "cyclegan-tiny"):
        assert (models / run / "1" / "saved_model.pb").exists()
    assert os.listdir(models / "pix2pix-tiny" / "1" / "tflite") == ["pix2pix-tiny_fp16.tflite"]
    assert sorted(os.listdir(models / "cyclegan-tiny" / "1" / "tflite")) == [
        "cyclegan-tiny_b_to_a_fp16.tflite", "cyclegan-tiny_fp16.tflite"]
