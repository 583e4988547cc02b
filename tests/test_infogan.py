import numpy as np
import pytest

from helpers import check_standard_behaviour, tiny_data, tiny_model
from tfgan_models import losses
from tfgan_models.models import InfoGAN


def test_standard(tmp_path):
    check_standard_behaviour("infogan", tmp_path)


def test_paper_setting():
    model = InfoGAN(data_shape=(28, 28, 1))
    model.compile()
    assert model.latent_dim == 62 and (model.num_categories, model.num_continuous) == (10, 2)
    assert model.info_weight == 1.0
    assert float(model.g_optimizer.learning_rate) == pytest.approx(1e-3)
    assert float(model.d_optimizer.learning_rate) == pytest.approx(2e-4)
    d, q_cat, q_cont = model.discriminator(np.zeros((2, 28, 28, 1), "float32"))
    assert (d.shape, q_cat.shape, q_cont.shape) == ((2, 1), (2, 10), (2, 2))
    assert model.generator.get_layer("images").output.shape[1:] == (28, 28, 1)


def test_info_loss_by_hand():
    # uniform logits over 4 categories: -log(1/4); Gaussian term: ((1-0)^2 + (0-2)^2)/2 = 2.5
    logits = np.zeros((1, 4), "float32")
    assert float(losses.categorical_code_loss(logits, np.array([2]))) == pytest.approx(np.log(4), rel=1e-5)
    assert float(losses.gaussian_code_loss(np.array([[0.0, 2.0]]), np.array([[1.0, 0.0]]))) == pytest.approx(2.5)


def q_accuracy(model, n=300):
    """Share of G(z, c) whose categorical code Q recovers (argmax of Q's logits)."""
    codes = np.arange(n) % model.num_categories
    samples = model.generate(n, seed=5, codes={"categorical": codes})
    # batch statistics: after a few steps the batch-norm moving averages have not caught up yet
    return float(np.mean(np.argmax(model.discriminator(samples, training=True)[1].numpy(), axis=1) == codes))


def test_mutual_information_term_is_learned():
    model = tiny_model("infogan")
    before = q_accuracy(model)
    history = model.fit(tiny_data(model, batch_size=32), epochs=4, steps_per_epoch=10, verbose=0).history
    assert history["info_loss"][-1] < history["info_loss"][0]
    after = q_accuracy(model)
    chance = 1.0 / model.num_categories
    assert after > max(before, chance) + 0.2, (before, after)  # Q reads the code back from G's samples


def test_codes_control_the_generator_and_traversal():
    model = tiny_model("infogan")
    z = np.repeat(np.random.RandomState(0).randn(1, model.latent_dim).astype("float32"), 2, axis=0)
    a, b = model.generate(z=z, codes={"categorical": [0, 2], "continuous": [[0.0], [0.0]]})
    assert not np.allclose(a, b)
    samples, cols = model.traversal("continuous:0", rows=2, steps=5)
    assert cols == 5 and samples.shape == (10,) + model.data_shape
    samples, cols = model.traversal("categorical", rows=1)
    assert cols == 3
    with pytest.raises(ValueError, match="codes"):
        model.generate(2, codes={"style": [1, 2]})
    with pytest.raises(ValueError, match=r"input .categorical. takes class indices in \[0, 2\]"):
        model.generate(2, codes={"categorical": [0, 3]})


def test_dcgan_architecture_trains_and_roundtrips():
    model = InfoGAN(data_shape=(8, 8, 1), latent_dim=4, num_categories=3, num_continuous=1, architecture="dcgan",
                    width=4)
    model.compile()
    g_before = [w.numpy().copy() for w in model.generator.trainable_weights]
    history = model.fit(tiny_data(model), epochs=1, steps_per_epoch=2, verbose=0).history
    assert np.isfinite(history["info_loss"]).all()
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(g_before, model.generator.trainable_weights))
    clone = InfoGAN.from_config(model.get_config())
    assert clone.architecture == "dcgan"
    assert [o.shape[1:] for o in clone.discriminator.outputs] == [(1,), (3,), (1,)]
    with pytest.raises(ValueError, match="architecture"):
        InfoGAN(data_shape=(8, 8, 1), architecture="resnet")
