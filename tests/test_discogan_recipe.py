"""DiscoGAN's two objectives: the authors' code (default: feature matching, reconstruction-weight
curriculum, D updated on every third iteration) and the paper's eq. 3-5."""

import os

import keras
import numpy as np
import pytest

from helpers import changed, weights_of
from tfgan_models.losses import minimax_discriminator_loss, non_saturating_generator_loss, pixel_mse_loss
from tfgan_models.models.discogan import DiscoGAN, feature_matching_loss
from translation_helpers import networks, tiny, tiny_data


def test_feature_matching_loss_is_the_authors_get_fm_loss():
    """sum over layers of mean((E_batch real - E_batch fake)^2): HingeEmbeddingLoss(l2, target 1) = mean(l2)."""
    rng = np.random.RandomState(0)
    real = [rng.normal(size=(4, 3, 3, 5)).astype("float32"), rng.normal(size=(4, 2, 2, 7)).astype("float32")]
    fake = [rng.normal(1.0, 2.0, size=r.shape).astype("float32") for r in real]
    expected = sum(np.mean((r.mean(0) - f.mean(0)) ** 2) for r, f in zip(real, fake))
    assert float(feature_matching_loss(real, fake)) == pytest.approx(expected, rel=1e-5)
    assert float(feature_matching_loss(real, real)) == 0.0
    # batch means only: shuffling the fakes within the batch changes nothing
    assert float(feature_matching_loss(real, [f[::-1] for f in fake])) == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="as many real as fake"):
        feature_matching_loss(real, fake[:1])


def _batch(model, seed=0):
    return next(iter(tiny_data(model, seed=seed)))


def _expected_terms(model, a, b):
    """GAN and feature-matching terms recomputed here from the networks (BN in training mode, as in the step)."""
    G_AB, G_BA, D_B, D_A = model.generator, model.reverse_generator, model.discriminator, model.reverse_discriminator
    ab, ba = G_AB(a, training=True), G_BA(b, training=True)
    recon = float(pixel_mse_loss(a, G_BA(ab, training=True)) + pixel_mse_loss(b, G_AB(ba, training=True)))
    gan = float(non_saturating_generator_loss(D_B(ab, training=True))
                + non_saturating_generator_loss(D_A(ba, training=True)))
    d = float(minimax_discriminator_loss(D_B(b, training=True), D_B(ab, training=True))
              + minimax_discriminator_loss(D_A(a, training=True), D_A(ba, training=True)))
    return recon, gan, d


def test_curriculum_rate_and_the_codes_generator_objective():
    model = tiny("discogan", gan_curriculum=5)
    a, b = _batch(model)
    for iteration, rate in ((0, 0.01), (4, 0.01), (5, 0.5), (50, 0.5)):  # the code: rate = 0.01 while iters < 5
        model.iteration.assign(iteration)
        assert float(model.reconstruction_rate()) == pytest.approx(rate)
        losses = {k: float(v) for k, v in model._objective(a, b).items()}
        adversarial = 0.1 * _expected_terms(model, a, b)[1] + 0.9 * losses["feature_matching_loss"]
        assert losses["adversarial_loss"] == pytest.approx(adversarial, rel=1e-4)
        # the code's MSE is on [0, 1] pixels, a quarter of the [-1, 1] one reported here
        g = (1 - rate) * losses["adversarial_loss"] + rate * 0.25 * losses["reconstruction_loss"]
        assert losses["g_loss"] == pytest.approx(g, rel=1e-5)
        assert losses["feature_matching_loss"] > 0
    assert losses["d_loss"] == pytest.approx(0.5 * _expected_terms(model, a, b)[2], rel=1e-4)  # D's BCE halved


def test_paper_recipe_objective():
    model = tiny("discogan", recipe="paper", reconstruction_weight=2.0)
    a, b = _batch(model)
    losses = {k: float(v) for k, v in model._objective(a, b).items()}
    recon, gan, d = _expected_terms(model, a, b)
    assert losses["reconstruction_loss"] == pytest.approx(recon, rel=1e-4)
    assert losses["adversarial_loss"] == pytest.approx(gan, rel=1e-4)
    assert losses["g_loss"] == pytest.approx(gan + 2.0 * recon, rel=1e-4)
    assert losses["d_loss"] == pytest.approx(d, rel=1e-4) and losses["feature_matching_loss"] == 0.0


def _one_step(model, seed):
    before = {n: weights_of(net) for n, net in networks(model).items()}
    history = model.fit(tiny_data(model, seed=seed), epochs=1, steps_per_epoch=1, verbose=0)
    assert all(np.isfinite(v).all() for v in history.history.values()), history.history
    return {n for n, net in networks(model).items() if changed(before[n], net)}


def test_d_on_every_third_iteration_and_resume(tmp_path):
    """The code: D on iterations 0, 3, 6..., G on the others; the counter is saved, so a reload continues."""
    model = tiny("discogan")
    d_nets, g_nets = {"discriminator", "reverse_discriminator"}, {"generator", "reverse_generator"}
    for i, updated in enumerate((d_nets, g_nets, g_nets)):
        assert _one_step(model, seed=i) == updated, f"iteration {i}"
    assert int(model.iteration) == 3
    assert (int(model.g_optimizer.iterations), int(model.d_optimizer.iterations)) == (2, 1)
    path = os.path.join(str(tmp_path), "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, DiscoGAN) and int(loaded.iteration) == 3
    loaded.run_eagerly = True
    assert _one_step(loaded, seed=3) == d_nets  # iteration 3 is D's turn
    assert int(loaded.iteration) == 4 and int(loaded.d_optimizer.iterations) == 2


def test_bad_recipe_arguments_are_clear():
    with pytest.raises(ValueError, match="recipe must be one of"):
        DiscoGAN(data_shape=(16, 16, 3), filters=4, d_filters=4, recipe="authors")
    with pytest.raises(ValueError, match="update_interval >= 2"):
        DiscoGAN(data_shape=(16, 16, 3), filters=4, d_filters=4, update_interval=1)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        DiscoGAN(data_shape=(16, 16, 3), filters=4, d_filters=4, default_rate=2.0)
    plain_d = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Flatten(), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="feature matching reads D's layers"):
        DiscoGAN(data_shape=(16, 16, 3), filters=4, d_filters=4, discriminator=plain_d)
    DiscoGAN(data_shape=(16, 16, 3), filters=4, d_filters=4, discriminator=plain_d, recipe="paper")  # no features
