"""Progressive GAN: fade-in continuity of G and D, real-image fading, alpha driven by images (and resumed),
every phase trains with fresh Adam state, save/reload mid-fade, TFLite export of the final lod."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers import changed, check_config_roundtrip, check_save_reload, check_shapes, tiny_data, tiny_model, weights_of
from tfgan_models import registry
from tfgan_models.models.progan import ProGAN, process_reals


def nearest(x, factor):
    return x.repeat(factor, axis=1).repeat(factor, axis=2)


def avgpool(x, factor):
    b, h, w, c = x.shape
    return x.reshape(b, h // factor, factor, w // factor, factor, c).mean(axis=(2, 4))


def lod_of(network):
    return float(network.get_layer("lod").lod.numpy())


def fit(model, steps, batch=8):  # one fit call: its history holds epoch means
    return model.fit(tiny_data(model, batch), epochs=1, steps_per_epoch=steps, verbose=0).history


def test_standard(tmp_path):
    model = tiny_model("progan")
    check_shapes(model)
    check_config_roundtrip(model)
    check_save_reload(model, tmp_path)  # fits, reloads, fits again: both networks change, losses finite


def test_real_images_are_faded_with_the_numpy_formula(rng):
    x = rng.uniform(-1, 1, (3, 16, 16, 2)).astype("float32")
    for lod, level in ((1.3, 1), (2.0, 2), (0.0, 0), (1.0, 0)):  # a fade passes its stage's level (lod in [l, l+1])
        small = avgpool(x, 2 ** level)
        faded = small + (nearest(avgpool(small, 2), 2) - small) * (lod - level)  # FadeLOD
        np.testing.assert_allclose(process_reals(tf.constant(x), lod, level).numpy(), nearest(faded, 2 ** level),
                                   atol=1e-6)
    # The model's step uses its own alpha for the reals: images seen 6 of fade_images 16 -> lod = 1 - 6/16.
    model = tiny_model("progan", phase="res8_fade")
    model.images_seen.assign(6.0)
    lod = float(model.current_lod())
    assert lod == pytest.approx(1.0 - 6 / 16)
    x8 = x[:, :8, :8, :1]
    want = x8 + (nearest(avgpool(x8, 2), 2) - x8) * lod
    np.testing.assert_allclose(model.process_reals(tf.constant(x8), model.current_lod()).numpy(), want, atol=1e-6)


def test_fade_starts_continuous_in_g_and_d():
    """At alpha = 0 (the fade's first step) G is nearest-upsample(previous stage's G) and D on x is the
    previous stage's D on avgpool(x), both built by hand from the sub-networks."""
    model = tiny_model("progan", data_shape=(16, 16, 1), minibatch_base=4)
    phases = model.phases()
    assert [p.name for p in phases] == ["res4_stable", "res8_fade", "res8_stable", "res16_fade", "res16_stable"]
    model.begin_phase(3, phases[3])  # res16_fade: its first step has alpha 0, lod 1
    fit(model, 1, batch=4)
    g, d = model.generator, model.discriminator
    assert lod_of(g) == lod_of(d) == lod_of(model.generator_ema) == 1.0
    z = np.random.RandomState(1).randn(4, 8).astype("float32")
    h = g.get_layer("block_8x8")(g.get_layer("block_4x4")(z))
    previous_g = nearest(g.get_layer("to_rgb_lod1")(h).numpy(), 2)
    assert np.abs(g(z).numpy() - previous_g).max() < 1e-5
    x = np.random.RandomState(2).uniform(-1, 1, (4, 16, 16, 1)).astype("float32")
    h = d.get_layer("block_8x8")(d.get_layer("from_rgb_lod1")(avgpool(x, 2)))
    previous_d = d.get_layer("block_4x4")(h).numpy()
    assert np.abs(d(x).numpy() - previous_d).max() < 1e-5
    # The new block does matter once alpha > 0: lod moves by images seen (4 per step of 8 fade images).
    fit(model, 1, batch=4)
    assert lod_of(g) == lod_of(d) == pytest.approx(1.0 - 4 / 16)
    assert np.abs(g(z).numpy() - previous_g).max() > 1e-4


def test_every_phase_trains_and_resets_adam():
    model = tiny_model("progan")
    g, d = model.generator, model.discriminator
    top = [g.get_layer("block_8x8"), g.get_layer("to_rgb_lod0"), d.get_layer("block_8x8"), d.get_layer("from_rgb_lod0")]
    expected_lod = {"res4_stable": [1.0, 1.0], "res8_fade": [1.0, 0.5], "res8_stable": [0.0, 0.0]}
    lods = []  # the lod each step assigned to G, D and G EMA
    record = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: lods.append(
        {lod_of(g), lod_of(d), lod_of(model.generator_ema)}))
    for index, phase in enumerate(model.phases()):
        model.begin_phase(index, phase)
        # The code's reset_opt_for_new_lod: fresh Adam at every change of floor(lod) or ceil(lod), i.e. each phase.
        assert int(model.g_optimizer.iterations) == int(model.d_optimizer.iterations) == 0
        before, top_before = (weights_of(g), weights_of(d)), [weights_of(n) for n in top]
        lods.clear()
        history = model.fit(tiny_data(model, phase.batch_size), epochs=phase.epochs,
                            steps_per_epoch=phase.steps_per_epoch, callbacks=[record], verbose=0).history
        assert all(np.isfinite(v).all() for v in history.values()), (phase.name, history)
        assert changed(before[0], g) and changed(before[1], d), phase.name
        assert lods == [{lod} for lod in expected_lod[phase.name]], phase.name
        # At 4x4 the 8x8 blocks, toRGB and fromRGB get exactly zero gradient: untouched by Adam.
        assert [changed(w, n) for w, n in zip(top_before, top)] == [phase.name != "res4_stable"] * 4
        assert int(model.g_optimizer.iterations) == phase.steps_per_epoch


def test_resume_mid_fade_continues_alpha(tmp_path):
    model = tiny_model("progan", fade_images=32)
    model.begin_phase(1, model.phases()[1])  # res8_fade
    fit(model, 1)
    path = os.path.join(str(tmp_path), "mid_fade.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    z = np.random.RandomState(0).randn(3, 8).astype("float32")
    np.testing.assert_array_equal(loaded.generate(z=z), model.generate(z=z))
    assert loaded.phase == "res8_fade" and float(loaded.images_seen.numpy()) == 8.0
    assert int(loaded.g_optimizer.iterations) == 1  # the fade's Adam state came back, not reset
    assert float(loaded.fade_alpha()) == pytest.approx(8 / 32)
    assert fit(loaded, 1)["lod"] == pytest.approx([1.0 - 8 / 32])  # the next step continues the fade
    assert lod_of(loaded.generator) == lod_of(loaded.discriminator) == pytest.approx(0.75)
    assert fit(model, 1)["lod"] == pytest.approx([0.75])  # the same as the model that was never saved


def test_generate_levels_and_sampling_keep_the_training_lod():
    model = tiny_model("progan", data_shape=(16, 16, 1))
    model.begin_phase(0, model.phases()[0])
    for variable in model.lod_variables():  # as a res4_stable step leaves it
        variable.assign(2.0)
    levels = model.generate_levels(5, seed=3)
    assert [lv.shape for lv in levels] == [(5, 4, 4, 1), (5, 8, 8, 1), (5, 16, 16, 1)]
    assert all(lv.dtype == np.float32 and np.abs(lv).max() <= 1 for lv in levels)
    np.testing.assert_allclose(levels[-1], model.generate(5, seed=3, lod=0), atol=1e-6)
    np.testing.assert_allclose(levels[1], model.generate(5, seed=3, lod=1)[:, ::2, ::2], atol=1e-5)
    # Mid-training, samples show the lod in training (the authors' snapshots): here 4x4, nearest-upsampled.
    np.testing.assert_allclose(nearest(levels[0], 4), model.generate(5, seed=3), atol=1e-5)
    assert {lod_of(model.generator_ema), lod_of(model.generator), lod_of(model.discriminator)} == {2.0}
    for variable in model.lod_variables():  # as the last phase (res16_stable) leaves it: the final resolution
        variable.assign(0.0)
    np.testing.assert_allclose(levels[-1], model.generate(5, seed=3), atol=1e-6)
    with pytest.raises(ValueError, match="lod"):
        model.generate(2, lod=3.5)


def test_presets_and_phase_budgets():
    for name in ("paper", "demo", "tiny"):
        small = dict(fmap_base=16, fmap_max=16, latent_dim=8) if name == "paper" else {}  # not 23M parameters
        model, preset = registry.get("progan", name, **small), registry.preset("progan", name)
        assert sum(p.epochs for p in model.phases()) == preset["epochs"], name
        fades = [p for p in model.phases() if p.settings["fade"]]
        assert all(p.epochs * p.steps_per_epoch * p.batch_size >= model.fade_images for p in fades)  # alpha reaches 1
    paper = registry.preset("progan", "paper")
    assert (paper["latent_dim"], paper["fmap_max"], paper["stable_images"], paper["fade_images"]) == (
        512, 512, 600_000, 600_000)
    model = tiny_model("progan")
    assert (model.gradient_penalty_weight, model.drift_weight, model.ema_decay) == (10.0, 0.001, 0.999)
    opt = model.d_optimizer
    assert (float(opt.learning_rate), opt.beta_1, opt.beta_2, opt.epsilon) == (np.float32(1e-3), 0.0, 0.99, 1e-8)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.discriminator.layers)


@pytest.mark.parametrize("kwargs, match", [
    (dict(data_shape=(12, 12, 1)), "data_shape"), (dict(data_shape=(8, 16, 1)), "data_shape"),
    (dict(start_resolution=16), "start_resolution"), (dict(phase="res32_fade"), "phase"),
    (dict(fade_images=0), "fade_images"), (dict(minibatch_dict={5: 8}), "minibatch_dict"),
    (dict(drift_weight=-1.0), "drift_weight"), (dict(minibatch_base=0), "minibatch_base"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ProGAN(**{**dict(data_shape=(8, 8, 1), latent_dim=8, fmap_base=32, fmap_max=16), **kwargs})


def test_bad_inputs():
    model = tiny_model("progan")
    with pytest.raises(ValueError, match=r"real data of shape \(batch, 8, 8, 1\)"):
        model.unpack_real(np.zeros((2, 16, 16, 1), "float32"))
    with pytest.raises(ValueError, match="n >= 1"):
        model.generate_levels()


def test_generator_at_lod_0_converts_to_builtin_tflite(tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    model = tiny_model("progan")
    net = model.inference_generator
    assert lod_of(net) == 0.0
    converter = tf.lite.TFLiteConverter.from_keras_model(net)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    path = tmp_path / "g.tflite"
    path.write_bytes(converter.convert())
    interpreter = Interpreter(model_path=str(path))
    runner = interpreter.get_signature_runner()
    z = np.random.RandomState(0).randn(1, 8).astype("float32")
    out = list(runner(**{runner.get_input_details().popitem()[0]: z}).values())[0]
    np.testing.assert_allclose(out, net(z).numpy(), atol=1e-4)
    np.testing.assert_allclose(np.clip(out, -1, 1), model.generate(z=z), atol=1e-4)


def test_the_training_step_computes_what_the_linear_networks_compute():
    """The step runs G and D in the recursive structure (blocks at and below the current resolution only):
    the same images and scores as the linear networks at every lod, stable and mid-fade."""
    model = registry.get("progan", "tiny", seed=0, data_shape=(16, 16, 1))
    z = np.random.RandomState(0).randn(3, model.latent_dim).astype("float32")
    x = np.random.RandomState(1).uniform(-1, 1, (3, 16, 16, 1)).astype("float32")
    for level, blend in [(0, 0.0), (0, 0.4), (1, 0.0), (1, 0.7), (2, 0.0)]:
        with model.level_of_detail(level + blend):
            g_linear, d_linear = model.generator(z).numpy(), model.discriminator(x).numpy()
        np.testing.assert_allclose(model.grown_generator(z, level, blend, training=False), g_linear, atol=1e-5)
        np.testing.assert_allclose(model.grown_discriminator(x, level, blend, training=False), d_linear, atol=1e-5)
