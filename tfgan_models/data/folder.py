"""Images from a folder tree (jpg, jpeg, png, bmp, gif), with integrity checks."""

import os
import warnings

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


def scan_folder(path):
    """Readable images under ``path``, recursively, with labels from the top-level subfolder.

    Returns ``(files, labels, class_names)``. Every candidate is decoded once
    the way training decodes it (TensorFlow's decoder, 3 channels): a corrupt or
    non-image file, or one TensorFlow cannot read (TIFF or another format under
    a .png name, a palette BMP), is skipped with one warning naming them all, so
    training never stops on a bad file halfway through an epoch.
    Raises ``FileNotFoundError`` for a missing folder and ``ValueError`` when no
    readable image is found.
    """

    if not os.path.exists(path):
        raise FileNotFoundError(f"image folder {path!r} does not exist.")
    if not os.path.isdir(path):
        raise ValueError(f"{path!r} is not a folder.")
    candidates = []
    for root, dirs, names in os.walk(path):
        dirs.sort()
        for name in sorted(names):
            if name.startswith("."):
                continue
            full = os.path.join(root, name)
            if name.lower().endswith(IMAGE_EXTENSIONS):
                candidates.append(full)
            else:
                warnings.warn(f"skipping {full}: not a jpg/png/bmp/gif image file", stacklevel=2)
    errors = _decode_errors(candidates)
    files = [f for f in candidates if errors[f] is None]
    bad = [f"{os.path.relpath(f, path)} ({errors[f]})" for f in candidates if errors[f] is not None]
    if bad:
        shown = ", ".join(bad[:_SHOWN]) + (f" and {len(bad) - _SHOWN} more" if len(bad) > _SHOWN else "")
        warnings.warn(f"skipping {len(bad)} file{'s' if len(bad) > 1 else ''} in {path} that cannot be decoded as "
                      f"images by TensorFlow: {shown}", stacklevel=1)  # here: shown once though a run scans twice
    if not files:
        found = (f": none of its {len(bad)} image files decodes ({', '.join(bad[:_SHOWN])}"
                 f"{', ...' if len(bad) > _SHOWN else ''})" if bad else "")
        raise ValueError(f"image folder {path!r} holds no readable jpg/png/bmp/gif image{found}.")
    tops = [os.path.relpath(f, path).split(os.sep)[0] for f in files]
    class_names = sorted({t for t, f in zip(tops, files) if t != os.path.basename(f)})
    index = {name: i for i, name in enumerate(class_names)}
    labels = [index.get(t, -1) for t in tops]
    return files, labels, class_names


_SHOWN = 8  # bad files named in a warning
_VERDICTS = {}  # (path, size, mtime) -> decode error or None: a run scans its folder twice (info, pipeline)


def _decode_errors(paths):
    """``{path: None or why TensorFlow cannot use it}``, remembered while a file is unchanged.

    Each file is decoded exactly as training decodes it (``tf.io.decode_image``
    with 3 channels, first frame of an animation; :func:`tfgan_models.data.pipeline.load`
    converts to grey afterwards), in a parallel ``tf.data`` pass. Palette BMPs
    decode without error but TensorFlow ignores their palette, so they are refused
    from their header unless the palette is the plain grey ramp.
    """
    keys = {}
    for p in paths:
        stat = os.stat(p)
        keys[p] = (os.path.abspath(p), stat.st_size, stat.st_mtime_ns)
    todo = [p for p in paths if keys[p] not in _VERDICTS]
    if todo:
        import tensorflow as tf

        def check(f):
            image = tf.io.decode_image(tf.io.read_file(f), channels=3, expand_animations=False)
            return f, tf.shape(image)

        ds = tf.data.Dataset.from_tensor_slices(todo).map(check, num_parallel_calls=tf.data.AUTOTUNE,
                                                          deterministic=False)
        decoded = {f.decode() for f, _ in ds.ignore_errors().as_numpy_iterator()}
        for p in todo:
            _VERDICTS[keys[p]] = _palette_bmp_error(p) if p in decoded else _why_not(p, tf)
    return {p: _VERDICTS[keys[p]] for p in paths}


# leading bytes -> format, for naming what a file that fails to decode really holds
_MAGIC = ((b"II*\x00", "TIFF data"), (b"MM\x00*", "TIFF data"), (b"\x89PNG", "PNG data"), (b"\xff\xd8", "JPEG data"),
          (b"GIF8", "GIF data"), (b"BM", "BMP data"), (b"%PDF", "PDF data"), (b"8BPS", "Photoshop data"),
          (b"\x00\x00\x00\x0cjP  ", "JPEG 2000 data"), (b"\xff\x4f\xff\x51", "JPEG 2000 data"),
          (b"\x00\x00\x01\x00", "ICO data"), (b"P1", "PBM data"), (b"P4", "PBM data"), (b"P2", "PGM data"),
          (b"P5", "PGM data"), (b"P3", "PPM data"), (b"P6", "PPM data"), (b"<svg", "SVG text"), (b"<?xml", "XML text"))


def _why_not(path, tf):
    """A short reason why ``path`` fails to decode: its real format when known, else TensorFlow's message."""
    try:
        with open(path, "rb") as f:
            head = f.read(32)
    except OSError as err:
        return f"unreadable: {err.strerror or err}"
    if not head:
        return "empty file"
    if head[4:8] == b"ftyp":
        brand = head[8:12].decode("ascii", "replace").strip()
        return {"avif": "AVIF data", "avis": "AVIF data"}.get(brand, "HEIF data" if brand.startswith(("hei", "mif"))
                                                                      else f"ISO media data ({brand})")
    for magic, name in _MAGIC:
        if head.startswith(magic):
            if name in ("PNG data", "JPEG data", "GIF data", "BMP data"):
                break  # a format TensorFlow reads: this file is damaged, say what the decoder says
            return name
    try:
        tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
    except Exception as err:  # tf.errors.OpError and friends
        message = str(getattr(err, "message", err)).strip().splitlines()
        message = message[0] if message else type(err).__name__
        message = message.split("}}")[-1].split(" [Op:")[0].strip()
        return f"damaged or not an image: {message}"[:160]
    return "decodes only on its own; not in a batch"  # not expected: the parallel pass failed on it


def _palette_bmp_error(path):
    """``None`` unless ``path`` is a BMP of <= 8 bits per pixel whose palette is not the grey ramp."""
    import struct

    with open(path, "rb") as f:
        head = f.read(14 + 40)
        if len(head) < 30 or head[:2] != b"BM":
            return None
        header_size = struct.unpack_from("<I", head, 14)[0]
        if header_size == 12:  # OS/2 BITMAPCOREHEADER: 3-byte palette entries
            bits, entry = struct.unpack_from("<H", head, 24)[0], 3
            used = 0
        else:
            bits, entry = struct.unpack_from("<H", head, 28)[0], 4
            used = struct.unpack_from("<I", head, 46)[0] if len(head) >= 50 else 0
        if bits > 8:
            return None
        count = used or 2 ** bits
        f.seek(14 + header_size)
        palette = f.read(count * entry)
    grey_ramp = bits == 8 and len(palette) == count * entry and all(
        palette[i * entry] == palette[i * entry + 1] == palette[i * entry + 2] == i for i in range(count))
    if grey_ramp:
        return None
    return f"{bits}-bit palette BMP: TensorFlow ignores its colour palette; save it as PNG or 24-bit BMP"
