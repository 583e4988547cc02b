"""Captioned data for text-to-image GANs: the procedural ``shapes`` set, ``captions:DIR`` and ``tfds:coco_captions``.

TFDS is mocked (``tfds.testing.mock_data``): nothing is downloaded.
"""

import warnings

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from PIL import Image

from tfgan_models.data import captions as C


@pytest.fixture(scope="module")
def splits():
    return {split: C.shapes_arrays(split, 16, seed=0) for split in C.SPLITS}


@pytest.fixture(scope="module")
def train32():
    return C.shapes_arrays("train", 32, seed=0)


def parse(text):
    """``{attribute: index}`` read back from a caption with the synonym tables (absent attributes left out)."""
    padded = " " + text.replace(",", " ") + " "
    found = {}
    for attribute, table in C.SYNONYMS.items():
        hits = {i for i, words in enumerate(table) for w in words if f" {w} " in padded}
        assert len(hits) <= 1, (text, attribute, hits)
        if hits:
            found[attribute] = hits.pop()
    return found


# ------------------------------------------------------------------ shapes
def test_arrays_have_the_promised_shapes_and_types(splits):
    for split, n in C.SPLITS.items():
        a = splits[split]
        assert a["images"].shape == (n, 16, 16, 3) and a["images"].dtype == np.uint8
        assert len(a["captions"]) == n and all(isinstance(t, str) for t in a["captions"])
        for key in ("shape", "colour", "size", "position", "combo"):
            assert a[key].shape == (n,) and a[key].dtype == np.int32
        assert np.array_equal(a["combo"], C.combo_id(a["shape"], a["colour"], a["size"]))
    assert sorted(C.combo_id(s, c, z) for s in range(3) for c in range(4) for z in range(2)) == list(range(24))
    assert C.shapes_arrays("zero_shot", 64)["images"].shape == (600, 64, 64, 3)


def test_same_seed_same_arrays_and_splits_never_share_draws(splits):
    again = C.shapes_arrays("test", 16, seed=0)
    for key, value in splits["test"].items():
        assert np.array_equal(np.asarray(value), np.asarray(again[key])), key
    other = C.shapes_arrays("test", 16, seed=1)
    assert not np.array_equal(other["images"], again["images"])
    assert not np.array_equal(splits["train"]["images"][:1200], splits["test"]["images"])
    assert not set(splits["train"]["captions"]) & set(splits["test"]["captions"])


def test_splits_hold_out_combinations_and_caption_strings(splits):
    held = {C.combo_id(*t) for t in C.ZERO_SHOT}
    assert len(C.ZERO_SHOT) == 4 and len(held) == 4
    train, test, zero = splits["train"], splits["test"], splits["zero_shot"]
    assert not held & set(train["combo"].tolist())
    assert not any(C.is_held_out_caption(t) for t in train["captions"])
    assert all(C.is_held_out_caption(t) for t in test["captions"] + zero["captions"])
    assert not held & set(test["combo"].tolist())
    assert set(zero["combo"].tolist()) == held
    assert set(train["combo"].tolist()) == set(range(24)) - held  # uniform draws reach every allowed combination
    for key, names in (("shape", C.SHAPES), ("colour", C.COLOURS), ("size", C.SIZES), ("position", C.POSITIONS)):
        assert set(train[key].tolist()) == set(range(len(names)))
    share = np.mean([C.is_held_out_caption(C.caption(0, 0, 0, 0, np.random.RandomState(i))) for i in range(2000)])
    assert 0.1 < share < 0.3


def test_captions_name_the_right_attributes(splits):
    assert len(C.TEMPLATES) >= 10
    for split in C.SPLITS:
        a = splits[split]
        for i in range(0, C.SPLITS[split], C.SPLITS[split] // 200 or 1)[:200]:
            text = a["captions"][i]
            words = text.split()
            assert text == text.lower() and text.isascii(), text
            assert not any(w == "a" and n[0] in "aeiou" for w, n in zip(words, words[1:])), text  # "an azure"
            found = parse(text)
            assert found["shape"] == a["shape"][i] and found["colour"] == a["colour"][i], text
            assert found.get("size", a["size"][i]) == a["size"][i], text
            assert found.get("where", a["position"][i]) == a["position"][i], text
    every = [parse(t) for t in splits["train"]["captions"]]
    assert any("size" not in f for f in every) and any("where" not in f for f in every)
    assert all(words[0] in " ".join(splits["train"]["captions"]) for table in C.SYNONYMS.values()
               for words in table)


def test_images_show_the_colour_size_and_position(train32):
    a = train32
    images = a["images"].astype("float32")
    bright = images.max(-1) > 100  # pixels fully inside the shape
    expect = {0: (1, 0, 0), 1: (0, 1, 0), 2: (0, 0, 1), 3: (1, 1, 0)}  # red, green, blue, yellow: high/low
    covered = (images.max(-1) > 80).mean(axis=(1, 2))
    for i in range(200):
        rgb = images[i][bright[i]].mean(0)
        for channel, high in enumerate(expect[int(a["colour"][i])]):
            assert (rgb[channel] > 150) if high else (rgb[channel] < 120), (i, rgb, a["colour"][i])
        ys, xs = np.nonzero(bright[i])
        cx, cy = (xs.min() + xs.max() + 1) / 64, (ys.min() + ys.max() + 1) / 64  # centre of the bounding box
        position = C.POSITIONS[a["position"][i]]
        if position == "centre":
            assert abs(cx - 0.5) < 0.1 and abs(cy - 0.5) < 0.1, (i, cx, cy)
        else:
            assert (cy < 0.5) == position.startswith("top") and (cx < 0.5) == position.endswith("left"), (i, cx, cy)
    large, small = covered[a["size"] == 1], covered[a["size"] == 0]
    assert large.min() > small.max()  # every large shape covers more than every small one
    assert images.min() >= 0 and np.percentile(images.max(-1), 50) < 45  # a dark background


def test_load_captioned_shapes_batches():
    ds = C.load_captioned("shapes:test", batch_size=32, image_size=16, seed=3)
    assert ds.element_spec[0].shape == (32, 16, 16, 3)  # static batch size when repeating
    images, texts, classes = next(iter(ds))
    assert images.dtype == tf.float32 and texts.dtype == tf.string and classes.dtype == tf.int32
    assert -1.0 <= float(tf.reduce_min(images)) and float(tf.reduce_max(images)) <= 1.0
    assert set(classes.numpy().tolist()) <= set(range(24)) - {C.combo_id(*t) for t in C.ZERO_SHOT}
    same = next(iter(C.load_captioned("shapes", batch_size=32, split="test", seed=3)))
    assert np.array_equal(same[1].numpy(), texts.numpy())
    once = list(C.load_captioned("shapes:zero_shot", batch_size=256, shuffle=False, repeat=False))
    assert [int(b[0].shape[0]) for b in once] == [256, 256, 88]
    assert C.captioned_size("shapes") == 6000 and C.captioned_size("shapes:zero_shot", split="train") == 600


# ------------------------------------------------------------------ captions:DIR
def _picture(path, size, colour, fmt=None):
    Image.fromarray(np.full(size + (3,), colour, "uint8")).save(path, format=fmt)


def test_captions_folder(tmp_path):
    _picture(tmp_path / "a.png", (20, 40), (250, 0, 0))  # wide: centre-cropped to a square
    (tmp_path / "a.txt").write_text("a red picture\n\nall red\n")
    _picture(tmp_path / "b.jpg", (30, 30), (0, 0, 250))
    (tmp_path / "b.txt").write_text("blue\nvery blue\n")
    _picture(tmp_path / "c.bmp", (12, 9), (0, 250, 0))
    (tmp_path / "c.txt").write_text("\ngreen\n")
    _picture(tmp_path / "d.png", (10, 10), (9, 9, 9))  # no caption file
    _picture(tmp_path / "e.png", (10, 10), (9, 9, 9))
    (tmp_path / "e.txt").write_text("\n  \n")  # only blank lines
    (tmp_path / "f.png").write_bytes(b"not a png at all")
    (tmp_path / "f.txt").write_text("broken\n")
    (tmp_path / "notes.md").write_text("ignored")
    spec = f"captions:{tmp_path}"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batches = list(C.load_captioned(spec, batch_size=2, image_size=8, shuffle=False, repeat=False))
    messages = [str(w.message) for w in caught if "skipped" in str(w.message)]
    assert len(messages) == 1 and all(name in messages[0] for name in ("d.png", "e.png", "f.png"))
    assert "3 image(s)" in messages[0]
    images = np.concatenate([b[0].numpy() for b in batches])
    texts = [t.decode() for b in batches for t in b[1].numpy()]
    classes = np.concatenate([b[2].numpy() for b in batches])
    assert [int(b[0].shape[0]) for b in batches] == [2, 2, 1]
    assert texts == ["a red picture", "all red", "blue", "very blue", "green"]
    assert classes.tolist() == [0, 0, 1, 1, 2] and classes.dtype == np.int32
    assert images.shape == (5, 8, 8, 3) and images.min() >= -1 and images.max() <= 1
    assert images[0, ..., 0].mean() > 0.9 and images[2, ..., 2].mean() > 0.9 and images[4, ..., 1].mean() > 0.9
    assert C.captioned_size(spec) == 5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = C.load_captioned(spec, batch_size=4, image_size=12, seed=0)
    assert ds.element_spec[0].shape == (4, 12, 12, 3)
    assert next(iter(ds))[0].shape == (4, 12, 12, 3)


def test_captions_folder_errors(tmp_path):
    (tmp_path / "x.png").write_bytes(b"\x89PNG broken")
    (tmp_path / "x.txt").write_text("caption\n")
    _picture(tmp_path / "y.png", (8, 8), (1, 2, 3))
    with pytest.raises(ValueError, match="no usable image"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        C.load_captioned(f"captions:{tmp_path}")
    with pytest.raises(ValueError, match="does not exist"):
        C.load_captioned(f"captions:{tmp_path / 'missing'}")
    with pytest.raises(ValueError, match="'test'"):
        C.load_captioned(f"captions:{tmp_path}", split="test")


# ------------------------------------------------------------------ tfds:coco_captions
def test_coco_captions_under_mock_data():
    with tfds.testing.mock_data(num_examples=3):
        raw = list(tfds.as_numpy(tfds.load("coco_captions", split="train")))
        batches = list(C.load_captioned("tfds:coco_captions", batch_size=4, image_size=16, shuffle=False,
                                        repeat=False))
        ds = C.load_captioned("tfds:coco_captions", batch_size=2, image_size=16, split="test", seed=0)
        images, texts, classes = next(iter(ds))
        assert C.captioned_size("tfds:coco_captions", split="test") > 0
    assert images.shape == (2, 16, 16, 3) and ds.element_spec[0].shape == (2, 16, 16, 3)
    captions = [t for b in batches for t in b[1].numpy().tolist()]
    assert captions == [t for ex in raw for t in ex["captions"]["text"].tolist()]  # one element per caption
    ids = [c for b in batches for c in b[2].numpy().tolist()]
    assert ids == [int(ex["image/id"]) for ex in raw for _ in ex["captions"]["text"]]
    for images, texts, classes in batches:
        assert images.dtype == tf.float32 and texts.dtype == tf.string and classes.dtype == tf.int32
        assert images.shape[1:] == (16, 16, 3)
        assert -1.0 <= float(tf.reduce_min(images)) and float(tf.reduce_max(images)) <= 1.0


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("spec, kwargs, match", [
    ("shape", {}, "unknown captioned data 'shape'; known: shapes"),
    ("tfds:mnist", {}, "unknown captioned data"),
    ("captions:", {}, "unknown captioned data"),
    ("shapes:valid", {}, "'valid'"),
    ("shapes", {"split": "validation"}, "'validation'"),
    ("tfds:coco_captions", {"split": "zero_shot"}, "'zero_shot'"),
    ("shapes", {"image_size": 24}, "16, 32, 64"),
    ("shapes", {"batch_size": 0}, "batch_size"),
])
def test_bad_specs(spec, kwargs, match):
    with pytest.raises(ValueError, match=match):
        C.load_captioned(spec, **kwargs)


def test_bad_arguments_to_arrays():
    with pytest.raises(ValueError, match="16, 32, 64"):
        C.shapes_arrays("train", 28)
    with pytest.raises(ValueError, match="unknown split"):
        C.captioned_size("shapes", split="valid")
    assert C.SPEC_HELP == "shapes[:train|test|zero_shot], captions:DIR, tfds:coco_captions"
