"""The ProGAN / StyleGAN layers against NumPy references (tfgan_models.layers.style)."""

import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_models.layers.style import (BiasActivation, ConstantInput, Downsample2D, EqualizedConv2D, EqualizedDense,
                                       MinibatchStdDev, ModulatedConv2D, NoiseInjection, PixelNorm, Upsample2D,
                                       binomial_filter)

RNG = np.random.RandomState(0)


def test_equalized_dense_scales_at_run_time_and_draws_unit_weights():
    x = RNG.randn(5, 300).astype("float32")
    layer = EqualizedDense(200, bias_init=0.5)
    y = layer(x).numpy()
    assert layer.runtime_scale == pytest.approx(math.sqrt(2 / 300))
    assert np.std(layer.kernel.numpy()) == pytest.approx(1.0, abs=0.02)
    np.testing.assert_allclose(y, x @ (layer.kernel.numpy() * math.sqrt(2 / 300)) + 0.5, rtol=1e-5, atol=1e-5)
    slow = EqualizedDense(200, lr_multiplier=0.01, bias_init=1.0)  # StyleGAN's mapping network
    slow.build((None, 300))
    assert np.std(slow.kernel.numpy()) == pytest.approx(100.0, rel=0.02)  # N(0, 1 / lrmul^2)
    assert slow.runtime_scale == pytest.approx(math.sqrt(2 / 300) * 0.01)
    np.testing.assert_allclose(slow.bias.numpy() * 0.01, 1.0)  # the effective bias starts at bias_init


def test_equalized_conv_runtime_constant_is_he_over_fan_in():
    x = RNG.randn(2, 6, 6, 8).astype("float32")
    layer = EqualizedConv2D(4, 3, gain=1.0)
    y = layer(x).numpy()
    assert layer.runtime_scale == pytest.approx(1 / math.sqrt(3 * 3 * 8))
    ref = tf.nn.conv2d(x, layer.kernel.numpy() / math.sqrt(72), 1, "SAME").numpy()
    np.testing.assert_allclose(y, ref, atol=1e-5)


def test_pixel_norm_gives_unit_rms_across_channels():
    x = RNG.randn(3, 4, 4, 16).astype("float32") * 7.0
    y = PixelNorm()(x).numpy()
    np.testing.assert_allclose(np.sqrt(np.mean(y ** 2, axis=-1)), 1.0, atol=1e-5)


def minibatch_stddev_reference(x, group, features=1):
    """The reference code's reshape to [G, M, ...] (NCHW there), in NumPy on NHWC."""
    b, h, w, c = x.shape
    y = x.reshape(group, b // group, h, w, features, c // features).astype("float64")
    y = np.sqrt(((y - y.mean(axis=0)) ** 2).mean(axis=0) + 1e-8).mean(axis=(1, 2, 4))  # [M, n]
    tiled = np.tile(y[None, :, None, None, :], (group, 1, h, w, 1)).reshape(b, h, w, features)
    return np.concatenate([x, tiled], axis=-1)


@pytest.mark.parametrize("batch, group, features, used", [(8, 4, 1, 4), (6, 4, 2, 3), (2, 4, 1, 2), (5, 4, 1, 1)])
def test_minibatch_stddev_equals_the_reference(batch, group, features, used):
    x = RNG.randn(batch, 3, 3, 4).astype("float32")
    y = MinibatchStdDev(group, features)(x).numpy()
    np.testing.assert_allclose(y, minibatch_stddev_reference(x, used, features), rtol=1e-5, atol=1e-6)


def zero_insert_reference(x, taps):
    """upfirdn2d(up=2) on one channel image: zero insertion, the filter with gain 4, cropped."""
    f1 = np.asarray(taps, "float64") * 2 / np.sum(taps)
    n = x.shape[0]
    z = np.zeros((2 * n, 2 * n))
    z[::2, ::2] = x
    rows = np.stack([np.convolve(r, f1)[1 : 1 + 2 * n] for r in z])
    return np.stack([np.convolve(c, f1)[1 : 1 + 2 * n] for c in rows.T]).T


def test_upsample_is_zero_insertion_with_the_binomial_filter():
    x = RNG.randn(1, 5, 5, 2).astype("float32")
    y = Upsample2D()(x).numpy()
    for ch in range(2):
        np.testing.assert_allclose(y[0, :, :, ch], zero_insert_reference(x[0, :, :, ch], (1, 3, 3, 1)), atol=1e-5)
    with pytest.raises(ValueError, match="divisible"):
        Upsample2D(taps=(1, 2, 1))
    x = tf.constant(x)  # twice differentiable: StyleGAN2's path-length penalty differentiates an input gradient
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_sum(tf.square(Upsample2D()(x)))
        g = tf.reduce_sum(tf.square(inner.gradient(y, x)))
    assert outer.gradient(g, x) is not None


def test_downsample_is_the_binomial_blur_then_decimation():
    x = RNG.randn(1, 8, 8, 1).astype("float32")
    y = Downsample2D()(x).numpy()[0, :, :, 0]
    f = binomial_filter((1, 3, 3, 1))
    padded = np.pad(x[0, :, :, 0], 1)
    ref = np.array([[np.sum(padded[2 * i : 2 * i + 4, 2 * j : 2 * j + 4] * f) for j in range(4)] for i in range(4)])
    np.testing.assert_allclose(y, ref, atol=1e-5)
    assert f.sum() == pytest.approx(1.0)


def modulated_reference(x, w, layer):
    """Eq. 1 and 3 of StyleGAN2 with a per-sample weight, convolved sample by sample."""
    s = w @ (layer.affine.kernel.numpy() / math.sqrt(w.shape[1])) + layer.affine.bias.numpy()
    weight = layer.kernel.numpy() * layer.runtime_scale
    out = []
    for i in range(len(x)):
        wi = weight * s[i][None, None, :, None]
        wi = wi / np.sqrt((wi ** 2).sum(axis=(0, 1, 2), keepdims=True) + 1e-8)
        out.append(tf.nn.conv2d(x[i : i + 1], wi.astype("float32"), 1, "SAME").numpy()[0])
    return np.stack(out)


def test_modulated_conv_matches_the_paper_and_the_fused_form():
    x, w = RNG.randn(3, 6, 6, 5).astype("float32"), RNG.randn(3, 7).astype("float32")
    plain, fused = ModulatedConv2D(4, 3), ModulatedConv2D(4, 3, fused=True)
    y = plain([x, w]).numpy()
    fused([x, w])
    fused.set_weights(plain.get_weights())
    np.testing.assert_allclose(fused([x, w]).numpy(), y, atol=1e-5)
    np.testing.assert_allclose(y, modulated_reference(x, w, plain), atol=1e-4)
    np.testing.assert_array_equal(plain.affine.bias.numpy(), 1.0)  # the style bias starts at 1
    up, up_fused = ModulatedConv2D(4, 3, up=True), ModulatedConv2D(4, 3, up=True, fused=True)
    up([x, w]), up_fused([x, w])
    up_fused.set_weights(up.get_weights())
    np.testing.assert_allclose(up_fused([x, w]).numpy(), up([x, w]).numpy(), atol=1e-5)


def test_demodulation_gives_unit_std_per_output_channel():
    x, w = RNG.randn(4, 64, 64, 32).astype("float32"), RNG.randn(4, 16).astype("float32") * 3
    y = ModulatedConv2D(16, 3)([x, w]).numpy()
    std = y[:, 2:-2, 2:-2].std(axis=(1, 2))  # away from the zero-padded border
    np.testing.assert_allclose(std, 1.0, atol=0.05)
    raw = ModulatedConv2D(16, 3, demodulate=False)([x, w]).numpy()
    assert np.abs(raw[:, 2:-2, 2:-2].std(axis=(1, 2)) - 1).max() > 0.1  # without it the scale follows the style


def test_noise_starts_without_effect_and_constant_tiles_to_the_batch():
    x, noise = RNG.randn(2, 4, 4, 3).astype("float32"), RNG.randn(2, 4, 4, 1).astype("float32")
    layer = NoiseInjection()
    np.testing.assert_array_equal(layer([x, noise]).numpy(), x)
    layer.weight.assign([1.0, 0.0, 2.0])
    np.testing.assert_allclose(layer([x, noise]).numpy(), x + noise * np.array([1.0, 0.0, 2.0]), atol=1e-6)
    const = ConstantInput((4, 4, 3), initializer="ones")
    np.testing.assert_array_equal(const(np.zeros((5, 9), "float32")).numpy(), np.ones((5, 4, 4, 3)))
    act = BiasActivation()
    np.testing.assert_allclose(act(np.array([[-1.0, 2.0]], "float32")).numpy(), [[-0.2 * math.sqrt(2),
                                                                                   2 * math.sqrt(2)]], rtol=1e-6)
    with pytest.raises(ValueError, match="activation"):
        BiasActivation("relu")


def test_a_style_block_saves_reloads_and_converts_to_builtin_tflite(tmp_path):
    w = keras.Input((8,), name="w")
    noise = keras.Input((8, 8, 1), name="noise")
    h = ConstantInput((4, 4, 6))(w)
    h = BiasActivation()(NoiseInjection()([ModulatedConv2D(6, 3, up=True)([h, w]), noise]))
    rgb = BiasActivation("linear")(ModulatedConv2D(3, 1, demodulate=False)([h, w]))
    d = MinibatchStdDev(2)(Downsample2D()(EqualizedConv2D(4, 3)(PixelNorm()(rgb))))
    model = keras.Model([w, noise], [rgb, EqualizedDense(1)(keras.layers.Flatten()(d))])
    inputs = [RNG.randn(2, 8).astype("float32"), RNG.randn(2, 8, 8, 1).astype("float32")]
    path = os.path.join(str(tmp_path), "block.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    for a, b in zip(model(inputs), loaded(inputs)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)
    converter = tf.lite.TFLiteConverter.from_keras_model(keras.Model([w, noise], rgb))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=converter.convert())
    interpreter.allocate_tensors()
    order = {d["name"]: d["index"] for d in interpreter.get_input_details()}
    for name, index in order.items():
        interpreter.set_tensor(index, inputs[1][:1] if "noise" in name else inputs[0][:1])
    interpreter.invoke()
    out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(out, model(inputs)[0].numpy()[:1], atol=1e-4)
