"""Context Encoders (Pathak et al. 2016): losses, masks, exact compositing, learning, save/reload."""

import os

import keras
import numpy as np
import pytest

from tfgan_models import data
from tfgan_models.data.masks import center_mask, check_masks, random_mask
from tfgan_models.data.pipeline import held_out_spec
from tfgan_models.models.context_encoder import ChannelwiseDense, ContextEncoder
from helpers import changed, tiny_model, weights_of


def masked_batches(model, kind=None, batch_size=8):
    h, w, c = model.data_shape
    return data.load("digits", batch_size=batch_size, image_size=(h, w), channels=c, repeat=True, seed=0,
                     mask=kind or model.mask)


def test_centre_mask_is_the_central_half_and_random_masks_cover_20_to_30_percent():
    mask = center_mask(28, 28)[..., 0]
    assert mask.sum() == 14 * 14 and mask[7:21, 7:21].all()
    covers = [float(np.asarray(random_mask(32, 32, [3, i])).mean()) for i in range(40)]
    assert 0.20 <= min(covers) and max(covers) <= 0.30
    assert len({round(c, 4) for c in covers}) > 10  # they differ from one another
    np.testing.assert_array_equal(random_mask(32, 32, [3, 5]), random_mask(32, 32, [3, 5]))  # a pure function


def test_held_out_masks_are_fixed_and_training_masks_change_every_epoch():
    first = [b[1].numpy() for b in data.load("digits:test", batch_size=16, mask="random", shuffle=False).take(2)]
    again = [b[1].numpy() for b in data.load("digits:test", batch_size=16, mask="random", shuffle=False).take(2)]
    np.testing.assert_array_equal(first[0], again[0])
    stream = data.load("digits:test", batch_size=397, mask="random", shuffle=False, repeat=True,
                       drop_remainder=True)
    epochs = [b[1].numpy() for b in stream.take(2)]
    assert not np.array_equal(epochs[0], epochs[1])


def test_loss_weights_are_the_papers_and_the_ring_gets_ten_times_the_weight():
    model = tiny_model("context_encoder")
    assert model.l2_weight == 0.999 and model.overlap_weight == 10.0
    masks = center_mask(16, 16)[None]
    weights = np.asarray(model.reconstruction_weights(masks))[0, ..., 0]
    assert (weights[4:12, 4:12] == 1.0).all()                      # the hole
    ring = np.zeros((16, 16), bool)
    ring[3:13, 3:13] = True
    ring[4:12, 4:12] = False
    assert (weights[ring] == 10.0).all() and (weights[~ring & (weights != 1.0)] == 0.0).all()
    assert model.patch_shape() == (10, 10, 1)                      # D sees the hole and its ring
    assert model.g_optimizer.learning_rate.numpy() == pytest.approx(10 * model.d_optimizer.learning_rate.numpy())


def test_generator_loss_is_the_weighted_sum_of_l2_and_adversarial():
    model = tiny_model("context_encoder")
    history = model.fit(masked_batches(model), epochs=1, steps_per_epoch=1, verbose=0).history
    g, l2, adv = history["g_loss"][0], history["l2_loss"][0], history["adversarial_loss"][0]
    assert g == pytest.approx(0.999 * l2 + 0.001 * adv, rel=1e-5)


def test_outside_the_hole_the_output_equals_the_input_exactly():
    model = tiny_model("context_encoder")
    images, masks = model.preview_batch(6, seed=1)
    out = model.inpaint(images, masks)
    keep = np.broadcast_to(masks < 0.5, images.shape)
    np.testing.assert_array_equal(out[keep], images[keep])
    assert np.abs(out[~keep] - images[~keep]).max() > 0  # and it did fill the hole
    random_masks = np.stack([np.asarray(random_mask(16, 16, [0, i])) for i in range(6)])
    out = model.inpaint(images, random_masks)
    keep = np.broadcast_to(random_masks < 0.5, images.shape)
    np.testing.assert_array_equal(out[keep], images[keep])


@pytest.mark.parametrize("masks, message", [
    (np.zeros((16, 16)), "empty"),
    (np.ones((16, 16)), "whole image"),
    (np.ones((8, 8)), "matching"),
])
def test_empty_full_or_wrong_size_masks_are_clear_errors(masks, message):
    model = tiny_model("context_encoder")
    images = np.zeros((2, 16, 16, 1), "float32")
    with pytest.raises(ValueError, match=message):
        model.inpaint(images, masks)


def test_wrong_image_size_is_a_clear_error():
    with pytest.raises(ValueError, match="inpaints images of shape"):
        tiny_model("context_encoder").inpaint(np.zeros((1, 20, 20, 1), "float32"), np.ones((20, 20)))


def test_check_masks_broadcasts_one_mask_to_the_batch():
    masks = check_masks(center_mask(16, 16)[..., 0], (3, 16, 16, 1))
    assert masks.shape == (3, 16, 16, 1)


@pytest.mark.parametrize("kind", ["center", "random"])
def test_a_few_steps_change_both_networks_and_keep_losses_finite(kind):
    model = tiny_model("context_encoder", mask=kind)
    g, d = weights_of(model.generator), weights_of(model.discriminator)
    history = model.fit(masked_batches(model), epochs=1, steps_per_epoch=3, verbose=0).history
    assert changed(g, model.generator) and changed(d, model.discriminator)
    assert all(np.isfinite(v).all() for v in history.values())


def test_training_lowers_the_reconstruction_error_in_the_hole():
    keras.utils.set_random_seed(0)
    model = ContextEncoder(data_shape=(16, 16, 1), overlap=1, nef=16, ngf=16, ndf=8, bottleneck_size=64, seed=0)
    model.compile()
    images, masks = model.preview_batch(64, seed=0)
    hole = np.broadcast_to(masks > 0.5, images.shape)
    before = np.mean((model.inpaint(images, masks) - images)[hole] ** 2)
    model.fit(masked_batches(model, batch_size=32), epochs=1, steps_per_epoch=60, verbose=0)
    after = np.mean((model.inpaint(images, masks) - images)[hole] ** 2)
    assert after < 0.5 * before, (before, after)


def test_l2_only_ablation_trains_no_discriminator():
    model = tiny_model("context_encoder", l2_weight=1.0)
    d = weights_of(model.discriminator)
    history = model.fit(masked_batches(model), epochs=1, steps_per_epoch=2, verbose=0).history
    assert not changed(d, model.discriminator)
    assert history["g_loss"][-1] == pytest.approx(history["l2_loss"][-1], rel=1e-6)


def test_channelwise_bottleneck_has_m_n4_weights_and_keeps_maps_apart():
    layer = ChannelwiseDense()
    x = np.random.RandomState(0).randn(2, 4, 4, 3).astype("float32")
    y = np.asarray(layer(x))
    assert layer.kernel.shape == (3, 16, 16)  # m n^4 = 3 * 4^4
    x2 = x.copy()
    x2[..., 1] += 1.0  # changing map 1 changes only output map 1
    y2 = np.asarray(layer(x2))
    np.testing.assert_array_equal(y2[..., [0, 2]], y[..., [0, 2]])
    assert np.abs(y2[..., 1] - y[..., 1]).max() > 0
    model = tiny_model("context_encoder", bottleneck="channelwise")
    model.fit(masked_batches(model), epochs=1, steps_per_epoch=1, verbose=0)


def test_config_roundtrip_and_save_reload(tmp_path):
    model = tiny_model("context_encoder")
    model.fit(masked_batches(model), epochs=1, steps_per_epoch=1, verbose=0)
    clone = ContextEncoder.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    path = os.path.join(str(tmp_path), "ce.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    images, masks = model.preview_batch(4)
    np.testing.assert_array_equal(loaded.inpaint(images, masks), model.inpaint(images, masks))


def test_held_out_spec():
    assert held_out_spec("mnist") == "mnist:test" and held_out_spec("photos:train") == "photos:test"
    assert held_out_spec("fashion_mnist@/d") == "fashion_mnist:test@/d"
    assert held_out_spec("folder:/x") == "folder:/x"


def test_generate_points_to_inpaint():
    with pytest.raises(ValueError, match="inpaint"):
        tiny_model("context_encoder").generate(2)
