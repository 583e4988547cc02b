"""Regularisers of the discriminator."""

import tensorflow as tf
from keras import ops, random


def gradient_penalty(discriminator, real, fake, epsilon=None, seed=None, target=1.0):
    """E[(||grad_x D(x_hat)||_2 - target)^2]  (Gulrajani et al. 2017, Algorithm 1).

    ``x_hat = epsilon * real + (1 - epsilon) * fake`` with one
    ``epsilon ~ U[0, 1]`` per sample. Pass ``epsilon`` of shape ``(B,)`` to
    control the draw (the models do, so that runs replay under distribution);
    otherwise it is drawn with ``seed``.

    Args:
        discriminator: callable mapping a batch to logits of any rank.
        real, fake: ``(B, ...)`` tensors of the same shape.
    Returns:
        A float32 scalar: the mean over the batch (multiply by lambda yourself).
    """
    batch = ops.shape(real)[0]
    if epsilon is None:
        epsilon = random.uniform((batch,), seed=seed)
    epsilon = ops.reshape(ops.cast(epsilon, real.dtype), (-1,) + (1,) * (len(real.shape) - 1))
    x_hat = epsilon * real + (1.0 - epsilon) * ops.stop_gradient(fake)
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        critic = discriminator(x_hat, training=True)
        critic = ops.sum(ops.reshape(critic, (batch, -1)), axis=1)
    grads = tape.gradient(critic, x_hat)
    norms = ops.sqrt(ops.sum(ops.square(ops.reshape(grads, (batch, -1))), axis=1) + 1e-12)
    return ops.mean(ops.square(norms - target))
