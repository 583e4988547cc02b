"""Class and latent-code losses: AC-GAN's auxiliary classifier, InfoGAN's L_I."""

from keras import ops


def auxiliary_classifier_loss(class_logits, labels):
    """-E[log P(C = c | X)]: the class log-likelihood L_C of Odena et al. 2016, eq. 2, negated.

    ``class_logits`` ``(B, K)``, ``labels`` int ``(B,)``; mean over the batch.
    """
    return ops.mean(ops.sparse_categorical_crossentropy(ops.cast(labels, "int32"), class_logits, from_logits=True))


def categorical_code_loss(code_logits, codes):
    """-E[log Q(c | x)] for a categorical code: InfoGAN's L_I term (Chen et al. 2016, eq. 4),
    negated and without the constant entropy H(c)."""
    return auxiliary_classifier_loss(code_logits, codes)


def gaussian_code_loss(code_mean, codes, std=1.0):
    """-E[log Q(c | x)] for continuous codes, Q a factored Gaussian of fixed ``std``
    (Chen et al. 2016, sec. 6), dropping the constant: mean over the batch of
    sum_i (c_i - mu_i)^2 / (2 std^2)."""
    return ops.mean(ops.sum(ops.square(ops.cast(codes, code_mean.dtype) - code_mean), axis=-1)) / (2.0 * std**2)
