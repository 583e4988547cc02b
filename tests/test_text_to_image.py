"""GAN-INT-CLS and StackGAN: tokenizer, losses in closed form, the mechanisms of each paper, training, CLI."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_models import registry, runs
from tfgan_models.layers.text import ALPHABET, PAD, UNKNOWN, CharTokenizer, caption_ids
from tfgan_models.losses import kl_to_standard_normal, matching_aware_discriminator_loss, sje_loss
from tfgan_models.models.gan_int_cls import BETA, with_interpolations
from tfgan_models.models.stackgan import StackGAN

TRICKY = ["A small  RED circle\tin the\ntop left", "", "   ", "héllo wörld 😀", "a" * 10_000, "Q[]{}`~\\|\"'",
          "ÀÉÎ ünïcödé", "line\r\nbreak"]


def tiny(variant, **overrides):
    kwargs, _ = registry.split_preset(registry.preset(variant, "tiny"))
    model = registry.variant_class(variant)(**{**kwargs, **overrides, "seed": 0})
    model.compile()
    return model


def batches(model, size=None, batch=8):
    from tfgan_models.data import captions

    size = size or model.stage_resolution()
    return captions.load_captioned("shapes", batch_size=batch, image_size=size, seed=0)


# ------------------------------------------------------------------ tokenizer
def test_tokenizer_in_the_graph_equals_the_numpy_ids_on_tricky_captions():
    got = CharTokenizer(32)(tf.constant(TRICKY)).numpy()
    np.testing.assert_array_equal(got, caption_ids(TRICKY, 32))
    assert got.shape == (len(TRICKY), 32) and got.dtype == np.int32
    assert (got[1] == PAD).all() and (got[2] == PAD).all()           # empty and blank: all padding
    assert got[0, 0] == ALPHABET.index("a") + 1 and got[0, 1] == ALPHABET.index(" ") + 1  # lowered, spaces merged
    assert UNKNOWN in got[3] and (got[4] == ALPHABET.index("a") + 1).all()  # unknown symbols; long captions cut
    bad = tf.constant([b"\xff\xfeab"])  # invalid UTF-8
    np.testing.assert_array_equal(CharTokenizer(6)(bad).numpy(), caption_ids([b"\xff\xfeab"], 6))


# --------------------------------------------------------------------- losses
def test_sje_loss_equals_the_sum_of_hinges_over_other_classes():
    rng = np.random.RandomState(0)
    v, t, classes = rng.normal(size=(6, 4)), rng.normal(size=(6, 4)), np.array([0, 1, 1, 2, 0, 3])
    expected = 0.0
    for n in range(6):
        for m in range(6):
            if classes[m] != classes[n]:
                expected += max(0.0, 1 + v[n] @ t[m] - v[n] @ t[n])  # image n, wrong text m
                expected += max(0.0, 1 + v[m] @ t[n] - v[n] @ t[n])  # text n, wrong image m
    got = float(sje_loss(v.astype("float32"), t.astype("float32"), classes))
    np.testing.assert_allclose(got, expected / 6, rtol=1e-5)


def test_matching_aware_loss_weights_are_one_half_half():
    real, wrong, fake = (np.array([[x]], "float32") for x in (0.3, -1.2, 2.0))
    bce = lambda logit, y: float(np.log1p(np.exp(-logit)) if y else np.log1p(np.exp(logit)))  # noqa: E731
    full = float(matching_aware_discriminator_loss(real, wrong, fake, 0.5))
    np.testing.assert_allclose(full, bce(0.3, 1) + 0.5 * bce(-1.2, 0) + 0.5 * bce(2.0, 0), rtol=1e-6)
    plain = float(matching_aware_discriminator_loss(real, wrong, fake, 0.0))
    np.testing.assert_allclose(plain, bce(0.3, 1) + bce(2.0, 0), rtol=1e-6)


def test_kl_of_conditioning_augmentation_matches_monte_carlo():
    rng = np.random.RandomState(0)
    mu, log_sigma = rng.normal(size=(1, 3)) * 0.5, rng.normal(size=(1, 3)) * 0.3
    sigma = np.exp(log_sigma)
    x = mu + sigma * rng.normal(size=(400_000, 3))
    log_q = -0.5 * ((x - mu) / sigma) ** 2 - log_sigma
    log_p = -0.5 * x ** 2
    monte_carlo = np.mean(log_q - log_p)  # per dimension, averaged, as the closed form
    got = float(kl_to_standard_normal(mu.astype("float32"), log_sigma.astype("float32")))
    np.testing.assert_allclose(got, monte_carlo, atol=5e-3)


# ----------------------------------------------------------------- mechanisms
def test_wrong_images_come_from_another_class():
    model = tiny("gan_int_cls")
    classes = tf.constant([0, 0, 1, 2, 2, 2, 3, 1], tf.int32)
    for _ in range(20):
        wrong = model.wrong_indices(classes).numpy()
        assert (classes.numpy()[wrong] != classes.numpy()).all()
    assert (model.wrong_indices(tf.constant([5, 5, 5])).numpy() == [0, 1, 2]).all()  # no other class: itself


def test_gan_int_batch_is_one_and_a_half_times_with_beta_one_half():
    phi = np.arange(8 * 3, dtype="float32").reshape(8, 3)
    out = with_interpolations(phi).numpy()
    assert BETA == 0.5 and out.shape == (12, 3)
    np.testing.assert_array_equal(out[:8], phi)
    np.testing.assert_allclose(out[8:], 0.5 * (phi[:4] + phi[4:8]))


@pytest.mark.parametrize("variant", ["gan_int_cls", "stackgan"])
def test_every_phase_trains_its_networks_and_freezes_the_rest(variant):
    model = tiny(variant)
    weights = lambda net: [w.numpy().copy() for w in net.weights]  # noqa: E731
    moved = lambda before, net: any(not np.allclose(a, b.numpy()) for a, b in zip(before, net.weights))  # noqa: E731
    for index, phase in enumerate(model.phases()):
        model.begin_phase(index, phase)
        nets = {"encoder": model.text_encoder, "image_encoder": model.image_encoder}
        if variant == "stackgan":
            nets.update(stage1=model.stage_network(1), stage2=model.stage_network(2),
                        d1=model.stage1_discriminator, d2=model.discriminator)
        else:
            nets.update(core=model.generator.get_layer("core"), d=model.discriminator)
        before = {name: weights(net) for name, net in nets.items()}
        history = model.fit(batches(model), epochs=1, steps_per_epoch=3, verbose=0).history
        assert all(np.isfinite(v).all() for v in history.values()), history
        changed = {name for name, net in nets.items() if moved(before[name], net)}
        expected = {"text_encoder": {"encoder", "image_encoder"}, "gan": {"core", "d"},
                    "stage1": {"stage1", "d1"}, "stage2": {"stage2", "d2"}}[phase.name]
        assert changed == expected, (phase.name, changed)  # Stage-I (batch-norm statistics too) frozen in Stage-II
        assert set(history) == set(model.stage_losses[phase.name])


def test_text_encoder_pretraining_learns_to_match_captions_to_images():
    from tfgan_models.data import captions

    model = tiny("gan_int_cls", embedding_dim=32, encoder_filters=(32,), encoder_units=32, text_length=48)
    model.begin_phase(0, model.phases()[0])
    data = captions.shapes_arrays("test", 16)
    images, texts = data["images"][:200].astype("float32") / 127.5 - 1, data["captions"][:200]
    same = data["combo"][:200, None] == data["combo"][None, :200]

    def retrieval():  # share of images whose best-scoring caption describes the same combination
        scores = model.image_encoder(images).numpy() @ model.embed(tf.constant(texts)).numpy().T
        return float(np.mean(same[np.arange(200), scores.argmax(axis=1)]))

    before = retrieval()
    model.fit(batches(model, batch=32), epochs=1, steps_per_epoch=150, verbose=0)
    after = retrieval()
    assert after > max(0.2, before + 0.15), (before, after)  # chance is about 1 in 20


def test_stackgan_without_ca_is_deterministic_in_eps_and_has_no_kl():
    model = tiny("stackgan", ca=False)
    a = model.generate(texts=["a red circle"], seed=0, eps_1=np.zeros((1, 8)), eps_2=np.zeros((1, 8)))
    b = model.generate(texts=["a red circle"], seed=0, eps_1=np.ones((1, 8)), eps_2=np.ones((1, 8)))
    np.testing.assert_allclose(a, b, atol=1e-6)
    model.begin_phase(1, model.phases()[1])
    history = model.fit(batches(model), epochs=1, steps_per_epoch=2, verbose=0).history
    assert history["kl_loss"] == [0.0]
    with pytest.raises(ValueError, match="stage1_size"):
        StackGAN(data_shape=(32, 32, 3), stage1_size=12)


# ------------------------------------------------------------- use and runs
def test_generate_interpolate_and_odd_captions():
    model = tiny("gan_int_cls")
    out = model.generate(texts=TRICKY, n_per_text=2, seed=1)
    assert out.shape == (2 * len(TRICKY), 16, 16, 3) and np.isfinite(out).all() and np.abs(out).max() <= 1
    again = model.generate(texts=["a red circle"], seed=3)
    np.testing.assert_allclose(model.generate(texts=["a red circle"], seed=3), again)
    assert model.generate(4, seed=0).shape == (4, 16, 16, 3)  # no captions: the sample captions in turn
    row = model.interpolate("a red circle", "a blue square", steps=5)
    assert row.shape == (5, 16, 16, 3)
    np.testing.assert_allclose(row[0], model.generate(texts=["a red circle"], seed=0)[0], atol=1e-5)
    with pytest.raises(ValueError, match="steps"):
        model.interpolate("a", "b", steps=1)
    with pytest.raises(ValueError, match="strings"):
        model.generate(text=np.zeros(3))


@pytest.fixture(scope="module")
def stackgan_run(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("t2i") / "stackgan")
    history = runs.train(runs.run_settings("stackgan", "tiny"), out, verbose=0)
    assert [r["phase"] for r in history] == ["text_encoder", "stage1", "stage2"]
    return out


def test_a_run_reloads_and_samples_from_the_command_line(stackgan_run, tmp_path):
    model, _ = runs.load_model(stackgan_run)
    again = keras.models.load_model(os.path.join(stackgan_run, "model.keras"))
    np.testing.assert_allclose(model.generate(texts=["a big blue box"], seed=2),
                               again.generate(texts=["a big blue box"], seed=2), atol=1e-6)
    low, high = model.generate_stages(["a big blue box"], 2)
    assert low.shape == (2, 16, 16, 3) and high.shape == (2, 32, 32, 3)
    cli = [sys.executable, "-m", "tfgan_models.cli", "sample", stackgan_run]
    text = subprocess.run(cli + ["--text", "a red circle", "--text", "", "--n", "3", "--out", str(tmp_path / "t.png")],
                          capture_output=True, text=True)
    assert text.returncode == 0, text.stderr
    inter = subprocess.run(cli + ["--interpolate", "a red circle", "a blue square", "--steps", "4",
                                  "--out", str(tmp_path / "i.png")], capture_output=True, text=True)
    assert inter.returncode == 0 and os.path.exists(tmp_path / "i.png"), inter.stderr
    both = subprocess.run(cli + ["--text", "x", "--labels", "1", "--out", str(tmp_path / "b.png")],
                          capture_output=True, text=True)
    assert both.returncode == 2 and "cannot be combined" in both.stderr


def test_text_options_on_a_model_without_captions_exit_2(tmp_path):
    out = str(tmp_path / "dcgan")
    runs.train(runs.run_settings("dcgan", "tiny"), out, verbose=0)
    done = subprocess.run([sys.executable, "-m", "tfgan_models.cli", "sample", out, "--text", "a red circle",
                           "--out", str(tmp_path / "x.png")], capture_output=True, text=True)
    assert done.returncode == 2 and "takes no captions" in done.stderr and not os.path.exists(tmp_path / "x.png")


def test_a_spec_that_is_not_captioned_data_is_refused_before_training():
    with pytest.raises(ValueError, match="unknown captioned data"):
        runs.run_settings("gan_int_cls", "tiny", data="digits")


def test_epochs_of_a_phased_model_are_set_per_phase():
    with pytest.raises(ValueError, match="--set encoder_epochs=N --set gan_epochs=N"):
        runs.run_settings("gan_int_cls", "tiny", epochs=3)
    settings = runs.run_settings("stackgan", "tiny", overrides={"stage2_epochs": 2})
    assert [p.epochs for p in runs.build_model(settings).phases()] == [1, 1, 2]


def test_a_model_saved_in_a_later_phase_reloads_its_optimizer_state(tmp_path):
    import warnings

    model = tiny("stackgan")
    for index, phase in enumerate(model.phases()):
        model.begin_phase(index, phase)
    model.fit(batches(model), epochs=1, steps_per_epoch=2, verbose=0)
    model.save(str(tmp_path / "m.keras"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Skipping variable loading for optimizer"
        again = keras.models.load_model(str(tmp_path / "m.keras"))
    assert again.stage == "stage2" and int(again.g_optimizer.iterations) == 2
    for a, b in zip(model.g_optimizer.variables, again.g_optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
