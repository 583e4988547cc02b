"""Inpainting masks (Context Encoders, Pathak et al. 2016) and masked-image datasets.

Convention: a mask is float32 ``(H, W, 1)`` with **1 where pixels are missing**
(the hole) and 0 where they are known. A masked dataset yields
``(masked image, mask, original)``, the masked image being the original with
the hole set to ``FILL`` (0.0: mid-grey in [-1, 1]; the authors fill with the
dataset's mean colour, which is about that for natural photos).

* ``"center"``: the central square of half the side (64x64 of 128x128, 14x14 of
  28x28), the paper's centre region (``pathak22/context-encoder:train.lua``).
* ``"random"``: random regions as ``train_random.lua`` makes them: uniform noise
  on a coarse grid, bicubically upsampled and thresholded, covering 20-30% of the
  image. The authors threshold at density 0.25 and keep crops whose coverage is
  in [20%, 30%]; we draw the coverage in [20%, 30%] and threshold at that
  quantile, which gives the same masks' statistics without rejection. Each mask
  is a stateless function of ``(seed, example index)``: a held-out split always
  gets the same masks, and training draws new ones every epoch. The authors share
  one mask across a batch; we draw one per example.
"""

import numpy as np
import tensorflow as tf

MASK_KINDS = ("center", "random")
FILL = 0.0
RANDOM_COVERAGE = (0.20, 0.30)
BLOB_PIXELS = 8  # the coarse noise grid has one cell per ~8 pixels (at least 3x3)


def center_mask(height, width, hole=None):
    """float32 ``(H, W, 1)``: 1 on the centre ``hole`` (default ``(H // 2, W // 2)``), 0 elsewhere."""
    hole_h, hole_w = hole if hole is not None else (height // 2, width // 2)
    if not (0 < hole_h < height and 0 < hole_w < width):
        raise ValueError(f"a centre hole of {hole_h}x{hole_w} does not fit in {height}x{width} images.")
    mask = np.zeros((height, width, 1), "float32")
    top, left = (height - hole_h) // 2, (width - hole_w) // 2
    mask[top : top + hole_h, left : left + hole_w] = 1.0
    return mask


def random_mask(height, width, seed):
    """One random-region mask ``(H, W, 1)``, a pure function of ``seed`` (a shape-(2,) int tensor or pair)."""
    seed = tf.cast(seed, tf.int64)
    grid = (max(3, -(-height // BLOB_PIXELS)), max(3, -(-width // BLOB_PIXELS)))
    noise = tf.random.stateless_uniform((*grid, 1), seed=seed)
    smooth = tf.image.resize(noise[None], (height, width), method="bicubic")[0]  # (H, W, 1)
    low, high = RANDOM_COVERAGE
    coverage = tf.random.stateless_uniform((), seed=seed + [0, 1], minval=low, maxval=high)
    values = tf.sort(tf.reshape(smooth, [-1]), direction="DESCENDING")
    count = tf.maximum(1, tf.cast(tf.round(coverage * height * width), tf.int32))
    threshold = values[count - 1]
    return tf.cast(smooth >= threshold, tf.float32)


def apply_mask(images, masks, fill=FILL):
    """Images with the hole (mask 1) set to ``fill``; works on one image or a batch."""
    return images * (1.0 - masks) + fill * masks


def masked(dataset, kind="center", seed=0):
    """Maps a dataset of images ``(H, W, C)`` (unbatched, or ``(image, label)``) to
    ``(masked image, mask, original)``; see the module docstring for the masks."""
    if kind not in MASK_KINDS:
        raise ValueError(f"unknown mask {kind!r}; known masks: {', '.join(MASK_KINDS)}.")
    spec = dataset.element_spec
    image_spec = spec[0] if isinstance(spec, tuple) else spec
    height, width = image_spec.shape[0], image_spec.shape[1]
    if height is None or width is None:
        raise ValueError("masked data needs images of one fixed size: pass image_size.")
    fixed = tf.constant(center_mask(height, width))

    def add_mask(index, element):
        image = element[0] if isinstance(element, tuple) else element
        mask = fixed if kind == "center" else random_mask(height, width, tf.stack([tf.cast(seed, tf.int64), index]))
        return apply_mask(image, mask), mask, image

    return dataset.enumerate().map(add_mask, num_parallel_calls=tf.data.AUTOTUNE)


def check_masks(masks, shape):
    """``masks`` as float32 ``(B, H, W, 1)`` of 0/1 matching images of ``shape`` (B, H, W, C); a clear error
    for a wrong size, an empty mask (nothing to fill) or a full one (nothing to fill from)."""
    given = np.asarray(masks, dtype="float32")
    masks = given
    if masks.ndim == 2:
        masks = masks[None, ..., None]
    elif masks.ndim == 3:
        single = masks.shape[-1] == 1 and tuple(masks.shape[:2]) == tuple(shape[1:3])
        masks = masks[None] if single else masks[..., None]
    if masks.ndim == 4 and masks.shape[0] == 1 and shape[0] > 1:
        masks = np.repeat(masks, shape[0], axis=0)
    if masks.ndim != 4 or masks.shape[-1] != 1 or tuple(masks.shape[:3]) != tuple(shape[:3]):
        raise ValueError(f"masks must be (H, W) or (B, H, W, 1) matching the images {tuple(shape[:3])}; "
                         f"received {tuple(given.shape)}.")
    masks = (masks > 0.5).astype("float32")
    covered = masks.reshape(len(masks), -1).mean(axis=1)
    if (covered == 0.0).any():
        raise ValueError(f"mask {int(np.argmin(covered))} is empty: there is no hole to fill.")
    if (covered == 1.0).any():
        raise ValueError(f"mask {int(np.argmax(covered))} covers the whole image: there is no context to fill from.")
    return masks


PHOTO_SCALE = 4  # photos are resized so their short side is 4 crops: a crop holds a scene's part, not a texture


def _resize_short_side(image, side):
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = float(side) / tf.reduce_min(shape)
    size = tf.cast(tf.round(shape * scale), tf.int32)
    return tf.image.resize(tf.cast(image, tf.float32), size, method="area", antialias=True) / 127.5 - 1.0


def masked_crops(spec, size, batch_size, kind="random", seed=0, split="train", repeat=True):
    """``(masked, mask, original)`` batches of random ``size`` x ``size`` RGB crops (with flips) of photographs:
    ``photos[:split]``, ``folder:PATH`` or ``tfds:...`` (:func:`tfgan_models.data.paired.hr_source`), each
    resized so its short side is ``PHOTO_SCALE`` crops."""
    from tfgan_models.data.paired import hr_source

    images, count = hr_source(spec, split)
    images = images.map(lambda im: _resize_short_side(im, PHOTO_SCALE * size)).cache()
    images = images.shuffle(min(count or 256, 256), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        images = images.repeat()
    crops = images.flat_map(lambda im: tf.data.Dataset.from_tensors(im).repeat(PHOTO_SCALE * PHOTO_SCALE))
    seeds = tf.data.Dataset.random(seed=seed).batch(2)

    def crop(image, s):
        image = tf.image.stateless_random_crop(image, (size, size, 3), seed=s)
        return tf.image.stateless_random_flip_left_right(image, seed=s + 1)

    crops = tf.data.Dataset.zip((crops, seeds)).map(crop, num_parallel_calls=tf.data.AUTOTUNE)
    crops = crops.shuffle(256, seed=seed)
    return masked(crops, kind, seed=seed).batch(int(batch_size), drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def held_out_crops(spec, size, kind="center", split="test", seed=0):
    """Fixed ``(masked, mask, original)`` arrays: a grid of ``PHOTO_SCALE`` x ``PHOTO_SCALE``-ish crops of every
    held-out photograph (same resize as :func:`masked_crops`), with masks fixed by ``seed``."""
    from tfgan_models.data.paired import hr_source

    images, _ = hr_source(spec, split)
    crops = []
    for image in images:
        image = _resize_short_side(image, PHOTO_SCALE * size).numpy()
        h, w = image.shape[:2]
        for top in range(0, h - size + 1, size):
            for left in range(0, w - size + 1, size):
                crops.append(image[top : top + size, left : left + size])
    ds = masked(tf.data.Dataset.from_tensor_slices(np.stack(crops)), kind, seed=seed)
    return [t.numpy() for t in next(iter(ds.batch(len(crops))))]
