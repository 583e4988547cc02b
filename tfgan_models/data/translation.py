"""Image-translation data: paired ``(input, target)`` and unpaired ``(a, b)`` batches.

Every element is float32 RGB in [-1, 1], ``(B, S, S, 3)``: grey sources are
replicated to three channels, so one exported translator takes any photo.

Paired specs (Pix2Pix)::

    paired:DIR_A,DIR_B   two aligned folders; files matched by relative path without extension
    paired:avatars/ATTR  the same rendered face without -> with an attribute (Smile, Glasses, GreyHair, Beard)
    colorize:SOURCE      grey (replicated to RGB) -> the colour image
    edges:SOURCE         edge map (dark Sobel edges on white) -> the image

Unpaired specs (CycleGAN, DiscoGAN)::

    unpaired:SOURCE_A,SOURCE_B   any two image sources, drawn independently
    tfds:cycle_gan/NAME          its trainA / trainB splits (testA / testB held out)
    tfds:celeb_a + domains       FaceApp-style attribute split, e.g. domains "Young,-Young":
                                 A = young faces, B = the others (``+`` joins attributes)
    avatars + domains            the same on rendered cartoon faces (:mod:`tfgan_models.data.avatars`),
                                 e.g. domains "Smile,-Smile"; held-out identities for the test split

An image ``SOURCE`` is ``photos[:train|test|all]`` (the embedded photographs),
``digits[:train|test]``, ``faces`` (scikit-image's LFW crops),
``folder:PATH``, ``tfds:NAME[/CONFIG][:SPLIT]``, or a transform of one:
``grey:SOURCE``, ``inverted:SOURCE``, ``hue:SOURCE`` (hue rotated by 120
degrees: the benchmark's known mapping).

Augmentation follows the papers: object-centred images (faces, TFDS sets,
folders, digits) are centre-cropped to a square, resized to ``286/256`` of the
crop size and randomly cropped back ("jitter"), then randomly flipped; the
large embedded photos are cut into random crops at their own resolution, as
in super-resolution, 32 per photo per pass, skipping nearly black or flat
crops (:func:`informative`). Both sides of a pair get the same crop and flip.
"""

import os

import numpy as np
import tensorflow as tf

from tfgan_models.data import avatars, paired as paired_data
from tfgan_models.data.folder import scan_folder
from tfgan_models.data.images import informative, set_channels
from tfgan_models.data.tfds_source import parse_tfds_spec

PAIRED_KINDS = ("paired", "colorize", "edges")
UNPAIRED_KINDS = ("unpaired",)
TRANSFORMS = ("grey", "inverted", "hue")
SOURCE_HELP = ("photos[:train|test|all], digits[:train|test], faces, folder:PATH, tfds:NAME[/CONFIG][:SPLIT], "
               "grey:SOURCE, inverted:SOURCE, hue:SOURCE")
SPEC_HELP = ("paired: paired:DIR_A,DIR_B, paired:avatars/ATTRIBUTE, colorize:SOURCE, edges:SOURCE; unpaired: "
             "unpaired:SOURCE_A,SOURCE_B, tfds:cycle_gan/NAME, tfds:celeb_a or avatars with domains ATTR,-ATTR; "
             "SOURCE: " + SOURCE_HELP)
HUE_SHIFT = 1.0 / 3.0   # the known mapping of hue:SOURCE, a 120-degree hue rotation
JITTER = 286.0 / 256.0  # load size / crop size of Pix2Pix and CycleGAN
EDGE_THRESHOLD = 0.35   # Sobel magnitude (pixels in [0, 1]) above which a pixel is an edge
CROPS_PER_PHOTO = 32    # crops of each large photo per pass: every photo weighs the same


# ------------------------------------------------------------------ specs
def spec_kind(spec):
    """``"paired"`` or ``"unpaired"`` for a translation spec; ``ValueError`` otherwise."""
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"a translation data spec must be a non-empty string ({SPEC_HELP}); received {spec!r}.")
    kind, _, arg = spec.partition(":")
    if kind in PAIRED_KINDS and arg:
        if kind == "paired" and arg.startswith("avatars/"):
            avatars.check_attribute(arg.partition("/")[2], binary=True)
        elif kind == "paired":
            _two(spec, arg)
        else:
            check_source(arg)
        return "paired"
    if kind == "unpaired" and arg:
        for side in _two(spec, arg):
            check_source(side)
        return "unpaired"
    if kind == "tfds" and arg or spec == "avatars":
        return "unpaired"
    raise ValueError(f"unknown translation data spec {spec!r}; known specs: {SPEC_HELP}.")


def _two(spec, arg):
    parts = arg.split(",")
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"{spec!r} needs two comma-separated parts, e.g. {spec.partition(':')[0]}:A,B.")
    return parts


def check_source(source):
    kind, _, arg = source.partition(":")
    if kind in TRANSFORMS and arg:
        return check_source(arg)
    if kind == "photos":
        paired_data.photo_names(arg or "train")
        return source
    if kind == "digits" and arg in ("", "train", "test", "all"):
        return source
    if kind == "faces" and not arg:
        return source
    if kind in ("folder", "tfds") and arg:
        return source
    raise ValueError(f"unknown image source {source!r}; known sources: {SOURCE_HELP}.")


def parse_domains(domains):
    """``"Young,-Young"`` or ``("Young", "-Young")`` -> two lists of ``(attribute, wanted)``."""
    if isinstance(domains, str):
        domains = domains.split(",")
    domains = list(domains or ())
    if len(domains) != 2 or not all(isinstance(d, str) and d.strip("+-") for d in domains):
        raise ValueError(f"domains must be two attribute conditions such as 'Young,-Young' or "
                         f"'Male+Smiling,Male+-Smiling'; received {domains!r}.")
    parsed = []
    for domain in domains:
        terms = []
        for term in domain.split("+"):
            term = term.strip()
            wanted = not term.startswith("-")
            if not term.lstrip("-"):
                raise ValueError(f"empty attribute in domain {domain!r}.")
            terms.append((term.lstrip("-"), wanted))
        parsed.append(terms)
    if parsed[0] == parsed[1]:
        raise ValueError(f"the two domains are the same: {domains!r}.")
    return parsed


def known_mapping(spec):
    """``(a_to_b, b_to_a)`` uint8 image functions when ``spec`` is ``unpaired:S,T:S`` with a
    transform T of known inverse (``hue``, ``inverted``): the ground truth benchmarks score against.
    ``None`` otherwise."""
    kind, _, arg = spec.partition(":") if isinstance(spec, str) else ("", "", "")
    if kind != "unpaired" or arg.count(",") != 1:
        return None
    source_a, source_b = arg.split(",")
    transform, _, base = source_b.partition(":")
    if base != source_a or transform not in ("hue", "inverted"):
        return None
    if transform == "hue":
        return (lambda x: rotate_hue(x).numpy()), (lambda y: rotate_hue(y, -HUE_SHIFT).numpy())
    invert = lambda x: (255 - np.asarray(x, "uint8")).astype("uint8")  # noqa: E731
    return invert, invert


# ---------------------------------------------------------------- sources
def image_source(source, split="train"):
    """``(dataset of uint8 (H, W, 3), number of images or None, mode)`` of an image source.

    ``mode`` is ``"crop"`` for the large embedded photos, ``"resize"`` otherwise.
    """
    kind, _, arg = source.partition(":")
    if kind in TRANSFORMS and arg:
        ds, count, mode = image_source(arg, split)
        fn = {"grey": _grey, "inverted": lambda im: 255 - im, "hue": rotate_hue}[kind]
        return ds.map(fn, num_parallel_calls=tf.data.AUTOTUNE), count, mode
    check_source(source)
    if kind == "photos":
        ds, count = paired_data.hr_source(f"photos:{arg or split}")
        return ds, count, "crop"
    if kind == "digits":
        from tfgan_models.data.embedded import digits_arrays

        images = digits_arrays(arg or split, image_size=32)[0]
        images = np.repeat(np.round((images + 1.0) * 127.5).astype("uint8"), 3, axis=-1)
        return tf.data.Dataset.from_tensor_slices(images), len(images), "resize"
    if kind == "faces":
        images = _faces()
        return tf.data.Dataset.from_tensor_slices(images), len(images), "resize"
    if kind == "folder":
        ds, count = paired_data.hr_source(source)
        return ds, count, "resize"
    ds, count = _tfds_images(arg, split)
    return ds, count, "resize"


def _faces():
    """scikit-image's 100 LFW face crops (25x25 grey), uint8 RGB."""
    import skimage.data

    faces = skimage.data.lfw_subset()[:100]  # the first 100 are faces, the rest are not
    faces = np.round(np.asarray(faces, "float32") * 255.0).astype("uint8")
    return np.repeat(faces[..., None], 3, axis=-1)


def _tfds_images(body, split, domain=None):
    """RGB uint8 images of a TFDS set, optionally only those whose attributes match ``domain``."""
    import tensorflow_datasets as tfds

    name, spec_split = parse_tfds_spec(body)
    if ":" not in body:
        spec_split = split
    try:
        ds, info = tfds.load(name, split=spec_split, with_info=True, shuffle_files=True)
    except Exception as err:  # unknown name, unknown split, missing download
        raise ValueError(f"cannot load TFDS dataset {name!r} split {spec_split!r}: {err}") from err
    image_keys = [k for k, f in info.features.items() if isinstance(f, tfds.features.Image)]
    if not image_keys:
        raise ValueError(f"TFDS dataset {name!r} has no image feature (features: {list(info.features)}).")
    if domain is not None:
        attributes = info.features["attributes"] if "attributes" in info.features.keys() else None
        known = sorted(attributes.keys()) if attributes is not None else []
        unknown = [a for a, _ in domain if a not in known]
        if not known:
            raise ValueError(f"TFDS dataset {name!r} has no attributes to split into domains "
                             "(domains need a set such as celeb_a).")
        if unknown:
            raise ValueError(f"unknown attribute(s) {unknown} of {name!r}; known: {', '.join(known)}.")

        def keep(example):
            return tf.reduce_all([tf.equal(tf.cast(example["attributes"][a], tf.bool), wanted)
                                  for a, wanted in domain])
    count = int(ds.cardinality())  # with domains: the whole split, so an epoch is about one pass over it
    if domain is not None:
        ds = ds.filter(keep)
    key = image_keys[0]
    ds = ds.map(lambda ex: set_channels(ex[key], 3), num_parallel_calls=tf.data.AUTOTUNE)
    return ds, count if count and count > 0 else None


def _grey(image):
    return tf.repeat(tf.cast(tf.round(tf.image.rgb_to_grayscale(tf.cast(image, tf.float32))), tf.uint8), 3, -1)


def rotate_hue(image, shift=HUE_SHIFT):
    """uint8 RGB -> uint8 RGB with the hue rotated by ``shift`` turns (HSV; exactly invertible)."""
    rotated = tf.image.adjust_hue(tf.cast(image, tf.float32) / 255.0, shift)
    return tf.cast(tf.round(tf.clip_by_value(rotated, 0.0, 1.0) * 255.0), tf.uint8)


def edge_map(image):
    """uint8 RGB -> uint8 RGB sketch: black where the Sobel gradient of the grey image is strong."""
    grey = tf.image.rgb_to_grayscale(tf.cast(image, tf.float32) / 255.0)
    gradients = tf.image.sobel_edges(grey[None])[0]  # (H, W, 1, 2)
    magnitude = tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=-1))
    edges = tf.where(magnitude > EDGE_THRESHOLD, 0, 255)
    return tf.repeat(tf.cast(edges, tf.uint8), 3, axis=-1)


# ------------------------------------------------------------ augmentation
def _augment(image, size, mode, seed, train=True):
    """uint8 (H, W, C) -> float32 (size, size, C) in [0, 255]: jitter + flip (train) or centre crop."""
    image = tf.cast(image, tf.float32)
    shape = tf.shape(image)
    if mode == "resize":
        side = tf.minimum(shape[0], shape[1])
        top, left = (shape[0] - side) // 2, (shape[1] - side) // 2
        image = image[top : top + side, left : left + side]
        load = int(round(size * JITTER)) if train else size
        image = tf.image.resize(image, (load, load), method="bilinear", antialias=True)
    else:  # large photos: crops at their own resolution (upscaled first if smaller than a crop)
        short = tf.minimum(shape[0], shape[1])
        image = tf.cond(short < size, lambda: tf.image.resize(image, tf.cast(tf.math.ceil(
            tf.cast(shape[:2], tf.float32) * size / tf.cast(short, tf.float32)), tf.int32)), lambda: image)
    channels = image.shape[-1]
    if train or mode == "crop":  # held-out photos: seeded crops, the same on every call
        image = tf.image.stateless_random_crop(image, (size, size, channels), seed=seed)
    if train:
        image = tf.image.stateless_random_flip_left_right(image, seed=seed + 1)
    return tf.ensure_shape(tf.round(tf.clip_by_value(image, 0.0, 255.0)), (size, size, channels))


def _to_model(image):
    return image / 127.5 - 1.0


def _crops(mode, images):
    """Each large photo gives ``CROPS_PER_PHOTO`` crops per pass, whatever its area."""
    if mode != "crop":
        return images
    return images.flat_map(lambda im: tf.data.Dataset.from_tensors(im).repeat(CROPS_PER_PHOTO))


def _seeded(ds, seed):
    """Pairs each element with its own stateless seed ``(seed, index)``: crops and flips then depend on
    ``seed`` alone, not on TensorFlow's global seed (held-out crops are the same in every process)."""
    if seed is None:
        return tf.data.Dataset.zip((ds, tf.data.Dataset.random().batch(2)))
    seeds = tf.data.Dataset.counter().map(lambda i: tf.stack([tf.constant(int(seed), tf.int64), i]))
    return tf.data.Dataset.zip((ds, seeds))


def _pass_size(count, mode):
    """Examples in one pass of a source (crops for photos), or None."""
    return count * CROPS_PER_PHOTO if mode == "crop" and count else count


def _side(source, size, seed, split, repeat, domain=None, train=True):
    """One augmented side: (dataset of float32 (size, size, 3) in [0, 255], examples per pass)."""
    if domain is not None and source == "avatars":
        faces = avatars.domain_images(domain, split, size)
        images, count, mode = tf.data.Dataset.from_tensor_slices(faces), len(faces), "resize"
    elif domain is not None:
        kind, _, body = source.partition(":")
        if kind != "tfds":
            raise ValueError(f"domains split a set with attributes (tfds:celeb_a, avatars); received {source!r}.")
        images, count, mode = *_tfds_images(body, split, domain), "resize"
    else:
        images, count, mode = image_source(source, split)
    per_pass = _pass_size(count, mode)
    if count is not None and count <= 2048:
        images = images.cache()
    if train:
        images = images.shuffle(min(count or 1000, 1000), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        images = images.repeat()
    images = _crops(mode, images)
    if train and mode == "crop":
        images = images.shuffle(256, seed=seed, reshuffle_each_iteration=True)
    ds = _seeded(images, seed).map(
        lambda im, s: _augment(set_channels(im, 3), size, mode, s, train), num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True)
    if mode == "crop":
        ds = ds.filter(informative)
    return ds, per_pass


# -------------------------------------------------------------- pipelines
def load_paired(spec, size=256, batch_size=1, seed=None, split="train", repeat=True):
    """Batches of ``(input, target)`` float32 ``(B, size, size, 3)`` in [-1, 1] from a paired spec.

    Returns ``(dataset, steps per pass or None)``.
    """
    if spec_kind(spec) != "paired":
        raise ValueError(f"{spec!r} is unpaired data; paired specs: paired:DIR_A,DIR_B, colorize:SOURCE, "
                         "edges:SOURCE.")
    kind, _, arg = spec.partition(":")
    size, batch_size = _check_sizes(size, batch_size)
    train = split == "train"
    if kind == "paired":
        if arg.startswith("avatars/"):  # (face without, the same face with) the attribute, rendered
            pairs = np.concatenate(avatars.pair_images(arg.partition("/")[2], split, size), axis=-1)
            ds = tf.data.Dataset.from_tensor_slices(pairs)
        else:
            pairs = aligned_folders(*_two(spec, arg))
            ds = tf.data.Dataset.from_tensor_slices(pairs).map(
                lambda ab: tf.concat([_decode(ab[0]), _decode(ab[1])], axis=-1), num_parallel_calls=tf.data.AUTOTUNE)
        if len(pairs) <= 2048:
            ds = ds.cache()
        if train:
            ds = ds.shuffle(min(len(pairs), 1000), seed=seed, reshuffle_each_iteration=True)
        if repeat:
            ds = ds.repeat()
        ds = _seeded(ds, seed).map(lambda im, s: _augment(im, size, "resize", s, train),
                                   num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        ds = ds.map(lambda ab: (_to_model(ab[..., :3]), _to_model(ab[..., 3:])))
        per_pass = len(pairs)
    else:
        task = _grey if kind == "colorize" else edge_map
        ds, per_pass = _side(arg, size, seed, split, repeat, train=train)
        ds = ds.map(lambda y: (_to_model(tf.cast(task(tf.cast(y, tf.uint8)), tf.float32)), _to_model(y)),
                    num_parallel_calls=tf.data.AUTOTUNE)
    return _batched(ds, batch_size), _steps(per_pass, batch_size)


def load_unpaired(spec, size=256, batch_size=1, seed=None, domains=None, split="train", repeat=True):
    """Batches of ``(a, b)`` float32 ``(B, size, size, 3)`` in [-1, 1], the two domains drawn independently.

    ``domains`` (with ``tfds:celeb_a``): two attribute conditions, e.g.
    ``"Young,-Young"``. Returns ``(dataset, steps per pass or None)``.
    """
    if spec_kind(spec) != "unpaired":
        raise ValueError(f"{spec!r} is paired data; unpaired specs: unpaired:SOURCE_A,SOURCE_B, "
                         "tfds:cycle_gan/NAME, tfds:celeb_a with domains.")
    size, batch_size = _check_sizes(size, batch_size)
    seed_b = None if seed is None else int(seed) + 1
    train = split == "train"
    kind, _, arg = spec.partition(":")
    if domains is not None:
        if kind != "tfds" and spec != "avatars":
            raise ValueError(f"domains split a set with attributes (tfds:celeb_a, avatars); received {spec!r}.")
        dom_a, dom_b = parse_domains(domains)
        a, count_a = _side(spec, size, seed, split, repeat, dom_a, train)
        b, count_b = _side(spec, size, seed_b, split, repeat, dom_b, train)
    elif spec == "avatars":
        raise ValueError("avatars needs two attribute domains, e.g. --domains Smile,-Smile (attributes: "
                         f"{', '.join(avatars.EDITS)}).")
    elif kind == "tfds":
        name = parse_tfds_spec(arg)[0]
        if not name.startswith("cycle_gan") or ":" in arg:
            raise ValueError(f"{spec!r}: an unpaired TFDS spec is tfds:cycle_gan/NAME (trainA / trainB), or a "
                             "set with attributes and domains (tfds:celeb_a --domains Young,-Young); for two "
                             "other sets use unpaired:tfds:A,tfds:B.")
        which = "train" if train else "test"
        a, count_a = _side(f"tfds:{name}:{which}A", size, seed, split, repeat, train=train)
        b, count_b = _side(f"tfds:{name}:{which}B", size, seed_b, split, repeat, train=train)
    else:
        source_a, source_b = _two(spec, arg)
        a, count_a = _side(source_a, size, seed, split, repeat, train=train)
        b, count_b = _side(source_b, size, seed_b, split, repeat, train=train)
    ds = tf.data.Dataset.zip((a.map(_to_model), b.map(_to_model)))
    per_pass = max(count_a, count_b) if count_a and count_b else None
    return _batched(ds, batch_size), _steps(per_pass, batch_size)


def load(spec, size=256, batch_size=1, seed=None, domains=None, split="train", repeat=True):
    """Paired or unpaired batches, whichever ``spec`` is; returns ``(dataset, steps, kind)``."""
    kind = spec_kind(spec)
    if kind == "paired":
        if domains is not None:
            raise ValueError(f"domains apply to unpaired attribute data (tfds:celeb_a, avatars); {spec!r} is paired.")
        return (*load_paired(spec, size, batch_size, seed, split, repeat), kind)
    return (*load_unpaired(spec, size, batch_size, seed, domains, split, repeat), kind)


def held_out(spec, size, n, domains=None, seed=0):
    """``n`` deterministic held-out examples, uint8 ``(n, size, size, 3)`` each: ``(inputs, targets)``
    for paired specs, ``(a, b)`` for unpaired ones (test splits where the source has them)."""
    ds, _, _ = load(spec, size=size, batch_size=1, seed=seed, domains=domains, split="test", repeat=True)
    firsts, seconds = [], []
    for x, y in ds.take(int(n)):
        firsts.append(x[0].numpy())
        seconds.append(y[0].numpy())
    to_uint8 = lambda v: np.clip(np.round((np.stack(v) + 1.0) * 127.5), 0, 255).astype("uint8")  # noqa: E731
    return to_uint8(firsts), to_uint8(seconds)


def _batched(ds, batch_size):
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def _steps(per_pass, batch_size):
    return max(1, per_pass // batch_size) if per_pass else None


def _check_sizes(size, batch_size):
    if int(size) < 1 or int(batch_size) < 1:
        raise ValueError(f"size and batch_size must be >= 1, received {size!r} and {batch_size!r}.")
    return int(size), int(batch_size)


def _decode(path):
    image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
    return tf.ensure_shape(image, (None, None, 3))


def aligned_folders(dir_a, dir_b):
    """``[(file_a, file_b)]`` matched by relative path without extension; a clear error on mismatches."""
    files_a, _, _ = scan_folder(dir_a)
    files_b, _, _ = scan_folder(dir_b)
    key = lambda root, f: os.path.splitext(os.path.relpath(f, root))[0]  # noqa: E731
    by_key = {key(dir_b, f): f for f in files_b}
    pairs = [(f, by_key[key(dir_a, f)]) for f in files_a if key(dir_a, f) in by_key]
    missing = [key(dir_a, f) for f in files_a if key(dir_a, f) not in by_key]
    if missing:
        raise ValueError(f"paired folders: {len(missing)} image(s) of {dir_a!r} have no partner in {dir_b!r} "
                         f"(matched by name without extension), e.g. {missing[:3]}.")
    if len(files_b) != len(pairs):
        raise ValueError(f"paired folders: {dir_b!r} holds {len(files_b) - len(pairs)} image(s) with no partner "
                         f"in {dir_a!r}.")
    return pairs
