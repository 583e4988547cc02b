"""``tfgan train context_encoder`` and ``tfgan inpaint``: files of any size, three kinds of mask, clear errors."""

import os

import numpy as np
import pytest
from PIL import Image

from tfgan_models.cli import main


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("ce") / "run"
    assert main(["train", "context_encoder", "--preset", "tiny", "--out", str(out)]) == 0
    return out


def write_png(path, array):
    Image.fromarray(array).save(path)
    return str(path)


def digit_image(side=40):
    rng = np.random.RandomState(0)
    image = (rng.rand(side, side) * 255).astype("uint8")
    return image


def test_train_writes_a_before_after_picture(run_dir):
    samples = os.listdir(run_dir / "samples")
    assert samples and all(s.endswith(".png") for s in samples)
    picture = np.asarray(Image.open(run_dir / "samples" / sorted(samples)[-1]))
    assert picture.shape[0] == 3 * 16  # originals, masked, inpainted


@pytest.mark.parametrize("mask", ["center", "random", "file"])
def test_inpaint_keeps_every_pixel_outside_the_hole(run_dir, tmp_path, mask):
    image = digit_image(40)
    src = write_png(tmp_path / "in.png", image)
    hole = np.zeros((40, 40), "uint8")
    hole[5:15, 20:35] = 255
    mask_arg = write_png(tmp_path / "mask.png", hole) if mask == "file" else mask
    out = tmp_path / "out.png"
    assert main(["inpaint", str(run_dir), src, "--mask", mask_arg, "--out", str(out), "--seed", "3"]) == 0
    result = np.asarray(Image.open(out))
    assert result.shape[:2] == (40, 40)
    result = result[..., 0] if result.ndim == 3 else result
    if mask == "file":
        keep = hole == 0
    elif mask == "center":
        keep = np.ones((40, 40), bool)
        keep[10:30, 10:30] = False
    else:
        keep = result == image  # random: the hole covers 20-30%, the rest is exact
        assert 0.65 <= keep.mean() <= 0.85
    np.testing.assert_array_equal(result[keep], image[keep])
    assert (result[~keep] != image[~keep]).any()


def test_several_images_go_to_a_folder(run_dir, tmp_path):
    a = write_png(tmp_path / "a.png", digit_image(16))
    b = write_png(tmp_path / "b.png", digit_image(24))
    assert main(["inpaint", str(run_dir), a, b, "--out", str(tmp_path / "outs")]) == 0
    assert sorted(os.listdir(tmp_path / "outs")) == ["a.png", "b.png"]


@pytest.mark.parametrize("case, message", [
    ("empty_mask", "empty"),
    ("full_mask", "whole image"),
    ("wrong_size_mask", "the image is"),
    ("missing_image", "does not exist"),
    ("missing_mask", "does not exist"),
    ("corrupt_image", "cannot decode"),
    ("not_png_out", ".png"),
    ("not_inpainting_run", "not an inpainting run"),
])
def test_bad_input_is_one_line_and_exit_2(run_dir, tmp_path, capsys, case, message):
    src = write_png(tmp_path / "in.png", digit_image(20))
    mask = {"empty_mask": np.zeros((20, 20), "uint8"), "full_mask": np.full((20, 20), 255, "uint8"),
            "wrong_size_mask": np.full((10, 10), 255, "uint8")}.get(case)
    mask_arg = write_png(tmp_path / "m.png", mask) if mask is not None else "center"
    out, run = str(tmp_path / "o.png"), str(run_dir)
    if case == "missing_image":
        src = str(tmp_path / "nope.png")
    if case == "missing_mask":
        mask_arg = str(tmp_path / "nomask.png")
    if case == "corrupt_image":
        (tmp_path / "bad.png").write_bytes(b"\x89PNG not really")
        src = str(tmp_path / "bad.png")
    if case == "not_png_out":
        out = str(tmp_path / "o.jpg")
    if case == "not_inpainting_run":
        run = str(tmp_path / "dc")
        assert main(["train", "dcgan", "--preset", "tiny", "--epochs", "1", "--out", run]) == 0
        capsys.readouterr()
    assert main(["inpaint", run, src, "--mask", mask_arg, "--out", out]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert not os.path.exists(out)


def test_a_reloaded_run_previews_its_own_held_out_split(tmp_path):
    from tfgan_models import runs

    out = tmp_path / "mnist_run"
    assert main(["train", "context_encoder", "--preset", "tiny", "--data", "mnist", "--out", str(out)]) == 0
    model, _ = runs.load_model(str(out))
    assert model.preview_spec == "mnist:test"
    images, masks = model.preview_batch(4)
    assert images.shape == (4, 16, 16, 1) and masks.sum() > 0
