"""XLA per variant: is ``jit_compile=True`` correct and faster than the plain graph step on this CPU?

For every registered variant (its ``demo`` preset: batch size and image size;
phased variants: their first phase) the suite builds the model twice from the
same seed, XLA off and on, and checks then times them on ONE cached batch of
the variant's own training data (the step, not the input pipeline):

* correctness: from the same weights, batch and seed, one ``fit`` step each.
  ``loss_rel_diff`` is the largest ``|on - off| / (|off| + 1e-3)`` over the
  step's losses; ``update_rel_diff`` is ``||Δw_on - Δw_off|| / ||Δw_off||``
  over all weights (``Δw``: the step's change of every weight, optimizer-free).
  The step is correct when ``loss_rel_diff <= LOSS_TOLERANCE`` and
  ``update_rel_diff <= UPDATE_TOLERANCE``. TensorFlow's XLA and non-XLA
  kernels of the float ``stateless_*`` random ops give different streams from
  the same seed (measured: ``stateless_normal`` with Philox differs, the
  integer draws agree), so during this one step Keras' random normal /
  uniform / truncated normal / dropout / categorical draw from integer Philox
  bits (identical under both) through :func:`same_random_streams`. The timed
  steps are the ones traced for the check (tracing and compiling twice per
  variant would double the suite's time): their random draws cost the same
  kind of work as TensorFlow's (Philox bits, then Box-Muller), a negligible
  part of a step next to the networks.
* speed: 3 warm-up steps each (after the tracing / compiling first call, whose
  time is ``first_call_s``), then ``windows`` windows of about ``window_s``
  seconds each (at least 2 steps), off and on alternating (a shared machine
  slows both alike); rates are images per second (examples of the batch's
  first tensor per step), median of the windows. Each variant's measurement
  is capped at about ``budget_s`` seconds: windows shrink to fit.

Verdict per variant: ``on`` when correct and ``speedup >= MIN_SPEEDUP``; else
``slower``, ``differs`` or ``fails to compile`` (with the error's first line).
``GenerativeModel.jit_compile_auto`` of each variant follows the verdicts in
``docs/bench/xla.json``.
"""

import contextlib
import gc
import math
import statistics
import time

import keras
import numpy as np
import tensorflow as tf

from tfgan_models import registry, runs
from tfgan_models.benchmarks import Timer, fmt, load_average, machine_info, render, resolve_seeds

LOSS_TOLERANCE = 1e-3
UPDATE_TOLERANCE = 1e-2
MIN_SPEEDUP = 1.1  # within ~10% of 1x a shared or busy CPU flips the verdict between runs
FULL = dict(preset="demo", warmup=3, windows=3, window_s=2.0, budget_s=60.0)
QUICK = dict(preset="tiny", warmup=1, windows=2, window_s=0.2, budget_s=20.0)
QUICK_VARIANTS = ("dcgan", "wgan_gp")


# ------------------------------------------------------------ random streams
def _bits(shape, seed):
    """Uniform floats in (0, 1] from int32 Philox draws (XLA and TF kernels agree on integers)."""
    ints = tf.random.stateless_uniform(shape, seed=seed, minval=0, maxval=2 ** 24, dtype=tf.int32)
    return (tf.cast(ints, tf.float32) + 1.0) / float(2 ** 24)


def _seed(seed):
    from keras.src.random.seed_generator import draw_seed

    seed = draw_seed(seed)
    return seed if seed.dtype == tf.int32 else tf.cast(tf.math.floormod(seed, tf.int32.max - 1), tf.int32)


def _normal01(shape, seed):
    shape = tf.concat([[2], tf.cast(tf.reshape(shape, [-1]), tf.int32)], 0)
    u = _bits(shape, seed)
    return tf.sqrt(-2.0 * tf.math.log(u[0])) * tf.cos(2.0 * math.pi * u[1])  # Box-Muller


def _normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    dtype = dtype or keras.config.floatx()
    return tf.cast(_normal01(shape, _seed(seed)) * stddev + mean, dtype)


def _truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    dtype = dtype or keras.config.floatx()
    return tf.cast(tf.clip_by_value(_normal01(shape, _seed(seed)), -2.0, 2.0) * stddev + mean, dtype)


def _uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    dtype = dtype or keras.config.floatx()
    u = _bits(tf.cast(tf.reshape(shape, [-1]), tf.int32), _seed(seed)) - 1.0 / 2 ** 24  # [0, 1)
    return tf.cast(u * (float(maxval) - float(minval)) + float(minval), dtype)


def _dropout(inputs, rate, noise_shape=None, seed=None):
    if rate == 0.0:
        return inputs
    shape = tf.shape(inputs) if noise_shape is None else [
        tf.shape(inputs)[i] if d is None else d for i, d in enumerate(noise_shape)]
    keep = tf.cast(_uniform(shape, seed=seed, dtype="float32") >= rate, inputs.dtype)
    return inputs * keep / tf.cast(1.0 - rate, inputs.dtype)


def _categorical(logits, num_samples, dtype="int64", seed=None):
    logits = tf.convert_to_tensor(logits)
    u = _bits(tf.stack([tf.shape(logits)[0], num_samples, tf.shape(logits)[1]]), _seed(seed))
    gumbel = -tf.math.log(-tf.math.log(u * (1.0 - 1e-7)))
    return tf.cast(tf.argmax(tf.cast(logits, tf.float32)[:, None, :] + gumbel, axis=-1), dtype)


@contextlib.contextmanager
def same_random_streams():
    """Inside the block Keras' random ops (TensorFlow backend) draw the same numbers with and without XLA."""
    from keras.src.backend import random as backend_random

    replaced = {"normal": _normal, "uniform": _uniform, "truncated_normal": _truncated_normal,
                "dropout": _dropout, "categorical": _categorical}
    saved = {name: getattr(backend_random, name) for name in replaced}
    for name, fn in replaced.items():
        setattr(backend_random, name, fn)
    try:
        yield
    finally:
        for name, fn in saved.items():
            setattr(backend_random, name, fn)


# --------------------------------------------------------------- the checks
def first_line(err):
    """The telling line of an exception (XLA's 'unsupported op' line when there is one), <= 240 characters."""
    text = str(err)
    generic = ("graph execution error", "detected at node", "file ", "defined at", "stack trace", "[[")
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and not line.strip().lower().startswith(generic)] or [type(err).__name__]
    keys = ("unsupported", "not supported", "no registered", "could not find", "not compile", "must be")
    telling = next((line for line in lines if any(k in line.lower() for k in keys)), lines[0])
    if "DT_STRING" in text and "DT_STRING" not in telling[:160]:
        telling = "a string tensor (DT_STRING) in the step; " + telling
    return f"{type(err).__name__}: {telling}"[:240]


def _one_batch_dataset(batch):
    return tf.data.Dataset.from_tensors(batch).repeat()


def _batch_size(batch):
    return int(tf.nest.flatten(batch)[0].shape[0])


def _logs(history):
    return {k: float(v[-1]) for k, v in history.history.items()}


def step_difference(model_a, model_b, batch, times=None):
    """``(loss_rel_diff, update_rel_diff, losses_a, losses_b)`` of one ``fit`` step of each model on ``batch``.

    The two models must hold the same variables (weights, optimizer and seed states): what differs is how
    they compile (e.g. ``jit_compile``). Random draws use :func:`same_random_streams`. ``times`` (a dict)
    receives the seconds of each call as ``"a"`` and ``"b"``.
    """
    before = [np.array(w) for w in model_a.get_weights()]
    if len(before) != len(model_b.get_weights()):
        raise ValueError("the two models must have the same weights to compare one step of each.")
    data = _one_batch_dataset(batch)
    times = {} if times is None else times
    with same_random_streams():
        with Timer() as t:
            logs_a = _logs(model_a.fit(data, epochs=1, steps_per_epoch=1, verbose=0, shuffle=False))
        times["a"] = t.seconds
        with Timer() as t:
            logs_b = _logs(model_b.fit(data, epochs=1, steps_per_epoch=1, verbose=0, shuffle=False))
        times["b"] = t.seconds
    delta_a = [np.asarray(w, "float64") - w0 for w, w0 in zip(model_a.get_weights(), before)]
    delta_b = [np.asarray(w, "float64") - w0 for w, w0 in zip(model_b.get_weights(), before)]
    norm = math.sqrt(sum(float(np.sum(d * d)) for d in delta_a))
    diff = math.sqrt(sum(float(np.sum((a - b) ** 2)) for a, b in zip(delta_a, delta_b)))
    update_rel = diff / norm if norm > 0 else (0.0 if diff == 0 else math.inf)
    loss_rel = max((abs(logs_b[k] - v) / (abs(v) + 1e-3) for k, v in logs_a.items()), default=0.0)
    if not all(math.isfinite(v) for v in (*logs_a.values(), *logs_b.values())):
        loss_rel = math.inf
    return loss_rel, update_rel, logs_a, logs_b


def judge(loss_rel_diff, update_rel_diff, speedup=None):
    """``"differs"`` beyond the tolerances, else ``"on"`` at ``speedup >= MIN_SPEEDUP``, ``"slower"`` below it
    (``"same"`` when no speedup is given)."""
    if not (loss_rel_diff <= LOSS_TOLERANCE and update_rel_diff <= UPDATE_TOLERANCE):
        return "differs"
    if speedup is None:
        return "same"
    return "on" if speedup >= MIN_SPEEDUP else "slower"


def copy_state(source, target):
    """Assigns every variable of ``source`` (weights, seed states) to ``target``'s (same architecture)."""
    src, dst = source.variables, target.variables
    if len(src) != len(dst) or any(tuple(a.shape) != tuple(b.shape) for a, b in zip(src, dst)):
        raise ValueError("the two models must have the same architecture to copy their state.")
    for a, b in zip(src, dst):
        b.assign(a)


def _build(settings, jit):
    keras.utils.set_random_seed(int(settings["model"].get("seed") or 0))
    model = runs.build_model({**settings, "execution": {**settings["execution"], "jit_compile": jit}})
    phases = model.phases()
    if phases:
        model.begin_phase(0, phases[0])
    return model, (phases[0] if phases else None)


def _batch(model, settings, phase):
    dataset, _ = runs.training_data(model, settings, *(
        (phase.data_shape, phase.batch_size, phase.steps_per_epoch) if phase is not None else ()))
    return next(iter(dataset))


def _rate(model, data, steps, images):
    with Timer() as t:
        model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)
    return steps * images / t.seconds, t.seconds / steps


def measure_variant(variant, preset="demo", warmup=3, windows=3, window_s=2.0, budget_s=60.0, seed=0, log=print):
    """One row: correctness and images/s of ``variant`` with XLA off and on (see the module docstring)."""
    start = time.perf_counter()
    settings = runs.run_settings(variant, preset, seed=seed)
    row = {"variant": variant, "preset": preset}
    off, phase = _build(settings, "off")
    on, _ = _build(settings, "on")
    copy_state(off, on)
    batch = _batch(off, settings, phase)
    images = _batch_size(batch)
    row.update(phase=phase.name if phase is not None else None, batch_size=images,
               data_shape=list(off.data_shape))
    data = _one_batch_dataset(batch)
    times = {}
    try:  # the first call traces (and compiles the XLA step): timed apart, it is not throughput
        loss_rel, update_rel, logs_off, logs_on = step_difference(off, on, batch, times)
    except Exception as err:  # noqa: BLE001  any compile failure is a result
        row.update(verdict="fails to compile", error=first_line(err), speedup=None, correct=None)
        log(f"[xla] {variant:16s} fails to compile: {row['error']}")
        return row
    correct = judge(loss_rel, update_rel) != "differs"
    row.update(first_call_off_s=times["a"], first_call_on_s=times["b"],
               loss_rel_diff=_finite(loss_rel), update_rel_diff=_finite(update_rel), correct=bool(correct),
               losses_off=logs_off, losses_on=logs_on)
    per_step = {name: _rate(model, data, warmup, images)[1] for name, model in (("off", off), ("on", on))}
    # Windows of about window_s seconds each (shorter when the budget is short): on this machine wall time
    # comes in ~0.1 s slices of CPU quota, so sub-second windows measure the slicing, not the step.
    left = budget_s - (time.perf_counter() - start)
    seconds = max(0.05, min(window_s, left / (2 * windows)))
    window_steps = {name: max(2, int(round(seconds / per_step[name]))) for name in per_step}
    rates = {"off": [], "on": []}
    for i in range(windows):
        if i and time.perf_counter() - start > budget_s:
            break
        for name, model in (("off", off), ("on", on)):
            rates[name].append(_rate(model, data, window_steps[name], images)[0])
    off_rate, on_rate = statistics.median(rates["off"]), statistics.median(rates["on"])
    speedup = on_rate / off_rate
    verdict = judge(loss_rel, update_rel, speedup)
    row.update(img_per_s_off=off_rate, img_per_s_on=on_rate, speedup=speedup, verdict=verdict,
               windows=len(rates["off"]), window_steps=window_steps, window_rates=rates,
               measure_s=time.perf_counter() - start)
    log(f"[xla] {variant:16s} off {off_rate:7.1f} img/s, on {on_rate:7.1f} img/s ({speedup:.2f}x); "
        f"loss diff {loss_rel:.1e}, update diff {update_rel:.1e}: {verdict}")
    return row


def _finite(x):
    return float(x) if math.isfinite(x) else None


def run(quick=False, seeds=None, log=print, variants=None, preset=None, warmup=None, windows=None, window_s=None,
        budget_s=None, on_row=None):
    """Runs the suite; ``variants`` (default: all, quick: dcgan and wgan_gp) and the budget can be overridden.

    ``on_row(rows)`` is called after each variant with the rows so far (e.g. to save partial results).
    """
    seed = resolve_seeds(seeds, quick, 1)[0]  # a speed and equality test: one seed
    budget = dict(QUICK if quick else FULL)
    given = {"preset": preset, "warmup": warmup, "windows": windows, "window_s": window_s, "budget_s": budget_s}
    budget.update({k: v for k, v in given.items() if v is not None})
    for key in ("warmup", "windows"):
        if isinstance(budget[key], bool) or not isinstance(budget[key], int) or budget[key] < 1:
            raise ValueError(f"{key} must be an int >= 1, received {budget[key]!r}.")
    for key in ("window_s", "budget_s"):
        if not float(budget[key]) > 0:
            raise ValueError(f"{key} must be > 0 seconds, received {budget[key]!r}.")
    known = registry.list_variants()
    variants = list(QUICK_VARIANTS if quick else known) if variants is None else (
        [variants] if isinstance(variants, str) else list(variants))
    unknown = [v for v in variants if v not in known]
    if unknown or not variants:
        raise ValueError(f"unknown variant(s) {unknown or variants!r}; known: {', '.join(known)}.")
    rows = []
    with Timer() as wall:
        for variant in variants:
            try:
                rows.append(measure_variant(variant, seed=seed, log=log, **budget))
            except Exception as err:  # noqa: BLE001  one broken variant must not lose the others' results
                rows.append({"variant": variant, "preset": budget["preset"], "verdict": "error",
                             "error": first_line(err), "speedup": None, "correct": None})
                log(f"[xla] {variant:16s} error: {rows[-1]['error']}")
            keras.backend.clear_session()
            gc.collect()
            if on_row is not None:
                on_row(list(rows))
    return {
        "suite": "xla",
        "protocol": {"quick": bool(quick), "seed": seed, **budget, "loss_tolerance": LOSS_TOLERANCE,
                     "update_tolerance": UPDATE_TOLERANCE, "min_speedup": MIN_SPEEDUP,
                     "data": "one cached batch of the variant's training data, repeated",
                     "rates": "images per second of fit, median of windows, XLA off/on alternating",
                     "load_average_1min_at_end": load_average()},
        "machine": machine_info(),
        "wall_time_s": wall.seconds,
        "rows": rows,
        "auto_on": [r["variant"] for r in rows if r.get("verdict") == "on"],
    }


def format_table(results):
    rows = [[r["variant"], r.get("phase") or "-", str(r.get("batch_size", "-")),
             fmt(r.get("img_per_s_off"), digits=1), fmt(r.get("img_per_s_on"), digits=1),
             "-" if r.get("speedup") is None else f"{r['speedup']:.2f}x",
             "-" if r.get("update_rel_diff") is None else f"{r['update_rel_diff']:.1e}",
             r["verdict"] + (f" ({r['error'][:72]}...)" if r.get("error") else "")] for r in results["rows"]]
    p = results["protocol"]
    head = (f"xla ({p['preset']} presets; correct: loss diff <= {p['loss_tolerance']:g}, update diff <= "
            f"{p['update_tolerance']:g}; on: >= {p['min_speedup']:g}x); wall {results['wall_time_s']:.0f} s")
    return head + "\n\n" + render(
        ["variant", "phase", "batch", "off img/s", "on img/s", "speedup", "update diff", "verdict"], rows)
