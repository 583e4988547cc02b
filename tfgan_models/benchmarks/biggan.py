"""BigGAN on class-conditional real MNIST at 32x32: conditional accuracy and the truncation trade-off.

Protocol (issue "BigGAN"; BigGAN sec. 4 measures the same trade-off with IS / FID on ImageNet):

* the ``demo`` preset trained as ``tfgan train biggan --seed S`` trains it
  (``runs.train``), or the run directories given with ``--runs``;
* for the raw generator and the EMA generator (with standing statistics,
  paper app. C.1): 100 samples per class (1,000) at each truncation threshold
  of ``THRESHOLDS`` (``None``: untruncated), the same seed at every threshold;
* judged by the package's MNIST CNN (:class:`~tfgan_models.metrics.MnistEvaluator`,
  >= 99% on the 10k test split): conditional accuracy (per class too), FD to
  the test split with its real-vs-real floor, intra-class diversity (mean
  pairwise distance of CNN features within a class; real data's beside it);
  and by an independent judge of another kind (PCA + 5-NN on pixels,
  :class:`~tfgan_models.metrics.IndependentMnistJudge`): its conditional accuracy;
* unconditional class shares: 1,000 samples with uniformly drawn labels,
  the share the CNN assigns to each class.

Targets: untruncated conditional accuracy >= 95% (both judges); accuracy does
not fall as the threshold tightens while diversity does; the EMA generator at
least as good as the raw one; every class >= 5% of unconditional samples.
"""

import os
import tempfile

import numpy as np

from tfgan_models.benchmarks import Timer, fmt, machine_info, render, resolve_seeds, summarize

THRESHOLDS = (None, 2.0, 1.0, 0.5)
PER_CLASS = 100
QUICK_PER_CLASS = 20
QUICK_STEPS = 100  # --quick: a smoke run of the pipeline, not a quality figure
FULL_SEEDS = 3  # a quality claim holds over several seeds
ANCHORS = {
    "cifar10_is_fid": {"value": [9.22, 14.73], "source": "Brock et al. 2018, table 1 (CIFAR-10, IS / FID)"},
    "targets": {"conditional_accuracy": 0.95, "min_class_share": 0.05},
}


def train_run(seed, out, quick):
    """Trains the demo preset into ``out`` as ``tfgan train biggan --seed S --out OUT`` does (the same
    ``runs.train``); returns the wall time in seconds."""
    from tfgan_models import runs

    short = dict(epochs=1, steps_per_epoch=QUICK_STEPS) if quick else {}
    settings = runs.run_settings("biggan", "demo", seed=seed, **short)
    with Timer() as clock:
        runs.train(settings, out, overwrite=True, verbose=0)
    return clock.seconds


def score_generator(model, evaluator, judge, per_class, seed):
    """Rows of figures at every threshold for the model's current inference generator."""
    labels = np.repeat(np.arange(model.num_classes), per_class)
    rows = []
    for threshold in THRESHOLDS:
        samples = model.generate(len(labels), seed=seed, labels=labels, truncation=threshold)
        scores = evaluator.score(samples, labels=labels)
        rows.append({"truncation": "none" if threshold is None else threshold,
                     "conditional_accuracy": scores["conditional_accuracy"],
                     "per_class_accuracy": scores["per_class_accuracy"],
                     "independent_accuracy": float(np.mean(judge.predict_labels(samples) == labels)),
                     "intra_class_diversity": scores["intra_class_diversity"],
                     "real_intra_class_diversity": scores["real_intra_class_diversity"],
                     "frechet_distance": scores["frechet_distance"]})
    uniform = np.random.RandomState(seed).randint(model.num_classes, size=len(labels))
    shares = evaluator.score(model.generate(len(labels), seed=seed + 1, labels=uniform))["class_shares"]
    rows[0]["class_shares"] = shares
    return rows


def load_run(run_dir):
    """``(model, settings)`` of a biggan run directory, or a clear error."""
    from tfgan_models import runs

    model, settings = runs.load_model(run_dir)
    if settings["variant"] != "biggan":
        raise ValueError(f"{run_dir} holds a {settings['variant']} run; this suite scores biggan runs.")
    return model, settings


def score_run(run_dir, evaluator, judge, per_class, log):
    model, settings = load_run(run_dir)
    seed = int(settings["model"].get("seed") or 0)
    base = {"run_dir": run_dir, "seed": seed, "steps": int(model.g_optimizer.iterations)}
    out = []
    ema = model.generator_ema
    model.generator_ema = None  # the raw generator first
    for row in score_generator(model, evaluator, judge, per_class, seed):
        out.append({**base, "generator": "raw", **row})
    if ema is not None:
        model.generator_ema = ema
        model.standing_statistics(samples=2048, seed=seed)
        for row in score_generator(model, evaluator, judge, per_class, seed):
            out.append({**base, "generator": "ema", **row})
    for row in out:
        log(f"[biggan] seed {seed} {row['generator']:3s} truncation {row['truncation']!s:4s}: accuracy "
            f"{row['conditional_accuracy']:.3f} (independent {row['independent_accuracy']:.3f}), diversity "
            f"{row['intra_class_diversity']:.2f}, FD {row['frechet_distance']:.2f}")
    return out


def verdicts(rows):
    """The issue's targets, checked on the mean over seeds of each (generator, truncation)."""
    mean = {(s["generator"], s["truncation"]): s for s in summarize(
        rows, ("generator", "truncation"), ("conditional_accuracy", "independent_accuracy", "intra_class_diversity",
                                            "frechet_distance"))}
    names = [str(t) if t is not None else "none" for t in THRESHOLDS]
    out = {}
    for gen in sorted({g for g, _ in mean}):
        curve = [mean[(gen, t if t == "none" else float(t))] for t in names]
        acc, div = [c["conditional_accuracy"] for c in curve], [c["intra_class_diversity"] for c in curve]
        out[gen] = {
            "untruncated_accuracy_ge_95": acc[0] >= 0.95 and curve[0]["independent_accuracy"] >= 0.95,
            "accuracy_does_not_fall": all(b >= a - 0.005 for a, b in zip(acc, acc[1:])),
            "diversity_falls": all(b < a for a, b in zip(div, div[1:])),
            "every_class_ge_5pct": all(min(r["class_shares"]) >= 0.05 for r in rows
                                       if r["generator"] == gen and r["truncation"] == "none"),
        }
    if {"ema", "raw"} <= {g for g, _ in mean}:
        e, r = mean[("ema", "none")], mean[("raw", "none")]
        out["ema_at_least_raw"] = (e["conditional_accuracy"] >= r["conditional_accuracy"] - 0.005
                                   and e["frechet_distance"] <= r["frechet_distance"] * 1.05)
    return out


def run(quick=False, seeds=None, log=print, run_dirs=None, out_dir=None):
    """Trains (or scores ``run_dirs``) and returns the JSON-ready results."""
    from tfgan_models.metrics import IndependentMnistJudge, MnistEvaluator

    per_class = QUICK_PER_CLASS if quick else PER_CLASS
    rows, train_s = [], {}
    with Timer() as wall:
        for run_dir in run_dirs or ():  # refuse wrong runs before the judges train
            load_run(run_dir)
        evaluator, judge = MnistEvaluator(32), IndependentMnistJudge(32)
        if not run_dirs:
            out_dir = out_dir or tempfile.mkdtemp(prefix="tfgan_bench_biggan_")
            run_dirs = []
            for seed in resolve_seeds(seeds, quick, FULL_SEEDS):
                run_dir = os.path.join(out_dir, f"seed{seed}")
                train_s[run_dir] = train_run(seed, run_dir, quick)
                log(f"[biggan] trained seed {seed} in {train_s[run_dir]:.0f} s: {run_dir}")
                run_dirs.append(run_dir)
        for run_dir in run_dirs:
            rows += [{**r, "train_s": train_s.get(run_dir)} for r in score_run(run_dir, evaluator, judge, per_class, log)]
    return {
        "suite": "biggan",
        "protocol": {"quick": bool(quick), "preset": "demo", "data": "mnist (32x32, labels)",
                     "samples_per_class": per_class, "thresholds": ["none" if t is None else t for t in THRESHOLDS],
                     "judges": "package MNIST CNN; independent PCA(50) + 5-NN on pixels",
                     "ema": "EMA generator scored after standing statistics over 2,048 samples"},
        "anchors": ANCHORS,
        "machine": machine_info(),
        "classifier_test_accuracy": evaluator.test_accuracy,
        "independent_test_accuracy": judge.test_accuracy,
        "real_vs_real_floor": evaluator.real_vs_real_floor,
        "wall_time_s": wall.seconds,
        "rows": rows,
        "summary": summarize(rows, ("generator", "truncation"),
                             ("conditional_accuracy", "independent_accuracy", "intra_class_diversity",
                              "frechet_distance", "train_s")),
        "verdicts": verdicts(rows),
    }


def format_table(results):
    p = results["protocol"]
    seeds = sorted({r["seed"] for r in results["rows"]})
    head = (f"biggan ({p['preset']} preset, {p['data']}): {len(seeds)} seed(s), {p['samples_per_class']} samples "
            f"per class; CNN test accuracy {results['classifier_test_accuracy']:.4f}, independent "
            f"{results['independent_test_accuracy']:.4f}; FD floor {results['real_vs_real_floor']:.2f}; "
            f"wall {results['wall_time_s']:.0f} s")
    real_div = np.mean([r["real_intra_class_diversity"] for r in results["rows"]]) if results["rows"] else None
    table = [[s["generator"], str(s["truncation"]), fmt(s["conditional_accuracy"], s["conditional_accuracy_std"], 3),
              fmt(s["independent_accuracy"], s["independent_accuracy_std"], 3),
              fmt(s["intra_class_diversity"], s["intra_class_diversity_std"], 2),
              fmt(s["frechet_distance"], s["frechet_distance_std"], 2)] for s in results["summary"]]
    anchor = results["anchors"]["cifar10_is_fid"]
    foot = (f"real intra-class diversity {fmt(real_div, digits=2)}; targets: accuracy >= 0.95, every class >= 5%; "
            f"published anchor (another dataset): CIFAR-10 IS {anchor['value'][0]} / FID {anchor['value'][1]}\n"
            f"verdicts: {results['verdicts']}")
    return head + "\n\n" + render(["G", "truncation", "accuracy (CNN)", "accuracy (PCA+kNN)", "diversity", "FD"],
                                  table) + "\n" + foot
