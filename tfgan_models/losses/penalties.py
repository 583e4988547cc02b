"""Regularisers of the discriminator."""

import tensorflow as tf
from keras import ops, random


def input_gradient(fn, x, loss_scale=None):
    """``(fn(x) as float32, grad_x sum(fn(x)))``: the inner gradient of a penalty (WGAN-GP, R1, path length).

    Under mixed precision ``fn`` runs in float16, whose backward pass underflows
    for small gradients: ``loss_scale`` (the discriminator's or generator's
    ``LossScaleOptimizer`` scale, see ``GenerativeModel.loss_scale``) multiplies
    the sum before differentiation and divides the gradient after, as the
    optimizer does for the outer loss. An overflow makes the gradient infinite;
    the outer gradient is then infinite too, and the ``LossScaleOptimizer``
    skips that step and lowers its scale.
    """
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = ops.cast(fn(x), "float32")
        total = ops.sum(out)
        if loss_scale is not None:
            total = total * ops.cast(loss_scale, "float32")
    grads = ops.cast(tape.gradient(total, x), "float32")
    if loss_scale is not None:
        grads = grads / ops.cast(loss_scale, "float32")
    return out, grads


def gradient_penalty(discriminator, real, fake, epsilon=None, seed=None, target=1.0, loss_scale=None):
    """E[(||grad_x D(x_hat)||_2 - target)^2]  (Gulrajani et al. 2017, Algorithm 1).

    ``x_hat = epsilon * real + (1 - epsilon) * fake`` with one
    ``epsilon ~ U[0, 1]`` per sample. Pass ``epsilon`` of shape ``(B,)`` to
    control the draw (the models do, so that runs replay under distribution);
    otherwise it is drawn with ``seed``.

    Args:
        discriminator: callable mapping a batch to logits of any rank.
        real, fake: ``(B, ...)`` tensors of the same shape.
        loss_scale: the discriminator optimizer's loss scale under mixed precision (see :func:`input_gradient`).
    Returns:
        A float32 scalar: the mean over the batch (multiply by lambda yourself).
    """
    batch = ops.shape(real)[0]
    if epsilon is None:
        epsilon = random.uniform((batch,), seed=seed)
    real, fake = ops.cast(real, "float32"), ops.cast(fake, "float32")  # mixed precision: interpolate in float32
    epsilon = ops.reshape(ops.cast(epsilon, "float32"), (-1,) + (1,) * (len(real.shape) - 1))
    x_hat = epsilon * real + (1.0 - epsilon) * ops.stop_gradient(fake)
    _, grads = input_gradient(lambda x: discriminator(x, training=True), x_hat, loss_scale)
    norms = ops.sqrt(ops.sum(ops.square(ops.reshape(grads, (batch, -1))), axis=1) + 1e-12)
    return ops.mean(ops.square(norms - target))
