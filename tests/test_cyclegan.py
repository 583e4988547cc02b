import inspect

import numpy as np
import pytest
import tensorflow as tf

from tfgan_models import registry, runs
from tfgan_models.metrics.macs import count_macs
from tfgan_models.models import cyclegan
from tfgan_models.models.cyclegan import CycleGAN
from tfgan_models.models.translation import resnet_generator
from translation_helpers import (check_config_roundtrip, check_fit, check_save_reload, check_translate,
                                 check_wrong_data, tiny)


def same_pools(model, loaded):
    for name in ("pool_a", "pool_b"):  # the image histories are weights: checkpoints keep them
        np.testing.assert_array_equal(np.asarray(getattr(model, name).images),
                                      np.asarray(getattr(loaded, name).images))
        assert int(getattr(model, name).count) == int(getattr(loaded, name).count)


def test_standard(tmp_path):
    model = tiny("cyclegan")
    assert model.data_kind == "unpaired" and model.two_way
    assert model.generator.name == "G" and model.reverse_generator.name == "F"
    history = check_fit(model)
    assert int(model.pool_a.count) == int(model.pool_b.count) == 4  # 2 steps x batch 2
    assert history.history["identity_loss"][0] > 0  # identity weight 0.5 by default
    check_translate(model)
    check_save_reload(model, tmp_path, compare=same_pools)


def test_config_roundtrip():
    check_config_roundtrip(tiny("cyclegan"))


def test_image_pool_semantics():
    model = tiny("cyclegan")
    pool = model.pool_a
    assert pool.size == 4

    def batch(k):  # two images, each one constant level, all distinct
        return np.stack([np.full((16, 16, 3), (2 * k + j) / 50.0 - 0.9, "float32") for j in range(2)])

    fed, kept, swapped = [], 0, 0
    for k in range(12):
        new = batch(k)
        out = np.asarray(pool.query(model, tf.constant(new)))
        assert out.shape == new.shape
        if k < 2:  # the pool is filling: every image is stored and returned as is
            np.testing.assert_array_equal(out, new)
        else:
            for j in range(2):
                if np.array_equal(out[j], new[j]):
                    kept += 1
                else:  # an earlier image from the history (possibly this batch's first)
                    assert any(np.array_equal(out[j], f) for f in fed + list(new[:j])), (k, j)
                    swapped += 1
        fed.extend(new)
        assert int(pool.count) == min(len(fed), 4)
        stored = np.asarray(pool.images)[: int(pool.count)]
        assert all(any(np.array_equal(row, f) for f in fed) for row in stored)
    assert kept and swapped, (kept, swapped)  # each with probability 1/2

    no_pool = tiny("cyclegan", pool_size=0)
    x = batch(0)
    np.testing.assert_array_equal(np.asarray(no_pool.pool_b.query(no_pool, tf.constant(x))), x)


def test_generator_follows_the_paper():
    g = resnet_generator(3, 64, 9)
    assert abs(g.count_params() - 11.38e6) < 0.005e6
    assert abs(count_macs(g, 256) - 56.8e9) <= 0.1e9  # GAN Compression's figure
    assert abs(count_macs(g, 256, transposed="input") - 49.55e9) <= 0.1e9
    assert [g.get_layer(n).filters for n in ("c7s1", "d0", "d1", "r0_a", "u1", "u0", "out_conv")] == [
        64, 128, 256, 256, 128, 64, 3]
    assert g.get_layer("c7s1").kernel_size == (7, 7) and g.get_layer("r8_b").kernel_size == (3, 3)
    assert tuple(g(np.zeros((1, 20, 28, 3), "float32")).shape) == (1, 20, 28, 3)


def test_paper_defaults_and_mobile_budget():
    defaults = {k: p.default for k, p in inspect.signature(CycleGAN.__init__).parameters.items()}
    assert defaults["cycle_weight"] == 10.0 and defaults["identity_weight"] == 0.5
    assert defaults["pool_size"] == 50 == cyclegan.POOL_SIZE and defaults["blocks"] == 9
    paper = registry.preset("cyclegan", "paper")
    assert paper["data"] == "tfds:cycle_gan/horse2zebra" and paper["batch_size"] == 1 and paper["epochs"] == 200
    mobile = registry.get("cyclegan", "mobile", compile=False)
    assert mobile.separable and count_macs(mobile.generator, 256) <= 3e9
    assert count_macs(mobile.reverse_generator, 256) <= 3e9
    assert CycleGAN.lr_schedule == "linear_decay"


def test_wrong_data_and_arguments_are_clear():
    model = tiny("cyclegan")
    check_wrong_data(model)
    a = np.zeros((3, 16, 16, 3), "float32")
    with pytest.raises(ValueError, match="static batch size"):  # the history needs drop_remainder=True
        model.fit(tf.data.Dataset.from_tensor_slices((a, a)).batch(2), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="CycleGAN trains on unpaired data"):
        CycleGAN.check_data_spec("colorize:photos")
    with pytest.raises(ValueError, match="CycleGAN trains on unpaired data"):
        model.training_dataset("edges:photos", 2, 0)
    with pytest.raises(ValueError, match="keeps no EMA"):
        tiny("cyclegan", ema_decay=0.99)
    with pytest.raises(ValueError, match="keeps no EMA"):
        runs.build_model(runs.run_settings("cyclegan", "tiny", ema_decay=0.99))
    with pytest.raises(ValueError, match="multiple of 4"):
        tiny("cyclegan", data_shape=(18, 18, 3))


@pytest.mark.parametrize("separable", [False, True])
def test_initialisation_is_the_authors(separable):
    """init_weights(net, 'normal', 0.02): every conv / transposed / depthwise kernel N(0, 0.02), gamma N(1, 0.02)."""
    import keras

    keras.utils.set_random_seed(0)
    g = resnet_generator(3, 16, 3, separable=separable)
    kinds = (keras.layers.Conv2D, keras.layers.Conv2DTranspose, keras.layers.DepthwiseConv2D)
    kernels = [l.kernel for l in g.layers if isinstance(l, kinds)]
    assert len(kernels) == 1 + 2 + 3 * 2 * (2 if separable else 1) + 2 + 1
    for kernel in kernels:
        values = kernel.numpy()
        assert abs(values.mean()) < 0.01 and values.std() == pytest.approx(0.02, rel=0.25), kernel.path
    gammas = np.concatenate([l.gamma.numpy() for l in g.layers if isinstance(l, keras.layers.GroupNormalization)])
    assert gammas.mean() == pytest.approx(1.0, abs=0.005) and gammas.std() == pytest.approx(0.02, rel=0.2)
