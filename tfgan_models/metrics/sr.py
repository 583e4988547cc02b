"""Super-resolution evaluation as papers report it: PSNR and SSIM on the Y channel.

* Y is ITU-R BT.601 luma on the 16-235 range, as MATLAB's ``rgb2ycbcr`` and
  the SRGAN/ESRGAN/EDSR evaluation scripts compute it:
  ``Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255`` for R, G, B in [0, 255].
* ``scale`` pixels are cropped from every border before scoring.
* SR outputs are rounded to uint8 first, as a saved image would be.
* PSNR = 10 log10(255^2 / MSE); SSIM (Wang et al. 2004) with an 11x11 Gaussian
  window (sigma 1.5), K1 = 0.01, K2 = 0.03, L = 255, "valid" filtering: the
  same as ``tf.image.ssim`` and BasicSR's ``calculate_ssim``.
* The bicubic baseline is computed on the same images (``tf.image.resize``
  bicubic), always in-house, never copied from a table.

BasicSR's model zoo reports RGB scores, about 1.8 dB below these Y-channel ones.

Whole images go through :func:`upscale` tile by tile (``tile``, ``overlap``),
so any size fits in memory; with an overlap at least the network's receptive
radius, the tiled output equals the whole-image output.
"""

import math
import os

import numpy as np

from tfgan_models.data.paired import bicubic_upscale  # noqa: F401  the bicubic baseline, re-exported here

Y_WEIGHTS = np.array([65.481, 128.553, 24.966]) / 255.0


def rgb_to_y(image):
    """uint8 or float [0, 255] RGB (..., 3) -> float64 Y (...) in [16, 235] (BT.601)."""
    image = np.asarray(image, "float64")
    if image.shape[-1] != 3:
        raise ValueError(f"rgb_to_y takes RGB images (..., 3), received shape {image.shape}.")
    return 16.0 + image @ Y_WEIGHTS


def _prepare(reference, test, border, y_channel):
    reference, test = np.asarray(reference), np.asarray(test)
    if reference.shape != test.shape:
        raise ValueError(f"images differ in shape: {reference.shape} vs {test.shape}.")
    if reference.ndim == 2:  # a grey image (H, W) is one channel
        reference, test = reference[..., None], test[..., None]
    if reference.ndim != 3:
        raise ValueError(f"expected one image (H, W, C) or (H, W), received shape {reference.shape}.")
    if border:
        reference, test = reference[border:-border, border:-border], test[border:-border, border:-border]
    if y_channel and reference.shape[-1] == 3:
        return rgb_to_y(reference), rgb_to_y(test)
    return reference.astype("float64"), test.astype("float64")


def psnr(reference, test, border=0, y_channel=True):
    """PSNR in dB of two uint8 images (H, W, C) after a ``border`` crop, on Y by default (inf if equal)."""
    reference, test = _prepare(reference, test, border, y_channel)
    mse = float(np.mean((reference - test) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def _gaussian_window(size=11, sigma=1.5):
    x = np.arange(size) - (size - 1) / 2.0
    g = np.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def _filter_valid(image, window):
    """Separable 'valid' correlation of a 2-D float64 image with a 1-D window."""
    n = len(window)
    rows = sum(window[i] * image[i : image.shape[0] - n + 1 + i] for i in range(n))
    return sum(window[i] * rows[:, i : image.shape[1] - n + 1 + i] for i in range(n))


def ssim(reference, test, border=0, y_channel=True):
    """SSIM of two uint8 images (H, W, C) or (H, W), Gaussian 11x11 window, on Y by default.

    Colour images scored on RGB (``y_channel=False``) average the per-channel
    SSIMs; grey images (one channel, or no channel axis) are scored directly.
    """
    reference, test = _prepare(reference, test, border, y_channel)
    if reference.ndim == 3:  # channels not converted to Y: one SSIM per channel, averaged
        return float(np.mean([_ssim_channel(reference[..., c], test[..., c]) for c in range(reference.shape[-1])]))
    return _ssim_channel(reference, test)


def _ssim_channel(reference, test):
    """SSIM of two float64 2-D images on the [0, 255] range."""
    if min(reference.shape) < 11:
        raise ValueError(f"SSIM needs images of at least 11x11 pixels after cropping, received {reference.shape}.")
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    w = _gaussian_window()
    mu_x, mu_y = _filter_valid(reference, w), _filter_valid(test, w)
    sxx = _filter_valid(reference**2, w) - mu_x**2
    syy = _filter_valid(test**2, w) - mu_y**2
    sxy = _filter_valid(reference * test, w) - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / ((mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2))
    return float(ssim_map.mean())


def _tile_starts(length, tile):
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, tile))
    return starts + [length - tile]  # the last tile ends at the border (it may overlap the previous one)


def upscale(generator, image, scale, tile=None, overlap=16, size_multiple=1):
    """Super-resolves one whole image with a fully convolutional generator, tile by tile.

    Args:
        generator: ``(B, h, w, C) -> (B, s*h, s*w, C')`` in [-1, 1] (a Keras
            model or any callable).
        image: uint8 (h, w, C) (then the result is uint8) or float32 in [-1, 1]
            (then float32 in [-1, 1]).
        scale: the generator's scale factor.
        tile: LR tile side; ``None`` runs the whole image at once.
        overlap: LR pixels of context added on every inner side of a tile and
            cut from its output; the result equals the whole-image one when it
            is at least the network's receptive radius.
        size_multiple: the sizes the network takes (inputs are reflect-padded
            at the bottom/right to a multiple and the output cropped back).
    """
    image = np.asarray(image)
    as_uint8 = image.dtype == np.uint8
    x = image.astype("float32") / 127.5 - 1.0 if as_uint8 else image.astype("float32")
    if x.ndim != 3:
        raise ValueError(f"upscale() takes one image (h, w, C), received shape {image.shape}.")
    if tile is not None and (int(tile) < 1 or int(overlap) < 0):
        raise ValueError(f"tile must be >= 1 and overlap >= 0, received tile={tile!r}, overlap={overlap!r}.")

    def run(patch):
        h, w = patch.shape[:2]
        ph, pw = -h % size_multiple, -w % size_multiple
        if ph or pw:
            patch = np.pad(patch, [(0, ph), (0, pw), (0, 0)], mode="reflect")
        out = np.asarray(generator(patch[None], training=False) if isinstance(generator, _keras_model())
                         else generator(patch[None]), "float32")[0]
        return out[: h * scale, : w * scale]

    h, w = x.shape[:2]
    if tile is None or (h <= tile and w <= tile):
        out = run(x)
    else:
        tile, overlap = int(tile), int(overlap)
        out = None
        for top in _tile_starts(h, tile):
            for left in _tile_starts(w, tile):
                t0, l0 = max(0, top - overlap), max(0, left - overlap)
                t1, l1 = min(h, top + tile + overlap), min(w, left + tile + overlap)
                piece = run(x[t0:t1, l0:l1])
                if out is None:
                    out = np.zeros((h * scale, w * scale, piece.shape[-1]), "float32")
                th, tw = min(tile, h - top), min(tile, w - left)
                r, c = (top - t0) * scale, (left - l0) * scale
                out[top * scale : (top + th) * scale, left * scale : (left + tw) * scale] = \
                    piece[r : r + th * scale, c : c + tw * scale]
    if as_uint8:
        return np.clip(np.round((out + 1.0) * 127.5), 0, 255).astype("uint8")
    return out


def _keras_model():
    import keras

    return keras.Model


def score_images(generator, pairs, scale, tile=None, overlap=16, size_multiple=1):
    """Per-image and mean PSNR-Y / SSIM-Y of ``generator`` and of bicubic on ``pairs``.

    ``pairs``: ``[(name, LR uint8, HR uint8)]`` as :func:`tfgan_models.data.paired.eval_images` gives.
    """
    rows = []
    for name, lr, hr in pairs:
        sr = upscale(generator, lr, scale, tile=tile, overlap=overlap, size_multiple=size_multiple)
        bic = bicubic_upscale(lr, scale)
        row = {"image": name, "size": list(hr.shape[:2]),
               "psnr_y": psnr(hr, sr, scale), "ssim_y": ssim(hr, sr, scale),
               "bicubic_psnr_y": psnr(hr, bic, scale), "bicubic_ssim_y": ssim(hr, bic, scale)}
        row["psnr_gain_db"] = row["psnr_y"] - row["bicubic_psnr_y"]
        row["ssim_gain"] = row["ssim_y"] - row["bicubic_ssim_y"]
        rows.append(row)
    keys = ("psnr_y", "ssim_y", "bicubic_psnr_y", "bicubic_ssim_y", "psnr_gain_db", "ssim_gain")
    mean = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    return {"images": rows, "mean": mean}


def evaluate_sr(run_dir, data="photos:test", tile=128, overlap=32, limit=None):
    """``tfgan eval sr RUN_DIR [--data SPEC]``: PSNR-Y / SSIM-Y of a run against bicubic.

    Whole images of ``data`` (default: the held-out embedded photos) are
    downscaled by the run's scale as in training, super-resolved tile by tile,
    and scored with a ``scale``-pixel border crop. Returns a JSON-ready dict.
    """
    from tfgan_models.data.paired import eval_images
    from tfgan_models.runs import load_generator

    generator, settings = load_generator(run_dir)
    model = settings["model"]
    scale = int(model.get("scale", 4))
    pairs = eval_images(data, scale=scale, degradation=model.get("degradation"), limit=limit)
    result = score_images(generator, pairs, scale, tile=tile, overlap=overlap)
    result.update(run_dir=os.path.abspath(run_dir), variant=settings["variant"], preset=settings["preset"],
                  data=data, scale=scale, border=scale, channel="Y (ITU-R BT.601, 16-235)",
                  tile=tile, overlap=overlap)
    return result


def format_sr(result):
    """A plain-text table of :func:`evaluate_sr`'s result."""
    lines = [f"{'image':24s} {'size':>10s}  {'bicubic PSNR/SSIM':>18s}  {'model PSNR/SSIM':>16s}  {'gain dB':>7s}"]
    for r in result["images"] + [{"image": "mean", "size": None, **result["mean"]}]:
        size = "x".join(map(str, r["size"])) if r["size"] else ""
        lines.append(f"{r['image']:24s} {size:>10s}  {r['bicubic_psnr_y']:8.2f} / {r['bicubic_ssim_y']:.4f}  "
                     f"{r['psnr_y']:7.2f} / {r['ssim_y']:.4f}  {r['psnr_gain_db']:+7.2f}")
    return "\n".join(lines)
