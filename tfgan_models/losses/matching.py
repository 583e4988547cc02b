"""Losses of text-to-image GANs: the matching-aware discriminator and the joint embedding of text and images."""

from keras import ops

from tfgan_models.losses.adversarial import _mean


def _bce(logits, target):
    """Mean binary cross-entropy of logits against a constant 0/1 target."""
    logits = ops.cast(logits, "float32")
    return _mean(ops.softplus(-logits) if target else ops.softplus(logits))


def matching_aware_discriminator_loss(real_logits, wrong_logits, fake_logits, cls_weight=0.5):
    """GAN-CLS (Reed et al. 2016, Alg. 1; ``reedscot/icml2016:main_cls_int.lua`` ``fDx``).

    ``BCE(D(x, h), 1) + cls_weight * BCE(D(x_wrong, h), 0) + (1 - cls_weight) * BCE(D(G(z, h), h), 0)``:
    the real image with the wrong text is a third kind of fake. ``cls_weight = 0.5`` is the paper's
    ``log s_r + (log(1 - s_w) + log(1 - s_f)) / 2``; ``cls_weight = 0`` is a plain conditional GAN
    (``wrong_logits`` is then ignored).
    """
    loss = _bce(real_logits, 1) + (1.0 - cls_weight) * _bce(fake_logits, 0)
    return loss + cls_weight * _bce(wrong_logits, 0) if cls_weight else loss


def sje_loss(image_embeddings, text_embeddings, classes):
    """The symmetric structured joint embedding loss (Reed et al. 2016, CVPR, eq. 3-5), over a minibatch.

    With compatibility ``F(v, t) = <v, t>``, for each image ``v_n`` the hinge
    ``sum over texts t_m of another class of max(0, 1 + F(v_n, t_m) - F(v_n, t_n))``, and the same
    with the roles of images and texts swapped; both summed, averaged over the batch. Pairs of the
    same class are not negatives (another caption of the same class is not a wrong caption).
    """
    v, t = ops.cast(image_embeddings, "float32"), ops.cast(text_embeddings, "float32")
    scores = ops.matmul(v, ops.transpose(t))                       # F(v_n, t_m), (B, B)
    matched = ops.diagonal(scores)                                 # F(v_n, t_n)
    classes = ops.reshape(classes, (-1,))
    negative = ops.cast(ops.not_equal(classes[:, None], classes[None, :]), "float32")
    image_hinge = ops.relu(1.0 + scores - matched[:, None]) * negative   # image n against text m
    text_hinge = ops.relu(1.0 + scores - matched[None, :]) * negative    # text m against image n
    return (ops.sum(image_hinge) + ops.sum(text_hinge)) / ops.cast(ops.shape(v)[0], "float32")


def kl_to_standard_normal(mu, log_sigma):
    """KL(N(mu, sigma^2) || N(0, I)) per dimension, averaged, as the StackGAN code computes it
    (``hanzhanggit/StackGAN:stageI/trainer.py``, ``KL_loss``): ``mean(-log sigma + (-1 + sigma^2 + mu^2) / 2)``."""
    mu, log_sigma = ops.cast(mu, "float32"), ops.cast(log_sigma, "float32")
    return _mean(-log_sigma + 0.5 * (-1.0 + ops.exp(2.0 * log_sigma) + ops.square(mu)))
