"""Real MNIST: every unconditional and conditional variant, standard FID and classifier scores.

Protocol (FID: Heusel et al. 2017; "Are GANs Created Equal?", Lucic et al. 2018, sec. 5;
InfoGAN: Chen et al. 2016, sec. 7.1), scaled to a 2-core CPU:

* data: the full MNIST training set (``mnist`` spec, 60,000 images) at 32 x 32;
* each variant's ``demo`` preset trained on it the way ``tfgan train VARIANT
  --data mnist --image-size 32 --epochs 1 --steps-per-epoch STEPS --seed S``
  does (:func:`tfgan_models.runs.train`), or run directories trained that way
  (``--runs``);
* **standard FID** (the TF 2015 Inception, ``features="fid_inception"``) of
  ``fid_samples`` samples against the training set's statistics (``fid_reference``
  images; 60,000 = the whole set, cached), with the train-vs-test floor;
* the package's MNIST CNN (:class:`tfgan_models.metrics.MnistEvaluator`) and,
  as a judge of another kind, :class:`~tfgan_models.metrics.IndependentMnistJudge`
  (PCA + 5-NN): class shares and mean confidence (unconditional), conditional
  accuracy (cGAN, AC-GAN: 100 samples per label) and InfoGAN's matched accuracy
  (100 samples per categorical code, best one-to-one code -> class matching).

Lucic et al.'s MNIST FIDs come from their own 2015-Inception FID, 10k samples
against the test set, after a large hyperparameter search per loss; they are
anchors for orientation, not like-for-like comparisons.
"""

import os

import keras
import numpy as np

from tfgan_models import data, runs
from tfgan_models.benchmarks import Timer, load_average, machine_info, render, resolve_seeds, summarize
from tfgan_models.benchmarks.conditional import matched_accuracy
from tfgan_models.metrics import FIDInceptionFeatures, IndependentMnistJudge, MnistEvaluator
from tfgan_models.metrics.digits import frechet_distance_from_moments
from tfgan_models.metrics.mnist import keras_cache_dir

UNCONDITIONAL = ("gan", "dcgan", "lsgan", "wgan", "wgan_gp")
CONDITIONAL = ("cgan", "acgan", "infogan")
VARIANTS = UNCONDITIONAL + CONDITIONAL
IMAGE_SIZE = 32
PER_CLASS = 100
# Generator steps per variant, ~3-6 min each on a quiet 2-core CPU (WGAN / WGAN-GP: 5 critic updates a step).
FULL_STEPS = {"gan": 3000, "dcgan": 3000, "lsgan": 3000, "wgan": 1000, "wgan_gp": 1000, "cgan": 3000,
              "acgan": 3000, "infogan": 3000}
QUICK_STEPS = 20
FULL_SEEDS = 1
FID_SAMPLES, FID_REFERENCE = 10_000, 60_000
# Lucic et al. 2018, Fig. 4 / Table 2 (MNIST, best FID over their search, 2015 Inception); InfoGAN: Chen et al. 2016.
ANCHORS = {
    "fid": {"ns_gan": 6.8, "mm_gan": 9.8, "lsgan": 7.8, "wgan": 6.7, "wgan_gp": 20.3, "dragan": 7.6, "began": 13.1,
            "source": "Lucic et al. 2018 Table 2 (FID of the best models, MNIST), as recalled; ANCHORS.md "
                      "checks only the range, about 6.7-9.8 for most losses"},
    "infogan_matched_accuracy": {"value": 0.95, "source": "Chen et al. 2016 (5% error on MNIST)"},
    "targets": {"cgan": 0.98, "acgan": 0.98, "infogan": 0.95},
}


def reference_moments(images, features, name):
    """(mean, covariance) of ``features`` over ``images``, cached by ``name`` in Keras's cache folder."""
    path = os.path.join(keras_cache_dir(), "tfgan_models", f"fid_inception_{name}.npz")
    if os.path.isfile(path):
        with np.load(path) as f:
            return f["mu"], f["sigma"]
    feats = features(images)
    mu, sigma = feats.mean(axis=0), np.cov(feats, rowvar=False)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.tmp-{os.getpid()}.npz"
    np.savez(temporary, mu=mu, sigma=sigma)
    os.replace(temporary, path)  # never a half-written cache file
    return mu, sigma


def fid(images, features, reference):
    feats = features(images)
    return frechet_distance_from_moments(feats.mean(axis=0), np.cov(feats, rowvar=False), *reference)


def real_images(split, n=None):
    images = data.mnist_arrays(split)[0][:n]
    resized = keras.ops.image.resize(images[..., None].astype("float32") / 127.5 - 1.0, (IMAGE_SIZE, IMAGE_SIZE))
    return np.clip(np.asarray(resized), -1.0, 1.0)


def judge_scores(samples, judges, labels=None, codes=None):
    """Per judge: class shares and confidence, conditional accuracy, or InfoGAN's matched accuracy."""
    out = {}
    for name, (predict, confidence) in judges.items():
        predicted = predict(samples)
        if codes is not None:
            out[f"matched_accuracy_{name}"] = matched_accuracy(codes, predicted, int(codes.max()) + 1)[0]
        elif labels is not None:
            out[f"conditional_accuracy_{name}"] = float(np.mean(predicted == labels))
        else:
            shares = np.bincount(predicted, minlength=10) / len(predicted)
            out[f"min_class_share_{name}"] = float(shares.min())
            out[f"classes_over_5pct_{name}"] = int(np.sum(shares >= 0.05))
        if confidence is not None:
            out[f"mean_confidence_{name}"] = float(confidence(samples).max(axis=1).mean())
    return out


def score(model, seed, features, reference, judges, fid_samples):
    row = {"fid": fid(model.generate(fid_samples, seed=seed), features, reference)}  # labels/codes cycle or draw
    if hasattr(model, "num_categories"):
        codes = np.repeat(np.arange(model.num_categories), PER_CLASS)
        row.update(judge_scores(model.generate(len(codes), seed=seed, codes={"categorical": codes}), judges,
                                codes=codes))
    elif getattr(model, "num_classes", None):
        labels = np.repeat(np.arange(model.num_classes), PER_CLASS)
        row.update(judge_scores(model.generate(len(labels), seed=seed, labels=labels), judges, labels=labels))
    else:
        row.update(judge_scores(model.generate(10 * PER_CLASS, seed=seed), judges))
    return row


def train_run(variant, seed, steps, out):
    """Trains ``variant`` on MNIST exactly as the CLI does; returns the run directory."""
    settings = runs.run_settings(variant, "demo", data="mnist", image_size=IMAGE_SIZE, epochs=1,
                                 steps_per_epoch=steps, seed=seed)
    runs.train(settings, out, overwrite=True, verbose=0)
    return out


def run(quick=False, seeds=None, log=print, steps=None, variants=None, run_dirs=None,
        fid_samples=FID_SAMPLES, fid_reference=FID_REFERENCE, out_dir="runs/bench-mnist"):
    """Runs the suite; overrides: ``steps``, ``variants``, ``run_dirs``, ``fid_samples``, ``fid_reference``."""
    seed_list = resolve_seeds(seeds, quick, FULL_SEEDS)
    variants = (variants,) if isinstance(variants, str) else tuple(variants or VARIANTS)
    if steps is not None:
        budget = {v: int(steps) for v in VARIANTS}
    else:
        budget = {v: QUICK_STEPS if quick else FULL_STEPS[v] for v in VARIANTS}
    if [v for v in variants if v not in VARIANTS] or min(budget.values()) < 1 \
            or min(int(fid_samples), int(fid_reference)) < 2:
        raise ValueError(f"variants must be among {', '.join(VARIANTS)}, steps >= 1 and the FID sizes >= 2; "
                         f"received {list(variants)}, {steps}, {fid_samples}, {fid_reference}.")
    budget = {v: budget[v] for v in variants}
    with Timer() as wall:
        features = FIDInceptionFeatures()
        reference = reference_moments(real_images("train", int(fid_reference)), features,
                                      f"mnist_train{int(fid_reference)}_{IMAGE_SIZE}")
        floor = fid(real_images("test", int(fid_samples)), features, reference)
        log(f"[mnist] FID floor (test {fid_samples} vs train {fid_reference}): {floor:.2f}")
        cnn, knn = MnistEvaluator(IMAGE_SIZE), IndependentMnistJudge(IMAGE_SIZE)
        judges = {"cnn": (lambda x: cnn.predict(x).argmax(axis=1), cnn.predict), "knn": (knn.predict_labels, None)}
        jobs = ([(None, None, d) for d in run_dirs] if run_dirs else  # run directories: loaded once, below
                [(v, s, os.path.join(out_dir, f"{v}-seed{s}")) for v in variants for s in seed_list])
        rows = []
        for variant, seed, path in jobs:
            with Timer() as clock:
                if seed is not None:
                    train_run(variant, seed, budget[variant], path)
            model, settings = runs.load_model(path)
            seed = int(settings["model"].get("seed") or 0)
            row = {"variant": settings["variant"], "seed": seed, "run_dir": path,
                   "steps": int(model.g_optimizer.iterations), "train_s": clock.seconds if run_dirs is None else None,
                   **score(model, seed, features, reference, judges, int(fid_samples))}
            log(f"[mnist] {row['variant']:8s} seed {seed}: FID {row['fid']:.2f}, " +
                ", ".join(f"{k} {v:.3f}" for k, v in row.items() if k.endswith(("_cnn", "_knn"))))
            rows.append(row)
    metrics = sorted({k for r in rows for k in r if k.endswith(("_cnn", "_knn"))}) + ["fid", "steps"]
    return {"suite": "mnist",
            "protocol": {"quick": bool(quick), "steps": budget, "seeds": seed_list, "preset": "demo",
                         "image_size": IMAGE_SIZE, "fid_samples": int(fid_samples), "fid_reference": int(fid_reference),
                         "features": features.name, "classifiers": {"cnn": f"MnistEvaluator ({cnn.test_accuracy:.4f})",
                                                                    "knn": f"PCA+5-NN ({knn.test_accuracy:.4f})"}},
            "anchors": ANCHORS, "machine": machine_info(), "load_average": load_average(),
            "fid_floor": floor, "wall_time_s": wall.seconds, "rows": rows,
            "summary": summarize(rows, ("variant",), metrics)}


def format_table(results):
    p = results["protocol"]
    head = (f"mnist (demo presets at {p['image_size']}x{p['image_size']}): steps as below, FID of "
            f"{p['fid_samples']} samples vs {p['fid_reference']} train images ({p['features']}); "
            f"floor {results['fid_floor']:.2f}; wall {results['wall_time_s']:.0f} s")

    def pick(s, *keys):
        for key in keys:
            if s.get(key) is not None:
                return f"{s[key]:.3f}"
        return "-"

    rows = [[s["variant"], str(s["runs"]), f"{s['fid']:.2f}",
             pick(s, "conditional_accuracy_cnn", "matched_accuracy_cnn", "min_class_share_cnn"),
             pick(s, "conditional_accuracy_knn", "matched_accuracy_knn", "min_class_share_knn"),
             pick(s, "mean_confidence_cnn"), str(int(s["steps"]))] for s in results["summary"]]
    table = render(["variant", "runs", "FID", "accuracy / min share (cnn)", "(knn)", "confidence (cnn)", "steps"],
                   rows)
    return "\n\n".join([head, table])
