"""Super-resolution pairs: any high-resolution (HR) image source -> (LR, HR) pairs.

Sources (the ``spec`` string):

* ``photos[:train|test|extra|all]``: the photographs shipped inside
  scikit-image and scikit-learn, no download. Split of ANCHORS P3: train on
  rocket, hubble_deep_field, immunohistochemistry, retina, china and flower;
  test on astronaut, coffee and chelsea. ``extra`` holds two more (motorcycle,
  camera); splits join with ``+`` (``photos:train+extra``).
* ``tfds:NAME[/CONFIG][:SPLIT]``: any TFDS image set (for ``div2k/*`` the
  ``hr`` image is used and the LR is made here, so every set is degraded alike).
* ``folder:PATH``: a recursive folder of jpg/png images.

Training pairs are random HR crops (``hr_crop`` pixels) with random flips and
rot90, and their LR made by **bicubic downscaling with antialias**
(``tf.image.resize(..., "bicubic", antialias=True)``), rounded to 8-bit levels
as a saved LR image would be. ``degradation="realistic"`` adds, as in
Real-ESRGAN's first-order model, a Gaussian blur before the downscale and
Gaussian noise and JPEG compression after it. Bicubic resizing has no XLA
kernel, so it runs here in the ``tf.data`` pipeline, never in a jit-compiled
step. Pixels are float32 in [-1, 1].

The evaluation split (:func:`eval_images`) is whole images, not crops: the HR
image cut to a multiple of the scale ("modcrop"), its LR, both uint8.
"""

import numpy as np
import tensorflow as tf

from tfgan_models.data.folder import scan_folder
from tfgan_models.data.images import informative, set_channels
from tfgan_models.data.tfds_source import load_tfds, parse_tfds_spec

PHOTOS_TRAIN = ("rocket", "hubble_deep_field", "immunohistochemistry", "retina", "china", "flower")
PHOTOS_TEST = ("astronaut", "coffee", "chelsea")
# Outside ANCHORS P3's split, shipped with scikit-image too: natural photos that none of the test
# photos shows (the left view of stereo_motorcycle; camera, grey). The SR demo trains on train+extra.
PHOTOS_EXTRA = ("motorcycle", "camera")
PAIRED_SPEC_HELP = "photos[:train|test|extra|all|train+extra], tfds:NAME[/CONFIG][:SPLIT], folder:PATH"
REALISTIC = {"blur_sigma": (0.2, 2.0), "noise_sigma": (0.0, 8.0), "jpeg_quality": (40, 95)}


def photo(name):
    """One embedded photograph, uint8 (H, W, 3) (the grey ``camera`` repeated on 3 channels)."""
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return np.asarray(load_sample_image(f"{name}.jpg"), "uint8")
    import skimage.data

    known = PHOTOS_TRAIN + PHOTOS_TEST + PHOTOS_EXTRA
    if name not in known:
        raise ValueError(f"unknown embedded photo {name!r}; known: {', '.join(known)}.")
    if name == "motorcycle":
        return np.asarray(skimage.data.stereo_motorcycle()[0], "uint8")  # the left view
    if name == "camera":
        return np.repeat(np.asarray(skimage.data.camera(), "uint8")[..., None], 3, axis=-1)
    return np.asarray(getattr(skimage.data, name)(), "uint8")[..., :3]


def photo_names(split="all"):
    """Names of the embedded photos of ``split``: ``train``, ``test``, ``extra``, ``all`` (train and test),
    or several joined with ``+`` (``train+extra``)."""
    splits = {"train": PHOTOS_TRAIN, "test": PHOTOS_TEST, "extra": PHOTOS_EXTRA, "all": PHOTOS_TRAIN + PHOTOS_TEST}
    parts = split.split("+") if isinstance(split, str) else [split]
    if not all(p in splits for p in parts):
        raise ValueError(f"photos has splits 'train', 'test', 'extra' and 'all', joined with '+' for more than "
                         f"one (e.g. 'train+extra'); received {split!r}.")
    names = [n for p in parts for n in splits[p]]
    return list(dict.fromkeys(names))  # each photo once


def parse_paired_spec(spec, split="train"):
    """``spec`` -> ``(kind, argument)``; ``photos`` without a split takes ``split``."""
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"a paired data spec must be a non-empty string ({PAIRED_SPEC_HELP}); received {spec!r}.")
    kind, _, arg = spec.partition(":")
    if kind == "photos":
        photo_names(arg or split)  # validates the split
        return kind, arg or split
    if kind in ("tfds", "folder") and arg:
        return kind, arg
    raise ValueError(f"unknown paired data spec {spec!r}; known specs: {PAIRED_SPEC_HELP}.")


def hr_source(spec, split="train"):
    """``(dataset of uint8 (H, W, 3) HR images, number of images or None)``."""
    kind, arg = parse_paired_spec(spec, split)
    if kind == "photos":
        images = [photo(n) for n in photo_names(arg)]
        ds = tf.data.Dataset.from_generator(
            lambda: iter(images), output_signature=tf.TensorSpec((None, None, 3), tf.uint8))
        return ds.apply(tf.data.experimental.assert_cardinality(len(images))), len(images)
    if kind == "tfds":
        raw, _ = load_tfds(*parse_tfds_spec(arg))
        ds = raw.map(lambda image, label: set_channels(image, 3), num_parallel_calls=tf.data.AUTOTUNE)
        count = int(ds.cardinality())
        return ds, count if count > 0 else None
    files, _, _ = scan_folder(arg)
    ds = tf.data.Dataset.from_tensor_slices(files).map(
        lambda f: tf.ensure_shape(tf.io.decode_image(tf.io.read_file(f), channels=3, expand_animations=False),
                                  (None, None, 3)),
        num_parallel_calls=tf.data.AUTOTUNE)
    return ds, len(files)


def check_scale(scale, hr_crop=None):
    if int(scale) not in (2, 3, 4, 8):
        raise ValueError(f"scale must be 2, 3, 4 or 8, received {scale!r}.")
    if hr_crop is not None and (int(hr_crop) % int(scale) or int(hr_crop) < int(scale)):
        raise ValueError(f"hr_crop must be a positive multiple of the scale {scale}, received {hr_crop!r}.")
    return int(scale)


def check_degradation(degradation):
    """``None`` | ``"realistic"`` | a dict with any of REALISTIC's keys -> dict or None."""
    if degradation is None:
        return None
    if degradation == "realistic":
        return dict(REALISTIC)
    if isinstance(degradation, dict) and set(degradation) <= set(REALISTIC):
        return {k: tuple(float(x) for x in v) for k, v in degradation.items()}
    raise ValueError(f"degradation must be None, 'realistic' or a dict with keys {sorted(REALISTIC)}; "
                     f"received {degradation!r}.")


def downscale(hr, scale, degradation=None, seed=None):
    """HR float [0, 255] (..., H, W, 3) -> LR float [0, 255] (..., H/s, W/s, 3) on 8-bit levels.

    ``seed``: a stateless seed ``(2,)`` int tensor for the random degradation.
    """
    size = tf.shape(hr)[-3:-1] // scale
    if degradation and "blur_sigma" in degradation:
        hr = _gaussian_blur(hr, _uniform(seed, 0, degradation["blur_sigma"]))
    lr = tf.image.resize(hr, size, method="bicubic", antialias=True)
    if degradation and "noise_sigma" in degradation:
        sigma = _uniform(seed, 1, degradation["noise_sigma"])
        lr += sigma * tf.random.stateless_normal(tf.shape(lr), seed=_fold(seed, 2))
    lr = tf.round(tf.clip_by_value(lr, 0.0, 255.0))
    if degradation and "jpeg_quality" in degradation:
        low, high = degradation["jpeg_quality"]
        quality = tf.random.stateless_uniform((), _fold(seed, 3), int(low), int(high) + 1, tf.int32)
        lr = tf.cast(tf.image.adjust_jpeg_quality(tf.cast(lr, tf.uint8), quality), tf.float32)
    return lr


def bicubic_upscale(lr, scale):
    """uint8 LR (h, w, C) -> uint8 (s*h, s*w, C): the bicubic baseline (``tf.image.resize``)."""
    lr = np.asarray(lr)
    up = tf.image.resize(lr.astype("float32")[None], (lr.shape[0] * scale, lr.shape[1] * scale), "bicubic")
    return np.clip(np.round(up.numpy()[0]), 0, 255).astype("uint8")


def _fold(seed, i):
    return tf.random.experimental.stateless_fold_in(seed, i)


def _uniform(seed, i, bounds):
    return tf.random.stateless_uniform((), _fold(seed, i), float(bounds[0]), float(bounds[1]))


def _gaussian_blur(image, sigma, radius=5):
    """Separable Gaussian blur of (H, W, C) float with a traced ``sigma``; reflect padding."""
    x = tf.cast(tf.range(-radius, radius + 1), tf.float32)
    kernel = tf.exp(-(x**2) / (2.0 * sigma**2))
    kernel /= tf.reduce_sum(kernel)
    channels = image.shape[-1]
    padded = tf.pad(image[None], [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode="REFLECT")
    kh = tf.tile(tf.reshape(kernel, (-1, 1, 1, 1)), (1, 1, channels, 1))
    kw = tf.tile(tf.reshape(kernel, (1, -1, 1, 1)), (1, 1, channels, 1))
    out = tf.nn.depthwise_conv2d(padded, kh, (1, 1, 1, 1), "VALID")
    return tf.nn.depthwise_conv2d(out, kw, (1, 1, 1, 1), "VALID")[0]


def _augmented_crop(hr_image, seed, hr_crop):
    """uint8 HR image, stateless seed -> a random flipped and rotated HR crop (c, c, 3), float [0, 255]."""
    shape = tf.shape(hr_image)
    # Images smaller than the crop are upscaled first (a rare, small folder image).
    short = tf.minimum(shape[0], shape[1])
    image = tf.cast(hr_image, tf.float32)
    image = tf.cond(short < hr_crop,
                    lambda: tf.image.resize(image, tf.cast(tf.math.ceil(
                        tf.cast(shape[:2], tf.float32) * hr_crop / tf.cast(short, tf.float32)), tf.int32),
                        "bicubic"),
                    lambda: image)
    hr = tf.image.stateless_random_crop(image, (hr_crop, hr_crop, 3), seed=_fold(seed, 10))
    hr = tf.image.stateless_random_flip_left_right(hr, seed=_fold(seed, 11))
    k = tf.random.stateless_uniform((), _fold(seed, 12), 0, 4, tf.int32)
    hr = tf.image.rot90(hr, k)
    return tf.ensure_shape(tf.round(tf.clip_by_value(hr, 0.0, 255.0)), (hr_crop, hr_crop, 3))


def _pair(hr, seed, scale, hr_crop, degradation):
    """HR crop float [0, 255], stateless seed -> (LR (c/s, c/s, 3), HR (c, c, 3)) in [-1, 1]."""
    lr = downscale(hr, scale, degradation, seed)
    lr = tf.ensure_shape(lr, (hr_crop // scale, hr_crop // scale, 3))
    hr = tf.ensure_shape(hr, (hr_crop, hr_crop, 3))
    return lr / 127.5 - 1.0, hr / 127.5 - 1.0


def load_pairs(spec, scale=4, hr_crop=96, batch_size=16, degradation=None, split="train", seed=None,
               repeat=True, crops_per_image=None, skip_flat=None):
    """Batches of ``(LR (B, c/s, c/s, 3), HR (B, c, c, 3))`` float32 in [-1, 1].

    Args:
        spec: ``photos[:train|test|extra|all]`` (splits joined with ``+``),
            ``tfds:NAME[/CONFIG][:SPLIT]`` or ``folder:PATH``.
        scale: 2, 3, 4 or 8; ``hr_crop`` must be a multiple of it.
        hr_crop: side of the random HR crops (96 in SRGAN, 128 in ESRGAN).
        degradation: ``None`` (bicubic only), ``"realistic"`` (blur, noise,
            JPEG) or a dict of ranges, see ``REALISTIC``.
        split: the photos split when ``spec`` names none.
        seed: crops, flips, rotations and degradations are reproducible from it.
        repeat: repeat forever (pass ``steps_per_epoch`` to ``fit``).
        crops_per_image: crops drawn from each image per pass; default: enough
            to cover the image's area once (at least 1), so a few large photos
            give as many crops as their pixels allow.
        skip_flat: drop HR crops that are nearly black or flat
            (:func:`~tfgan_models.data.images.informative`), as the translation
            pipeline does. Default: on for the embedded photos, whose black
            backgrounds (retina, hubble_deep_field) are three quarters of their
            area and carry no detail to learn; off for TFDS and folders, whose
            content is not known (a folder of dark images would never yield a batch).
    """
    scale = check_scale(scale, hr_crop)
    degradation = check_degradation(degradation)
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1, received {batch_size!r}.")
    images, count = hr_source(spec, split)
    hr_crop = int(hr_crop)
    if count is not None and count <= 64:
        images = images.cache()  # small sources (photos) stay decoded in memory
    if crops_per_image is None:
        area = float(hr_crop * hr_crop)
        crops = lambda im: tf.maximum(tf.constant(1, tf.int64), tf.cast(  # noqa: E731
            tf.cast(tf.shape(im)[0] * tf.shape(im)[1], tf.float32) / area, tf.int64))
    else:
        crops = lambda im: tf.constant(int(crops_per_image), tf.int64)  # noqa: E731
    images = images.shuffle(min(count or 1000, 1000), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        images = images.repeat()
    ds = images.flat_map(lambda im: tf.data.Dataset.from_tensors(im).repeat(crops(im)))
    ds = ds.shuffle(256, seed=seed, reshuffle_each_iteration=True)
    seeds = tf.data.Dataset.random(seed=seed).batch(2)
    ds = tf.data.Dataset.zip((ds, seeds)).map(
        lambda im, s: (_augmented_crop(im, s, hr_crop), s), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if skip_flat is None:
        skip_flat = parse_paired_spec(spec, split)[0] == "photos"
    if skip_flat:  # before the downscale: a skipped crop costs no resize
        ds = ds.filter(lambda hr, s: informative(hr))
    ds = ds.map(lambda hr, s: _pair(hr, s, scale, hr_crop, degradation), num_parallel_calls=tf.data.AUTOTUNE,
                deterministic=True)
    return ds.batch(int(batch_size), drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def steps_per_epoch(spec, hr_crop=96, batch_size=16, split="train"):
    """Steps of one pass of :func:`load_pairs` (default ``crops_per_image``), or ``None`` when unknown.

    Computed from the image sizes for photos and folders; for TFDS, one crop
    per image (their sizes are not known without reading them).
    """
    kind, arg = parse_paired_spec(spec, split)
    if kind == "photos":
        sizes = [photo(n).shape[:2] for n in photo_names(arg)]
    elif kind == "folder":
        from PIL import Image

        sizes = []
        for f in scan_folder(arg)[0]:
            with Image.open(f) as im:
                sizes.append(im.size[::-1])
    else:
        count = hr_source(spec, split)[1]
        return max(1, count // int(batch_size)) if count else None
    crops = sum(max(1, (h * w) // (hr_crop * hr_crop)) for h, w in sizes)
    return max(1, crops // int(batch_size))


def eval_images(spec, scale=4, degradation=None, split="test", limit=None, seed=0):
    """Whole evaluation images: a list of ``(name, LR uint8 (h, w, 3), HR uint8 (s*h, s*w, 3))``.

    The HR image is cut at the bottom and right to a multiple of ``scale``
    (modcrop), the LR made from it as in training (deterministically, from
    ``seed``, when a degradation is given).
    """
    scale = check_scale(scale)
    degradation = check_degradation(degradation)
    kind, arg = parse_paired_spec(spec, split)
    names = photo_names(arg) if kind == "photos" else None
    ds, _ = hr_source(spec, split)
    out = []
    for i, hr in enumerate(ds):
        if limit is not None and i >= int(limit):
            break
        h, w = (int(hr.shape[0]) // scale) * scale, (int(hr.shape[1]) // scale) * scale
        hr = tf.cast(hr[:h, :w], tf.float32)
        lr = downscale(hr, scale, degradation, tf.constant([int(seed), i], tf.int64))
        name = names[i] if names else f"{kind}_{i:04d}"
        out.append((name, lr.numpy().astype("uint8"), hr.numpy().astype("uint8")))
    if not out:
        raise ValueError(f"data {spec!r} holds no evaluation image.")
    return out
