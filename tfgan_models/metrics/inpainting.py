"""Inpainting quality inside the hole, and the baselines a learned inpainter must beat.

Every figure is computed on pixels scaled to [0, 1] and only inside the hole
(mask 1), as Pathak et al. 2016 report theirs (Table 1: mean L1 and L2 in
percent, and PSNR). Their PSNR is evidently a mean of per-image PSNRs (an MSE of
1.96% would be 17.1 dB, not their 18.58 dB), so both are given.

Baselines: the per-pixel mean of the training images (mean fill) and
scikit-image's ``inpaint_biharmonic`` (a smooth interpolation from the hole's
boundary).
"""

import numpy as np


def _unit(images):
    return (np.asarray(images, "float64") + 1.0) / 2.0  # [-1, 1] -> [0, 1]


def _hole(masks, images):
    return np.broadcast_to(np.asarray(masks) > 0.5, np.shape(images))


def hole_scores(originals, outputs, masks):
    """``{psnr, psnr_of_mean_mse, l1_percent, l2_percent}`` inside the hole, for [-1, 1] images ``(N, H, W, C)``.

    ``psnr`` is the mean of per-image PSNRs (dB); ``psnr_of_mean_mse`` the PSNR of the pooled MSE;
    ``l1_percent`` / ``l2_percent`` the mean absolute / squared error x 100 on [0, 1] pixels.
    """
    x, y = _unit(originals), _unit(outputs)
    hole = _hole(masks, x)
    if not hole.any():
        raise ValueError("the masks hold no hole: nothing to score.")
    err = np.where(hole, x - y, 0.0)
    count = hole.reshape(len(x), -1).sum(axis=1)
    mse = (err**2).reshape(len(x), -1).sum(axis=1) / np.maximum(count, 1)
    psnr = 10.0 * np.log10(1.0 / np.maximum(mse, 1e-10))
    pooled = float((err**2).sum() / hole.sum())
    return {"psnr": float(psnr[count > 0].mean()), "psnr_of_mean_mse": float(10.0 * np.log10(1.0 / max(pooled, 1e-10))),
            "l1_percent": float(100.0 * np.abs(err).sum() / hole.sum()), "l2_percent": 100.0 * pooled}


def sharpness(images, masks):
    """Mean gradient magnitude (forward differences, [0, 1] pixels) inside the hole: blurry fills score low."""
    x = _unit(images)
    dy = np.zeros_like(x)
    dx = np.zeros_like(x)
    dy[:, :-1] = x[:, 1:] - x[:, :-1]
    dx[:, :, :-1] = x[:, :, 1:] - x[:, :, :-1]
    return float(np.sqrt(dx**2 + dy**2)[_hole(masks, x)].mean())


def mean_fill(images, masks, train_images):
    """The hole filled with the per-pixel mean of ``train_images`` (all [-1, 1])."""
    mean = np.asarray(train_images, "float32").mean(axis=0, keepdims=True)
    return np.where(_hole(masks, images), mean, images).astype("float32")


def biharmonic_fill(images, masks):
    """The hole filled by ``skimage.restoration.inpaint_biharmonic``, image by image ([-1, 1] in and out)."""
    from skimage.restoration import inpaint_biharmonic

    images = np.asarray(images, "float32")
    masks = np.asarray(masks) > 0.5
    out = np.empty_like(images)
    for i, (image, mask) in enumerate(zip(_unit(images), masks)):
        filled = inpaint_biharmonic(image, mask[..., 0], channel_axis=-1)
        out[i] = np.where(mask, filled * 2.0 - 1.0, images[i])
    return out
