"""Controllable generation on embedded digits: cGAN, AC-GAN (label control), InfoGAN (code discovery).

Protocol (ANCHORS.md, P2), scaled to a 2-core CPU:

* data: all 1,797 embedded digits at 32x32 with labels; each variant's ``demo``
  preset trained for ``steps`` generator updates;
* cGAN / AC-GAN: 100 samples per requested label (1,000 in all); an
  independent classifier (:class:`tfgan_models.metrics.DigitsEvaluator`,
  trained by the package on the train split, never seen by the GAN) labels
  them; *conditional accuracy* is the share labelled as requested, per class
  and on average. Also the digits Fréchet distance with its real-vs-real floor.
* InfoGAN: 100 samples per value of the categorical code (continuous codes
  from their prior); the classifier's labels form a code x class table, and the
  *matched accuracy* is the accuracy after the best one-to-one code -> class
  assignment (Hungarian algorithm), the paper's "5% error" figure for MNIST.
"""

import keras
import numpy as np

from tfgan_models import data, registry
from tfgan_models.benchmarks import Timer, fmt, machine_info, render, resolve_seeds, summarize
from tfgan_models.metrics import DigitsEvaluator

VARIANTS = ("cgan", "acgan", "infogan")
PRESET = "demo"
PER_CLASS = 100
FULL_STEPS = 3000
FULL_SEEDS = 1
QUICK_STEPS = 600
ANCHORS = {
    "infogan_matched_accuracy_mnist": {"value": 0.95, "source": "Chen et al. 2016 (5% error on MNIST)"},
    "targets": {"cgan": 0.90, "acgan": 0.90, "infogan": 0.80},
}


def matched_accuracy(codes, predicted, num_codes, num_classes=10):
    """Accuracy of ``codes`` as predictors of ``predicted`` after the best one-to-one matching."""
    from scipy.optimize import linear_sum_assignment

    table = np.zeros((num_codes, num_classes), dtype="int64")
    np.add.at(table, (np.asarray(codes), np.asarray(predicted)), 1)
    rows, cols = linear_sum_assignment(-table)
    return float(table[rows, cols].sum() / len(codes)), {int(r): int(c) for r, c in zip(rows, cols)}


def train(variant, seed, steps):
    keras.utils.set_random_seed(seed)
    model = registry.get(variant, PRESET, seed=seed)
    preset = registry.preset(variant, PRESET)
    ds = data.load(preset["data"], batch_size=model.data_batch_size(preset["batch_size"]),
                   image_size=model.data_shape[:2], with_labels=True, repeat=True, seed=seed)
    with Timer() as clock:
        model.fit(ds, epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0)
    return model, clock.seconds


def score(model, evaluator, seed):
    """The variant's controllability figures (see the module docstring)."""
    if hasattr(model, "num_categories"):
        codes = np.repeat(np.arange(model.num_categories), PER_CLASS)
        samples = model.generate(len(codes), seed=seed, codes={"categorical": codes})
        predicted = evaluator.predict(samples).argmax(axis=1)
        accuracy, mapping = matched_accuracy(codes, predicted, model.num_categories)
        return {"matched_accuracy": accuracy, "code_to_class": mapping,
                "frechet_distance": evaluator.frechet_distance(samples, evaluator_real(evaluator))}
    labels = np.repeat(np.arange(model.num_classes), PER_CLASS)
    samples = model.generate(len(labels), seed=seed, labels=labels)
    predicted = evaluator.predict(samples).argmax(axis=1)
    per_class = [float(np.mean(predicted[labels == k] == k)) for k in range(model.num_classes)]
    return {"conditional_accuracy": float(np.mean(predicted == labels)), "per_class_accuracy": per_class,
            "frechet_distance": evaluator.frechet_distance(samples, evaluator_real(evaluator))}


def evaluator_real(evaluator):
    return data.digits_arrays("train", evaluator.image_size)[0]


def score_runs(run_dirs, evaluator, log):
    """Scores trained run directories (e.g. from ``tfgan train cgan``) instead of training here."""
    from tfgan_models import runs

    rows = []
    for run_dir in run_dirs:
        model, settings = runs.load_model(run_dir)
        if settings["variant"] not in VARIANTS:
            raise ValueError(f"{run_dir} holds a {settings['variant']} run; this suite scores {', '.join(VARIANTS)}.")
        seed = int(settings["model"].get("seed") or 0)
        row = {"variant": settings["variant"], "run_dir": run_dir, "seed": seed,
               "steps": int(model.g_optimizer.iterations), "train_s": None, **score(model, evaluator, seed)}
        row["accuracy"] = row.get("conditional_accuracy", row.get("matched_accuracy"))
        log(f"[conditional] {row['variant']:8s} {run_dir}: accuracy {row['accuracy']:.3f}, "
            f"FD {row['frechet_distance']:.2f}")
        rows.append(row)
    return rows


def run(quick=False, seeds=None, log=print, steps=None, variants=None, run_dirs=None):
    """Runs the suite; ``steps`` and ``variants`` override the protocol; ``run_dirs`` scores trained runs."""
    seed_list = resolve_seeds(seeds, quick, FULL_SEEDS)
    steps = int(steps) if steps is not None else (QUICK_STEPS if quick else FULL_STEPS)
    variants = (variants,) if isinstance(variants, str) else tuple(variants or VARIANTS)
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown or not variants or steps < 1:
        raise ValueError(f"variants must be among {', '.join(VARIANTS)} and steps >= 1; "
                         f"received {list(variants)} and {steps}.")
    rows = []
    with Timer() as wall:
        evaluator = DigitsEvaluator(32)
        if run_dirs:
            rows, variants, steps = score_runs(run_dirs, evaluator, log), (), "as trained"
            seed_list = sorted({r["seed"] for r in rows})
        for variant in variants:
            for seed in seed_list:
                model, seconds = train(variant, seed, steps)
                row = {"variant": variant, "seed": seed, "steps": steps, "train_s": seconds,
                       **score(model, evaluator, seed)}
                row["accuracy"] = row.get("conditional_accuracy", row.get("matched_accuracy"))
                log(f"[conditional] {variant:8s} seed {seed}: accuracy {row['accuracy']:.3f}, "
                    f"FD {row['frechet_distance']:.2f}, {seconds:.0f} s")
                rows.append(row)
    return {
        "suite": "conditional",
        "protocol": {"quick": bool(quick), "steps": steps, "seeds": seed_list, "preset": PRESET,
                     "samples_per_class": PER_CLASS, "classifier": "package digits MLP (train split)",
                     "accuracy": "cGAN/AC-GAN: conditional accuracy; InfoGAN: Hungarian-matched accuracy"},
        "anchors": ANCHORS,
        "machine": machine_info(),
        "classifier_test_accuracy": evaluator.test_accuracy,
        "real_vs_real_floor": evaluator.real_vs_real_floor,
        "wall_time_s": wall.seconds,
        "rows": rows,
        "summary": summarize(rows, ("variant",), ("accuracy", "frechet_distance", "steps")),
    }


def format_table(results):
    p = results["protocol"]
    steps = f"{p['steps']} steps" if isinstance(p["steps"], int) else "runs as trained"
    head = (f"conditional ({p['preset']} presets, 32x32 digits): {steps}, {len(p['seeds'])} seed(s); "
            f"classifier test accuracy {results['classifier_test_accuracy']:.3f}; "
            f"FD floor {results['real_vs_real_floor']:.2f}; wall {results['wall_time_s']:.0f} s")
    rows = [[s["variant"], str(s["runs"]), fmt(s["accuracy"], s["accuracy_std"], 3),
             f"{ANCHORS['targets'][s['variant']]:.2f}", fmt(s["frechet_distance"], s["frechet_distance_std"], 2),
             fmt(s["steps"], digits=0)] for s in results["summary"]]
    return head + "\n\n" + render(["variant", "runs", "accuracy", "target", "FD", "G steps"], rows)
