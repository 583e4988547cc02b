"""Adversarial losses as pure functions of discriminator logits.

Every function takes logits of any rank (a PatchGAN's ``(B, H, W, 1)`` map works
unchanged) and returns the mean over all elements, a float32 scalar. Names
follow ``<kind>_generator_loss(fake_logits)`` and
``<kind>_discriminator_loss(real_logits, fake_logits)``.

Notation: ``D(x) = sigmoid(real_logits)`` for the probabilistic losses; the raw
logits are the critic value for the Wasserstein and hinge losses.
"""

from keras import ops


def _mean(x):
    return ops.mean(ops.cast(x, "float32"))


def minimax_discriminator_loss(real_logits, fake_logits):
    """-[log D(x) + log(1 - D(G(z)))]  (Goodfellow et al. 2014, eq. 1).

    Written with softplus so it is exact for large logits:
    ``-log sigmoid(l) = softplus(-l)`` and ``-log(1 - sigmoid(l)) = softplus(l)``.
    """
    return _mean(ops.softplus(-real_logits)) + _mean(ops.softplus(fake_logits))


# The non-saturating game changes only the generator's objective.
non_saturating_discriminator_loss = minimax_discriminator_loss


def minimax_generator_loss(fake_logits):
    """log(1 - D(G(z)))  (Goodfellow et al. 2014, eq. 1), minimised by G.

    Saturates when D rejects the samples confidently; see
    :func:`non_saturating_generator_loss`.
    """
    return -_mean(ops.softplus(fake_logits))


def non_saturating_generator_loss(fake_logits):
    """-log D(G(z)): the "maximise log D(G(z))" trick of Goodfellow et al. 2014, sec. 3."""
    return _mean(ops.softplus(-fake_logits))


def least_squares_discriminator_loss(real_logits, fake_logits, a=0.0, b=1.0):
    """1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2]  (Mao et al. 2017, eq. 2).

    ``a`` is the label of fake data and ``b`` of real data; D's output is linear.
    """
    return 0.5 * _mean(ops.square(real_logits - b)) + 0.5 * _mean(
        ops.square(fake_logits - a)
    )


def least_squares_generator_loss(fake_logits, c=1.0):
    """1/2 E[(D(G(z)) - c)^2]  (Mao et al. 2017, eq. 2); ``c`` is the value G wants D to believe."""
    return 0.5 * _mean(ops.square(fake_logits - c))


def wasserstein_discriminator_loss(real_logits, fake_logits):
    """E[D(G(z))] - E[D(x)]: the negated critic objective of Arjovsky et al. 2017, eq. 3."""
    return _mean(fake_logits) - _mean(real_logits)


def wasserstein_generator_loss(fake_logits):
    """-E[D(G(z))]  (Arjovsky et al. 2017, Algorithm 1)."""
    return -_mean(fake_logits)


def hinge_discriminator_loss(real_logits, fake_logits):
    """E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]  (Lim & Ye 2017; Miyato et al. 2018)."""
    return _mean(ops.relu(1.0 - real_logits)) + _mean(ops.relu(1.0 + fake_logits))


def hinge_generator_loss(fake_logits):
    """-E[D(G(z))]  (Miyato et al. 2018, eq. 17)."""
    return -_mean(fake_logits)


def relativistic_average_discriminator_loss(real_logits, fake_logits):
    """RaGAN discriminator loss (Jolicoeur-Martineau 2018; ESRGAN, Wang et al. 2018, eq. 1).

    With ``D_Ra(a, b) = sigmoid(C(a) - E_b[C(b)])``:
    ``L_D = -E_r[log D_Ra(x_r, x_f)] - E_f[log(1 - D_Ra(x_f, x_r))]``,
    the expectations over the batch. Softplus forms as in :func:`minimax_discriminator_loss`.
    """
    real_logits, fake_logits = ops.cast(real_logits, "float32"), ops.cast(fake_logits, "float32")
    real_rel = real_logits - ops.mean(fake_logits)
    fake_rel = fake_logits - ops.mean(real_logits)
    return _mean(ops.softplus(-real_rel)) + _mean(ops.softplus(fake_rel))


def relativistic_average_generator_loss(real_logits, fake_logits):
    """RaGAN generator loss (ESRGAN eq. 2): the symmetric form, with gradients from both terms.

    ``L_G = -E_r[log(1 - D_Ra(x_r, x_f))] - E_f[log D_Ra(x_f, x_r)]``.
    """
    real_logits, fake_logits = ops.cast(real_logits, "float32"), ops.cast(fake_logits, "float32")
    real_rel = real_logits - ops.mean(fake_logits)
    fake_rel = fake_logits - ops.mean(real_logits)
    return _mean(ops.softplus(real_rel)) + _mean(ops.softplus(-fake_rel))
