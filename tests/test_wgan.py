import numpy as np

from helpers import check_fit_changes_both, check_points, check_standard_behaviour, tiny_model
from tfgan_models import registry
from tfgan_models.models import WGAN


def test_standard(tmp_path):
    check_standard_behaviour("wgan", tmp_path)


def test_points():
    check_points("wgan")


def test_paper_defaults():
    model = WGAN(data_shape=(16, 16, 1), latent_dim=8, width=4)
    model.compile()
    assert model.discriminator_steps == 5 and model.clip_value == 0.01
    # torch.optim.RMSprop(lr=5e-5) of the authors' code: alpha 0.99, eps 1e-8 outside the root (1e-16 under it)
    paper = registry.get("wgan", "paper")
    for opt in (model.g_optimizer, model.d_optimizer, paper.g_optimizer, paper.d_optimizer):
        assert type(opt).__name__ == "RMSprop"
        assert float(opt.learning_rate) == np.float32(5e-5) and (opt.rho, opt.epsilon) == (0.99, 1e-16)
    assert paper.g_optimizer is not paper.d_optimizer


def test_rmsprop_steps_match_pytorchs():
    """Keras steps with the paper preset's optimizer against PyTorch's RMSprop update, written out."""
    import keras

    grads = np.random.RandomState(0).normal(0, 1, (6, 4)) * np.array([1e-2, 1e-3, 1e-4, 1e-5])

    def keras_steps(config):
        var, opt = keras.Variable(np.zeros(4, "float32")), keras.optimizers.get(config)
        for g in grads:
            opt.apply_gradients([(keras.ops.convert_to_tensor(g.astype("float32")), var)])
        return var.numpy()

    theta, v = np.zeros(4), np.zeros(4)
    for g in grads:  # torch.optim.RMSprop(lr=5e-5): v = 0.99 v + 0.01 g^2; theta -= lr g / (sqrt(v) + 1e-8)
        v = 0.99 * v + 0.01 * g**2
        theta -= 5e-5 * g / (np.sqrt(v) + 1e-8)
    np.testing.assert_allclose(keras_steps(registry.preset("wgan", "paper")["d_optimizer"]), theta, rtol=1e-2)
    # Keras's defaults (rho 0.9) take early steps about a third the size: the settings matter.
    default = keras_steps({"class_name": "RMSprop", "config": {"learning_rate": 5e-5}})
    assert np.all(np.abs(default) < 0.5 * np.abs(theta))


def test_critic_weights_stay_clipped():
    model = tiny_model("wgan", clip_value=0.005)
    check_fit_changes_both(model, steps=2)
    for w in model.discriminator.trainable_weights:
        assert np.abs(w.numpy()).max() <= 0.005 + 1e-7, w.name
