import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfgan_models import data
from tfgan_models.data import paired
from tfgan_models.data.images import MIN_CROP_MEAN, MIN_CROP_STD


def test_photo_splits_are_the_anchor_split_and_disjoint():
    assert paired.photo_names("train") == ["rocket", "hubble_deep_field", "immunohistochemistry", "retina",
                                           "china", "flower"]
    assert paired.photo_names("test") == ["astronaut", "coffee", "chelsea"]
    assert paired.photo("china").shape == (427, 640, 3)
    with pytest.raises(ValueError, match="splits"):
        paired.photo_names("val")
    with pytest.raises(ValueError, match="splits"):
        paired.photo_names("train+val")


def test_extra_photos_join_the_training_split_and_stay_out_of_the_test_split():
    assert paired.photo_names("train+extra") == paired.photo_names("train") + ["motorcycle", "camera"]
    assert not set(paired.photo_names("extra")) & set(paired.photo_names("test"))
    assert paired.photo_names("train+train") == paired.photo_names("train")
    assert paired.photo("motorcycle").shape == (500, 741, 3)
    camera = paired.photo("camera")
    assert camera.shape == (512, 512, 3) and camera.dtype == np.uint8
    np.testing.assert_array_equal(camera[..., 0], camera[..., 2])  # grey on three channels
    lr, hr = next(iter(paired.load_pairs("photos:train+extra", hr_crop=32, batch_size=4, seed=0)))
    assert lr.shape == (4, 8, 8, 3) and hr.shape == (4, 32, 32, 3)
    assert paired.steps_per_epoch("photos:train+extra", 96, 16) > paired.steps_per_epoch("photos:train", 96, 16)


def test_pairs_are_bicubic_antialiased_downscales_in_model_range():
    lr, hr = next(iter(paired.load_pairs("photos", scale=4, hr_crop=32, batch_size=4, seed=1)))
    assert lr.shape == (4, 8, 8, 3) and hr.shape == (4, 32, 32, 3)
    assert lr.dtype == tf.float32 and -1.0 <= float(tf.reduce_min(hr)) and float(tf.reduce_max(hr)) <= 1.0
    hr255 = (hr.numpy() + 1.0) * 127.5
    np.testing.assert_allclose(hr255, np.round(hr255), atol=1e-3)  # HR on 8-bit levels
    expected = np.round(np.clip(tf.image.resize(hr255, (8, 8), "bicubic", antialias=True).numpy(), 0, 255))
    np.testing.assert_allclose((lr.numpy() + 1.0) * 127.5, expected, atol=1e-3)


def test_pairs_are_reproducible_from_the_seed_and_augmented():
    take = lambda seed: next(iter(paired.load_pairs("photos", hr_crop=32, batch_size=8, seed=seed)))[1].numpy()  # noqa: E731
    np.testing.assert_array_equal(take(3), take(3))
    assert not np.array_equal(take(3), take(4))


def test_photo_crops_skip_black_and_flat_backgrounds():
    def informative_share(**kwargs):
        hr = next(iter(paired.load_pairs("photos", hr_crop=32, batch_size=64, seed=0, **kwargs)))[1].numpy()
        grey = ((hr + 1.0) * 127.5).mean(axis=-1)
        return np.mean((grey.mean(axis=(1, 2)) > MIN_CROP_MEAN) & (grey.std(axis=(1, 2)) > MIN_CROP_STD))

    assert informative_share() == 1.0  # the default for the embedded photos
    assert informative_share(skip_flat=False) < 0.8  # retina's and hubble's black backgrounds come through


def test_realistic_degradation_changes_the_lr_only():
    clean = next(iter(paired.load_pairs("photos", hr_crop=32, batch_size=4, seed=5)))
    dirty = next(iter(paired.load_pairs("photos", hr_crop=32, batch_size=4, seed=5, degradation="realistic")))
    np.testing.assert_array_equal(clean[1].numpy(), dirty[1].numpy())
    assert dirty[0].shape == clean[0].shape
    assert np.abs(clean[0].numpy() - dirty[0].numpy()).mean() > 1e-3
    with pytest.raises(ValueError, match="degradation"):
        paired.load_pairs("photos", degradation="heavy")


def test_eval_images_are_whole_modcropped_images():
    pairs = paired.eval_images("photos:test", scale=4)
    assert [(n, lr.shape, hr.shape) for n, lr, hr in pairs] == [
        ("astronaut", (128, 128, 3), (512, 512, 3)), ("coffee", (100, 150, 3), (400, 600, 3)),
        ("chelsea", (75, 112, 3), (300, 448, 3))]
    assert all(lr.dtype == np.uint8 and hr.dtype == np.uint8 for _, lr, hr in pairs)


def test_folder_source(tmp_path):
    rng = np.random.RandomState(0)
    for i, size in enumerate([(40, 50), (64, 64)]):
        Image.fromarray(rng.randint(0, 255, size + (3,), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    lr, hr = next(iter(paired.load_pairs(f"folder:{tmp_path}", scale=2, hr_crop=32, batch_size=3, seed=0)))
    assert lr.shape == (3, 16, 16, 3) and hr.shape == (3, 32, 32, 3)
    assert paired.steps_per_epoch(f"folder:{tmp_path}", hr_crop=32, batch_size=2) == 2  # (1 + 4 crops) // 2
    assert len(paired.eval_images(f"folder:{tmp_path}", scale=4, split=None)) == 2


def test_tfds_source_with_mock_data():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=4):
        lr, hr = next(iter(paired.load_pairs("tfds:div2k/bicubic_x4", scale=4, hr_crop=32, batch_size=2, seed=0)))
    assert lr.shape == (2, 8, 8, 3) and hr.shape == (2, 32, 32, 3)


def test_bad_specs_and_sizes_are_clear_errors():
    with pytest.raises(ValueError, match="known specs"):
        paired.load_pairs("digits")
    with pytest.raises(ValueError, match="multiple of the scale"):
        paired.load_pairs("photos", scale=4, hr_crop=30)
    with pytest.raises(ValueError, match="scale must be"):
        paired.load_pairs("photos", scale=5, hr_crop=30)


def test_generic_loader_serves_photos_for_calibration():
    batch = next(iter(data.load("photos", batch_size=3, image_size=16)))
    assert batch.shape == (3, 16, 16, 3)
    assert data.parse_spec("photos:test") == ("photos", "test")
