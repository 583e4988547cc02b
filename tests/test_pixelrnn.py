"""PixelRNN (van den Oord et al. 2016): masks, causality, likelihood, sampling, round trips."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits

from tfgan_models import registry
from tfgan_models.layers import DiagonalBiLSTM, MaskedConv2D, RowLSTM
from tfgan_models.layers.autoregressive import causal_mask, skew, unskew
from tfgan_models.models.pixelrnn import PixelRNN

ARCHITECTURES = ("diagonal_bilstm", "row_lstm", "pixelcnn")


def binary_digits(n=256):
    """scikit-learn digits thresholded at >= 8/16, as -1 / +1 (the binarized_digits convention)."""
    images = load_digits().images[:n, :, :, None]
    return np.where(images >= 8.0, 1.0, -1.0).astype("float32")


def small_model(architecture, colour=False, **kwargs):
    keras.utils.set_random_seed(1)
    if colour:  # RGB, 4 levels so the Jacobian stays small
        return PixelRNN(architecture, (5, 5, 3), hidden=6, layers=2, output="categorical", levels=4, seed=0,
                        **kwargs)
    return PixelRNN(architecture, (6, 6, 1), hidden=4, layers=2, seed=0, **kwargs)


def dependence(network, x, levels_axis):
    """``D[i, j] = max |d out_i / d x_j|`` over the raster-and-channel-ordered positions i, j, the maximum
    over the images of ``x`` (several random inputs, so no position hides behind an unlucky dead ReLU)."""
    x = tf.constant(x)
    projection = tf.constant(np.random.RandomState(3).uniform(0.5, 1.5, 8).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = network(x)
        if levels_axis:  # a generic positive projection of the levels keeps every non-zero derivative
            out = tf.reduce_sum(out * projection[: out.shape[-1]], axis=-1)
        out = tf.reshape(out, (x.shape[0], -1))
    jac = tape.batch_jacobian(out, x).numpy()  # (N, P, H, W, C)
    return np.abs(jac.reshape(jac.shape[0], jac.shape[1], -1)).max(axis=0)


# ------------------------------------------------------------------------------------------- masks
def test_masks_a_and_b_match_a_hand_built_reference():
    # 3x3 kernel, 3 input maps (one per colour) -> 6 output maps (groups R R G G B B).
    a, b = causal_mask((3, 3, 3, 6), "A", 3), causal_mask((3, 3, 3, 6), "B", 3)
    spatial = np.array([[1, 1, 1], [1, 0, 0], [0, 0, 0]], "float32")  # centre handled below
    centre_a = np.array([[0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0]], "float32")
    centre_b = np.array([[1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1]], "float32")
    for mask, centre in ((a, centre_a), (b, centre_b)):
        expected = np.broadcast_to(spatial[:, :, None, None], (3, 3, 3, 6)).copy()
        expected[1, 1] = centre
        np.testing.assert_array_equal(mask, expected)
    # one colour: A hides the centre, B keeps it
    assert causal_mask((1, 3, 2, 2), "A")[0].tolist() == [[[1, 1], [1, 1]], [[0, 0], [0, 0]], [[0, 0], [0, 0]]]
    assert causal_mask((1, 3, 2, 2), "B")[0, 1].tolist() == [[1, 1], [1, 1]]


def test_masked_conv_applies_the_mask_without_touching_the_kernel():
    layer = MaskedConv2D(6, 3, "A", colour_channels=3)
    x = np.random.RandomState(0).randn(2, 5, 5, 3).astype("float32")
    out = layer(x).numpy()
    kernel = layer.kernel.numpy()
    expected = tf.nn.conv2d(x, kernel * causal_mask(kernel.shape, "A", 3), 1, "SAME").numpy() + layer.bias.numpy()
    np.testing.assert_allclose(out, expected, atol=1e-5)
    assert (kernel * (1 - causal_mask(kernel.shape, "A", 3)) != 0).any(), "the kernel variable was masked in place"
    clone = MaskedConv2D.from_config(layer.get_config())
    assert (clone.mask_type, clone.colour_channels) == ("A", 3)


def test_skew_shifts_row_i_by_i_and_unskew_inverts_it():
    x = np.random.RandomState(0).randn(2, 4, 5, 3).astype("float32")
    skewed = skew(tf.constant(x)).numpy()
    assert skewed.shape == (2, 4, 8, 3)
    expected = np.zeros_like(skewed)
    for i in range(4):
        expected[:, i, i : i + 5] = x[:, i]
    np.testing.assert_array_equal(skewed, expected)
    np.testing.assert_array_equal(unskew(tf.constant(skewed), 5).numpy(), x)


# --------------------------------------------------------------------------------------- causality
@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("colour", [False, True], ids=["binary", "rgb"])
def test_logit_i_depends_only_on_earlier_pixels_and_channels(architecture, colour):
    model = small_model(architecture, colour)
    rng = np.random.RandomState(4)
    for weight in model.generator.weights:  # random biases too: no path rests on a zero pre-activation
        if "bias" in weight.path:
            weight.assign(rng.normal(0.0, 0.2, weight.shape))
    h, w, c = model.data_shape
    x = np.random.RandomState(0).uniform(-1, 1, (16, h, w, c)).astype("float32")
    d = dependence(model.generator, model.prepare(x)[0].numpy(), colour)
    future = np.triu(np.ones_like(d, bool))  # j >= i
    assert d[future].max() < 1e-7, f"logit {np.argwhere(d * future >= 1e-7)[0][0]} sees a later position"
    # context is used: every position but the first sees some earlier one; the previous pixel on the row
    # (and, in colour, the previous channel of the same pixel) always
    assert (d[1:] * ~future[1:]).max(axis=1).min() > 0
    index = np.arange(h * w * c).reshape(h, w, c)
    assert all(d[index[r, q, k], index[r, q - 1, k]] > 0 for r in range(h) for q in range(1, w) for k in range(c))
    if colour:
        assert all(d[index[r, q, k], index[r, q, k - 1]] > 0 for r in range(h) for q in range(w) for k in (1, 2))


@pytest.mark.parametrize("layer_class", [DiagonalBiLSTM, RowLSTM])
def test_lstm_layer_sees_rows_above_and_its_row_up_to_itself(layer_class):
    """The layer alone (mask B): output (i, j) never sees (i, j' > j) nor a later row, and sees exactly its
    receptive field (paper Fig. 4). The Diagonal BiLSTM sees every row above and its row up to j: without
    the right-to-left output's shift down one row it would see (i, j' > j); with the last row zeroed
    instead (carpedm20#16) too."""
    keras.utils.set_random_seed(2)
    layer = layer_class(2)
    x = np.random.RandomState(1).randn(2, 5, 4, 1).astype("float32")
    d = dependence(layer, x, False).reshape(5, 4, 2, 5, 4).max(axis=2)  # (out row, col, in row, col)
    for i in range(5):
        for j in range(4):
            seen = d[i, j] > 0
            allowed = np.zeros((5, 4), bool)
            allowed[:i] = True
            allowed[i, : j + 1] = True
            assert not (seen & ~allowed).any(), f"({i}, {j}) sees {np.argwhere(seen & ~allowed).tolist()}"
            if layer_class is DiagonalBiLSTM:
                np.testing.assert_array_equal(seen, allowed)
            else:  # the Row LSTM's triangle: (i, j - 1 .. j), and k rows up, columns j - k - 1 .. j + k
                triangle = np.zeros((5, 4), bool)
                triangle[i, max(j - 1, 0) : j + 1] = True
                for k in range(1, i + 1):
                    triangle[i - k, max(j - k - 1, 0) : j + k + 1] = True
                np.testing.assert_array_equal(seen, triangle)


# -------------------------------------------------------------------------------------- likelihood
def test_nll_equals_cross_entropy_of_the_logits():
    model = small_model("pixelcnn")
    x = binary_digits(4)[:, 1:7, 1:7]
    logits = model.logits(x).numpy().astype("float64")
    t = (x > 0).astype("float64")
    expected = (np.logaddexp(0.0, logits) - t * logits).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(model.nll(x).numpy(), expected, rtol=1e-5)
    assert model.nll(x).dtype == tf.float32 and model.nll(x).shape == (4,)

    colour = small_model("row_lstm", colour=True)
    x = np.random.RandomState(0).uniform(-1, 1, (3, 5, 5, 3)).astype("float32")
    logits = colour.logits(x).numpy().astype("float64")
    level = np.round((x + 1) * 1.5).astype(int)  # 4 levels
    log_z = np.log(np.exp(logits).sum(-1))
    picked = np.take_along_axis(logits, level[..., None], -1)[..., 0]
    np.testing.assert_allclose(colour.nll(x).numpy(), (log_z - picked).sum(axis=(1, 2, 3)), rtol=1e-5)


def test_fit_lowers_the_nll_of_binarized_digits():
    keras.utils.set_random_seed(0)
    model = registry.get("pixelrnn", "tiny", seed=0)
    images = binary_digits(512)
    before_weights = [v.numpy().copy() for v in model.generator.trainable_weights]
    before = float(np.mean(model.nll(images[:128])))
    ds = tf.data.Dataset.from_tensor_slices((images, np.zeros(512, "int32"))).batch(32).repeat()
    history = model.fit(ds, epochs=1, steps_per_epoch=40, verbose=0,
                        validation_data=tf.data.Dataset.from_tensor_slices(images[:64]).batch(32))
    after = float(np.mean(model.nll(images[:128])))
    assert np.isfinite(history.history["nll"]).all() and np.isfinite(history.history["val_nll"]).all()
    assert after < before - 3.0, (before, after)
    np.testing.assert_allclose(history.history["val_bits_per_dim"][0],
                               history.history["val_nll"][0] / (64 * np.log(2)), rtol=1e-5)
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(before_weights, model.generator.trainable_weights))


# ---------------------------------------------------------------------------------------- sampling
def test_sample_is_binary_seeded_and_completion_keeps_the_top_rows():
    model = small_model("diagonal_bilstm")
    samples = model.sample(3, seed=5)
    assert samples.shape == (3, 6, 6, 1) and samples.dtype == np.float32
    assert set(np.unique(samples)) <= {-1.0, 1.0}
    np.testing.assert_array_equal(samples, model.sample(3, seed=5))
    np.testing.assert_array_equal(samples, model.generate(3, seed=5))
    assert not np.array_equal(samples, model.sample(3, seed=6))
    x = binary_digits(3)[:, 1:7, 1:7]
    done = model.complete(x, rows=3, seed=1)
    np.testing.assert_array_equal(done[:, :3], x[:, :3])
    assert set(np.unique(done)) <= {-1.0, 1.0}
    np.testing.assert_array_equal(model.complete(x, rows=6), x)


def test_categorical_samples_lie_on_the_level_grid():
    model = small_model("pixelcnn", colour=True)
    samples = model.sample(2, seed=0)
    assert samples.shape == (2, 5, 5, 3)
    np.testing.assert_allclose(samples, np.round((samples + 1) * 1.5) / 1.5 - 1, atol=1e-6)
    assert len(np.unique(samples)) > 1


# ---------------------------------------------------------------------------------------- round trips
def test_config_round_trip_and_save_reload_give_identical_logits(tmp_path):
    model = small_model("row_lstm", colour=True)
    config = model.get_config()
    clone = PixelRNN.from_config(config)
    assert clone.get_config() == config
    assert clone.generator.count_params() == model.generator.count_params()
    assert [type(layer).__name__ for layer in clone.generator.layers] == \
        [type(layer).__name__ for layer in model.generator.layers]

    model = small_model("diagonal_bilstm")
    model.compile()
    model.fit(binary_digits(16)[:, 1:7, 1:7], epochs=1, batch_size=8, verbose=0)
    path = os.path.join(str(tmp_path), "pixelrnn.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is PixelRNN
    assert {k: v for k, v in loaded.get_config().items() if k != "generator"} == \
        {k: v for k, v in model.get_config().items() if k != "generator"}
    x = binary_digits(4)[:, 1:7, 1:7]
    np.testing.assert_array_equal(loaded.logits(x), model.logits(x))
    np.testing.assert_array_equal(loaded.sample(2, seed=0), model.sample(2, seed=0))


def test_bad_arguments_are_refused_with_what_was_received():
    with pytest.raises(ValueError, match="architecture"):
        PixelRNN("gru", (6, 6, 1), hidden=4, layers=1)
    with pytest.raises(ValueError, match="divisible"):
        PixelRNN("row_lstm", (5, 5, 3), hidden=4, layers=1, output="categorical", levels=4)
    with pytest.raises(ValueError, match=r"\(N, 6, 6, 1\)"):
        small_model("pixelcnn").complete(np.zeros((2, 5, 5, 1), "float32"))
