"""PixelRNN from the command line: training logs nats and bits/dim on the validation split, `tfgan sample`."""

import json

import numpy as np
from PIL import Image

from tfgan_models.cli import main


def test_train_logs_validation_likelihood_and_samples(tmp_path):
    run = tmp_path / "run"
    assert main(["train", "pixelrnn", "--preset", "tiny", "--out", str(run)]) == 0
    history = json.load(open(run / "history.json"))
    for key in ("nll", "bits_per_dim", "val_nll", "val_bits_per_dim"):
        assert np.isfinite(history[-1][key]), key
    assert abs(history[-1]["val_bits_per_dim"] - history[-1]["val_nll"] / (64 * np.log(2))) < 1e-4
    grid = np.asarray(Image.open(sorted((run / "samples").glob("*.png"))[-1]))
    assert grid.shape[0] < 64  # 16 samples of 8x8 (a 4x4 grid), not the GANs' 64 (8x8)
    out = tmp_path / "s.npy"
    assert main(["sample", str(run), "--n", "5", "--seed", "2", "--out", str(out)]) == 0
    samples = np.load(out)
    assert samples.shape == (5, 8, 8, 1) and set(np.unique(samples)) <= {0, 255}
    assert main(["sample", str(run), "--n", "5", "--seed", "2", "--out", str(tmp_path / "t.npy")]) == 0
    np.testing.assert_array_equal(samples, np.load(tmp_path / "t.npy"))  # a seed fixes the samples
