"""Text-to-image GANs on captioned shapes: do the pictures say what the captions say?

Models (each exactly ``tfgan train VARIANT --preset demo [--set K=V]``; ``--quick``: ``tiny``;
``--runs NAME=DIR,...`` scores trained runs instead), wall time of each training recorded:

* ``gan_int_cls``: GAN-INT-CLS (Reed et al. 2016); ``gan_plain``: the same with ``cls_weight=0,
  interpolation=false``, a plain conditional GAN (no wrong-text pairs, no interpolated texts);
* ``stackgan``: StackGAN (Zhang et al. 2017); ``stackgan_no_ca``: the same with ``ca=false``.

Judges (:mod:`tfgan_models.metrics.shapes`, trained on real renders of their own draw, every
combination): the attribute CNN for seeds 0..N-1 (mean, min and max over seeds) and the independent
colour + HOG reader; first each reads REAL held-out images (test and zero_shot splits at each model's
resolution). For every model, one image per caption of ``shapes_arrays(split, resolution, seed=0)``,
split ``test`` (seen combinations, held-out caption strings) and ``zero_shot`` (held-out
combinations), generation seed 0: accuracy of shape, colour, size, position and joint (shape, colour
and size all right). Then:

* GAN-CLS against the plain conditional GAN: joint accuracies side by side and the difference;
* matching awareness: ROC AUC of D(real test image, its caption) against D(the same image, a caption
  of another attribute combination), embeddings from ``model.embed``;
* interpolation (GAN-INT-CLS and plain): 40 test caption pairs of different colours,
  ``model.interpolate(a, b, 8, seed=i)``; the CNN (seed 0) probability of b's colour along the steps:
  mean Spearman correlation with the step index (pairs whose probability is constant are left out
  and counted) and the share of consecutive steps where it rises;
* StackGAN Stage-I against Stage-II (``generate_stages``, same captions and noise): judge accuracy of
  both; sharpness, the variance of the grey image's Laplacian (5-point stencil, symmetric edges) over
  that of real images of the same size: Stage-II / real at the Stage-II size, bicubic-upsampled
  Stage-I / the same, Stage-I / real at the Stage-I size;
* diversity (every model): for 20 test captions, 16 samples each (seed 0), the mean pairwise RMS
  distance (L2 over pixels in [-1, 1], divided by the square root of the number of values);
  StackGAN with CA over without CA.

Targets, per judge (CNN: mean over seeds): seen combinations (test) colour >= 0.90, shape >= 0.80,
joint >= 0.70; zero-shot joint >= 0.40 (chance 1/24). Published anchors, for context only (other
data, other metric): Inception Score on CUB, GAN-INT-CLS 2.88, StackGAN 3.70 (StackGAN, Table 1).
"""

import functools
import os
import sys
import tempfile

import numpy as np

from tfgan_models import runs
from tfgan_models.benchmarks import Timer, machine_info, render, resolve_seeds
from tfgan_models.data import captions

CONFIGS = {  # name -> (variant, overrides as `tfgan train --set` gives them, label)
    "gan_int_cls": ("gan_int_cls", {}, "GAN-INT-CLS"),
    "gan_plain": ("gan_int_cls", {"cls_weight": 0, "interpolation": False}, "conditional GAN (no CLS, no INT)"),
    "stackgan": ("stackgan", {}, "StackGAN"),
    "stackgan_no_ca": ("stackgan", {"ca": False}, "StackGAN without CA"),
}
ATTRIBUTES = ("shape", "colour", "size", "position", "joint")
SPLITS = ("test", "zero_shot")
TARGETS = {"test": {"colour": 0.90, "shape": 0.80, "joint": 0.70}, "zero_shot": {"joint": 0.40}}
ANCHORS = [{"method": "GAN-INT-CLS", "inception_score_cub": 2.88, "source": "StackGAN (Zhang et al. 2017), Table 1"},
           {"method": "StackGAN", "inception_score_cub": 3.70, "source": "StackGAN (Zhang et al. 2017), Table 1"}]
PAIRS, STEPS, DIVERSITY_CAPTIONS, DIVERSITY_SAMPLES = 40, 8, 20, 16


def parse_run_dirs(run_dirs):
    """``["NAME=DIR", ...]`` (or a dict) -> ``{NAME: DIR}``, NAME one of :data:`CONFIGS`."""
    pairs = run_dirs.items() if isinstance(run_dirs, dict) else [str(r).partition("=")[::2] for r in run_dirs]
    out = {}
    for name, path in pairs:
        if name not in CONFIGS or not path:
            raise ValueError(f"text2image --runs takes NAME=DIR with NAME one of {', '.join(CONFIGS)}; "
                             f"received {name!r}={path!r}.")
        out[name] = path
    return out


@functools.lru_cache(maxsize=1)
def independent_judge():
    from tfgan_models.metrics.shapes import IndependentShapesJudge

    return IndependentShapesJudge()  # deterministic: built once per process


def judge(judges, images, labels):
    """``{"cnn": {"mean"|"min"|"max": {attr: acc}, "per_seed": [...]}, "independent": {attr: acc}}``."""
    per_seed = [j.accuracy(images, labels) for j in judges["cnn"]]
    cnn = {stat: {a: float(f([s[a] for s in per_seed])) for a in ATTRIBUTES}
           for stat, f in (("mean", np.mean), ("min", np.min), ("max", np.max))}
    return {"cnn": {**cnn, "per_seed": per_seed}, "independent": judges["independent"].accuracy(images, labels)}


def headline(scores):
    """The accuracies the targets read: the CNN mean and the independent judge."""
    return {"cnn": scores["cnn"]["mean"], "independent": scores["independent"]}


def targets_met(accuracy):
    """``{judge: {"test_colour": {"value", "target", "met"}, ...}}`` from the headline accuracies."""
    out = {}
    for j in ("cnn", "independent"):
        out[j] = {}
        for split, wanted in TARGETS.items():
            for a, t in wanted.items():
                value = headline(accuracy[split])[j][a]
                out[j][f"{split}_{a}"] = {"value": value, "target": t, "met": bool(value >= t)}
    return out


def _chunks(fn, *arrays, size=256):
    return np.concatenate([np.asarray(fn(*[a[i:i + size] for a in arrays])) for i in range(0, len(arrays[0]), size)])


def matching_auc(model, data):
    """ROC AUC of D(real image, its caption) against D(the same image, another combination's caption)."""
    import tensorflow as tf
    from sklearn.metrics import roc_auc_score

    rng, combo = np.random.RandomState(0), data["combo"]
    wrong = np.array([rng.choice(np.flatnonzero(combo != c)) for c in combo])
    images = data["images"].astype("float32") / 127.5 - 1.0
    phi = _chunks(lambda t: model.embed(tf.constant(t)), np.array(data["captions"]))
    score = lambda p: _chunks(lambda x, e: model.discriminator([x, e], training=False), images, p)  # noqa: E731
    truth = np.r_[np.ones(len(images)), np.zeros(len(images))]
    return float(roc_auc_score(truth, np.r_[score(phi).ravel(), score(phi[wrong]).ravel()]))


def interpolation(model, data, cnn):
    """Probability of caption b's colour along ``interpolate(a, b)`` (see the module docstring)."""
    from scipy.stats import spearmanr

    rng, colour, texts = np.random.RandomState(0), data["colour"], data["captions"]
    pairs = []
    while len(pairs) < PAIRS:
        a, b = rng.randint(len(texts), size=2)
        if colour[a] != colour[b]:
            pairs.append((a, b))
    images = np.concatenate([model.interpolate(texts[a], texts[b], steps=STEPS, seed=i)
                             for i, (a, b) in enumerate(pairs)])
    p = cnn.probabilities(images)["colour"].reshape(PAIRS, STEPS, -1)
    p = np.stack([p[i, :, colour[b]] for i, (_, b) in enumerate(pairs)])
    varying = np.ptp(p, axis=1) > 0
    rhos = [spearmanr(np.arange(STEPS), row)[0] for row in p[varying]]
    return {"pairs": PAIRS, "steps": STEPS, "spearman": float(np.mean(rhos)) if rhos else None,
            "constant_pairs": int((~varying).sum()), "rising_share": float(np.mean(np.diff(p, axis=1) > 0)),
            "start_probability": float(p[:, 0].mean()), "end_probability": float(p[:, -1].mean())}


def sharpness(images):
    """Mean over images of the variance of the grey image's Laplacian (grey in [0, 1])."""
    images = np.asarray(images)
    unit = images / np.float32(255.0) if images.dtype == np.uint8 else (images.astype("float32") + 1.0) / 2.0
    grey = unit.mean(axis=-1)
    g = np.pad(grey, ((0, 0), (1, 1), (1, 1)), mode="symmetric")
    lap = g[:, :-2, 1:-1] + g[:, 2:, 1:-1] + g[:, 1:-1, :-2] + g[:, 1:-1, 2:] - 4.0 * g[:, 1:-1, 1:-1]
    return float(lap.reshape(len(lap), -1).var(axis=1).mean())


def diversity(model, texts):
    """Mean pairwise RMS distance between ``DIVERSITY_SAMPLES`` samples of each caption, over captions."""
    x = model.generate(texts=texts, n_per_text=DIVERSITY_SAMPLES, seed=0)
    x = x.reshape(len(texts), DIVERSITY_SAMPLES, -1)
    d = np.sqrt(((x[:, :, None] - x[:, None]) ** 2).mean(-1))
    i, j = np.triu_indices(DIVERSITY_SAMPLES, 1)
    return float(d[:, i, j].mean())


def stages(model, split_data, first, judges):
    """Stage-I against Stage-II of a StackGAN; ``first``: the Stage-I outputs per split (test and zero_shot)."""
    import tensorflow as tf

    size1, size2 = model.stage1_size, int(model.data_shape[0])
    low, high = first["test"]
    up = np.clip(tf.image.resize(low, (size2, size2), method="bicubic").numpy(), -1, 1)
    real2 = sharpness(split_data["test"]["images"])
    real1 = sharpness(captions.shapes_arrays("test", size1, seed=0)["images"])
    sharp = {"stage2": sharpness(high), "stage1": sharpness(low), "stage1_upsampled": sharpness(up)}
    return {"stage1_size": size1, "stage2_size": size2,
            "accuracy": {s: {"stage1": judge(judges, first[s][0], split_data[s]),
                             "stage2": judge(judges, first[s][1], split_data[s])} for s in SPLITS},
            "sharpness": {**sharp, "real_stage2_size": real2, "real_stage1_size": real1,
                          "stage2_over_real": sharp["stage2"] / real2,
                          "stage1_upsampled_over_real": sharp["stage1_upsampled"] / real2,
                          "stage1_over_real_stage1_size": sharp["stage1"] / real1}}


def score_model(name, run_dir, judges, limit, log):
    model, settings = runs.load_model(run_dir)
    res = int(model.data_shape[0])
    data = {s: captions.shapes_arrays(s, res, seed=0) for s in SPLITS}
    if limit:
        data = {s: {k: v[:limit] for k, v in d.items()} for s, d in data.items()}
    row = {"name": name, "label": CONFIGS[name][2], "run_dir": run_dir, "variant": settings["variant"],
           "preset": settings["preset"], "overrides": settings.get("overrides") or {}, "resolution": res,
           "captions": {s: len(d["captions"]) for s, d in data.items()}}
    if hasattr(model, "generate_stages"):  # Stage-II of generate_stages is generate()'s image (same noise)
        first = {s: model.generate_stages(d["captions"], 1, seed=0) for s, d in data.items()}
        row["stages"] = stages(model, data, first, judges)
        images = {s: first[s][1] for s in SPLITS}
    else:
        images = {s: model.generate(texts=d["captions"], n_per_text=1, seed=0) for s, d in data.items()}
        row["interpolation"] = interpolation(model, data["test"], judges["cnn"][0])
    row["accuracy"] = {s: judge(judges, images[s], data[s]) for s in SPLITS}
    row["targets"] = targets_met(row["accuracy"])
    row["matching_auc"] = matching_auc(model, data["test"])
    row["diversity"] = diversity(model, list(dict.fromkeys(data["test"]["captions"]))[:DIVERSITY_CAPTIONS])
    acc = row["accuracy"]
    log(f"[text2image] {name}: joint test {acc['test']['cnn']['mean']['joint']:.1%} / zero-shot "
        f"{acc['zero_shot']['cnn']['mean']['joint']:.1%} (CNN), D AUC {row['matching_auc']:.3f}")
    return row


def _command(quick, seeds, run_dirs):
    parts = ["tfgan bench text2image"] + (["--quick"] if quick else []) + ([f"--seeds {seeds}"] if seeds else [])
    return " ".join(parts + ([f"--runs {','.join(f'{k}={v}' for k, v in run_dirs.items())}"] if run_dirs else []))


def run(quick=False, seeds=None, log=print, run_dirs=None, names=tuple(CONFIGS), keep=None, judge_epochs=None,
        limit=None):
    """Trains the :data:`CONFIGS` ``names`` (``demo``; ``tiny`` with ``quick``) or scores ``run_dirs``
    (``NAME=DIR``); ``seeds``: CNN judges 0..n-1 (default 3, 1 with ``quick``); ``keep``: a folder for the
    trained runs; ``judge_epochs``: the CNN judges' (default theirs); ``limit``: captions per split."""
    from tfgan_models.metrics.shapes import ShapesClassifier

    seed_list = resolve_seeds(seeds, quick, 3)
    given = parse_run_dirs(run_dirs) if run_dirs else {}
    preset = "tiny" if quick else "demo"
    rows, train_s = [], {}
    with Timer() as wall, tempfile.TemporaryDirectory(prefix="tfgan-bench-text2image-") as tmp:
        folder = keep or tmp
        for name in ([] if given else names):
            variant, overrides, _ = CONFIGS[name]
            given[name] = os.path.join(folder, f"{name}-{preset}")
            with Timer() as clock:
                settings = runs.run_settings(variant, preset, seed=0, overrides=dict(overrides))
                runs.train(settings, given[name], verbose=0)
            train_s[name] = clock.seconds
            log(f"[text2image] trained {name} ({variant}/{preset}) in {clock.seconds:.0f} s")
        judges = {"cnn": [ShapesClassifier(s, *([judge_epochs] if judge_epochs else [])) for s in seed_list],
                  "independent": independent_judge()}
        for name, run_dir in given.items():
            rows.append({**score_model(name, run_dir, judges, limit, log), "train_s": train_s.get(name)})
        real = {}
        for res in sorted({r["resolution"] for r in rows}):
            for split in SPLITS:
                d = captions.shapes_arrays(split, res, seed=0)
                real[f"{split}@{res}"] = judge(judges, d["images"][:limit], {k: v[:limit] for k, v in d.items()})
    by_name = {r["name"]: r for r in rows}
    comparison = {}
    if {"gan_int_cls", "gan_plain"} <= set(by_name):
        for split in SPLITS:
            for j in ("cnn", "independent"):
                a, b = (headline(by_name[n]["accuracy"][split])[j]["joint"] for n in ("gan_int_cls", "gan_plain"))
                comparison[f"{split}/{j}"] = {"gan_int_cls": a, "gan_plain": b, "difference": a - b}
    ca = {n: by_name[n]["diversity"] for n in ("stackgan", "stackgan_no_ca") if n in by_name}
    return {"suite": "text2image", "command": _command(quick, seeds, run_dirs and given), "argv": list(sys.argv),
            "protocol": {"quick": bool(quick), "preset": preset, "judge_seeds": seed_list,
                         "judge_epochs": judge_epochs or "default", "captions_per_split": limit or "all",
                         "generation_seed": 0, "interpolation_pairs": PAIRS, "interpolation_steps": STEPS,
                         "diversity": f"{DIVERSITY_CAPTIONS} test captions x {DIVERSITY_SAMPLES} samples, "
                                      "mean pairwise RMS distance"},
            "machine": machine_info(), "wall_time_s": wall.seconds, "train_s": train_s, "targets": TARGETS,
            "anchors": ANCHORS, "judge_accuracy_real": real, "rows": rows, "cls_vs_plain": comparison,
            "ca_diversity": {**ca, "ratio": ca["stackgan"] / ca["stackgan_no_ca"] if len(ca) == 2 else None}}


def _p(value):
    return "-" if value is None else f"{value:.2f}"


def format_table(results):
    acc_rows = [[key, j, *[_p(v[a]) for a in ATTRIBUTES]]
                for key, scores in results["judge_accuracy_real"].items() for j, v in headline(scores).items()]
    models, targets, extra, stage_rows = [], [], [], []
    for r in results["rows"]:
        for split in SPLITS:
            s = r["accuracy"][split]
            cnn = s["cnn"]
            models.append([r["name"], split, "cnn", *[_p(cnn["mean"][a]) for a in ATTRIBUTES],
                           f"{_p(cnn['min']['joint'])}-{_p(cnn['max']['joint'])}"])
            models.append(["", "", "independent", *[_p(s["independent"][a]) for a in ATTRIBUTES], ""])
        for j, checks in r["targets"].items():
            targets.append([r["name"], j, *[f"{_p(c['value'])} {'met' if c['met'] else 'not met'}"
                                            for c in checks.values()]])
        interp = r.get("interpolation") or {}
        extra.append([r["name"], r["preset"], "-" if r["train_s"] is None else f"{r['train_s']:.0f}",
                      _p(r["matching_auc"]), _p(interp.get("spearman")), _p(interp.get("rising_share")),
                      f"{r['diversity']:.4f}"])
        if "stages" in r:
            st, sh = r["stages"], r["stages"]["sharpness"]
            for split in SPLITS:
                a = st["accuracy"][split]
                stage_rows.append([r["name"], split, *[_p(headline(a[k])[j]["joint"]) for k in ("stage1", "stage2")
                                                       for j in ("cnn", "independent")],
                                   *([_p(sh[k]) for k in ("stage2_over_real", "stage1_upsampled_over_real",
                                                          "stage1_over_real_stage1_size")] if split == "test"
                                     else ["", "", ""])])
    cmp_rows = [[k, _p(v["gan_int_cls"]), _p(v["gan_plain"]), f"{v['difference']:+.2f}"]
                for k, v in results["cls_vs_plain"].items()]
    names = [f"{s} {a} >= {t:.2f}" for s, w in TARGETS.items() for a, t in w.items()]
    parts = [f"text2image: wall {results['wall_time_s']:.0f} s ({results['command']})",
             render(["real held-out", "judge", *ATTRIBUTES], acc_rows),
             render(["model", "split", "judge", *ATTRIBUTES, "joint min-max"], models),
             render(["model", "judge", *names], targets),
             render(["model", "preset", "train s", "D match AUC", "interp spearman", "interp rising", "diversity"],
                    extra)]
    if cmp_rows:
        parts.append(render(["joint accuracy", "GAN-INT-CLS", "plain cGAN", "difference"], cmp_rows))
    if stage_rows:
        parts.append(render(["stackgan", "split", "I joint cnn", "I joint ind", "II joint cnn", "II joint ind",
                             "sharp II/real", "sharp up-I/real", "sharp I/real"], stage_rows))
    if results["ca_diversity"].get("ratio") is not None:
        parts.append(f"diversity with CA / without CA: {results['ca_diversity']['ratio']:.2f}")
    parts.append("anchors (CUB Inception Score, other data, not comparable): "
                 + ", ".join(f"{a['method']} {a['inception_score_cub']:.2f}" for a in ANCHORS)
                 + f" ({ANCHORS[0]['source']})")
    return "\n\n".join(parts)
