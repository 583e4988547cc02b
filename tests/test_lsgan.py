import keras
import numpy as np

from helpers import check_points, check_standard_behaviour, tiny_data, tiny_model
from tfgan_models.models import LSGAN


def test_standard(tmp_path):
    check_standard_behaviour("lsgan", tmp_path)


def test_points():
    check_points("lsgan")


def test_codings_are_used():
    """With frozen networks the reported losses are exactly eq. 2 on the critic outputs."""
    model = tiny_model("lsgan", a=-1.0, b=1.0, c=0.0)
    assert (model.a, model.b, model.c) == (-1.0, 1.0, 0.0)
    model.compile(g_optimizer=keras.optimizers.SGD(0.0), d_optimizer=keras.optimizers.SGD(0.0))
    history = model.fit(tiny_data(model), epochs=1, steps_per_epoch=1, verbose=0)
    # D outputs are near 0 at init: d ~ 1/2 (0 - 1)^2 + 1/2 (0 + 1)^2 = 1, g ~ 1/2 (0 - 0)^2 = 0.
    assert abs(history.history["d_loss"][0] - 1.0) < 0.1
    assert history.history["g_loss"][0] < 0.05
    assert LSGAN.from_config(model.get_config()).c == 0.0


def test_paper_preset_draws_a_uniform_z():
    """The authors' code draws z ~ U(-1, 1)."""
    from tfgan_models import registry

    z = np.asarray(registry.get("lsgan", "paper", compile=False).latents(4000))
    assert z.min() >= -1.0 and z.max() <= 1.0 and abs(z.std() - 3**-0.5) < 0.02  # U(-1, 1)
