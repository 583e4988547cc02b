"""LAPGAN: the Laplacian pyramid, the coarse-to-fine sampling chain, level-by-level training, export."""

import warnings

import keras
import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from tfgan_models import data, export, registry, runs
from tfgan_models.layers import pyramid
from tfgan_models.models.lapgan import LAPGAN


def tiny(**overrides):
    keras.utils.set_random_seed(0)
    return registry.get("lapgan", "tiny", seed=0, **overrides)


def batches(model, batch=8):
    return data.load("digits", batch_size=batch, image_size=32, channels=1, repeat=True, seed=0,
                     with_labels=model.requires_labels)


def numpy_downsample(x):
    """d(.) by hand: symmetric padding, the 5x5 binomial filter, every second pixel."""
    taps = np.array([1, 4, 6, 4, 1], "float64") / 16
    padded = np.pad(x.astype("float64"), [(0, 0), (2, 2), (2, 2), (0, 0)], mode="symmetric")
    h, w = x.shape[1:3]
    out = sum(taps[i] * taps[j] * padded[:, i:i + h, j:j + w] for i in range(5) for j in range(5))
    return out[:, ::2, ::2]


# ------------------------------------------------------------------ pyramid
@pytest.mark.parametrize("shape, levels", [((2, 32, 24, 3), 3), ((3, 8, 8, 1), 3), ((1, 12, 20, 2), 2),
                                           ((2, 16, 16, 1), 0)])
def test_the_laplacian_pyramid_sums_back_to_any_image(shape, levels, rng):
    x = rng.uniform(-1, 1, shape).astype("float32") * rng.uniform(0.1, 5)
    bands = pyramid.laplacian_pyramid(x, levels)
    assert [tuple(b.shape) for b in bands] == [(shape[0], shape[1] // 2 ** k, shape[2] // 2 ** k, shape[3])
                                               for k in range(levels + 1)]
    np.testing.assert_allclose(pyramid.reconstruct(bands).numpy(), x, rtol=0, atol=1e-5)
    if levels:
        np.testing.assert_allclose(pyramid.downsample(x).numpy(), numpy_downsample(x), rtol=0, atol=1e-5)
        up = pyramid.upsample(x).numpy()
        assert up.shape == (shape[0], 2 * shape[1], 2 * shape[2], shape[3])
        # u(.) is the op the exported generator runs
        np.testing.assert_allclose(up, keras.layers.UpSampling2D(2, interpolation="bilinear")(x).numpy(), atol=1e-6)


def test_a_constant_image_has_zero_bands_and_bad_pyramids_are_refused():
    bands = pyramid.laplacian_pyramid(np.full((2, 16, 16, 3), 0.3, "float32"), 4)
    assert all(np.abs(b.numpy()).max() < 1e-6 for b in bands[:-1])
    np.testing.assert_allclose(bands[-1].numpy(), 0.3, atol=1e-6)
    with pytest.raises(ValueError, match="divisible by 8"):
        pyramid.laplacian_pyramid(np.zeros((1, 12, 12, 1)), 3)
    with pytest.raises(ValueError, match=r"\(batch, H, W, C\)"):
        pyramid.downsample(np.zeros((12, 12, 1)))
    with pytest.raises(ValueError, match="levels must be an integer"):
        pyramid.laplacian_pyramid(np.zeros((1, 8, 8, 1)), -1)


# ----------------------------------------------------------------- the chain
def test_the_generator_is_the_per_level_formula_and_generate_levels_its_steps(rng):
    model = tiny()
    for w in model.generator.weights:  # biases too: the untrained chain is nearly constant and never clips
        w.assign(w.numpy() + rng.normal(0, 0.2, w.shape))
    z = rng.uniform(-1, 1, (4, 8)).astype("float32")
    noise = [rng.uniform(-1, 1, (4, s, s, 1)).astype("float32") for s in (16, 32)]
    image, by_hand = np.clip(model.level_generator(0)([z]).numpy(), -1, 1), []  # I~_K = G_K(z), clipped
    by_hand.append(image)
    for j in (1, 2):  # I~_k = u(I~_{k+1}) + G_k(z_k, u(I~_{k+1})), clipped to [-1, 1]
        coarse = pyramid.upsample(image).numpy()
        image = np.clip(coarse + model.level_generator(j)([noise[j - 1], coarse]).numpy(), -1, 1)
        by_hand.append(image)
    np.testing.assert_allclose(model.generator([z, *noise]).numpy(), by_hand[-1], rtol=0, atol=1e-5)
    assert 0.01 < np.mean(np.abs(by_hand[-1]) == 1) < 0.9  # the clip is exercised, and not everywhere
    levels = model.generate_levels(z=z, noise_1=noise[0], noise_2=noise[1])
    for got, want in zip(levels, by_hand):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    sampled = model.generate_levels(6, seed=3)
    assert [x.shape for x in sampled] == [(6, 8, 8, 1), (6, 16, 16, 1), (6, 32, 32, 1)]
    assert all(x.dtype == np.float32 and np.abs(x).max() <= 1 for x in sampled)
    np.testing.assert_allclose(sampled[-1], model.generate(6, seed=3), rtol=0, atol=1e-5)
    assert np.std(sampled[-1], axis=0).mean() > 1e-3  # the samples depend on the noise
    assert [s.name for s in model.generator_inputs()] == ["z", "noise_1", "noise_2"]
    assert {s.prior for s in model.generator_inputs()} == {"uniform"}  # the code's U(-1, 1)


def test_each_level_trains_only_its_own_networks_on_its_real_pyramid_pair(rng):
    model = tiny()
    x = rng.uniform(-1, 1, (2, 32, 32, 1)).astype("float32")
    bands = pyramid.laplacian_pyramid(x, 2)
    nets = {(kind, j): getattr(model, f"level_{kind}")(j) for kind in ("generator", "discriminator")
            for j in range(3)}
    weights = lambda net: [w.numpy().copy() for w in net.weights]  # noqa: E731
    for index, phase in enumerate(model.phases()):
        model.begin_phase(index, phase)
        assert phase.name == f"level{index}" and phase.reset_optimizers and model.level == index
        real, coarse = model.level_pair(x)  # level j = paper's k = 2 - j: (h_k, u(I_{k+1})), the base I_2
        np.testing.assert_allclose(real.numpy(), bands[2 - index].numpy(), atol=1e-6)
        if index:
            np.testing.assert_allclose(real.numpy() + coarse[0].numpy(), pyramid.gaussian_pyramid(x, 2)[2 - index],
                                       atol=1e-6)
        before = {key: weights(net) for key, net in nets.items()}
        history = model.fit(batches(model), epochs=1, steps_per_epoch=2, verbose=0).history
        assert all(np.isfinite(v).all() for v in history.values()) and set(history) == {"d_loss", "g_loss"}
        moved = {key for key, net in nets.items()
                 if any(not np.array_equal(a, b.numpy()) for a, b in zip(before[key], net.weights))}
        assert moved == {("generator", index), ("discriminator", index)}, (phase.name, moved)
        assert int(model.g_optimizer.iterations) == int(model.d_optimizer.iterations) == 2


def test_config_round_trip_and_a_model_saved_mid_phase_reloads(tmp_path, rng):
    model = tiny()
    config = model.get_config()
    clone = LAPGAN.from_config(config)
    assert clone.get_config() == config and clone.generator.count_params() == model.generator.count_params()
    for index, phase in enumerate(model.phases()[:2]):
        model.begin_phase(index, phase)
    model.fit(batches(model), epochs=1, steps_per_epoch=2, verbose=0)
    model.save(str(tmp_path / "m.keras"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Skipping variable loading for optimizer"
        again = keras.models.load_model(str(tmp_path / "m.keras"))
    assert again.level == 1 and int(again.g_optimizer.iterations) == 2
    for a, b in zip(model.d_optimizer.variables, again.d_optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    z = rng.uniform(-1, 1, (3, 8)).astype("float32")
    np.testing.assert_array_equal(model.generate(z=z, seed=1), again.generate(z=z, seed=1))
    before = [w.numpy().copy() for w in again.level_generator(1).weights]
    again.fit(batches(again), epochs=1, steps_per_epoch=1, verbose=0)
    assert any(not np.array_equal(a, b.numpy()) for a, b in zip(before, again.level_generator(1).weights))


def test_class_conditional_lapgan_trains_and_follows_its_labels(rng):
    assert LAPGAN.requires_labels is False  # the run settings ask for labels only when num_classes is set
    model = tiny(num_classes=10)
    assert model.requires_labels and model.generator_inputs()[-1].name == "labels"
    for index in (0, 2):
        model.begin_phase(index, model.phases()[index])
        history = model.fit(batches(model), epochs=1, steps_per_epoch=1, verbose=0).history
        assert all(np.isfinite(v).all() for v in history.values())
    for w in model.generator.weights:
        w.assign(w.numpy() + rng.normal(0, 0.05, w.shape))
    z = np.repeat(rng.uniform(-1, 1, (1, 8)).astype("float32"), 2, axis=0)
    a, b = model.generate(z=z, labels=[0, 7], seed=0)
    assert np.abs(a - b).max() > 1e-3  # same noise, another class
    with pytest.raises(ValueError, match="labels"):
        model.fit(data.load("digits", batch_size=8, image_size=32, channels=1, repeat=True), epochs=1,
                  steps_per_epoch=1, verbose=0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(levels=0), "levels must be an integer from 1"),
    (dict(levels=3), "base of at least 5"),                # 32 / 8 = 4 pixels
    (dict(data_shape=(30, 30, 1)), "divisible by 4"),
    (dict(num_classes=1), "num_classes"),
    (dict(level_epochs=[1, 2]), "level_epochs"),
    (dict(level=3), "level must be an integer from 0 to 2"),
    (dict(phase_steps=0), "phase_steps"),
])
def test_bad_arguments_raise_value_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LAPGAN(**{**dict(data_shape=(32, 32, 1), latent_dim=4, g_hidden=4, d_hidden=4, g_width=2, d_width=2), **kwargs})


# ---------------------------------------------------------- run and export
def test_a_tiny_run_trains_every_level_and_exports_to_builtin_tflite(tmp_path):
    out = str(tmp_path / "lapgan-tiny")
    history = runs.train(runs.run_settings("lapgan", "tiny"), out, verbose=0)
    assert [r["phase"] for r in history] == ["level0", "level1", "level2"]
    export.export_run(out, str(tmp_path / "models"), quantizations=("none",))
    path = tmp_path / "models" / "lapgan-tiny" / "1" / "tflite" / "lapgan-tiny_none.tflite"
    interpreter = Interpreter(model_path=str(path))
    ops = {op["op_name"] for op in interpreter._get_ops_details()}
    assert "RESIZE_BILINEAR" in ops and "CONV_2D" in ops and "FULLY_CONNECTED" in ops, ops
    assert not any("Flex" in op or op == "CUSTOM" for op in ops), ops
    generator, _ = runs.load_generator(out)
    rng = np.random.RandomState(0)
    inputs = {"z": rng.uniform(-1, 1, (1, 8)), "noise_1": rng.uniform(-1, 1, (1, 16, 16, 1)),
              "noise_2": rng.uniform(-1, 1, (1, 32, 32, 1))}
    inputs = {k: v.astype("float32") for k, v in inputs.items()}
    got = interpreter.get_signature_runner("serve")(**inputs)["images"]
    want = (generator([inputs["z"], inputs["noise_1"], inputs["noise_2"]]).numpy() + 1) / 2  # TFLite: [0, 1]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)
