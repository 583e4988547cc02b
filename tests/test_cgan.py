import numpy as np
import pytest

from helpers import check_standard_behaviour, tiny_data, tiny_model
from tfgan_models import registry
from tfgan_models.layers import Maxout
from tfgan_models.models import CGAN


def test_standard(tmp_path):
    check_standard_behaviour("cgan", tmp_path)


def test_paper_mlp_networks():
    model = CGAN(data_shape=(28, 28, 1), latent_dim=100, architecture="mlp")
    g = model.generator
    assert g.get_layer("z_dense").units == 200 and g.get_layer("y_dense").units == 1000
    assert g.get_layer("joint").units == 1200
    maxouts = {l.name: (l.units, l.pieces) for l in model.discriminator.layers if isinstance(l, Maxout)}
    assert maxouts == {"x_maxout": (240, 5), "y_maxout": (50, 5), "joint_maxout": (240, 4)}
    tiny = CGAN(data_shape=(8, 8, 1), latent_dim=4, architecture="mlp")
    tiny.compile()
    tiny.fit(tiny_data(tiny), epochs=1, steps_per_epoch=1, verbose=0)


def test_paper_preset_trains_with_the_papers_sgd():
    """Sec. 4.1: SGD, lr 0.1 divided by 1.00004 per update, momentum 0.5 (its ramp to 0.7 is not reproduced)."""
    model = registry.get("cgan", "paper")
    assert model.architecture == "mlp" and registry.preset("cgan", "paper")["batch_size"] == 100
    assert model.g_optimizer is not model.d_optimizer
    for opt in (model.g_optimizer, model.d_optimizer):
        assert type(opt).__name__ == "SGD" and opt.momentum == 0.5
        for step in (0, 1, 25_000, 200_000):
            assert float(opt._learning_rate(step)) == pytest.approx(0.1 / 1.00004**step, rel=2e-3)  # float32
    assert float(model.g_optimizer.learning_rate) == pytest.approx(0.1)


def test_labels_control_the_generator():
    model = tiny_model("cgan")
    z = np.repeat(np.random.RandomState(0).randn(1, model.latent_dim).astype("float32"), 2, axis=0)
    a, b = model.generate(z=z, labels=[3, 7])
    assert not np.allclose(a, b)  # same z, different label
    same = model.generate(z=z, labels=[3, 3])
    np.testing.assert_array_equal(same[0], same[1])
    with pytest.raises(ValueError, match=r"input .labels. takes class indices in \[0, 9\]"):
        model.generate(2, labels=[0, 10])
    with pytest.raises(ValueError, match=r"input .labels. must have shape \(3\)"):
        model.generate(3, labels=[0, 1])


def test_traversal_grid():
    model = tiny_model("cgan")
    samples, cols = model.traversal("labels", rows=2, seed=0)
    assert cols == 10 and samples.shape == (20,) + model.data_shape
    with pytest.raises(ValueError, match="traverse"):
        model.traversal("continuous:0")


def test_unlabelled_data_is_a_clear_error():
    model = tiny_model("cgan")
    images = np.zeros((8, 8, 8, 1), "float32")
    with pytest.raises(ValueError, match="with_labels=True"):
        model.fit(images, epochs=1, batch_size=8, verbose=0)
