"""Image-translation data (tfgan_models.data.translation): paired and unpaired specs, offline.

Every batch is float32 (B, S, S, 3) in [-1, 1]. TFDS sets are mocked (``tfds.testing.mock_data``).
"""

import hashlib
import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from PIL import Image

from tfgan_models.data import translation
from tfgan_models.data.images import MIN_CROP_MEAN, MIN_CROP_STD

S, B = 16, 2


def first(ds):
    x, y = next(iter(ds))
    return x.numpy(), y.numpy()


def check_batch(*arrays, batch=B, size=S):
    for a in arrays:
        assert a.shape == (batch, size, size, 3) and a.dtype == np.float32
        assert np.isfinite(a).all() and a.min() >= -1.0 and a.max() <= 1.0
        levels = (a + 1.0) * 127.5
        np.testing.assert_allclose(levels, np.round(levels), atol=1e-3)  # on 8-bit levels


def is_grey(a):
    return np.array_equal(a[..., 0], a[..., 1]) and np.array_equal(a[..., 1], a[..., 2])


# ---------------------------------------------------------------- paired specs
def test_colorize_gives_grey_inputs_and_colour_targets():
    ds, steps = translation.load_paired("colorize:photos", size=S, batch_size=B, seed=0)
    x, y = first(ds)
    check_batch(x, y)
    assert is_grey(x) and not is_grey(y)
    # the grey input is the target's luma (ITU-R 601, as tf.image.rgb_to_grayscale), rounded to 8 bits
    luma = np.round(np.tensordot((y + 1.0) * 127.5, [0.2989, 0.587, 0.114], axes=([-1], [0])))
    np.testing.assert_allclose((x[..., 0] + 1.0) * 127.5, luma, atol=1.0)
    # a pass: CROPS_PER_PHOTO crops of each of the 6 training photos
    assert steps == 6 * translation.CROPS_PER_PHOTO // B


def test_edges_inputs_are_black_and_white():
    ds, _ = translation.load_paired("edges:photos", size=S, batch_size=B, seed=0)
    x, y = first(ds)
    check_batch(x, y)
    assert set(np.unique(x)) <= {-1.0, 1.0}
    assert is_grey(x) and not is_grey(y)


def write_pair_folders(root, inverted=True):
    """Folder A (png) and folder B (bmp, B = 255 - A), matched by name without extension, one subfolder."""
    rng = np.random.RandomState(0)
    dir_a, dir_b = root / "a", root / "b"
    for i, (h, w) in enumerate([(20, 24), (24, 20), (22, 22)]):
        sub = "sub/" if i == 2 else ""
        for d in (dir_a, dir_b):
            os.makedirs(d / sub, exist_ok=True)
        a = rng.randint(0, 256, (h, w, 3), dtype=np.uint8)
        Image.fromarray(a).save(dir_a / f"{sub}{i}.png")
        Image.fromarray(255 - a if inverted else a).save(dir_b / f"{sub}{i}.bmp")
    return dir_a, dir_b


def test_paired_folders_get_the_same_crop_and_flip(tmp_path):
    dir_a, dir_b = write_pair_folders(tmp_path)
    ds, steps = translation.load_paired(f"paired:{dir_a},{dir_b}", size=S, batch_size=B, seed=0)
    assert steps == 3 // B
    for x, y in ds.take(3):
        x, y = x.numpy(), y.numpy()
        check_batch(x, y)
        # B is A inverted: the same crop and flip on both sides gives x == -y (up to one 8-bit level)
        assert np.abs(x + y).max() <= 1.0 / 127.5 + 1e-5
        assert np.abs(x + y).mean() < 1e-3


def test_paired_folder_errors(tmp_path):
    dir_a, dir_b = write_pair_folders(tmp_path)
    spec = f"paired:{dir_a},{dir_b}"
    Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(dir_a / "lonely.png")
    with pytest.raises(ValueError, match="no partner.*lonely"):
        translation.load_paired(spec, size=S, batch_size=B)
    os.remove(dir_a / "lonely.png")
    Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(dir_b / "extra.png")
    with pytest.raises(ValueError, match="no partner"):
        translation.load_paired(spec, size=S, batch_size=B)
    os.remove(dir_b / "extra.png")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        translation.load_paired(f"paired:{dir_a},{tmp_path / 'missing'}", size=S, batch_size=B)
    with pytest.raises(ValueError, match="two comma-separated"):
        translation.load_paired(f"paired:{dir_a}", size=S, batch_size=B)


def test_corrupt_file_in_a_paired_folder_is_skipped_not_a_tf_crash(tmp_path):
    dir_a, dir_b = write_pair_folders(tmp_path)
    (dir_a / "0.png").write_bytes(b"this is not a png")
    spec = f"paired:{dir_a},{dir_b}"
    with pytest.warns(UserWarning, match="cannot be decoded"):
        with pytest.raises(ValueError, match="no partner") as info:
            translation.load_paired(spec, size=S, batch_size=B)
    assert not isinstance(info.value, tf.errors.OpError)
    # the corrupt side's partner corrupt too: both are skipped and the rest trains
    (dir_b / "0.bmp").write_bytes(b"nor is this a bmp")
    with pytest.warns(UserWarning, match="cannot be decoded"):
        ds, steps = translation.load_paired(spec, size=S, batch_size=B, seed=0)
    x, y = first(ds)
    check_batch(x, y)
    assert steps == 1


# -------------------------------------------------------------- unpaired specs
@pytest.mark.parametrize("spec", ["unpaired:photos,hue:photos", "unpaired:digits,inverted:digits"])
def test_unpaired_sources(spec):
    ds, steps = translation.load_unpaired(spec, size=S, batch_size=B, seed=0)
    a, b = first(ds)
    check_batch(a, b)
    # a pass is the larger side's: 1,400 training digits, or 32 crops of each of the 6 training photos
    assert steps == (1400 if "digits" in spec else 6 * translation.CROPS_PER_PHOTO) // B
    if "digits" in spec:
        assert is_grey(a) and is_grey(b)
        # mostly-background digits and their inversions lie on opposite sides of mid-grey
        assert np.sign(a.mean()) != np.sign(b.mean())
    else:  # photo crops that are nearly black or flat are skipped, on both sides
        for batch in (a, b):
            grey = ((batch + 1.0) * 127.5).mean(axis=-1)
            assert (grey.mean(axis=(1, 2)) > MIN_CROP_MEAN).all()
            assert (grey.std(axis=(1, 2)) > MIN_CROP_STD - 0.5).all()


def test_source_transforms_are_what_they_say():
    image = tf.constant(np.random.RandomState(0).randint(0, 256, (8, 8, 3)), tf.uint8)
    rotated = translation.rotate_hue(image)
    assert rotated.dtype == tf.uint8 and rotated.shape == image.shape
    # three 120-degree rotations come back (within rounding)
    back = translation.rotate_hue(translation.rotate_hue(rotated))
    assert np.abs(back.numpy().astype(int) - image.numpy().astype(int)).max() <= 3
    edges = translation.edge_map(image).numpy()
    assert set(np.unique(edges)) <= {0, 255} and is_grey(edges)


def test_known_mappings():
    image = np.random.RandomState(1).randint(0, 256, (6, 5, 3)).astype("uint8")
    a_to_b, b_to_a = translation.known_mapping("unpaired:photos,hue:photos")
    np.testing.assert_array_equal(a_to_b(image), translation.rotate_hue(image).numpy())
    assert np.abs(b_to_a(a_to_b(image)).astype(int) - image.astype(int)).max() <= 3
    a_to_b, b_to_a = translation.known_mapping("unpaired:digits,inverted:digits")
    np.testing.assert_array_equal(a_to_b(image), 255 - image)
    np.testing.assert_array_equal(b_to_a(a_to_b(image)), image)
    for spec in ("colorize:photos", "unpaired:photos,hue:digits", "unpaired:photos,grey:photos", "tfds:celeb_a"):
        assert translation.known_mapping(spec) is None


def test_held_out_is_deterministic():
    for spec in ("colorize:photos", "unpaired:digits,inverted:digits"):
        first_call = translation.held_out(spec, S, 3)
        second_call = translation.held_out(spec, S, 3)
        for a, b in zip(first_call, second_call):
            assert a.shape == (3, S, S, 3) and a.dtype == np.uint8
            np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- TFDS, mocked
def digest(image):
    return hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest()


def test_celeb_a_attribute_domains():
    with tfds.testing.mock_data(num_examples=6):
        ds, steps = translation.load_unpaired("tfds:celeb_a", size=S, batch_size=B, seed=0, domains="Young,-Young")
        a, b = first(ds)
        check_batch(a, b)
        assert steps == 6 // B  # an epoch is about one pass over the split
        # The filter keeps exactly the faces with the attribute (A) and without it (B).
        raw = list(tfds.as_numpy(tfds.load("celeb_a", split="train")))
        young = {digest(ex["image"]) for ex in raw if ex["attributes"]["Young"]}
        old = {digest(ex["image"]) for ex in raw if not ex["attributes"]["Young"]}
        assert young and old and not young & old
        for domain, expected in (([("Young", True)], young), ([("Young", False)], old)):
            images, count = translation._tfds_images("celeb_a", "train", domain)
            kept = [digest(im) for im in tfds.as_numpy(images)]
            assert sorted(kept) == sorted(expected)
            assert count == len(raw)
        # "+" joins conditions
        both = [digest(im) for im in tfds.as_numpy(translation._tfds_images(
            "celeb_a", "train", [("Young", True), ("Male", False)])[0])]
        assert sorted(both) == sorted(digest(ex["image"]) for ex in raw
                                      if ex["attributes"]["Young"] and not ex["attributes"]["Male"])
        with pytest.raises(ValueError, match=r"unknown attribute.*Yung.*known: .*Young"):
            translation.load_unpaired("tfds:celeb_a", size=S, batch_size=B, domains="Yung,-Young")
        with pytest.raises(ValueError, match="no attributes"):
            translation.load_unpaired("tfds:cycle_gan/horse2zebra", size=S, batch_size=B, domains="Young,-Young")


@pytest.mark.parametrize("domains", ["Smiling,-Smiling", "Eyeglasses,-Eyeglasses", "Young,-Young"])
def test_celeb_a_face_editing_domains_and_their_face_aligned_crop(domains):
    """The README's GPU commands: each FaceApp split loads, and held-out faces are CelebA's aligned
    178x218 images centre-cropped to their 178x178 square (StarGAN's CenterCrop(178)), then resized."""
    attribute = domains.split(",")[0]
    with tfds.testing.mock_data(num_examples=8):
        ds, _ = translation.load_unpaired("tfds:celeb_a", size=S, batch_size=1, seed=0, domains=domains)
        a, b = first(ds)
        assert a.shape == b.shape == (1, S, S, 3)
        raw = list(tfds.as_numpy(tfds.load("celeb_a", split="test")))
        faces = [ex["image"] for ex in raw if ex["attributes"][attribute]]
        if not faces:  # the mock drew no face with the attribute: nothing to compare
            return
        held, _ = translation.held_out("tfds:celeb_a", S, 1, domains=domains)

        def aligned(face):  # the centred square (178x178 of 218x178), resized
            h, w = face.shape[:2]
            side = min(h, w)
            top, left = (h - side) // 2, (w - side) // 2
            square = face[top:top + side, left:left + side].astype("float32")
            return tf.image.resize(square, (S, S), antialias=True).numpy()

        assert faces[0].shape[:2] == (218, 178)
        closest = min(np.abs(aligned(f) - held[0].astype("float32")).max() for f in faces)
        assert closest <= 1.0  # one of the attribute's faces, cropped and resized as above


def test_domain_errors():
    with pytest.raises(ValueError, match="same"):
        translation.load_unpaired("tfds:celeb_a", size=S, batch_size=B, domains="Young,Young")
    with pytest.raises(ValueError, match="domains"):
        translation.load_unpaired("unpaired:photos,hue:photos", size=S, batch_size=B, domains="Young,-Young")
    with pytest.raises(ValueError, match="domains"):
        translation.load("colorize:photos", size=S, batch_size=B, domains="Young,-Young")
    for bad in ("Young", "Young,-Young,Male", ",-Young", "Young+,-Young"):
        with pytest.raises(ValueError):
            translation.parse_domains(bad)
    assert translation.parse_domains("Male+Smiling,Male+-Smiling") == [
        [("Male", True), ("Smiling", True)], [("Male", True), ("Smiling", False)]]


def test_cycle_gan_uses_train_a_and_train_b(monkeypatch):
    seen = []
    real = translation._tfds_images

    def spy(body, split, domain=None):
        seen.append(body)
        return real(body, split, domain)

    monkeypatch.setattr(translation, "_tfds_images", spy)
    with tfds.testing.mock_data(num_examples=4):
        ds, steps = translation.load_unpaired("tfds:cycle_gan/horse2zebra", size=S, batch_size=B, seed=0)
        check_batch(*first(ds))
        assert seen == ["cycle_gan/horse2zebra:trainA", "cycle_gan/horse2zebra:trainB"]
        assert steps == 4 // B
        seen.clear()
        held = translation.held_out("tfds:cycle_gan/horse2zebra", S, 2)
        assert seen == ["cycle_gan/horse2zebra:testA", "cycle_gan/horse2zebra:testB"]
        assert held[0].shape == (2, S, S, 3)
    with pytest.raises(ValueError, match="cycle_gan"):
        translation.load_unpaired("tfds:mnist", size=S, batch_size=B)


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize("spec, message", [
    ("bogus:photos", "unknown translation data spec"),
    ("photos", "unknown translation data spec"),
    ("", "non-empty"),
    ("colorize:", "unknown translation data spec"),
    ("colorize:nope", "unknown image source"),
    ("unpaired:photos", "two comma-separated"),
    ("unpaired:photos,bogus", "unknown image source"),
    ("colorize:photos:val", "split"),
])
def test_unknown_specs(spec, message):
    with pytest.raises(ValueError, match=message):
        translation.load(spec, size=S, batch_size=B)


def test_paired_and_unpaired_specs_are_not_mixed_up():
    with pytest.raises(ValueError, match="paired data"):
        translation.load_unpaired("colorize:photos", size=S, batch_size=B)
    with pytest.raises(ValueError, match="unpaired data"):
        translation.load_paired("unpaired:photos,hue:photos", size=S, batch_size=B)
    with pytest.raises(ValueError, match="size and batch_size"):
        translation.load_paired("colorize:photos", size=0, batch_size=B)
