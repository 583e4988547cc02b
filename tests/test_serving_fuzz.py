"""Fuzzing the image-to-image serving signatures: bad requests fail one by one, the process never does.

A tiny translator's SavedModel is loaded in this process (as TF Serving loads it)
and sent 1,000 malformed or unusual images, one request each. Every input
either returns an image (it was in fact a valid image) or raises
``tf.errors.InvalidArgumentError``; nothing else, and the process survives (the
test finishing is the proof). A valid image sent every 50 requests must give
the same output as the first time.
"""

import collections
import io
import os
import struct

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfgan_models import export

N_FUZZ = 1000
CHECK_EVERY = 50
MAX_SIDE = 1024  # the translation default


def tiny_translator():
    """images -> images, one stride-2 down and up (size multiple 2), ~1k parameters."""
    x0 = keras.Input((None, None, 3), name="images")
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="down")(x0)
    x = keras.layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu", name="up")(x)
    return keras.Model(x0, keras.layers.Conv2D(3, 3, padding="same", activation="tanh", name="out")(x),
                       name="fuzz_translator")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    keras.utils.set_random_seed(3)
    root = str(tmp_path_factory.mktemp("fuzz_models"))
    entry = export.export_saved_model(tiny_translator(), root)
    assert entry["saved_model"]["max_side"] == MAX_SIDE
    return tf.saved_model.load(os.path.join(root, "fuzz_translator", "1"))


def encode(array, fmt, mode=None):
    out = io.BytesIO()
    Image.fromarray(array, mode).save(out, format=fmt)
    return out.getvalue()


def random_image(rng, channels=3, low=3, high=20):
    h, w = rng.randint(low, high, size=2)
    shape = (h, w) if channels == 1 else (h, w, channels)
    return rng.randint(0, 256, shape).astype("uint8")


def huge_header(rng, kind):
    """A valid small image whose header claims a size far over the limit (up to 60000 x 60000)."""
    base = random_image(rng)
    h, w = int(rng.randint(MAX_SIDE + 1, 60001)), int(rng.choice([rng.randint(3, 60001), 60000]))
    if rng.rand() < 0.5:
        h, w = w, h
    if kind == "PNG":
        data = encode(base, "PNG")
        return data[:16] + struct.pack(">II", w, h) + data[24:]
    if kind == "GIF":
        data = encode(base, "GIF")
        return data[:6] + struct.pack("<HH", min(w, 65535), min(h, 65535)) + data[10:]
    data = encode(base, "BMP")
    return data[:18] + struct.pack("<ii", w, -h if rng.rand() < 0.5 else h) + data[26:]


MAGICS = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"GIF87a", b"BM", b""]


def fuzz_cases(rng):
    """``[(family, bytes, valid)]``: ``valid`` inputs must return an image; the others may only raise
    ``InvalidArgumentError`` (or return, where a corruption left a decodable image)."""
    cases = []
    for _ in range(200):  # random bytes of random lengths, half behind a real magic number
        junk = rng.randint(0, 256, rng.randint(0, 300)).astype("uint8").tobytes()
        cases.append(("random bytes", MAGICS[rng.randint(len(MAGICS))] + junk, False))
    for fmt, family in (("PNG", "truncated PNG"), ("JPEG", "truncated JPEG")):
        for _ in range(150):
            data = encode(random_image(rng), fmt)
            cases.append((family, data[: rng.randint(1, len(data))], False))
    cases += [("zero-length", b"", False)] * 20
    for i in range(40):  # 1x1, 1xN and Nx2 images: valid files, below the 3x3 minimum
        shape = [(1, 1, 3), (1, 7, 3), (5, 2, 3)][i % 3]
        array = rng.randint(0, 256, shape).astype("uint8")
        cases.append(("tiny image", encode(array, ["PNG", "JPEG", "GIF", "BMP"][i % 4]), False))
    for i in range(90):
        cases.append(("huge header", huge_header(rng, ["PNG", "GIF", "BMP"][i % 3]), False))
    for i in range(100):  # grey, grey + alpha and RGBA PNGs: converted to RGB
        channels = [1, 2, 4][i % 3]
        array = random_image(rng, channels)
        cases.append(("grey/RGBA PNG", encode(array, "PNG", mode={1: "L", 2: "LA", 4: "RGBA"}[channels]), True))
    for i in range(100):  # small valid GIF and BMP files (RGB and grey)
        array = random_image(rng, 1 if i % 4 == 3 else 3)
        cases.append(("GIF/BMP", encode(array, "GIF" if i % 2 else "BMP"), True))
    for _ in range(150):  # JPEGs with bytes overwritten in the middle
        data = bytearray(encode(random_image(rng, 3, 8, 24), "JPEG"))
        start = rng.randint(len(data) // 4, 3 * len(data) // 4)
        size = rng.randint(1, 40)
        data[start : start + size] = rng.randint(0, 256, len(data[start : start + size])).astype("uint8").tobytes()
        cases.append(("corrupt JPEG", bytes(data), False))
    assert len(cases) == N_FUZZ
    order = rng.permutation(len(cases))
    return [cases[i] for i in order]


def test_bytes_signature_survives_malformed_images(loaded):
    rng = np.random.RandomState(2024)
    sig = loaded.signatures["bytes"]
    reference = encode(random_image(rng, 3, 9, 15), "PNG")
    first = sig(image_bytes=tf.constant([reference]))["png_bytes"][0].numpy()
    counts = collections.Counter()
    for n, (family, data, valid) in enumerate(fuzz_cases(rng)):
        try:
            out = sig(image_bytes=tf.constant([data]))["png_bytes"][0].numpy()
        except tf.errors.InvalidArgumentError as err:
            assert not valid, f"{family} input {n} is a valid image but was refused: {err.message[:300]}"
            counts[family, "refused"] += 1
        else:
            decoded = tf.io.decode_png(out).numpy()
            assert decoded.ndim == 3 and decoded.shape[-1] == 3 and min(decoded.shape[:2]) >= 3, family
            if valid:  # the output has the input's size (scale 1)
                assert decoded.shape[:2] == Image.open(io.BytesIO(data)).size[::-1], family
            counts[family, "returned"] += 1
        if n % CHECK_EVERY == CHECK_EVERY - 1:  # the server still answers, and the same way
            again = sig(image_bytes=tf.constant([reference]))["png_bytes"][0].numpy()
            np.testing.assert_array_equal(tf.io.decode_png(again).numpy(), tf.io.decode_png(first).numpy())
    print(dict(sorted(counts.items())))
    assert sum(counts.values()) == N_FUZZ
    for family in ("random bytes", "truncated PNG", "truncated JPEG", "zero-length", "tiny image", "huge header"):
        assert counts[family, "refused"] > 0, family
    for family in ("zero-length", "tiny image", "huge header"):  # always refused, never decoded
        assert counts[family, "returned"] == 0, family
    assert counts["grey/RGBA PNG", "returned"] == 100 and counts["GIF/BMP", "returned"] == 100


@pytest.mark.parametrize("data, message", [
    (b"", r"image_bytes\[1\]: empty image data"),
    (b"\x00\x01 not an image", r"image_bytes\[1\]: unsupported image format \(expected PNG, JPEG, GIF or BMP\)"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", r"image_bytes\[1\]: image data cut off inside its header"),
    ("huge", r"image_bytes\[1\]: input is 60000x60000 \(height x width\); this model takes at most 1024 px "
             r"per side \(export --max-side\)"),
    ("1x1", r"image_bytes\[1\]: image is 1x1; images must be at least 3x3 pixels"),
])
def test_bytes_errors_name_the_item_and_the_reason(loaded, data, message):
    rng = np.random.RandomState(0)
    good = encode(random_image(rng), "PNG")
    if data == "huge":
        data = good[:16] + struct.pack(">II", 60000, 60000) + good[24:]
    elif data == "1x1":
        data = encode(np.zeros((1, 1, 3), "uint8"), "PNG")
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        loaded.signatures["bytes"](image_bytes=tf.constant([good, data]))


def test_oversized_image_input_is_refused_with_the_limit(loaded):
    sig = loaded.signatures["serving_default"]
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"input is 2049x8 \(height x width\); this model takes at most 1024 px per side"):
        sig(images=tf.zeros((1, 2049, 8, 3), tf.uint8))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"input is 8x1025"):
        sig(images=tf.zeros((1, 8, 1025, 3), tf.uint8))
    assert sig(images=tf.zeros((1, 1024, 4, 3), tf.uint8))["images"].shape == (1, 1024, 4, 3)  # at the limit
