"""Executes colab/text_to_image.ipynb with tiny settings (GAN-INT-CLS and StackGAN, two steps per phase)."""

import os
import re

from notebooks import QUICKSTART, ROOT, execute, install_cell

NOTEBOOK = os.path.join(ROOT, "colab", "text_to_image.ipynb")


def test_text_to_image_notebook_install_cell_is_the_quickstarts():
    """tests/test_notebook.py checks what the quickstart's install cell does; this notebook reuses it verbatim."""
    assert install_cell(NOTEBOOK) == install_cell(QUICKSTART)


def test_text_to_image_notebook_runs(tmp_path, monkeypatch):
    _, text, pictures = execute(NOTEBOOK, tmp_path, monkeypatch, {
        "TFGAN_T2I_PRESET": "tiny", "TFGAN_T2I_ENCODER_EPOCHS": "1", "TFGAN_T2I_GAN_EPOCHS": "1",
        "TFGAN_T2I_STACKGAN_EPOCHS": "1"})
    assert pictures >= 7, f"{pictures} pictures: data, captions, interpolation, CLI, SavedModel, TFLite, StackGAN"
    assert "held out of training: [True, True, True]" in text
    assert "exit status 0" in text  # tfgan sample --text
    assert "images (2, 16, 16, 3) uint8" in text  # the SavedModel's serving_default on two sentences
    assert "all export gates passed: True" in text and "FAILED" not in text
    assert "caption_ids from" in text  # the repository's export/ kit is here
    difference = float(re.search(r"fp16 file vs Keras, max difference in \[0, 1\]: (\S+)", text).group(1))
    assert difference < 0.01
    assert "Stage-I (16, 16, 3) -> Stage-II (32, 32, 3)" in text
    assert (tmp_path / "captions.png").exists()
    for run in ("gan_int_cls-tiny", "stackgan-tiny"):
        assert (tmp_path / "runs" / run / "generator.keras").exists()
    version = tmp_path / "export" / "models" / "gan_int_cls-tiny" / "1"
    assert (version / "saved_model.pb").exists()
    assert sorted(os.listdir(version / "tflite")) == [
        "gan_int_cls-tiny_fp16.tflite", "gan_int_cls-tiny_none.tflite", "gan_int_cls-tiny_text.json"]
