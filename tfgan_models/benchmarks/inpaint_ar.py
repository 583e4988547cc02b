"""Inpainting and autoregressive likelihoods: ``tfgan bench inpaint-ar``.

Protocol (issue "Inpainting and autoregressive models"):

* **PixelRNN on binarized MNIST.** Each architecture's preset (``demo``: Diagonal
  BiLSTM, ``row_lstm``, ``pixelcnn``) trained as ``tfgan train pixelrnn --preset P``
  trains it (``runs.train``), with its wall time; test NLL in nats per image over
  the 10,000 test images (50k/10k/10k stochastic binarisation, never trained on)
  and bits/dim. Published (van den Oord et al. 2016, GPUs for days): Diagonal
  BiLSTM 79.20, Row LSTM 80.54, PixelCNN 81.30. Target <= 90 nats each within
  20 minutes on a 2-core CPU. Sample grids are written by ``runs.sample`` (what
  ``tfgan sample`` runs).
* **PixelRNN on binarized 8x8 digits**, each architecture, ``SEEDS`` seeds (the
  ``digits`` preset with ``architecture`` set): test NLL against two baselines the
  bench fits on the same training digits: independent Bernoulli and a causal
  4-neighbour count model. Target <= 19.0 nats (mean over seeds).
* **Context encoder on MNIST**, 14x14 centre hole (``mnist`` preset) and its
  L2-only ablation (``l2_weight=1``), over seeds: PSNR (mean of per-image PSNRs,
  and of the pooled MSE), L1 / L2 % inside the hole, sharpness (mean gradient
  magnitude in the hole; real digits beside it) on the 10,000 test digits,
  against mean fill and scikit-image's biharmonic inpainting; the share of
  inpainted digits read as the original digit by the package's MNIST CNN and by
  an independent PCA + 5-NN judge. Targets: PSNR >= biharmonic + 2 dB and >= 90%
  read as the original digit.
* **Context encoder on photographs** (``photos`` preset: 64x64 crops of the 6
  embedded training photos, 32x32 centre hole): the same figures (no classifier)
  on a fixed grid of 64 crops of the 3 held-out photos. Reported, no target.
"""

import json
import os
import tempfile

import numpy as np

from tfgan_models.benchmarks import Timer, fmt, machine_info, render, resolve_seeds, summarize

PIXELRNN_PRESETS = {"demo": "diagonal_bilstm", "row_lstm": "row_lstm", "pixelcnn": "pixelcnn"}
# Digits: the recipes' CPU protocol sizes (Diagonal BiLSTM h16 x 2, Row LSTM h32 x 2, PixelCNN h32 x 4 blocks).
# PixelCNN overfits 1,260 digits after ~15 epochs (its validation NLL rises), so it stops there.
DIGITS = {"diagonal_bilstm": ({}, {}), "row_lstm": ({"hidden": 32}, {}),
          "pixelcnn": ({"hidden": 32, "layers": 4}, {"epochs": 15})}
ARCHITECTURES = ("diagonal_bilstm", "row_lstm", "pixelcnn")
PUBLISHED_NATS = {"diagonal_bilstm": 79.20, "row_lstm": 80.54, "pixelcnn": 81.30}
TARGETS = {"mnist_nats": 90.0, "mnist_minutes": 20.0, "digits_nats": 19.0, "psnr_over_biharmonic_db": 2.0,
           "read_as_original": 0.90}
FULL_SEEDS = 2
QUICK = dict(epochs=1, steps_per_epoch=5)  # --quick: a smoke run of the protocol, not a quality figure
QUICK_TEST = 200


REUSE = {"on": False}  # run(reuse=True): finished run directories with the same settings are scored, not retrained


def _train(variant, preset, out, quick, seed=0, **settings_kwargs):
    """Trains as ``tfgan train`` does; returns the wall seconds (``None`` for a reused finished run)."""
    from tfgan_models import runs
    from tfgan_models.io import read_json

    short = QUICK if quick else {}
    settings = runs.run_settings(variant, preset, seed=seed, **{**settings_kwargs, **short})
    config = os.path.join(out, "config.json")
    if REUSE["on"] and os.path.exists(config):
        previous = read_json(config)
        if previous.get("status") == "complete" and previous.get("settings") == json.loads(json.dumps(settings)):
            return None
    with Timer() as clock:
        runs.train(settings, out, overwrite=True, verbose=0)
    return clock.seconds


def _nll(model, images, batch=500):
    return float(np.mean(np.concatenate([np.asarray(model.nll(images[i : i + batch]))
                                         for i in range(0, len(images), batch)])))


def _test_images(spec, n=None):
    from tfgan_models import data

    batch = next(iter(data.load(spec, batch_size=100_000, shuffle=False, drop_remainder=False)))
    return batch.numpy()[:n]


def pixelrnn_mnist(out_dir, quick, log):
    from tfgan_models import runs
    from tfgan_models.metrics.likelihood import bits_per_dim

    test = _test_images("binarized_mnist:test", QUICK_TEST if quick else None)
    rows = []
    for preset, architecture in PIXELRNN_PRESETS.items():
        run_dir = os.path.join(out_dir, f"pixelrnn-{preset}")
        seconds = _train("pixelrnn", preset, run_dir, quick)
        model, _ = runs.load_model(run_dir)
        nll = _nll(model, test)
        grid = os.path.join(out_dir, f"pixelrnn-{preset}-samples.png")
        runs.sample(run_dir, n=4 if quick else 36, seed=0, out=grid)
        rows.append({"part": "pixelrnn_mnist", "architecture": architecture, "preset": preset, "seed": 0,
                     "test_nll_nats": nll, "bits_per_dim": bits_per_dim(nll, 784), "train_s": seconds,
                     "published_nats": PUBLISHED_NATS[architecture], "samples": grid, "run_dir": run_dir})
        log(f"[inpaint-ar] pixelrnn {architecture}: {nll:.2f} nats ({rows[-1]['bits_per_dim']:.4f} bits/dim) "
            f"after {fmt(seconds and seconds / 60)} min; published {PUBLISHED_NATS[architecture]}")
    return rows


def pixelrnn_digits(out_dir, seeds, quick, log):
    from tfgan_models import runs

    test = _test_images("binarized_digits:test")
    rows = []
    for architecture in ARCHITECTURES:
        for seed in seeds:
            run_dir = os.path.join(out_dir, f"digits-{architecture}-seed{seed}")
            overrides, run_settings = DIGITS[architecture]
            seconds = _train("pixelrnn", "digits", run_dir, quick, seed=seed,
                             overrides={"architecture": architecture, **overrides}, **run_settings)
            model, _ = runs.load_model(run_dir)
            rows.append({"part": "pixelrnn_digits", "architecture": architecture, "seed": seed,
                         "test_nll_nats": _nll(model, test), "train_s": seconds,
                         "val_nll_nats": json.load(open(os.path.join(run_dir, "history.json")))[-1]["val_nll"]})
            log(f"[inpaint-ar] digits {architecture} seed {seed}: {rows[-1]['test_nll_nats']:.2f} nats "
                f"({fmt(seconds, digits=0)} s)")
    return rows


def likelihood_baselines():
    from tfgan_models.metrics.likelihood import bernoulli_nll, neighbour_count_nll

    train = np.concatenate([_test_images("binarized_digits:train"), _test_images("binarized_digits:valid")])
    test = _test_images("binarized_digits:test")
    return {"bernoulli_nats": bernoulli_nll(train, test), "neighbour_count_nats": neighbour_count_nll(train, test)}


def context_encoder_mnist(out_dir, seeds, quick, log):
    from tfgan_models import data, runs
    from tfgan_models.metrics import IndependentMnistJudge, MnistEvaluator
    from tfgan_models.metrics import inpainting

    n = QUICK_TEST if quick else 10_000
    batch = next(iter(data.load("mnist:test", batch_size=n, shuffle=False, mask="center")))
    masks, real = batch[1].numpy(), batch[2].numpy()
    digits = data.mnist_arrays("test")[1][:n].astype("int64")
    train = next(iter(data.load("mnist:train", batch_size=10_000, shuffle=False))).numpy()
    evaluator, judge = MnistEvaluator(32), IndependentMnistJudge(32)

    def scored(method, images, seed=None, **extra):
        row = {"part": "context_encoder_mnist", "method": method, "seed": seed, **extra,
               "sharpness": inpainting.sharpness(images, masks),
               "read_as_original_cnn": float(np.mean(evaluator.predict(images).argmax(axis=1) == digits)),
               "read_as_original_knn": float(np.mean(judge.predict_labels(images) == digits))}
        if method != "original":
            row.update(inpainting.hole_scores(real, images, masks))
        return row

    rows = [scored("original", real), scored("mean_fill", inpainting.mean_fill(real, masks, train)),
            scored("biharmonic", inpainting.biharmonic_fill(real, masks))]
    for method, overrides in (("context_encoder", {}), ("l2_only", {"l2_weight": 1.0})):
        for seed in seeds:
            run_dir = os.path.join(out_dir, f"ce-{method}-seed{seed}")
            seconds = _train("context_encoder", "mnist", run_dir, quick, seed=seed, overrides=overrides)
            model, _ = runs.load_model(run_dir)
            rows.append(scored(method, model.inpaint(real, masks), seed=seed, train_s=seconds, run_dir=run_dir))
            if method == "context_encoder" and seed == seeds[0]:
                runs.sample(run_dir, seed=0, out=os.path.join(out_dir, "context_encoder-mnist.png"))
    for row in rows:
        log(f"[inpaint-ar] {row['method']:15s} seed {row['seed']}: PSNR {fmt(row.get('psnr'), digits=2)} dB, "
            f"read as original {row['read_as_original_cnn']:.3f} (kNN {row['read_as_original_knn']:.3f}), "
            f"sharpness {row['sharpness']:.3f}")
    return rows


def context_encoder_photos(out_dir, seeds, quick, log):
    """The ``photos`` preset (64x64 crops of the 6 embedded training photos, 32x32 centre hole) scored on
    a fixed grid of crops of the 3 held-out photos, against mean fill and biharmonic inpainting."""
    from tfgan_models import runs
    from tfgan_models.data.masks import held_out_crops, masked_crops
    from tfgan_models.metrics import inpainting

    _, masks, real = held_out_crops("photos", 64, "center")
    train = np.concatenate([next(iter(masked_crops("photos", 64, 256, "center", seed=1)))[2].numpy()])
    fills = {"mean_fill": inpainting.mean_fill(real, masks, train), "biharmonic": inpainting.biharmonic_fill(real, masks)}
    rows = [{"part": "context_encoder_photos", "method": name, "seed": None, "sharpness": inpainting.sharpness(x, masks),
             **inpainting.hole_scores(real, x, masks)} for name, x in fills.items()]
    rows.append({"part": "context_encoder_photos", "method": "original", "seed": None,
                 "sharpness": inpainting.sharpness(real, masks)})
    for seed in seeds:
        run_dir = os.path.join(out_dir, f"ce-photos-seed{seed}")
        seconds = _train("context_encoder", "photos", run_dir, quick, seed=seed)
        model, _ = runs.load_model(run_dir)
        filled = model.inpaint(real, masks)
        rows.append({"part": "context_encoder_photos", "method": "context_encoder", "seed": seed, "train_s": seconds,
                     "run_dir": run_dir, "sharpness": inpainting.sharpness(filled, masks),
                     **inpainting.hole_scores(real, filled, masks)})
        if seed == seeds[0]:
            runs.sample(run_dir, seed=0, out=os.path.join(out_dir, "context_encoder-photos.png"))
    for row in rows:
        log(f"[inpaint-ar] photos {row['method']:15s} seed {row['seed']}: PSNR {fmt(row.get('psnr'), digits=2)} dB, "
            f"L1 {fmt(row.get('l1_percent'), digits=2)} %")
    return rows


def verdicts(results):
    by = {(s["part"], s.get("architecture") or s.get("method")): s for s in results["summary"]}
    out = {}
    for arch in ARCHITECTURES:
        if ("pixelrnn_mnist", arch) in by:
            s = by[("pixelrnn_mnist", arch)]
            out[f"mnist_{arch}_le_90_nats_in_20_min"] = (s["test_nll_nats"] <= TARGETS["mnist_nats"] and s["train_s"]
                                                          is not None and s["train_s"] <= 60 * TARGETS["mnist_minutes"])
        if ("pixelrnn_digits", arch) in by:
            out[f"digits_{arch}_le_19_nats"] = by[("pixelrnn_digits", arch)]["test_nll_nats"] <= TARGETS["digits_nats"]
    ce, bh = by.get(("context_encoder_mnist", "context_encoder")), by.get(("context_encoder_mnist", "biharmonic"))
    if ce and bh:
        out["ce_psnr_ge_biharmonic_plus_2db"] = ce["psnr"] >= bh["psnr"] + TARGETS["psnr_over_biharmonic_db"]
        out["ce_read_as_original_ge_90pct"] = (ce["read_as_original_cnn"] >= TARGETS["read_as_original"]
                                               and ce["read_as_original_knn"] >= TARGETS["read_as_original"])
    return out


PARTS = ("pixelrnn_mnist", "pixelrnn_digits", "context_encoder_mnist", "context_encoder_photos")


def run(quick=False, seeds=None, log=print, out_dir=None, parts=PARTS, reuse=False):
    """Runs the chosen ``parts`` (all by default) and returns the JSON-ready results.

    ``reuse``: score the finished runs already in ``out_dir`` (same settings) instead of training them
    again, e.g. to finish an interrupted benchmark; their ``train_s`` is then ``None``.
    """
    REUSE["on"] = bool(reuse)
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise ValueError(f"unknown parts {unknown}; known: {', '.join(PARTS)}.")
    seeds = resolve_seeds(seeds, quick, FULL_SEEDS)
    out_dir = out_dir or tempfile.mkdtemp(prefix="tfgan_bench_inpaint_ar_")
    rows = []
    with Timer() as wall:
        if "pixelrnn_mnist" in parts:
            rows += pixelrnn_mnist(out_dir, quick, log)
        if "pixelrnn_digits" in parts:
            rows += pixelrnn_digits(out_dir, seeds, quick, log)
        if "context_encoder_mnist" in parts:
            rows += context_encoder_mnist(out_dir, seeds, quick, log)
        if "context_encoder_photos" in parts:
            rows += context_encoder_photos(out_dir, seeds, quick, log)
    metrics = ("test_nll_nats", "bits_per_dim", "train_s", "psnr", "psnr_of_mean_mse", "l1_percent", "l2_percent",
               "sharpness", "read_as_original_cnn", "read_as_original_knn")
    for row in rows:
        row.setdefault("architecture", None)
        row.setdefault("method", None)
    results = {"suite": "inpaint-ar", "protocol": {"quick": bool(quick), "seeds": seeds, "parts": list(parts),
                                                   "out_dir": out_dir},
               "anchors": {"published_binarized_mnist_nats": PUBLISHED_NATS, "targets": TARGETS,
                           "pathak_2016_paris_centre": {"l1_percent": 9.37, "l2_percent": 1.96, "psnr": 18.58}},
               "machine": machine_info(), "wall_time_s": wall.seconds, "rows": rows,
               "summary": summarize(rows, ("part", "architecture", "method"), metrics)}
    if "pixelrnn_digits" in parts:
        results["baselines"] = likelihood_baselines()
    results["verdicts"] = verdicts(results)
    return results


def format_table(results):
    head = (f"inpaint-ar: seeds {results['protocol']['seeds']}, wall {results['wall_time_s']:.0f} s; "
            f"files in {results['protocol']['out_dir']}")
    nll_rows = [[s["part"], s["architecture"], fmt(s["test_nll_nats"], s.get("test_nll_nats_std"), 2),
                 fmt(s.get("bits_per_dim"), digits=4), fmt((s.get("train_s") or 0) / 60, digits=1),
                 str(PUBLISHED_NATS[s["architecture"]]) if s["part"] == "pixelrnn_mnist" else "-"]
                for s in results["summary"] if s["part"].startswith("pixelrnn")]
    ce_rows = [[s["part"].replace("context_encoder_", "") + " " + s["method"], fmt(s.get("psnr"), s.get("psnr_std"), 2),
                fmt(s.get("psnr_of_mean_mse"), digits=2), fmt(s.get("l1_percent"), digits=2),
                fmt(s.get("l2_percent"), digits=2), fmt(s["sharpness"], digits=3),
                fmt(s.get("read_as_original_cnn"), digits=3), fmt(s.get("read_as_original_knn"), digits=3)]
               for s in results["summary"] if s["part"].startswith("context_encoder")]
    text = head
    if nll_rows:
        text += "\n\n" + render(["part", "architecture", "test NLL (nats)", "bits/dim", "train min", "published"],
                                nll_rows)
    if "baselines" in results:
        b = results["baselines"]
        text += (f"\nbaselines on binarized digits: independent Bernoulli {b['bernoulli_nats']:.2f}, causal "
                 f"4-neighbour counts {b['neighbour_count_nats']:.2f} nats")
    if ce_rows:
        text += "\n\n" + render(["context encoder (centre hole)", "PSNR dB", "PSNR(MSE)", "L1 %", "L2 %", "sharpness",
                                 "read as original (CNN)", "(PCA+kNN)"], ce_rows)
    return text + f"\nverdicts: {results['verdicts']}"
