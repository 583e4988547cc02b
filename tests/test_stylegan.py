"""StyleGAN(2): each mechanism against an exact identity or a statistic, then training, saving and TFLite."""

import numpy as np
import pytest
import tensorflow as tf

from helpers import check_config_roundtrip, check_save_reload, check_shapes, changed, tiny_data, tiny_model, weights_of
from tfgan_models.layers.style import ModulatedConv2D, NoiseInjection
from tfgan_models.models.stylegan import StyleGAN
from tfgan_models.models.stylegan_networks import AdaIN


@pytest.fixture(scope="module")
def model():
    return tiny_model("stylegan")


def _synthesis_layers(model, kind, network=None):
    network = network or model.generator
    return [layer for layer in network.get_layer("synthesis").layers if isinstance(layer, kind)]


# ------------------------------------------------------------ mechanisms
def test_demodulation_gives_unit_std_per_output_channel(model):
    """For i.i.d. N(0, 1) input, sum_{i,k} W''_ijk x_ik has variance sum W''^2 = 1 for every sample and output
    channel whatever the style; without the demodulation the std follows the style (the check can fail)."""
    layer = model.generator.get_layer("synthesis").get_layer("conv1_8")
    rng = np.random.RandomState(0)
    x = rng.randn(4, 64, 64, layer.kernel.shape[2]).astype("float32")
    w = 4.0 * rng.randn(4, model.w_dim).astype("float32")  # large, varied styles
    std = np.std(layer([x, w]).numpy()[:, 1:-1, 1:-1], axis=(1, 2))  # (B, C_out), interior (no zero padding)
    np.testing.assert_allclose(std, 1.0, rtol=0.1)
    plain = ModulatedConv2D(layer.filters, 3, demodulate=False)
    plain.build((x.shape, w.shape))
    plain.set_weights(layer.get_weights())
    assert np.abs(np.std(plain([x, w]).numpy(), axis=(1, 2)) - 1.0).max() > 0.2


def test_noise_weights_start_at_zero_and_style_biases_at_one(model):
    noise = _synthesis_layers(model, NoiseInjection)
    assert len(noise) == len(model.generator_inputs()) - 1  # one per noise input
    for layer in noise:
        np.testing.assert_array_equal(layer.weight.numpy(), 0.0)
    modconvs = _synthesis_layers(model, ModulatedConv2D)
    assert len(modconvs) == model.num_ws + 1  # 2 per resolution - 1, plus the toRGB of each resolution
    for layer in modconvs:  # the effective bias of the affine style map: s = A(w) + 1 at w = 0
        np.testing.assert_allclose(layer.affine.bias.numpy() * layer.affine.lr_multiplier, 1.0)
        np.testing.assert_allclose(layer.styles(np.zeros((1, model.w_dim), "float32")), 1.0, atol=1e-6)


def test_stylegan1_adain_styles_start_at_identity_scale():
    sg1 = tiny_model("stylegan", architecture="stylegan1")
    assert len(sg1.generator_inputs()) == 1 + sg1.num_ws  # StyleGAN adds noise to the constant too
    for layer in _synthesis_layers(sg1, AdaIN):
        np.testing.assert_array_equal(layer.affine.bias.numpy(), 0.0)  # x (y_s + 1) + y_b: scale 1, shift 0
    const = sg1.generator.get_layer("synthesis").get_layer("const").constant.numpy()
    np.testing.assert_array_equal(const, 1.0)
    assert sg1.generate(3, seed=0).shape == (3, 8, 8, 1)


def test_truncation_psi_zero_gives_one_image_and_psi_one_is_the_plain_graph(model):
    layer = model.inference_generator.get_layer("truncation")  # generate() samples the EMA generator
    layer.w_avg.assign(np.random.RandomState(3).randn(model.w_dim).astype("float32"))
    z = np.random.RandomState(1).randn(4, model.latent_dim).astype("float32")
    fixed = {spec.name: spec.sample(np.random.RandomState(2), 1)[0] for spec in model.generator_inputs()[1:]}
    images = model.generate(z=z, truncation=0.0, **fixed)  # the same noise maps for every sample
    assert np.abs(images - images[:1]).max() < 1e-6
    assert np.abs(model.generate(z=z, **fixed) - images[:1]).max() > 1e-3  # without truncation, z matters
    # psi as a tensor takes the lerp branch: w_avg + 1 (w - w_avg) = w up to rounding.
    net, arrays = model.inference_generator, model.generator_arrays(z=z, seed=5)
    ws = net.get_layer("truncation")(net.get_layer("mapping")(z), psi=tf.constant(1.0))
    via_parts = net.get_layer("synthesis")([ws, *map(tf.convert_to_tensor, arrays[1:])]).numpy()
    np.testing.assert_allclose(via_parts, net(arrays).numpy(), rtol=0, atol=1e-5)
    np.testing.assert_array_equal(model.generate(z=z, seed=5, truncation=1.0), net(arrays).numpy())
    diversity = [np.std(model.generate(z=z, seed=5, truncation=psi), axis=0).mean() for psi in (1.0, 0.5, 0.0)]
    assert diversity[0] > diversity[1] > diversity[2]


def test_truncation_cutoff_leaves_the_fine_layers_untouched():
    sg = tiny_model("stylegan", truncation_cutoff=2)
    layer = sg.generator.get_layer("truncation")
    layer.w_avg.assign(np.ones(sg.w_dim, "float32"))
    w = np.random.RandomState(0).randn(3, sg.w_dim).astype("float32")
    ws = layer(w, psi=0.25).numpy()
    np.testing.assert_allclose(ws[:, :2], np.repeat(1.0 + 0.25 * (w[:, None] - 1.0), 2, axis=1), atol=1e-6)
    np.testing.assert_array_equal(ws[:, 2:], np.repeat(w[:, None], sg.num_ws - 2, axis=1))


def test_noise_changes_images_less_than_styles(model):
    """At initialisation the noise strengths are 0, so noise cannot change the image at all. With strengths of
    the size a trained network learns (~0.05; StyleGAN2's learned noise strengths are small), the per-pixel std
    over 16 noise draws at a fixed w stays under 0.3 x the per-pixel std over 16 w draws at fixed noise (the
    recipe's gate for "noise = stochastic detail"); strengths of 5 break that bound, so the measure can fail."""
    z = np.random.RandomState(0).randn(16, model.latent_dim).astype("float32")
    one_z = np.repeat(z[:1], 16, axis=0)
    fixed = {spec.name: spec.sample(np.random.RandomState(1), 1)[0] for spec in model.generator_inputs()[1:]}

    def ratio():
        noise_std = np.std(model.generate(z=one_z, seed=2), axis=0).mean()  # seed 2: a new noise map per sample
        return noise_std / np.std(model.generate(z=z, **fixed), axis=0).mean()

    weights = [layer.weight for layer in _synthesis_layers(model, NoiseInjection, model.inference_generator)]
    saved = [w.numpy() for w in weights]
    try:
        assert ratio() < 1e-6  # exactly no effect up to the batch's float arithmetic
        for w in weights:
            w.assign(np.full(w.shape, 0.05, "float32"))
        assert 0.0 < ratio() < 0.3
        for w in weights:
            w.assign(np.full(w.shape, 5.0, "float32"))
        assert ratio() > 0.3
    finally:
        for w, value in zip(weights, saved):
            w.assign(value)


def test_style_mix_extremes_equal_single_sources(model):
    rng = np.random.RandomState(4)
    z_a, z_b = rng.randn(3, model.latent_dim).astype("float32"), rng.randn(3, model.latent_dim).astype("float32")
    np.testing.assert_allclose(model.style_mix(z_a, z_b, model.num_ws, seed=7), model.generate(z=z_a, seed=7),
                               rtol=0, atol=1e-6)
    np.testing.assert_allclose(model.style_mix(z_a, z_b, 0, seed=7), model.generate(z=z_b, seed=7), rtol=0, atol=1e-6)
    mixed = model.style_mix(z_a, z_b, 2, seed=7)
    ws = np.concatenate([np.repeat(model.mapping(z)[:, None], n, axis=1) for z, n in ((z_a, 2), (z_b, 2))], axis=1)
    np.testing.assert_allclose(mixed, model.synthesize(ws, seed=7), rtol=0, atol=1e-6)
    assert np.abs(mixed - model.generate(z=z_a, seed=7)).max() > 1e-4


# ------------------------------------------------------------- training
def test_lazy_path_length_runs_on_multiples_of_the_interval_only():
    sg = tiny_model("stylegan", pl_weight=2.0, pl_interval=3)
    history = sg.fit(tiny_data(sg), epochs=4, steps_per_epoch=1, verbose=0).history
    pl, a = np.array(history["pl_penalty"]), np.array(history["pl_mean"])
    assert pl[0] > 0 and pl[3] > 0 and np.all(pl[[1, 2]] == 0), pl  # G iterations 0 and 3 are multiples of 3
    assert a[0] > 0 and a[1] == a[2] == a[0] and a[3] != a[2], a  # a moves on PL steps only
    assert float(sg.pl_mean) == pytest.approx(a[3])


def test_training_styles_mix_at_one_crossover_per_batch():
    sg = tiny_model("stylegan", style_mixing=1.0)
    for _ in range(3):
        w, ws = (t.numpy() for t in sg._styles(4))
        same = np.all(np.isclose(ws, w[:, None]), axis=(0, 2))  # (num_ws,): layers taking this w
        crossover = int(np.argmin(same))
        assert 1 <= crossover < sg.num_ws and same[:crossover].all() and not same[crossover:].any(), same
        np.testing.assert_array_equal(ws[:, crossover:], np.repeat(ws[:, -1:], sg.num_ws - crossover, axis=1))
    w, ws = (t.numpy() for t in tiny_model("stylegan", style_mixing=0.0)._styles(4))
    np.testing.assert_array_equal(ws, np.repeat(w[:, None], ws.shape[1], axis=1))


def test_fit_applies_lazy_r1_changes_mapping_synthesis_and_d_and_moves_w_avg(model):
    check_shapes(model)
    check_config_roundtrip(model)
    parts = {name: weights_of(model.generator.get_layer(name)) for name in ("mapping", "synthesis")}
    d_before, w_avg = weights_of(model.discriminator), model.w_average.copy()
    history = model.fit(tiny_data(model), epochs=4, steps_per_epoch=1, verbose=0).history  # one step per epoch
    r1 = np.array(history["r1_penalty"])  # lazy R1: the tiny preset's r1_interval is 2
    assert np.all(r1[[0, 2]] > 0) and np.all(r1[[1, 3]] == 0), r1  # D iterations 0 and 2 are multiples of 2
    assert int(model.d_optimizer.iterations) == int(model.g_optimizer.iterations) == 4
    for name, before in parts.items():
        assert changed(before, model.generator.get_layer(name)), f"{name} did not change"
    assert changed(d_before, model.discriminator)
    assert all(np.isfinite(v).all() for v in history.values()) and {"d_loss", "g_loss", "r1_penalty"} <= set(history)
    assert np.abs(model.w_average - w_avg).max() > 0
    # The EMA generator is a clone with the same named parts; w_avg is copied, trainable weights averaged.
    ema = model.generator_ema
    np.testing.assert_array_equal(ema.get_layer("truncation").w_avg.numpy(),
                                  model.generator.get_layer("truncation").w_avg.numpy())
    assert any(not np.allclose(a, b) for a, b in zip(ema.get_weights(), model.generator.get_weights()))
    np.testing.assert_array_equal(model.w_average, ema.get_layer("truncation").w_avg.numpy())


def test_save_reload(model, tmp_path):
    check_save_reload(model, tmp_path)  # the trained module model: its compiled step is reused


def test_default_optimizers_follow_lazy_regularisation():
    opt = tiny_model("stylegan", learning_rate=1e-3, r1_interval=16).default_optimizers()
    assert float(opt["discriminator"].learning_rate) == pytest.approx(1e-3 * 16 / 17)
    assert float(opt["generator"].learning_rate) == pytest.approx(1e-3 * 4 / 5)
    assert opt["discriminator"].beta_1 == 0.0 and opt["discriminator"].beta_2 == pytest.approx(0.99 ** (16 / 17))


@pytest.mark.parametrize("kwargs", [dict(data_shape=(12, 12, 1)), dict(data_shape=(8, 16, 1)),
                                    dict(architecture="stylegan3"), dict(d_architecture="skip"),
                                    dict(r1_gamma=-1.0), dict(style_mixing=1.5), dict(truncation_cutoff=99),
                                    dict(discriminator_steps=2)])
def test_bad_constructor_arguments(kwargs):
    with pytest.raises(ValueError):
        StyleGAN(**{**dict(data_shape=(8, 8, 1), latent_dim=4, w_dim=4, mapping_layers=1, fmaps=4), **kwargs})


def test_bad_call_arguments(model):
    z = np.zeros((2, model.latent_dim), "float32")
    for call in (lambda: model.generate(2, truncation=-0.5), lambda: model.style_mix(z, z, model.num_ws + 1),
                 lambda: model.synthesize(np.zeros((2, 3, model.w_dim), "float32")),
                 lambda: model.mapping(np.zeros((2, model.latent_dim + 1), "float32")),
                 lambda: model.generator_arrays(2, truncation=1.0)):
        with pytest.raises(ValueError):
            call()


# --------------------------------------------------------------- export
def test_generator_converts_to_builtin_tflite_and_matches_keras(model):
    from ai_edge_litert.interpreter import Interpreter

    converter = tf.lite.TFLiteConverter.from_keras_model(model.inference_generator)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    interpreter = Interpreter(model_content=converter.convert())
    assert not {op["op_name"] for op in interpreter._get_ops_details()} & {"FLEX_DELEGATE", "CUSTOM"}
    runner = interpreter.get_signature_runner()
    arrays = model.generator_arrays(1, seed=3)
    names = [spec.name for spec in model.generator_inputs()]
    got = list(runner(**dict(zip(names, arrays))).values())[0]
    np.testing.assert_allclose(got, model.inference_generator(arrays).numpy(), rtol=0, atol=1e-4)
