"""Captioned images for text-to-image GANs (GAN-INT-CLS, StackGAN).

The ``shapes`` set follows the protocol of Reed et al. 2016, "Generative
Adversarial Text to Image Synthesis" (ICML): images described by several
free-form captions, a held-out set of caption strings, and a zero-shot split of
attribute combinations never seen in training. Here the images are drawn on
this machine, so every caption is exactly true and nothing is downloaded:

* one filled shape (circle, square, triangle) of one colour (red, green, blue,
  yellow) and size (small ~30% of the side, large ~55%) in one position (four
  corners or the centre, with a little jitter), anti-aliased (drawn at 4x and
  averaged) on a near-black background;
* captions from :data:`TEMPLATES` with synonyms ("a tiny crimson disc in the
  upper left corner"); some templates leave out the size or the position;
* splits: ``train`` has the seen combinations and only caption strings that
  :func:`is_held_out_caption` keeps (crc32, about 80%); ``test`` the seen
  combinations with held-out strings only; ``zero_shot`` the :data:`ZERO_SHOT`
  combinations with held-out strings.

Other sources: ``captions:DIR`` (images with a ``.txt`` of captions beside
each, one per line) and ``tfds:coco_captions``. :func:`load_captioned` gives
batches of ``(images float32 [-1, 1], captions tf.string, classes int32)``.
"""

import os
import warnings
import zlib

import numpy as np
import tensorflow as tf

from tfgan_models.data.folder import IMAGE_EXTENSIONS
from tfgan_models.data.images import center_crop_resize, to_model_range

SHAPES = ("circle", "square", "triangle")
COLOURS = ("red", "green", "blue", "yellow")
SIZES = ("small", "large")
POSITIONS = ("top left", "top right", "bottom left", "bottom right", "centre")
# (shape, colour, size) never in train; every shape, colour and size, and every (shape, colour) pair, still is
ZERO_SHOT = ((0, 2, 1), (1, 3, 0), (2, 0, 1), (2, 1, 0))
SPLITS = {"train": 6000, "test": 1200, "zero_shot": 600}
RESOLUTIONS = (16, 32, 64)
SPEC_HELP = "shapes[:train|test|zero_shot], captions:DIR, tfds:coco_captions"

SYNONYMS = {
    "shape": (("circle", "disc", "round shape", "dot"), ("square", "box", "block"),
              ("triangle", "three-sided shape", "wedge")),
    "colour": (("red", "crimson", "scarlet"), ("green", "emerald", "lime"), ("blue", "azure", "navy"),
               ("yellow", "golden", "lemon")),
    "size": (("small", "tiny", "little"), ("large", "big", "huge")),
    "where": (("in the top left", "at the upper left corner", "in the top left corner", "at the top left"),
              ("in the top right", "at the upper right corner", "in the top right corner", "at the top right"),
              ("in the bottom left", "at the lower left corner", "in the bottom left corner", "at the lower left"),
              ("in the bottom right", "at the lower right corner", "in the bottom right corner",
               "at the lower right"),
              ("in the centre", "in the middle", "at the center", "in the centre of the picture")),
}
TEMPLATES = (
    "a {size} {colour} {shape} {where}",
    "a {size} {colour} {shape}",  # no position
    "a {colour} {shape} {where}",  # no size
    "there is a {size} {colour} {shape} {where}",
    "{where} there is a {size} {colour} {shape}",
    "a picture of a {size} {colour} {shape} {where}",
    "a {size} {shape} painted {colour} {where}",
    "this image shows a {colour} {shape} {where}",  # no size
    "the {colour} {shape} {where} is {size}",
    "a {size} {colour} {shape} on a dark background",  # no position
    "one {colour} {shape}, {size}, placed {where}",
    "a dark picture with a {size} {colour} {shape} {where}",
    "a {colour} {shape}",  # neither size nor position
)
RGB = np.array([(235, 35, 35), (30, 200, 50), (40, 90, 255), (250, 225, 20)], "float32")
EXTENT = (0.30, 0.55)  # shape width and height as a share of the side, small and large
SUPERSAMPLE = 4
HELD_OUT_SHARE = 5  # one caption string in 5 is held out
COCO_SPLITS = {"train": "train", "test": "val"}
COCO_IMAGES = {"train": 82783, "val": 5000}  # TFDS's Karpathy splits, used when the builder has no split info
CAPTIONS_PER_IMAGE = 5


def combo_id(shape, colour, size):
    """``shape * 8 + colour * 2 + size``, in ``[0, 24)`` (works on arrays too)."""
    return shape * (len(COLOURS) * len(SIZES)) + colour * len(SIZES) + size


def caption(shape, colour, size, position, rng):
    """One random caption (lower-case ASCII) for the attribute indices, from :data:`TEMPLATES` and synonyms."""
    template = TEMPLATES[rng.randint(len(TEMPLATES))]
    chosen = {key: options[rng.randint(len(options))] for key, options in (
        ("shape", SYNONYMS["shape"][shape]), ("colour", SYNONYMS["colour"][colour]),
        ("size", SYNONYMS["size"][size]), ("where", SYNONYMS["where"][position]))}
    words = template.format(**chosen).split(" ")
    return " ".join("an" if w == "a" and i + 1 < len(words) and words[i + 1][:1] in "aeiou" else w
                    for i, w in enumerate(words))


def is_held_out_caption(text):
    """Whether the caption string is held out of training (crc32 of the text; about 20% are)."""
    return zlib.crc32(text.encode("utf-8")) % HELD_OUT_SHARE == 0


def draw_shapes(shape, colour, size, position, resolution, rng):
    """uint8 ``(N, resolution, resolution, 3)`` pictures for attribute index arrays (or scalars) of length N.

    Deterministic given ``rng`` (a ``np.random.RandomState``): it draws the jitter of each position, a
    per-image background brightness and a slight colour variation.
    """
    shape, colour, size, position = (np.atleast_1d(np.asarray(a, "int64")) for a in (shape, colour, size, position))
    n, res = len(shape), int(resolution)
    half = np.asarray(EXTENT, "float32")[size] / 2
    margin = 0.06 + half  # corners: the shape's box sits about 6% from the edges
    col = np.where(np.isin(position, (0, 2)), margin, 1 - margin)
    row = np.where(position < 2, margin, 1 - margin)
    centre = position == 4
    cx = np.where(centre, 0.5, col) + rng.uniform(-0.04, 0.04, n)
    cy = np.where(centre, 0.5, row) + rng.uniform(-0.04, 0.04, n)
    cx, cy = np.clip(cx, half + 0.01, 1 - half - 0.01), np.clip(cy, half + 0.01, 1 - half - 0.01)
    background = rng.uniform(8, 40, (n, 1, 1, 1)).astype("float32")
    paint = RGB[colour] * rng.uniform(0.92, 1.0, (n, 1)).astype("float32")
    grid = (np.arange(res * SUPERSAMPLE, dtype="float32") + 0.5) / (res * SUPERSAMPLE)
    out = np.empty((n, res, res, 3), "uint8")
    step = max(1, 2 ** 22 // len(grid) ** 2)  # about 4M sub-pixels per chunk
    for lo in range(0, n, step):
        s = slice(lo, lo + step)
        dx = grid[None, None, :] - cx[s, None, None].astype("float32")
        dy = grid[None, :, None] - cy[s, None, None].astype("float32")
        r = half[s, None, None]
        circle = dx * dx + dy * dy <= r * r
        square = np.maximum(np.abs(dx), np.abs(dy)) <= 0.9 * r
        triangle = (dy <= r) & (np.abs(dx) <= (dy + r) / 2)  # apex up, base at the bottom
        kind = shape[s, None, None]
        mask = np.where(kind == 0, circle, np.where(kind == 1, square, triangle))
        cover = mask.reshape(-1, res, SUPERSAMPLE, res, SUPERSAMPLE).mean(axis=(2, 4), dtype="float32")[..., None]
        pixels = background[s] * (1 - cover) + paint[s, None, None, :] * cover
        out[s] = np.clip(np.round(pixels), 0, 255).astype("uint8")
    return out


def _check_split(split, known):
    if split not in known:
        raise ValueError(f"unknown split {split!r}; this captioned data has: {', '.join(known)}.")


def shapes_arrays(split="train", resolution=16, seed=0):
    """The ``split`` of the captioned-shapes set: a dict of images, captions and attribute indices.

    Keys: ``images`` uint8 (N, R, R, 3), ``captions`` (list of str), ``shape``, ``colour``, ``size``,
    ``position`` and ``combo`` int32 (N,). Same arguments, same arrays; each split draws from its own
    ``RandomState`` seeded by ``(seed, split)``.
    """
    _check_split(split, tuple(SPLITS))
    if int(resolution) not in RESOLUTIONS:
        raise ValueError(f"captioned shapes come at {', '.join(map(str, RESOLUTIONS))} px; received {resolution!r}.")
    rng = np.random.RandomState([int(seed), zlib.crc32(split.encode())])
    everything = [(s, c, z) for s in range(len(SHAPES)) for c in range(len(COLOURS)) for z in range(len(SIZES))]
    combos = np.array(ZERO_SHOT if split == "zero_shot" else [t for t in everything if t not in ZERO_SHOT])
    n = SPLITS[split]
    shape, colour, size = combos[rng.randint(len(combos), size=n)].T
    position = rng.randint(len(POSITIONS), size=n)
    want_held_out = split != "train"
    captions = []
    for attributes in zip(shape, colour, size, position):
        for _ in range(10000):
            text = caption(*attributes, rng)
            if is_held_out_caption(text) == want_held_out:
                break
        else:
            raise RuntimeError(f"no {split} caption found for {attributes}")  # cannot happen with these templates
        captions.append(text)
    images = draw_shapes(shape, colour, size, position, resolution, rng)
    ints = {k: np.asarray(v, "int32") for k, v in
            dict(shape=shape, colour=colour, size=size, position=position).items()}
    return dict(images=images, captions=captions, combo=combo_id(ints["shape"], ints["colour"], ints["size"]), **ints)


# ------------------------------------------------------------------ captions:DIR
_VERDICTS = {}  # (path, size, mtime) -> whether TF decodes the file


def _decodes(path):
    stat = os.stat(path)
    key = (path, stat.st_size, stat.st_mtime_ns)
    if key not in _VERDICTS:
        try:
            tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
            _VERDICTS[key] = True
        except Exception:  # TF raises InvalidArgumentError and friends for a bad file
            _VERDICTS[key] = False
    return _VERDICTS[key]


def scan_captioned_folder(folder, warn=True):
    """``(paths, captions, classes)``: one entry per (image, caption line) under ``folder``, recursively.

    An image is used when a ``.txt`` of the same stem holds at least one non-blank line and TF decodes it;
    the others are skipped with one warning naming them. ``classes`` is the image's index among the used
    images in sorted order.
    """
    if not os.path.isdir(folder):
        raise ValueError(f"captions folder {folder!r} does not exist or is not a folder.")
    used, skipped = [], []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            full = os.path.join(root, name)
            if name.startswith(".") or not name.lower().endswith(IMAGE_EXTENSIONS):
                continue
            text_file = os.path.splitext(full)[0] + ".txt"
            lines = []
            if os.path.isfile(text_file):
                with open(text_file, encoding="utf-8", errors="replace") as f:
                    lines = [line.strip() for line in f if line.strip()]
            if lines and _decodes(full):
                used.append((full, lines))
            else:
                skipped.append(os.path.relpath(full, folder))
    if skipped and warn:
        shown = ", ".join(skipped[:5]) + (", ..." if len(skipped) > 5 else "")
        warnings.warn(f"captions folder {folder}: skipped {len(skipped)} image(s) with no .txt, an empty .txt "
                      f"or that do not decode: {shown}", stacklevel=3)
    if not used:
        raise ValueError(f"captions folder {folder!r} holds no usable image: each needs a .txt of the same name "
                         f"with at least one caption line, and must decode as jpg/png/bmp/gif "
                         f"({len(skipped)} skipped).")
    rows = [(path, line, index) for index, (path, lines) in enumerate(used) for line in lines]
    paths, captions, classes = zip(*rows)
    return list(paths), list(captions), list(classes)


# ------------------------------------------------------------------ specs
def parse_captioned(spec, split="train"):
    """``(kind, argument, split)`` with kind ``shapes``, ``captions`` or ``tfds``; errors for anything else."""
    kind, _, rest = str(spec).partition(":")
    if kind == "shapes":
        split = rest or split
        _check_split(split, tuple(SPLITS))
        return kind, None, split
    if kind == "captions" and rest:
        _check_split(split, ("train",))
        return kind, rest, split
    if kind == "tfds" and rest == "coco_captions":
        _check_split(split, tuple(COCO_SPLITS))
        return kind, rest, COCO_SPLITS[split]
    raise ValueError(f"unknown captioned data {spec!r}; known: {SPEC_HELP}")


def captioned_size(spec, split="train"):
    """Number of (image, caption) examples; for ``tfds:coco_captions`` approximate (5 captions an image)."""
    kind, argument, split = parse_captioned(spec, split)
    if kind == "shapes":
        return SPLITS[split]
    if kind == "captions":
        return len(scan_captioned_folder(argument, warn=False)[0])
    import tensorflow_datasets as tfds

    try:
        images = tfds.builder("coco_captions").info.splits[split].num_examples
    except Exception:  # not prepared here: no split info
        images = 0
    return int(images or COCO_IMAGES[split]) * CAPTIONS_PER_IMAGE


def load_captioned(spec, batch_size=64, image_size=16, split="train", shuffle=True, seed=None, repeat=True):
    """Batches of ``(images float32 (B, S, S, 3) in [-1, 1], captions tf.string (B,), classes int32 (B,))``.

    ``spec``: one of :data:`SPEC_HELP`. Classes are :func:`combo_id` for shapes, the image's index for a
    folder and ``image/id`` for COCO. ``seed`` seeds the shuffle only (shapes are always those of
    ``shapes_arrays(split, image_size, seed=0)``). With ``repeat`` the data repeat and the last partial
    batch is dropped (static batch size); otherwise one pass, partial batch kept.
    """
    kind, argument, split = parse_captioned(spec, split)
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1, received {batch_size!r}.")
    size = int(image_size)
    if kind == "shapes" and size not in RESOLUTIONS:
        raise ValueError(f"captioned shapes come at {', '.join(map(str, RESOLUTIONS))} px; received {image_size!r}.")
    if size < 8:
        raise ValueError(f"image_size must be >= 8, received {image_size!r}.")

    def square(image):  # uint8 (H, W, 3) -> float32 (size, size, 3) in [-1, 1]
        image = center_crop_resize(to_model_range(image), (size, size))
        return tf.ensure_shape(tf.clip_by_value(image, -1.0, 1.0), (size, size, 3))

    if kind == "shapes":
        arrays = shapes_arrays(split, size, seed=0)
        ds = tf.data.Dataset.from_tensor_slices((arrays["images"], arrays["captions"], arrays["combo"]))
        prepare, buffer = (lambda im, text, c: (to_model_range(im), text, c)), SPLITS[split]
    elif kind == "captions":
        paths, captions, classes = scan_captioned_folder(argument)
        ds = tf.data.Dataset.from_tensor_slices((paths, captions, np.asarray(classes, "int32")))

        def prepare(path, text, c):
            image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
            return square(image), text, c

        buffer = len(paths)
    else:
        import tensorflow_datasets as tfds

        try:
            ds = tfds.load("coco_captions", split=split, shuffle_files=shuffle)
        except Exception as err:  # missing download, no network
            raise ValueError(f"cannot load TFDS dataset 'coco_captions' split {split!r}: {err}") from err

        def pairs(example):  # one element per caption, the image prepared once
            image, c = square(example["image"]), tf.cast(example["image/id"], tf.int32)
            texts = example["captions"]["text"]
            return tf.data.Dataset.from_tensor_slices(texts).map(lambda text: (image, text, c))

        ds, prepare, buffer = ds.flat_map(pairs), None, 1000
    if shuffle:
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    if prepare is not None:
        ds = ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(int(batch_size), drop_remainder=bool(repeat)).prefetch(tf.data.AUTOTUNE)
