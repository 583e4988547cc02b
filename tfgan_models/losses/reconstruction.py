"""Pixel (reconstruction) losses between an output and its target, both in [-1, 1]."""

from keras import ops


def pixel_mse_loss(target, output):
    """mean((target - output)^2): SRResNet's l_MSE (Ledig et al. 2017, eq. 4)."""
    return ops.mean(ops.square(ops.cast(target, "float32") - ops.cast(output, "float32")))


def pixel_l1_loss(target, output):
    """mean|target - output|: ESRGAN's L_1 (Wang et al. 2018, eq. 3)."""
    return ops.mean(ops.abs(ops.cast(target, "float32") - ops.cast(output, "float32")))
