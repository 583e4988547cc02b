"""Training throughput: our models against the same networks trained the way keras.io writes a GAN.

For ``dcgan``, ``wgan_gp``, ``pix2pix`` and ``srresnet`` at their ``demo``
presets (quick: ``tiny``) the suite measures images per second of ``fit``:

* ours: the model ``tfgan train`` builds (``runs.build_model(runs.run_settings(name))``:
  default settings, so ``jit_compile="auto"`` = the variant's measured
  ``jit_compile_auto``), fitted with :class:`~tfgan_models.callbacks.NaNGuard`
  as the CLI does, ``verbose=0``; also with XLA forced the other way, and
  without the NaN guard (the guard's cost);
* the reference: a ``keras.Model`` subclass in the style of the keras.io
  examples (``dcgan_overriding_train_step``, ``wgan_gp``): ``train_step``
  opens a ``tf.GradientTape`` per network on clones of OUR generator and
  discriminator (same weights), computes the same losses as ours on the same
  batch, ``optimizer.apply_gradients`` on ``trainable_weights``, ``Mean``
  trackers; ``compile()`` with Keras defaults (``jit_compile="auto"``, which
  Keras resolves to off on a CPU-only machine), and with XLA forced on.

All run side by side in one process on the same in-memory batches of the
variant's training data (``NUM_BATCHES`` distinct batches, cycled: the step
and ``fit`` are measured, not the input pipeline). After tracing and a
warm-up, ``windows`` rounds time every configuration once, in an order
rotated each round (a shared machine slows all alike); each window lasts
about ``window_s`` seconds; a rate is the median of its windows, counting the
examples a step consumes (WGAN-GP: ``n_critic`` x batch). ``ratio`` is ours /
reference at default settings (the target is >= 1.3 on CPU), ``ratio_xla_off``
and ``ratio_xla_on`` compare them at equal XLA settings (the cost of our
plumbing), ``guard_cost`` = rate without / with the NaN guard - 1, and
``steps_per_execution_gain`` = rate of ours compiled with
``steps_per_execution=STEPS_PER_EXECUTION`` (one host round trip, one guard
check per 8 steps) / ours - 1: what fewer per-step host syncs would give.
``retraces`` counts step functions traced during the timed windows (0 expected).
"""

import gc
import statistics

import keras
import tensorflow as tf

from tfgan_models import runs
from tfgan_models.benchmarks import Timer, fmt, load_average, machine_info, render, resolve_seeds
from tfgan_models.callbacks import NaNGuard
from tfgan_models.losses import (minimax_discriminator_loss, non_saturating_generator_loss, pixel_l1_loss,
                                 pixel_mse_loss, wasserstein_discriminator_loss, wasserstein_generator_loss)

VARIANTS = ("dcgan", "wgan_gp", "pix2pix", "srresnet")
NUM_BATCHES = 8
STEPS_PER_EXECUTION = 8
TARGET_RATIO = 1.3
FULL = dict(preset="demo", windows=5, window_s=3.0)
QUICK = dict(preset="tiny", windows=2, window_s=0.3)


# ------------------------------------------------------------ the references
class _KerasIOGAN(keras.Model):
    """Shared keras.io plumbing: optimizers and loss trackers set in ``compile``."""

    def __init__(self, discriminator, generator, **kwargs):
        super().__init__(**kwargs)
        self.discriminator = discriminator
        self.generator = generator

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]


class KerasIODCGAN(_KerasIOGAN):
    """keras.io/examples/generative/dcgan_overriding_train_step, with our DCGAN's losses."""

    def __init__(self, discriminator, generator, latent_shape, seed=1337):
        super().__init__(discriminator, generator)
        self.latent_shape = tuple(latent_shape)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def train_step(self, real_images):
        batch_size = tf.shape(real_images)[0]
        random_latent_vectors = keras.random.normal((batch_size, *self.latent_shape), seed=self.seed_generator)
        generated_images = self.generator(random_latent_vectors, training=True)
        with tf.GradientTape() as tape:
            d_loss = minimax_discriminator_loss(self.discriminator(real_images, training=True),
                                                self.discriminator(generated_images, training=True))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        random_latent_vectors = keras.random.normal((batch_size, *self.latent_shape), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            g_loss = non_saturating_generator_loss(
                self.discriminator(self.generator(random_latent_vectors, training=True), training=True))
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {"d_loss": self.d_loss_metric.result(), "g_loss": self.g_loss_metric.result()}


class KerasIOWGANGP(_KerasIOGAN):
    """keras.io/examples/generative/wgan_gp; the critic steps take our disjoint strided chunks of the batch."""

    def __init__(self, discriminator, generator, latent_shape, discriminator_extra_steps=5, gp_weight=10.0,
                 seed=1337):
        super().__init__(discriminator, generator)
        self.latent_shape = tuple(latent_shape)
        self.d_steps, self.gp_weight = int(discriminator_extra_steps), float(gp_weight)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def gradient_penalty(self, batch_size, real_images, fake_images):
        alpha = keras.random.uniform((batch_size, 1, 1, 1), seed=self.seed_generator)
        interpolated = real_images + alpha * (fake_images - real_images)
        with tf.GradientTape() as gp_tape:
            gp_tape.watch(interpolated)
            pred = self.discriminator(interpolated, training=True)
        grads = gp_tape.gradient(pred, [interpolated])[0]
        norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]) + 1e-12)
        return tf.reduce_mean((norm - 1.0) ** 2)

    def train_step(self, real_images):
        for i in range(self.d_steps):
            real = real_images[i :: self.d_steps]
            batch_size = tf.shape(real)[0]
            random_latent_vectors = keras.random.normal((batch_size, *self.latent_shape), seed=self.seed_generator)
            fake_images = self.generator(random_latent_vectors, training=True)
            with tf.GradientTape() as tape:
                d_cost = wasserstein_discriminator_loss(self.discriminator(real, training=True),
                                                        self.discriminator(fake_images, training=True))
                d_loss = d_cost + self.gp_weight * self.gradient_penalty(batch_size, real, fake_images)
            d_gradient = tape.gradient(d_loss, self.discriminator.trainable_variables)
            self.d_optimizer.apply_gradients(zip(d_gradient, self.discriminator.trainable_variables))
        random_latent_vectors = keras.random.normal((batch_size, *self.latent_shape), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            g_loss = wasserstein_generator_loss(
                self.discriminator(self.generator(random_latent_vectors, training=True), training=True))
        gen_gradient = tape.gradient(g_loss, self.generator.trainable_variables)
        self.g_optimizer.apply_gradients(zip(gen_gradient, self.generator.trainable_variables))
        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {"d_loss": self.d_loss_metric.result(), "g_loss": self.g_loss_metric.result()}


class KerasIOPix2Pix(_KerasIOGAN):
    """pix2pix in the keras.io GAN style (two tapes), with our losses: 1/2 BCE for D, BCE + lambda L1 for G."""

    def __init__(self, discriminator, generator, l1_weight=100.0):
        super().__init__(discriminator, generator)
        self.l1_weight = float(l1_weight)

    def train_step(self, data):
        x, y = data
        fake = self.generator(x, training=True)
        with tf.GradientTape() as tape:
            d_loss = 0.5 * minimax_discriminator_loss(self.discriminator([x, y], training=True),
                                                      self.discriminator([x, fake], training=True))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        with tf.GradientTape() as tape:
            fake = self.generator(x, training=True)
            g_loss = (non_saturating_generator_loss(self.discriminator([x, fake], training=True))
                      + self.l1_weight * pixel_l1_loss(y, fake))
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {"d_loss": self.d_loss_metric.result(), "g_loss": self.g_loss_metric.result()}


class KerasIOSRResNet(keras.Model):
    """SRResNet in the same style: one tape on the generator, our MSE loss and the batch PSNR."""

    def __init__(self, generator):
        super().__init__()
        self.generator = generator

    def compile(self, g_optimizer, **kwargs):
        super().compile(**kwargs)
        self.g_optimizer = g_optimizer
        self.loss_metric = keras.metrics.Mean(name="pixel_loss")
        self.psnr_metric = keras.metrics.Mean(name="psnr")

    @property
    def metrics(self):
        return [self.loss_metric, self.psnr_metric]

    def train_step(self, data):
        lr, hr = data
        with tf.GradientTape() as tape:
            loss = pixel_mse_loss(hr, self.generator(lr, training=True))
        grads = tape.gradient(loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        self.loss_metric.update_state(loss)
        self.psnr_metric.update_state(10.0 * tf.math.log(4.0 / tf.maximum(loss, 1e-10)) / tf.math.log(10.0))
        return {"pixel_loss": self.loss_metric.result(), "psnr": self.psnr_metric.result()}


def _clone(network):
    copy = keras.models.clone_model(network)
    copy.set_weights(network.get_weights())
    return copy


def _fresh(optimizer):
    return type(optimizer).from_config(optimizer.get_config())


def reference_model(variant, model, jit_compile="auto"):
    """The keras.io-style reference of our ``model`` (``variant``): cloned networks, same optimizer settings,
    compiled with ``jit_compile`` (Keras' default ``"auto"``)."""
    if variant == "srresnet":
        reference = KerasIOSRResNet(_clone(model.generator))
        reference.compile(g_optimizer=_fresh(model.g_optimizer), jit_compile=jit_compile)
        return reference
    nets = dict(discriminator=_clone(model.discriminator), generator=_clone(model.generator))
    if variant == "dcgan":
        reference = KerasIODCGAN(latent_shape=model.generator_inputs()[0].shape, **nets)
    elif variant == "wgan_gp":
        reference = KerasIOWGANGP(latent_shape=model.generator_inputs()[0].shape,
                                  discriminator_extra_steps=model.discriminator_steps,
                                  gp_weight=model.gradient_penalty_weight, **nets)
    elif variant == "pix2pix":
        reference = KerasIOPix2Pix(l1_weight=model.l1_weight, **nets)
    else:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, received {variant!r}.")
    reference.compile(d_optimizer=_fresh(model.d_optimizer), g_optimizer=_fresh(model.g_optimizer),
                      jit_compile=jit_compile)
    return reference


# ------------------------------------------------------------ measurement
def _batches(model, settings, count):
    dataset, _ = runs.training_data(model, settings)
    it = iter(dataset)
    batches = [next(it) for _ in range(count)]
    stacked = tf.nest.map_structure(lambda *xs: tf.stack(xs), *batches)
    return tf.data.Dataset.from_tensor_slices(stacked).repeat(), int(tf.nest.flatten(batches[0])[0].shape[0])


def _tracing_count(model):
    fn = model.train_function
    get = getattr(fn, "experimental_get_tracing_count", None)
    return int(get()) if get is not None else 0


class _Config:
    def __init__(self, name, model, callbacks=(), multiple=1):
        self.name, self.model, self.callbacks, self.multiple = name, model, list(callbacks), int(multiple)
        self.rates, self.step_s = [], None

    def steps(self, seconds):
        """Steps lasting about ``seconds`` (>= 2), a multiple of ``multiple``."""
        n = max(2, int(round(seconds / self.step_s)))
        return max(self.multiple, n - n % self.multiple)

    def fit(self, data, steps):
        with Timer() as t:
            self.model.fit(data, epochs=1, steps_per_epoch=steps, callbacks=self.callbacks, verbose=0, shuffle=False)
        return t.seconds


def measure_variant(variant, preset="demo", windows=5, window_s=3.0, seed=0, log=print):
    """One row: images/s of ours and the reference with XLA on and off (see the module docstring)."""
    settings = runs.run_settings(variant, preset, seed=seed)
    keras.utils.set_random_seed(seed)
    ours = runs.build_model(settings)  # as `tfgan train` builds it: jit_compile "auto"
    flipped = "off" if ours.jit_compile else "on"
    keras.utils.set_random_seed(seed)
    ours_flipped = runs.build_model({**settings, "execution": {**settings["execution"], "jit_compile": flipped}})
    ours_flipped.set_weights(ours.get_weights())
    reference = reference_model(variant, ours)  # Keras defaults
    reference_flipped = reference_model(variant, ours, jit_compile=not reference.jit_compile)
    guard = lambda: [NaNGuard(checkpoint_hint="")]  # noqa: E731  as `tfgan train` passes it
    configs = [_Config("ours", ours, guard()), _Config("ours_xla_" + flipped, ours_flipped, guard()),
               _Config("reference", reference),
               _Config("reference_xla_" + ("on" if reference_flipped.jit_compile else "off"), reference_flipped),
               _Config("ours_no_guard", ours)]
    # Diagnostic: the same step run STEPS_PER_EXECUTION times per call (one host round trip per call).
    keras.utils.set_random_seed(seed)
    batched = runs.build_model(settings)
    batched.compile(optimizers={n: _fresh(o) for n, o in batched.optimizers_by_name().items()},
                    jit_compile=ours.jit_compile, steps_per_execution=STEPS_PER_EXECUTION)
    batched.set_weights(ours.get_weights())
    configs.append(_Config(f"ours_steps_per_execution_{STEPS_PER_EXECUTION}", batched, guard(),
                           multiple=STEPS_PER_EXECUTION))
    data, examples = _batches(ours, settings, NUM_BATCHES)
    for config in configs:  # trace (and compile) first, then estimate a step's time
        config.first_call_s = config.fit(data, config.multiple)
        config.step_s = config.fit(data, 2 * config.multiple) / (2 * config.multiple)
    models = list({id(c.model): c.model for c in configs}.values())
    traced = [_tracing_count(m) for m in models]
    for window in range(windows):
        for config in configs[window % len(configs):] + configs[: window % len(configs)]:
            steps = config.steps(window_s)
            config.rates.append(steps * examples / config.fit(data, steps))
    retraces = sum(_tracing_count(m) - before for m, before in zip(models, traced))
    rate = {c.name: statistics.median(c.rates) for c in configs}
    on = lambda name, model: rate[name] if model.jit_compile else None  # noqa: E731
    off = lambda name, model: rate[name] if not model.jit_compile else None  # noqa: E731
    pick = lambda *pairs: next((v for v in (f(n, m) for f, n, m in pairs) if v is not None), None)  # noqa: E731
    ours_on = pick((on, "ours", ours), (on, configs[1].name, ours_flipped))
    ours_off = pick((off, "ours", ours), (off, configs[1].name, ours_flipped))
    ref_on = pick((on, "reference", reference), (on, configs[3].name, reference_flipped))
    ref_off = pick((off, "reference", reference), (off, configs[3].name, reference_flipped))
    row = {
        "variant": variant, "preset": preset, "examples_per_step": examples,
        "ours_jit_compile": bool(ours.jit_compile), "reference_jit_compile": bool(reference.jit_compile),
        "ours_img_per_s": rate["ours"], "reference_img_per_s": rate["reference"],
        "ratio": rate["ours"] / rate["reference"],
        # Load from other jobs only ever slows a window down: best windows, a second reading of the same ratio.
        "ratio_best_windows": max(configs[0].rates) / max(configs[2].rates),
        "ours_xla_on_img_per_s": ours_on, "ours_xla_off_img_per_s": ours_off,
        "reference_xla_on_img_per_s": ref_on, "reference_xla_off_img_per_s": ref_off,
        "ratio_xla_off": ours_off / ref_off, "ratio_xla_on": ours_on / ref_on,
        "ours_no_guard_img_per_s": rate["ours_no_guard"], "guard_cost": rate["ours_no_guard"] / rate["ours"] - 1.0,
        "ours_steps_per_execution_img_per_s": rate[configs[-1].name],
        "steps_per_execution_gain": rate[configs[-1].name] / rate["ours"] - 1.0,
        "retraces": int(retraces),
        "first_call_s": {c.name: c.first_call_s for c in configs},
        "window_rates": {c.name: c.rates for c in configs},
    }
    log(f"[throughput] {variant:9s} ours {row['ours_img_per_s']:7.1f} img/s (xla {'on' if ours.jit_compile else 'off'})"
        f", reference {row['reference_img_per_s']:7.1f} img/s: {row['ratio']:.2f}x; at equal XLA off "
        f"{row['ratio_xla_off']:.2f}x, on {row['ratio_xla_on']:.2f}x; NaN guard {100 * row['guard_cost']:+.0f}%, "
        f"steps_per_execution {100 * row['steps_per_execution_gain']:+.0f}%")
    return row


def run(quick=False, seeds=None, log=print, variants=None, preset=None, windows=None, window_s=None):
    """Runs the suite; ``variants``, ``preset``, ``windows`` and ``window_s`` override the protocol."""
    seed = resolve_seeds(seeds, quick, 1)[0]  # a speed test: one seed
    budget = dict(QUICK if quick else FULL)
    budget.update({k: v for k, v in {"preset": preset, "windows": windows, "window_s": window_s}.items()
                   if v is not None})
    if isinstance(budget["windows"], bool) or not isinstance(budget["windows"], int) or budget["windows"] < 1:
        raise ValueError(f"windows must be an int >= 1, received {budget['windows']!r}.")
    if not float(budget["window_s"]) > 0:
        raise ValueError(f"window_s must be > 0 seconds, received {budget['window_s']!r}.")
    variants = VARIANTS if variants is None else ((variants,) if isinstance(variants, str) else tuple(variants))
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown or not variants:
        raise ValueError(f"unknown variant(s) {unknown or variants!r}; known: {', '.join(VARIANTS)}.")
    rows = []
    with Timer() as wall:
        for variant in variants:
            rows.append(measure_variant(variant, seed=seed, log=log, **budget))
            keras.backend.clear_session()
            gc.collect()
    return {
        "suite": "throughput",
        "protocol": {"quick": bool(quick), "seed": seed, **budget, "num_batches": NUM_BATCHES,
                     "steps_per_execution": STEPS_PER_EXECUTION,
                     "target_ratio": TARGET_RATIO,
                     "data": f"{NUM_BATCHES} batches of each variant's training data, in memory, cycled",
                     "rates": "examples per second of fit; median of windows; configurations rotate each round",
                     "reference": "keras.io GAN style: keras.Model subclass, one GradientTape per network, "
                                  "cloned networks, compile() defaults",
                     "load_average_1min_at_end": load_average()},
        "machine": machine_info(),
        "wall_time_s": wall.seconds,
        "rows": rows,
        "meets_target": all(r["ratio"] >= TARGET_RATIO for r in rows),
    }


def format_table(results):
    rows = [[r["variant"], str(r["examples_per_step"]), fmt(r["ours_img_per_s"]),
             fmt(r["reference_img_per_s"]), f"{r['ratio']:.2f}x",
             fmt(r["ours_xla_off_img_per_s"]), fmt(r["ours_xla_on_img_per_s"]),
             fmt(r["reference_xla_off_img_per_s"]), fmt(r["reference_xla_on_img_per_s"]),
             f"{100 * r['guard_cost']:+.0f}%", f"{100 * r['steps_per_execution_gain']:+.0f}%",
             str(r["retraces"])] for r in results["rows"]]
    p = results["protocol"]
    head = (f"throughput ({p['preset']} presets, images/s of fit; ours vs keras.io-style reference, target "
            f">= {p['target_ratio']}x): {'met' if results['meets_target'] else 'NOT met'}; "
            f"wall {results['wall_time_s']:.0f} s")
    return head + "\n\n" + render(
        ["variant", "batch", "ours", "reference", "ratio", "ours off", "ours on", "ref off", "ref on",
         "guard cost", f"spe {results['protocol'].get('steps_per_execution', STEPS_PER_EXECUTION)}", "retraces"], rows)
