"""The one input contract (GeneratorInput), the generative base (optimizers by name, regularisation,
EMA schedule, phases) and a new variant added in one file: no edit to generate, export or grids."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_models import data, registry, runs
from tfgan_models.inputs import GeneratorInput
from tfgan_models.models.dcgan import DCGAN, dcgan_discriminator
from tfgan_models.models.generative import Phase
from tfgan_models.layers import OneHot

from helpers import tiny_data, tiny_model


# ------------------------------------------------------------------ GeneratorInput
def test_priors_draw_what_they_declare():
    rng = np.random.RandomState(0)
    t = GeneratorInput.truncated_normal("z", 64, threshold=0.5).sample(rng, 500)
    assert np.abs(t).max() <= 0.5 and t.std() < 0.35  # N(0,1) truncated at 0.5 has std 0.28
    u = GeneratorInput.uniform("c", 3, 0.0, 1.0).sample(rng, 2000)
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.02
    labels = GeneratorInput.categorical("labels", 7, cycle=True).sample(rng, 10)
    np.testing.assert_array_equal(labels, [0, 1, 2, 3, 4, 5, 6, 0, 1, 2])
    shuffled = GeneratorInput.categorical("labels", 4).sample(rng, 8)
    assert sorted(shuffled.tolist()) == [0, 0, 1, 1, 2, 2, 3, 3]
    seeds = keras.random.SeedGenerator(1)
    drawn = keras.ops.convert_to_numpy(GeneratorInput.truncated_normal("z", 8, 1.0).random((300, 8), seeds))
    assert np.abs(drawn).max() <= 1.0 and drawn.std() > 0.4


def test_checks_name_the_input_and_what_it_expected():
    labels = GeneratorInput.categorical("labels", 10)
    with pytest.raises(ValueError, match=r"input 'labels' takes class indices in \[0, 9\], received \[10\]"):
        labels.check([1, 10], n=2)
    with pytest.raises(ValueError, match=r"input 'labels' must have shape \(3\)"):
        labels.check([1, 2], n=3)
    with pytest.raises(ValueError, match="fractional"):
        labels.check([1.5, 2], n=2)
    z = GeneratorInput.normal("z", 4)
    with pytest.raises(ValueError, match=r"input 'z' must have shape \(2, 4\)"):
        z.check(np.zeros((2, 5)), n=2)
    with pytest.raises(ValueError, match="input 'z' must be float32 numbers"):
        z.check([["a"] * 4] * 2, n=2)
    with pytest.raises(ValueError, match="NaN"):
        z.check(np.full((1, 4), np.nan), n=1)
    assert GeneratorInput.from_config(json.loads(json.dumps(z.to_config()))) == z


def test_generate_fills_from_priors_and_checks_given_inputs():
    model = tiny_model("cgan")
    z = model.generator_arrays(4, seed=3)[0]
    np.testing.assert_array_equal(z, keras.random.normal((4, model.latent_dim), seed=3))  # unchanged default
    np.testing.assert_array_equal(model.generate(4, seed=3), model.generate(z=z, labels=[0, 1, 2, 3]))
    with pytest.raises(ValueError, match="takes the inputs z, labels; received codes"):
        model.generate(2, codes=[1, 2])
    with pytest.raises(ValueError, match=r"input 'z' must have shape \(2, 8\)"):
        model.generate(2, z=np.zeros((2, 3)))


# ------------------------------------------------- a new variant in one file
def truncated_conditional_networks(data_shape, latent_dim, num_classes, width):
    z = keras.Input((latent_dim,), name="z")
    labels = keras.Input((), dtype="int32", name="labels")
    h = keras.layers.Concatenate()([z, OneHot(num_classes)(labels)])
    h = keras.layers.Dense(int(np.prod(data_shape)), activation="tanh")(h)
    generator = keras.Model([z, labels], keras.layers.Reshape(data_shape)(h), name="generator")
    return generator, dcgan_discriminator(data_shape, width)


@keras.saving.register_keras_serializable(package="tests")
class TruncatedLabelGAN(DCGAN):
    """A made-up variant: z ~ N(0, I) truncated at 1.5 and a class label, declared in this file only."""

    def __init__(self, data_shape=(8, 8, 1), latent_dim=6, num_classes=3, width=4, **kwargs):
        self.num_classes = num_classes
        g, d = truncated_conditional_networks(data_shape, latent_dim, num_classes, width)
        kwargs.setdefault("generator", g)
        kwargs.setdefault("discriminator", d)
        super().__init__(data_shape=data_shape, latent_dim=latent_dim, width=width, **kwargs)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}

    def generator_inputs(self):
        return [GeneratorInput.truncated_normal("z", self.latent_dim, threshold=1.5),
                GeneratorInput.categorical("labels", self.num_classes, cycle=True)]

    def train_step(self, data):
        real = self.unpack_real(data)
        batch = tf.shape(real)[0]
        z, y = self.latents(batch), self.draw(self.generator_inputs()[1], batch)
        with tf.GradientTape() as tape:
            fake = self.generator([z, y], training=True)
            d_loss = tf.reduce_mean(tf.nn.softplus(-self.discriminator(real)) + tf.nn.softplus(self.discriminator(fake)))
        self.apply_gradients(self.d_optimizer, tape, d_loss, self.discriminator_variables)
        with tf.GradientTape() as tape:
            g_loss = tf.reduce_mean(tf.nn.softplus(-self.discriminator(self.generator([z, y], training=True))))
        self.apply_gradients(self.g_optimizer, tape, g_loss, self.generator_variables)
        return self.track(d_loss=d_loss, g_loss=g_loss)


def test_a_new_variant_needs_no_edit_to_generate_export_or_grids(tmp_path):
    from tfgan_models.callbacks import samples_picture
    from tfgan_models.export import export_run

    model = TruncatedLabelGAN(seed=0)
    model.compile()
    model.fit(data.load("digits", batch_size=8, image_size=8, repeat=True), epochs=1, steps_per_epoch=2, verbose=0)
    samples = model.generate(6, seed=1)
    assert samples.shape == (6, 8, 8, 1) and samples_picture(samples).ndim == 3
    with pytest.raises(ValueError, match=r"input 'labels' takes class indices in \[0, 2\]"):
        model.generate(2, labels=[0, 3])
    entry = export_run(model, str(tmp_path), name="truncated", quantizations=("none",))
    loaded = tf.saved_model.load(os.path.join(str(tmp_path), "truncated", "1"))
    by_seed = loaded.signatures["seed"](seed=tf.constant([4, 5], tf.int64), labels=tf.constant([2, 0]))
    assert np.abs(by_seed["z"].numpy()).max() <= 1.5  # the seed signature draws from the declared prior
    assert set(entry["tflite"]["none"]["io"]["inputs"]) == {"z", "labels"}
    assert "truncated to |x| <= 1.5" in entry["tflite"]["none"]["io"]["inputs"]["z"]["range"]


# ---------------------------------------------------------------- the base
def test_optimizers_by_name_and_round_trip(tmp_path):
    model = tiny_model("dcgan")
    assert set(model.optimizers_by_name()) == {"generator", "discriminator"}
    with pytest.raises(ValueError, match="has the optimizers generator, discriminator; received critic"):
        model.compile(optimizers={"critic": "adam"})
    model.compile(optimizers={"generator": keras.optimizers.SGD(0.1)})
    assert isinstance(model.g_optimizer, keras.optimizers.SGD) and isinstance(model.d_optimizer, keras.optimizers.Adam)
    srresnet = tiny_model("srresnet")
    assert list(srresnet.optimizers_by_name()) == ["generator"] and srresnet.discriminator is None
    assert "latent_dim" not in srresnet.get_config()


def _regularised_dcgan(l2):
    keras.utils.set_random_seed(0)
    reg = keras.regularizers.L2(l2) if l2 else None
    d = dcgan_discriminator((8, 8, 1), 4)
    for layer in d.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)):
            layer.kernel_regularizer = reg
    d = keras.Model.from_config(d.get_config())  # rebuilt with the regulariser in its config
    model = DCGAN(data_shape=(8, 8, 1), latent_dim=8, width=4, discriminator=d, seed=0)
    model.compile()
    return model


def test_discriminator_regulariser_is_applied_and_reported():
    with_reg, without = _regularised_dcgan(1.0), _regularised_dcgan(0.0)
    without.discriminator.set_weights(with_reg.discriminator.get_weights())
    without.generator.set_weights(with_reg.generator.get_weights())
    history = with_reg.fit(tiny_data(with_reg), epochs=1, steps_per_epoch=5, verbose=0).history
    without.fit(tiny_data(without), epochs=1, steps_per_epoch=5, verbose=0)
    norm = lambda m: sum(float(np.sum(np.square(w))) for w in m.discriminator.trainable_weights  # noqa: E731
                         if len(w.shape) > 1)
    assert norm(with_reg) < 0.97 * norm(without)  # weight decay shrank the kernels
    assert history["d_reg_loss"][-1] > 0 and "g_reg_loss" not in history


def test_ema_start_and_warmup_follow_the_closed_form():
    model = tiny_model("dcgan", ema_decay=0.99, ema_start=2, ema_warmup=True)
    kernel = next(i for i, w in enumerate(model.generator.weights) if w.trainable)
    history_weights = []
    for step in range(4):
        before = [model.generator_ema.weights[kernel].numpy()]
        model.fit(tiny_data(model), epochs=1, steps_per_epoch=1, verbose=0)
        g = [model.generator.weights[kernel].numpy()]
        ema = [model.generator_ema.weights[kernel].numpy()]
        t = (step + 1) - 2
        d = 0.0 if t < 0 else min(0.99, (1 + t) / (10 + t))
        np.testing.assert_allclose(ema[0], d * before[0] + (1 - d) * g[0], rtol=1e-5, atol=1e-6)
        history_weights.append(d)
    assert history_weights == [0.0, 0.1, 2 / 11, 3 / 12]


# ---------------------------------------------------------------- phases
@keras.saving.register_keras_serializable(package="tests")
@registry.register_variant("phased_dcgan", {"tiny": dict(data="digits", data_shape=(8, 8, 1), latent_dim=8,
                                                         width=4, batch_size=8, epochs=1)}, default_preset="tiny")
class PhasedDCGAN(DCGAN):
    """DCGAN trained in two phases: 2 epochs at batch 8, then fresh optimizers and 2 epochs at batch 4."""

    def phases(self):
        return [Phase("warm", epochs=2, steps_per_epoch=2, batch_size=8),
                Phase("main", epochs=2, steps_per_epoch=3, batch_size=4, reset_optimizers=True)]

    def enter_phase(self, phase):
        self.entered = getattr(self, "entered", []) + [phase.name]


class Crash(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 3:  # the second epoch of phase "main" (global epochs 1-4)
            raise KeyboardInterrupt


def test_phases_run_in_order_and_resume_inside_a_phase(tmp_path):
    settings = runs.run_settings("phased_dcgan", "tiny")
    out = str(tmp_path / "run")
    with pytest.raises(KeyboardInterrupt):
        runs.train(settings, out, verbose=0, callbacks=[Crash()])
    config = json.load(open(os.path.join(out, "config.json")))
    assert config["status"] == "running" and config["phases_done"] == 1
    history = runs.train(settings, out, verbose=0)
    assert [(r["epoch"], r["phase"]) for r in history] == [(1, "warm"), (2, "warm"), (3, "main"), (4, "main")]
    model = keras.models.load_model(os.path.join(out, "model.keras"))
    assert int(model.g_optimizer.iterations) == 2 * 3  # reset for "main": its 2 epochs x 3 steps only
    assert json.load(open(os.path.join(out, "config.json")))["status"] == "complete"
    assert not os.path.exists(os.path.join(out, "backup"))


def test_mixed_precision_scales_the_loss_in_the_shared_step():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = tiny_model("dcgan")
        assert isinstance(model.g_optimizer, keras.optimizers.LossScaleOptimizer)
        before = [w.numpy().copy() for w in model.generator.trainable_weights]
        history = model.fit(tiny_data(model), epochs=1, steps_per_epoch=2, verbose=0).history
        assert np.isfinite(history["g_loss"]).all() and np.isfinite(history["d_loss"]).all()
        assert any(not np.allclose(a, b.numpy()) for a, b in zip(before, model.generator.trainable_weights))
        assert float(model.g_optimizer.dynamic_scale) > 1.0  # the loss was scaled, not left at 1
    finally:
        keras.mixed_precision.set_global_policy("float32")


@keras.saving.register_keras_serializable(package="tests")
class NoiseMapGAN(DCGAN):
    """A made-up variant with two noise inputs, z and a per-pixel noise map (as StyleGAN's), added in one file."""

    def __init__(self, data_shape=(8, 8, 1), latent_dim=6, width=4, **kwargs):
        z = keras.Input((latent_dim,), name="z")
        noise = keras.Input(data_shape[:2] + (1,), name="noise")
        h = keras.layers.Reshape(data_shape[:2] + (1,))(keras.layers.Dense(int(np.prod(data_shape[:2])))(z))
        h = keras.layers.Conv2D(data_shape[-1], 3, padding="same")(keras.layers.Concatenate()([h, noise]))
        kwargs.setdefault("generator", keras.Model([z, noise], keras.layers.Activation("tanh")(h), name="generator"))
        super().__init__(data_shape=data_shape, latent_dim=latent_dim, width=width, **kwargs)

    def generator_inputs(self):
        return [GeneratorInput.normal("z", self.latent_dim), GeneratorInput.noise_image("noise", self.data_shape[:2] + (1,))]

    def train_step(self, data):
        real = self.unpack_real(data)
        batch = tf.shape(real)[0]
        z, noise = (self.draw(spec, batch) for spec in self.generator_inputs())
        with tf.GradientTape() as tape:
            fake = self.generator([z, noise], training=True)
            d_loss = tf.reduce_mean(tf.nn.softplus(-self.discriminator(real)) + tf.nn.softplus(self.discriminator(fake)))
        self.apply_gradients("discriminator", tape, d_loss)
        with tf.GradientTape() as tape:
            g_loss = tf.reduce_mean(tf.nn.softplus(-self.discriminator(self.generator([z, noise], training=True))))
        self.apply_gradients("generator", tape, g_loss)
        return self.track(d_loss=d_loss, g_loss=g_loss)


def test_every_noise_input_is_drawn_from_the_seed_and_returned(tmp_path):
    from tfgan_models.export import export_run

    model = NoiseMapGAN(seed=0)
    model.compile()
    model.fit(data.load("digits", batch_size=8, image_size=8, repeat=True), epochs=1, steps_per_epoch=2, verbose=0)
    a, b = model.generate(2, seed=3), model.generate(2, seed=3, noise=np.zeros((8, 8, 1)))
    assert not np.allclose(a, b)  # the noise map is an input of its own, given or drawn
    entry = export_run(model, str(tmp_path), name="noisemap", quantizations=("none", "int8"))
    int8 = entry["tflite"]["int8"]
    assert int8["gate"]["psnr_db"] >= int8["gate"]["limit"] and "noise ~ noise_image" in int8["calibration"]
    assert set(int8["io"]["inputs"]) == {"z", "noise"}
    loaded = tf.saved_model.load(os.path.join(str(tmp_path), "noisemap", "1"))
    seed_sig = loaded.signatures["seed"]
    assert set(seed_sig.structured_input_signature[1]) == {"seed"}  # both inputs are noise: drawn from it
    out = seed_sig(seed=tf.constant([7, 8, 7], tf.int64))
    assert out["noise"].shape == (3, 8, 8, 1) and out["z"].shape == (3, 6)
    np.testing.assert_array_equal(out["noise"][0], out["noise"][2])
    assert not np.allclose(out["noise"][0], out["noise"][1])
    again = loaded.signatures["serving_default"](z=out["z"], noise=out["noise"])["images_float"]
    np.testing.assert_allclose(again.numpy(), out["images_float"].numpy(), atol=1e-6)
