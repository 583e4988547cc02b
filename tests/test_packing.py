"""PacGAN packing (Lin et al. 2018): the discriminator judges m samples concatenated on the last axis."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers import check_config_roundtrip, check_fit_changes_both, tiny_model
from tfgan_models.models.gan_model import packed_shape

UNCONDITIONAL = ("gan", "dcgan", "lsgan", "wgan", "wgan_gp")


def test_pack_concatenates_consecutive_samples_on_the_last_axis():
    model = tiny_model("dcgan", packing=2)
    x = np.random.default_rng(0).normal(size=(6, 8, 8, 1)).astype("float32")
    packed = np.asarray(model.pack(tf.constant(x)))
    assert packed.shape == (3, 8, 8, 2)
    np.testing.assert_array_equal(packed, np.stack([np.concatenate([x[2 * i], x[2 * i + 1]], -1) for i in range(3)]))
    points = tiny_model("gan", "ring8", packing=3)
    p = np.arange(12, dtype="float32").reshape(6, 2)
    np.testing.assert_array_equal(np.asarray(points.pack(tf.constant(p))), p.reshape(2, 6))
    assert packed_shape((32, 32, 3), 4) == (32, 32, 12)


@pytest.mark.parametrize("variant", UNCONDITIONAL)
def test_packed_variants_train(variant):
    """D takes m * C channels, a step consumes m * B samples, both networks learn, losses stay finite."""
    model = tiny_model(variant, packing=2)
    assert model.discriminator.inputs[0].shape[1:] == (8, 8, 2)
    assert model.data_batch_size(8) == 16 * model.discriminator_steps
    check_fit_changes_both(model, steps=2)
    check_config_roundtrip(model)


def test_packed_points_and_save_reload(tmp_path):
    model = tiny_model("wgan_gp", "ring8", packing=2)
    assert model.discriminator.inputs[0].shape[1:] == (4,)
    check_fit_changes_both(model, steps=1)
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.packing == 2
    x = tf.constant(model.generate(4, seed=0))
    np.testing.assert_allclose(np.asarray(loaded.judge(x, training=False)),
                               np.asarray(model.judge(x, training=False)), atol=1e-6)


def test_the_discriminator_sees_samples_together():
    """Packing is not averaging: D's score of a pair changes when one of the two samples changes."""
    model = tiny_model("dcgan", packing=2)
    x = np.random.default_rng(1).uniform(-1, 1, (2, 8, 8, 1)).astype("float32")
    y = x.copy()
    y[1] = -y[1]
    before = np.asarray(model.judge(tf.constant(x), training=False))
    after = np.asarray(model.judge(tf.constant(y), training=False))
    assert before.shape == (1, 1) and not np.allclose(before, after)


def test_bad_packing_is_a_clear_error():
    with pytest.raises(ValueError, match="packing must be an int >= 1"):
        tiny_model("dcgan", packing=0)
    with pytest.raises(ValueError, match="unconditional"):
        tiny_model("cgan", packing=2)
    model = tiny_model("dcgan", packing=3)
    with pytest.raises(ValueError, match="divisible by 3"):
        model.pack(tf.zeros((4, 8, 8, 1)))
