import numpy as np
import pytest

from helpers import check_points, check_standard_behaviour, tiny_model
from tfgan_models.layers import Maxout
from tfgan_models.models import GAN


def test_standard(tmp_path):
    check_standard_behaviour("gan", tmp_path)


def test_points():
    check_points("gan")


def test_paper_architecture():
    model = GAN(data_shape=(28, 28, 1), latent_dim=100)
    dense = [l for l in model.generator.layers if l.name.startswith("dense_")]
    assert [l.units for l in dense] == [1200, 1200]
    maxouts = [l for l in model.discriminator.layers if isinstance(l, Maxout)]
    assert [(l.units, l.pieces) for l in maxouts] == [(240, 5), (240, 5)]


def test_paper_preset_uses_the_authors_sgd():
    """mnist.yaml: SGD, lr 0.1 divided by 1.000004 per update, momentum 0.5 (ramp to 0.7 not reproduced)."""
    from tfgan_models import registry

    model = registry.get("gan", "paper")
    assert model.g_optimizer is not model.d_optimizer
    for opt in (model.g_optimizer, model.d_optimizer):
        assert type(opt).__name__ == "SGD" and opt.momentum == 0.5
        for step in (0, 600, 60_000):
            assert float(opt._learning_rate(step)) == pytest.approx(0.1 / 1.000004**step, rel=1e-3)


def test_minimax_generator_loss_option():
    model = tiny_model("gan", generator_loss="minimax")
    history = model.fit(__import__("helpers").tiny_data(model), epochs=1, steps_per_epoch=2, verbose=0)
    # log(1 - D(G(z))) is negative, unlike the non-saturating -log D(G(z)).
    assert history.history["g_loss"][-1] < 0
    with pytest.raises(ValueError, match="generator_loss"):
        GAN(data_shape=(8, 8, 1), latent_dim=4, generator_loss="nonsense")


def test_maxout_takes_max_over_pieces():
    layer = Maxout(2, pieces=3)
    layer.build((None, 1))
    layer.dense.kernel.assign(np.array([[1.0, 2.0, 3.0, -1.0, -2.0, -3.0]], "float32"))
    layer.dense.bias.assign(np.zeros(6, "float32"))
    np.testing.assert_allclose(layer(np.array([[1.0], [-1.0]], "float32")).numpy(), [[3, -1], [-1, 3]])
