"""Coarse-to-fine runs from the command line: `tfgan sample --levels / --style-mix / --truncation` and the
StyleGAN SavedModel's W-space signatures (`truncated`, `mapping`, `w`), checked against Keras."""

import os

import numpy as np
import pytest
import tensorflow as tf

from tfgan_models import cli, runs
from tfgan_models.export import export_run


@pytest.fixture(scope="module")
def style_run(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("runs") / "stylegan")
    assert cli.main(["train", "stylegan", "--preset", "tiny", "--out", out]) == 0
    return out


def picture(path):
    return tf.io.decode_png(tf.io.read_file(path)).numpy()


def test_levels_picture_has_one_column_per_level(tmp_path, capsys):
    run = str(tmp_path / "lapgan")
    assert cli.main(["train", "lapgan", "--preset", "tiny", "--out", run]) == 0
    model, _ = runs.load_model(run)
    levels = model.generate_levels(3, seed=0)
    out = str(tmp_path / "pyramid.png")
    assert cli.main(["sample", run, "--levels", "--n", "3", "--out", out]) == 0
    grid = runs.sample(run, n=3, levels=True, out=str(tmp_path / "again.npy"))
    assert grid.shape == (3 * len(levels), *model.data_shape)  # rows of (coarsest, ..., final)
    np.testing.assert_array_equal(grid[len(levels) - 1 :: len(levels)],
                                  np.round((np.clip(model.generate(3, seed=0), -1, 1) + 1) * 127.5).astype("uint8"))
    side = model.data_shape[0]
    assert picture(out).shape[0] > 3 * side and picture(out).shape[1] > len(levels) * side
    capsys.readouterr()
    assert cli.main(["sample", run, "--style-mix", "--out", str(tmp_path / "m.png")]) == 2
    assert "--style-mix applies to StyleGAN runs" in capsys.readouterr().err


def test_style_mixing_grid_and_truncation_from_the_command_line(style_run, tmp_path, capsys):
    model, _ = runs.load_model(style_run)
    grid = runs.sample(style_run, n=3, style_mix=True, out=str(tmp_path / "mix.npy"))
    assert grid.shape == (16, *model.data_shape)  # a blank corner, 3 sources A, then 3 rows of B + 3 mixes
    assert cli.main(["sample", style_run, "--style-mix", "--n", "3", "--crossover", "2",
                     "--out", str(tmp_path / "mix.png")]) == 0
    assert cli.main(["sample", style_run, "--truncation", "1,0.7,0", "--n", "4",
                     "--out", str(tmp_path / "psi.npy")]) == 0
    rows = np.load(str(tmp_path / "psi.npy")).astype("float32")
    assert rows.shape[0] == 12 and np.ptp(rows[8:], axis=0).max() <= 1  # psi 0: every z gives w_avg's image
    capsys.readouterr()
    for argv, message in [(["--style-mix", "--crossover", "99"], "--crossover must be in"),
                          (["--levels"], "--levels applies to coarse-to-fine runs"),
                          (["--style-mix", "--truncation", "0.5"], "leave out --truncation"),
                          (["--truncation", "-1"], "truncation (psi) must be")]:
        assert cli.main(["sample", style_run, *argv, "--out", str(tmp_path / "x.png")]) == 2, argv
        assert message in capsys.readouterr().err


def test_stylegan_savedmodel_truncates_in_w_and_takes_w_plus(style_run, tmp_path):
    # SavedModel only: tests/test_stylegan.py converts the generator to builtin-op TFLite
    entry = export_run(style_run, str(tmp_path / "models"), formats=("saved_model",))  # its gates passed
    loaded = tf.saved_model.load(os.path.join(str(tmp_path / "models"), "stylegan", "1"))
    assert {"serving_default", "seed", "truncated", "mapping", "w"} <= set(loaded.signatures)
    model, _ = runs.load_model(style_run)
    seeds = tf.constant([3, 4], tf.int64)
    out = loaded.signatures["truncated"](seed=seeds, truncation=tf.constant([0.0, 0.0]))
    z, noise = out["z"].numpy(), {k: out[k].numpy() for k in out if k.startswith("noise_")}
    keras_images = model.generate(z=z, truncation=0.0, **noise)
    np.testing.assert_allclose(out["images_float"].numpy(), (keras_images + 1) / 2, atol=1e-5)
    w = loaded.signatures["mapping"](z=tf.constant(z))["w"].numpy()
    np.testing.assert_allclose(w, model.mapping(z), atol=1e-5)
    plus = np.repeat(w[:, None], model.num_ws, axis=1)
    by_w = loaded.signatures["w"](w=tf.constant(plus), seed=seeds)["images_float"].numpy()
    np.testing.assert_allclose(by_w, loaded.signatures["seed"](seed=seeds)["images_float"].numpy(), atol=1e-5)
    assert entry["saved_model"]["gate"]["passed"]
