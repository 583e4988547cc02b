"""Digits GANs: every unconditional variant's ``demo`` preset on 32x32 embedded digits.

Protocol (ANCHORS.md, P2), scaled to a 2-core CPU:

* data: all 1,797 embedded digits at 32x32 (the ``demo`` presets' ``data``);
* networks and optimizers: each variant's ``demo`` preset; ``steps``
  generator updates (WGAN / WGAN-GP: 5 critic updates each, on fresh data);
* 1,000 samples scored by :class:`tfgan_models.metrics.DigitsEvaluator`:
  Fréchet distance on the package classifier's hidden features (FID-style,
  Heusel et al. 2017) against the train split, with the real-vs-real floor
  (train vs test split), class shares and KL to uniform (mode dropping),
  mean confidence.

Throughput ``img_per_s`` counts the real images a step consumes
(``discriminator_steps * batch_size``) per second of ``fit``.
"""

import keras
import numpy as np

from tfgan_models import data, registry
from tfgan_models.benchmarks import Timer, fmt, machine_info, render, resolve_seeds, summarize
from tfgan_models.metrics import DigitsEvaluator

VARIANTS = ("gan", "dcgan", "lsgan", "wgan", "wgan_gp")
PRESET = "demo"
IMAGE_SIZE = 32
NUM_SAMPLES = 1000
# Step budgets. Measured on 2 shared CPU cores (demo presets, batch 64, ms per
# fit step): gan ~20, dcgan 58-80, lsgan 60-100, wgan ~200, wgan_gp 360-410
# (5 critic updates each). Probed (seed 0): DCGAN reaches FD 55 / 20 / 12 / 9.5
# after 250 / 1k / 2k / 3k steps (floor 5.1, 10/10 classes from 250 on);
# WGAN-GP FD 26 / 13.6 after 500 / 1k. Equal generator steps for every
# variant: 2k steps take 1-3 min for gan/dcgan/lsgan, ~7 min for wgan and
# ~13 min for wgan_gp, ~25 min for the suite.
FULL_STEPS = 2000
FULL_SEEDS = 1  # pass seeds=3 for a spread (~75 min)
QUICK_STEPS = 250  # 5-100 s per variant, ~3-4 min in all
SCORE_KEYS = ("frechet_distance", "real_vs_real_floor", "class_shares", "classes_over_5pct",
              "kl_to_uniform", "mean_confidence", "test_accuracy", "num_samples")


def train_and_score(variant, seed, steps, evaluator, num_samples=NUM_SAMPLES):
    """One run of ``variant``'s demo preset: train, sample, score. Returns a row dict."""
    with Timer() as total:
        keras.utils.set_random_seed(seed)
        model = registry.get(variant, PRESET, seed=seed)
        preset = registry.preset(variant, PRESET)
        if tuple(model.data_shape[:2]) != (IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(f"{variant}/{PRESET} makes {model.data_shape} images; this suite scores "
                             f"{IMAGE_SIZE}x{IMAGE_SIZE} digits.")
        per_step = model.data_batch_size(preset["batch_size"])
        ds = data.load(preset["data"], batch_size=per_step, image_size=IMAGE_SIZE, repeat=True, seed=seed)
        with Timer() as train:
            history = model.fit(ds, epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0)
        samples = model.generate(num_samples, seed=seed)
        # A diverged generator (NaN weights) has no score; the suite goes on.
        scores = evaluator.score(samples) if np.isfinite(samples).all() else dict.fromkeys(SCORE_KEYS)
    return {
        "variant": variant, "preset": PRESET, "seed": seed, "steps": steps,
        "batch_size": preset["batch_size"], "discriminator_steps": model.discriminator_steps,
        **scores, "diverged": scores["frechet_distance"] is None,
        "final_losses": {k: float(v[-1]) for k, v in history.history.items()},
        # Both include tracing the step function (a few seconds), so short runs understate speed.
        "ms_per_step": 1000.0 * train.seconds / steps,
        "img_per_s": steps * per_step / train.seconds,
        "train_s": train.seconds, "wall_s": total.seconds,
    }


def run(quick=False, seeds=None, log=print, steps=None, variants=None, num_samples=NUM_SAMPLES):
    """Runs the suite; ``steps``, ``variants`` and ``num_samples`` override the protocol."""
    seed_list = resolve_seeds(seeds, quick, FULL_SEEDS)
    steps = int(steps) if steps is not None else (QUICK_STEPS if quick else FULL_STEPS)
    if steps < 1:
        raise ValueError(f"steps must be >= 1, received {steps!r}.")
    if variants is None:
        variants = VARIANTS
    variants = (variants,) if isinstance(variants, str) else tuple(variants)
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown or not variants:
        raise ValueError(f"unknown variant(s) {unknown or variants!r}; known: {', '.join(VARIANTS)}.")
    rows = []
    with Timer() as wall:
        with Timer() as setup:
            evaluator = DigitsEvaluator(IMAGE_SIZE)  # trains the classifier once (a few seconds)
            floor = evaluator.real_vs_real_floor
        log(f"[digits] classifier: test accuracy {evaluator.test_accuracy:.3f}, "
            f"real-vs-real FD {floor:.2f} ({setup.seconds:.0f} s)")
        for variant in variants:
            for seed in seed_list:
                row = train_and_score(variant, seed, steps, evaluator, num_samples)
                quality = ("diverged (non-finite samples)" if row["diverged"] else
                           f"FD {row['frechet_distance']:.2f}, {row['classes_over_5pct']}/10 classes, "
                           f"KL {row['kl_to_uniform']:.3f}")
                log(f"[digits] {variant:8s} seed {seed}: {quality}, {row['ms_per_step']:.0f} ms/step, "
                    f"{row['img_per_s']:.0f} img/s, {row['wall_s']:.0f} s")
                rows.append(row)
    return {
        "suite": "digits",
        "protocol": {
            "quick": bool(quick), "steps": steps, "seeds": seed_list, "num_samples": num_samples,
            "variants": list(variants), "preset": PRESET, "image_size": IMAGE_SIZE,
            "fd_reference": "digits train split (1,400); floor: train vs test split (397)",
            "evaluator": "package MLP classifier, hidden 'features' layer (64 units)",
            "img_per_s": "real images consumed per second of fit (discriminator_steps * batch_size per step)",
        },
        "machine": machine_info(),
        "classifier_test_accuracy": evaluator.test_accuracy,
        "real_vs_real_floor": floor,
        "wall_time_s": wall.seconds,
        "rows": rows,
        "summary": summarize(rows, ("variant",), ("frechet_distance", "classes_over_5pct", "kl_to_uniform",
                                                  "mean_confidence", "ms_per_step", "img_per_s", "wall_s")),
    }


def format_table(results):
    """Mean ± std over seeds per variant."""
    rows = [[s["variant"], str(s["runs"]), fmt(s["frechet_distance"], s["frechet_distance_std"], 2),
             fmt(s["classes_over_5pct"], s["classes_over_5pct_std"]),
             fmt(s["kl_to_uniform"], s["kl_to_uniform_std"], 3), fmt(s["mean_confidence"], digits=3),
             fmt(s["ms_per_step"], digits=0), fmt(s["img_per_s"], digits=0), fmt(s["wall_s"], digits=0)]
            for s in results["summary"]]
    p = results["protocol"]
    head = (f"digits ({p['preset']} presets, {p['image_size']}x{p['image_size']}): {p['steps']} steps, "
            f"{len(p['seeds'])} seed(s), {p['num_samples']} samples; classifier test accuracy "
            f"{results['classifier_test_accuracy']:.3f}; real-vs-real FD floor "
            f"{results['real_vs_real_floor']:.2f}; wall {results['wall_time_s']:.0f} s")
    return head + "\n\n" + render(
        ["variant", "runs", "FD", "classes >= 5%", "KL to uniform", "confidence", "ms/step", "img/s", "wall s"],
        rows)
