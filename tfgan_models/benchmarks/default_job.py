"""The README's main job, ``tfgan train dcgan`` with no options, judged by two classifiers of different kinds.

Protocol, per seed S (default 0, 1, 2):

* train exactly what a user runs: ``python -m tfgan_models.cli train dcgan --seed S --out DIR``
  in a subprocess (the ``tfgan`` console script's entry point, default ``demo``
  preset, default settings), timed from process start to exit (TensorFlow import
  and saving included: the wait a user sees);
* reload ``DIR/model.keras`` (:func:`tfgan_models.runs.load_model`) and draw ``model.generate(1000, seed=S)`` (the EMA
  generator when the preset keeps one: ``ema_sampling`` in the row);
* score the samples with the package's classifier
  (:class:`~tfgan_models.metrics.DigitsEvaluator`, an MLP on 32x32 pixels; also
  its Fréchet distance) and with :class:`~tfgan_models.metrics.digits_judge.IndependentDigitsJudge`
  (an RBF SVM on the native 8x8 pixels);
* targets, for each judge: every class holds >= 5% of the samples and the mean
  confidence (mean max probability) is >= 0.85; and the run takes <= 10 minutes.

``quick``: one seed, ``--epochs 1 --steps-per-epoch 50`` (a plumbing check; its
samples are not expected to pass). Timings depend on the load of the machine:
each row records the 1-minute load average before and after its run.
"""

import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

from tfgan_models.benchmarks import Timer, fmt, load_average, machine_info, render, resolve_seeds

VARIANT = "dcgan"
FULL_SEEDS = 3
NUM_SAMPLES = 1000
QUICK_ARGS = ("--epochs", "1", "--steps-per-epoch", "50")
MIN_CLASS_SHARE = 0.05
MIN_CONFIDENCE = 0.85
MAX_WALL_S = 600.0  # "a few CPU minutes": at most 10 on a 2-core CPU


def judge_scores(probs_scores):
    """A judge's ``class_scores`` dict -> the figures of the targets and their pass flags."""
    shares = probs_scores["class_shares"]
    return {"class_shares": shares, "min_share": float(min(shares)),
            "classes_over_5pct": int(probs_scores["classes_over_5pct"]),
            "mean_confidence": float(probs_scores["mean_confidence"]),
            "kl_to_uniform": float(probs_scores["kl_to_uniform"]),
            "test_accuracy": float(probs_scores["test_accuracy"]),
            "pass_classes": bool(min(shares) >= MIN_CLASS_SHARE),
            "pass_confidence": bool(probs_scores["mean_confidence"] >= MIN_CONFIDENCE)}


def score_samples(samples, evaluator=None, judge=None):
    """Both judges' figures for ``samples`` ``(N, 32, 32, 1)`` in [-1, 1]:
    ``{"package": {...}, "independent": {...}, "frechet_distance", "real_vs_real_floor", "pass"}``."""
    from tfgan_models.metrics import DigitsEvaluator
    from tfgan_models.metrics.digits_judge import IndependentDigitsJudge

    evaluator = evaluator or DigitsEvaluator(32)
    judge = judge or IndependentDigitsJudge()
    package = evaluator.score(samples)
    result = {"package": judge_scores(package), "independent": judge_scores(judge.score(samples)),
              "frechet_distance": package["frechet_distance"], "real_vs_real_floor": package["real_vs_real_floor"]}
    result["pass"] = all(result[j][k] for j in ("package", "independent") for k in ("pass_classes", "pass_confidence"))
    return result


def train_default_job(seed, out, quick=False):
    """Runs ``tfgan train dcgan --seed SEED --out OUT`` (plus :data:`QUICK_ARGS` when ``quick``)
    in a subprocess; returns its wall seconds. Raises ``RuntimeError`` with the output's tail if it fails."""
    command = [sys.executable, "-m", "tfgan_models.cli", "train", VARIANT, "--seed", str(int(seed)), "--out", out,
               *(QUICK_ARGS if quick else ())]
    with Timer() as timer:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[2:])} exited with {done.returncode}:\n{done.stdout[-3000:]}")
    return timer.seconds


def run(quick=False, seeds=None, log=print, num_samples=NUM_SAMPLES, out_dir=None):
    """Runs the suite; ``out_dir`` keeps the run directories there (``seed_S``), else they go to a
    temporary folder removed at the end."""
    from tfgan_models import registry, runs
    from tfgan_models.metrics import DigitsEvaluator
    from tfgan_models.metrics.digits_judge import IndependentDigitsJudge

    seed_list = resolve_seeds(seeds, quick, FULL_SEEDS)
    if int(num_samples) < 10:
        raise ValueError(f"num_samples must be >= 10 (one per class), received {num_samples!r}.")
    root = out_dir or tempfile.mkdtemp(prefix="tfgan_default_job_")
    rows = []
    try:
        with Timer() as wall:
            evaluator, judge = DigitsEvaluator(32), IndependentDigitsJudge()
            log(f"[default_job] package classifier test accuracy {evaluator.test_accuracy:.3f}; independent judge "
                f"({judge.name}) {judge.test_accuracy:.3f} after 8->32->8, {judge.native_test_accuracy:.3f} at 8x8")
            for seed in seed_list:
                out = os.path.join(root, f"seed_{seed}")
                load_before = load_average()
                train_s = train_default_job(seed, out, quick)
                load_after = load_average()
                model, _ = runs.load_model(out)
                samples = model.generate(int(num_samples), seed=seed)
                if not np.isfinite(samples).all():
                    raise RuntimeError(f"seed {seed}: the generator gives non-finite samples (diverged).")
                scores = score_samples(samples, evaluator, judge)
                row = {"seed": seed, "command": f"tfgan train {VARIANT} --seed {seed} --out DIR"
                                                + (" " + " ".join(QUICK_ARGS) if quick else ""),
                       "train_wall_s": train_s, "pass_wall": bool(train_s <= MAX_WALL_S),
                       "load_before": load_before, "load_after": load_after,
                       "ema_sampling": model.generator_ema is not None,
                       "steps": int(model.g_optimizer.iterations.numpy()), **scores}
                row["pass"] = bool(scores["pass"] and row["pass_wall"])
                rows.append(row)
                log(f"[default_job] seed {seed}: {_line(row)}")
    finally:
        if out_dir is None:
            shutil.rmtree(root, ignore_errors=True)
    return {
        "suite": "default_job",
        "protocol": {
            "quick": bool(quick), "seeds": seed_list, "num_samples": int(num_samples),
            "command": f"tfgan train {VARIANT} --seed S --out DIR" + (" " + " ".join(QUICK_ARGS) if quick else ""),
            "preset": registry.default_preset(VARIANT), "preset_settings": registry.preset(VARIANT, "demo"),
            "targets": {"min_class_share": MIN_CLASS_SHARE, "min_mean_confidence": MIN_CONFIDENCE,
                        "max_train_wall_s": MAX_WALL_S, "judges": ["package", "independent"]},
            "package_judge": "DigitsEvaluator(32): MLP on 32x32 pixels",
            "independent_judge": f"IndependentDigitsJudge: {judge.name} (RBF SVM, Platt-scaled, 8x8 area average)",
        },
        "machine": machine_info(),
        "package_test_accuracy": evaluator.test_accuracy,
        "independent_test_accuracy": judge.test_accuracy,
        "wall_time_s": wall.seconds,
        "rows": rows,
        "pass": all(r["pass"] for r in rows),
    }


def _line(row):
    p, i = row["package"], row["independent"]
    return (f"package {p['classes_over_5pct']}/10 classes, min share {p['min_share']:.3f}, confidence "
            f"{p['mean_confidence']:.3f}; independent {i['classes_over_5pct']}/10, min share {i['min_share']:.3f}, "
            f"confidence {i['mean_confidence']:.3f}; FD {row['frechet_distance']:.2f}; {row['steps']} steps in "
            f"{row['train_wall_s']:.0f} s (load {row['load_before']} -> {row['load_after']}); "
            f"{'PASS' if row['pass'] else 'FAIL'}")


def format_table(results):
    """One line per seed and judge, with the targets' pass flags."""
    rows = []
    for r in results["rows"]:
        for name in ("package", "independent"):
            j = r[name]
            rows.append([str(r["seed"]), name, f"{j['min_share']:.3f}", f"{j['classes_over_5pct']}/10",
                         f"{j['mean_confidence']:.3f}", fmt(r["frechet_distance"], digits=2),
                         fmt(r["train_wall_s"], digits=0), f"{r['load_before']} -> {r['load_after']}",
                         "pass" if j["pass_classes"] and j["pass_confidence"] and r["pass_wall"] else "FAIL"])
    p = results["protocol"]
    head = (f"default_job ({p['command']}, preset {p['preset']}): {len(p['seeds'])} seed(s), {p['num_samples']} "
            f"samples; targets: every class >= {p['targets']['min_class_share']:.0%}, confidence >= "
            f"{p['targets']['min_mean_confidence']}, <= {p['targets']['max_train_wall_s']:.0f} s; judges' test "
            f"accuracy: package {results['package_test_accuracy']:.3f}, independent "
            f"{results['independent_test_accuracy']:.3f}; wall {results['wall_time_s']:.0f} s; "
            f"{'PASS' if results['pass'] else 'FAIL'}")
    return head + "\n\n" + render(["seed", "judge", "min share", "classes >= 5%", "confidence", "FD", "train s",
                                   "load", "target"], rows)
