"""Image translation with known ground truth on a 2-core CPU (ANCHORS P4), and the mobile translator's cost.

Quality, per model and seed (training is exactly ``tfgan train VARIANT --preset P``,
i.e. :func:`tfgan_models.runs.train` with the preset's steps; ``--quick`` caps it):

* ``pix2pix`` on ``colorize:photos``: trained on crops of the 6 embedded
  training photos; scored on ``N_EVAL`` seeded 64x64 crops of the 3 held-out
  photos (astronaut, coffee, chelsea) against their true colours: L1 (pixels
  in [0, 1]), PSNR (RGB, peak 255, over all crops) and SSIM, next to the
  trivial baseline, the grey input itself (grey replicated to RGB).
* ``cyclegan`` and ``discogan`` on ``unpaired:digits,inverted:digits`` (their
  ``demo`` data): domain B is the embedded digits inverted, drawn
  independently of A, so the pairing is never seen; the true mapping a -> b
  is the inversion ``T`` (``unpaired:photos,hue:photos``, a 120-degree hue
  rotation, is scored the same way when a run trained on it). On held-out
  images ``x``: the L1 error of ``G(x)`` against ``T(x)``, next to the
  identity mapping's error ``|x - T(x)|``; the reverse ``F(T(x))`` against
  ``x``; the cycle error ``|F(G(x)) - x|``; the share of ``G(x)`` that an
  independent domain classifier (a small CNN trained here on real training
  images of A and B, never on generated ones) labels as B, with its own
  accuracy on held-out real images; and for digits, the share of ``G(x)``
  whose digit (read by the package's digits classifier after undoing ``T``)
  is the digit of ``x``.

Cost (``mobile`` against the paper generators, untrained weights, 256x256):
MACs (transposed convs at output resolution, GAN Compression's convention),
parameters, TFLite fp32 / fp16 size and the median ``invoke()`` latency with
1 and 2 threads (LiteRT, XNNPACK).

Anchors: CycleGAN ResNet-9 56.8 GMACs, 11.4M parameters, ~1.9 s per 256x256
image in TFLite on 2 CPU threads; GAN Compression's CycleGAN 2.67 GMACs.
Targets: pix2pix beats the grey baseline's PSNR after <= 10 CPU minutes;
cyclegan's error well below the identity's and >= 90% of G(x) classified as
B; the mobile translator <= 3 GMACs and fp16 <= 300 ms with 2 threads.
"""

import os
import tempfile

import keras
import numpy as np
import tensorflow as tf

from tfgan_models import runs
from tfgan_models.benchmarks import Timer, fmt, machine_info, render, resolve_seeds, summarize
from tfgan_models.data import translation

QUALITY = (("pix2pix", "demo"), ("pix2pix", "mobile"), ("cyclegan", "demo"), ("cyclegan", "mobile"),
           ("discogan", "demo"))
COST = (("cyclegan", "paper"), ("cyclegan", "mobile"), ("pix2pix", "paper"), ("pix2pix", "mobile"))
PAIRED_SPEC, UNPAIRED_SPEC = "colorize:photos", "unpaired:digits,inverted:digits"
N_EVAL, EVAL_SIZE, COST_SIZE = 48, 64, 256
QUICK_STEPS = 300
ANCHORS = {"cyclegan_resnet9": {"gmacs": 56.8, "params_m": 11.4, "tflite_2threads_s": 1.9},
           "gan_compression_cyclegan_gmacs": 2.67,
           "targets": {"pix2pix": "PSNR above the grey baseline within 10 CPU minutes",
                       "cyclegan": "error well below identity's; >= 90% of G(x) classified as B",
                       "mobile": "<= 3 GMACs at 256x256; fp16 <= 300 ms with 2 threads"}}


def _unit(images):
    return (np.asarray(images, "float32") + 1.0) / 2.0 if np.asarray(images).dtype != np.uint8 \
        else np.asarray(images, "float32") / 255.0


def _psnr(reference, test):
    mse = float(np.mean((_unit(reference) - _unit(test)) ** 2))
    return float(10.0 * np.log10(1.0 / mse)) if mse else float("inf")


def _l1(reference, test):
    return float(np.mean(np.abs(_unit(reference) - _unit(test))))


def _ssim(reference, test):
    return float(tf.reduce_mean(tf.image.ssim(_unit(reference), _unit(test), max_val=1.0)))


def _to_model(images_uint8):
    return images_uint8.astype("float32") / 127.5 - 1.0


def score_paired(model, spec=PAIRED_SPEC, n=N_EVAL):
    """Pix2Pix against the true targets and the trivial baseline (its own input)."""
    inputs, targets = translation.held_out(spec, EVAL_SIZE, n)
    outputs = model.translate(_to_model(inputs))
    return {"l1": _l1(targets, outputs), "psnr": _psnr(targets, outputs), "ssim": _ssim(targets, outputs),
            "baseline_l1": _l1(targets, inputs), "baseline_psnr": _psnr(targets, inputs),
            "baseline_ssim": _ssim(targets, inputs)}


def domain_classifier(spec=UNPAIRED_SPEC, size=EVAL_SIZE, seed=0, steps=400):
    """A small CNN telling domain A from B, trained on real training crops only; returns it and its
    accuracy on held-out real crops."""
    keras.utils.set_random_seed(seed)
    ds, _ = translation.load_unpaired(spec, size=size, batch_size=16, seed=seed + 100)

    def labelled(a, b):
        return tf.concat([a, b], 0), tf.concat([tf.zeros((16, 1)), tf.ones((16, 1))], 0)

    net = keras.Sequential([keras.Input((None, None, 3)),
                            keras.layers.Conv2D(16, 3, strides=2, activation="relu"),
                            keras.layers.Conv2D(32, 3, strides=2, activation="relu"),
                            keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(1)], name="domain_classifier")
    net.compile(keras.optimizers.Adam(1e-3), keras.losses.BinaryCrossentropy(from_logits=True))
    net.fit(ds.map(labelled), epochs=1, steps_per_epoch=steps, verbose=0)
    a, b = translation.held_out(spec, size, N_EVAL, seed=seed + 200)
    accuracy = (np.mean(_is_b(net, a) == 0) + np.mean(_is_b(net, b) == 1)) / 2.0
    return net, float(accuracy)


def _is_b(net, images):
    x = _to_model(images) if np.asarray(images).dtype == np.uint8 else images
    return (np.asarray(net(x, training=False))[:, 0] > 0).astype("int32")


def score_unpaired(model, classifier, spec=UNPAIRED_SPEC, n=N_EVAL):
    """CycleGAN / DiscoGAN against the known mapping of ``spec`` (hue rotation or inversion)."""
    mapping = translation.known_mapping(spec)
    if mapping is None:
        raise ValueError(f"{spec!r} has no known mapping to score against (use unpaired:S,hue:S or "
                         "unpaired:S,inverted:S).")
    forward, inverse = mapping
    size = model.data_shape[0]
    x, _ = translation.held_out(spec, size, n)
    truth = forward(x)
    fake_b = model.translate(_to_model(x))
    back = model.translate(_to_model(truth), "b_to_a")
    cycle = model.translate(fake_b, "b_to_a")
    row = {"error": _l1(truth, fake_b), "identity_error": _l1(truth, x), "reverse_error": _l1(x, back),
           "cycle_error": _l1(x, cycle), "psnr": _psnr(truth, fake_b),
           "classified_as_b": float(np.mean(_is_b(classifier, fake_b))),
           "reverse_classified_as_a": float(np.mean(_is_b(classifier, back) == 0))}
    if spec.split(",")[0].partition(":")[2].startswith("digits"):
        # label preservation: the digits classifier reads x and the true inverse of G(x) alike
        from tfgan_models.data.images import to_uint8
        from tfgan_models.metrics import DigitsEvaluator

        evaluator = DigitsEvaluator(32)
        grey = lambda images: images.mean(axis=-1, keepdims=True).astype("float32") / 127.5 - 1.0  # noqa: E731
        labels = evaluator.predict(grey(x)).argmax(1)
        row["label_preserved"] = float(np.mean(evaluator.predict(grey(inverse(to_uint8(fake_b)))).argmax(1) == labels))
    return row


def bench_quality(variant, preset, seed, steps, folder, classifiers, log, run_dir=None):
    if run_dir is None:
        run_dir = os.path.join(folder, f"{variant}-{preset}-{seed}")
        overrides = {"epochs": 1, "steps_per_epoch": steps} if steps else {}
        settings = runs.run_settings(variant, preset, seed=seed, **overrides)
        with Timer() as clock:
            runs.train(settings, run_dir, verbose=0)
        train_s = clock.seconds
    else:
        train_s = None
    model, settings = runs.load_model(run_dir)
    row = {"variant": variant, "preset": settings["preset"], "seed": int(settings["model"].get("seed") or 0),
           "run_dir": run_dir, "data": settings["run"]["data"], "train_s": train_s,
           "steps": int(model.iteration) if hasattr(model, "iteration") else int(model.g_optimizer.iterations), "params": int(model.generator.count_params())}
    if variant == "pix2pix":
        row.update(score_paired(model, settings["run"]["data"]))
        log(f"[translation] pix2pix/{row['preset']} seed {row['seed']}: PSNR {row['psnr']:.2f} dB vs grey "
            f"{row['baseline_psnr']:.2f}; L1 {row['l1']:.4f} vs {row['baseline_l1']:.4f} ({row['steps']} steps)")
    else:
        spec, size = settings["run"]["data"], model.data_shape[0]
        if (spec, size) not in classifiers:
            classifiers[spec, size] = domain_classifier(spec, size)
            log(f"[translation] domain classifier for {spec} at {size}x{size}: "
                f"{classifiers[spec, size][1]:.1%} on held-out real images")
        row["classifier_accuracy"] = classifiers[spec, size][1]
        row.update(score_unpaired(model, classifiers[spec, size][0], spec))
        log(f"[translation] {variant}/{row['preset']} seed {row['seed']}: error {row['error']:.4f} vs identity "
            f"{row['identity_error']:.4f}, cycle {row['cycle_error']:.4f}, G(x) classified as B "
            f"{row['classified_as_b']:.2%} ({row['steps']} steps)")
    return row


def bench_cost(variant, preset, folder, latency_runs, log):
    from tfgan_models import registry
    from tfgan_models.benchmarks.export import latency_ms
    from tfgan_models.export import source as export_source, tflite
    from tfgan_models.metrics.macs import count_macs

    model = registry.get(variant, preset, seed=0, compile=False)
    generator = model.generator
    row = {"variant": variant, "preset": preset, "params": int(generator.count_params()),
           "gmacs": count_macs(generator, COST_SIZE) / 1e9,
           "gmacs_transposed_at_input": count_macs(generator, COST_SIZE, transposed="input") / 1e9, "tflite": {}}
    src = export_source.resolve(generator, name=f"{variant}-{preset}")
    probe = {"images": np.random.RandomState(0).uniform(0, 1, (1, COST_SIZE, COST_SIZE, 3)).astype("float32")}
    for q in ("none", "fp16"):
        path = os.path.join(folder, f"{variant}-{preset}-{q}.tflite")
        with open(path, "wb") as f:
            f.write(tflite.convert(src, q, (COST_SIZE, COST_SIZE)))
        row["tflite"][q] = {"size_bytes": os.path.getsize(path),
                            "latency_ms_1t": latency_ms(path, probe, 1, latency_runs),
                            "latency_ms_2t": latency_ms(path, probe, 2, latency_runs)}
        t = row["tflite"][q]
        log(f"[translation] {variant}/{preset} {q}: {row['gmacs']:.2f} GMACs, {t['size_bytes'] / 1e6:.2f} MB, "
            f"{t['latency_ms_1t']:.0f} ms (1 thread), {t['latency_ms_2t']:.0f} ms (2 threads)")
    return row


def run(quick=False, seeds=None, log=print, steps=None, models=QUALITY, cost=COST, run_dirs=None, keep=None):
    """Runs the suite. ``steps`` caps training (``--quick``: 300); ``run_dirs`` scores trained runs
    (e.g. from ``tfgan train pix2pix``) instead of training; ``keep`` keeps run folders there."""
    seed_list = resolve_seeds(seeds, quick, 1)
    steps = int(steps) if steps is not None else (QUICK_STEPS if quick else None)
    latency_runs = 3 if quick else 10
    rows, cost_rows = [], []
    with Timer() as wall, tempfile.TemporaryDirectory(prefix="tfgan-bench-translation-") as tmp:
        folder = keep or tmp
        os.makedirs(folder, exist_ok=True)
        classifiers = {}
        if run_dirs:
            for run_dir in run_dirs:
                variant = runs.read_json(os.path.join(run_dir, "config.json"))["settings"]["variant"]
                if variant not in {v for v, _ in QUALITY}:
                    raise ValueError(f"{run_dir} holds a {variant} run; this suite scores pix2pix, cyclegan, discogan.")
                rows.append(bench_quality(variant, None, None, None, folder, classifiers, log, run_dir=run_dir))
        else:
            for variant, preset in models:
                for seed in seed_list:
                    rows.append(bench_quality(variant, preset, seed, steps, folder, classifiers, log))
        for variant, preset in cost:
            cost_rows.append(bench_cost(variant, preset, folder, latency_runs, log))
    return {"suite": "translation",
            "protocol": {"quick": bool(quick), "seeds": seed_list, "steps": steps or "preset",
                         "paired": f"{PAIRED_SPEC}: {N_EVAL} seeded {EVAL_SIZE}x{EVAL_SIZE} crops of the held-out "
                                   "photos; baseline: the grey input",
                         "unpaired": f"{UNPAIRED_SPEC}: true mapping = 120-degree hue rotation; {N_EVAL} held-out "
                                     "crops; L1 in [0, 1] pixel units",
                         "cost": f"untrained generators at {COST_SIZE}x{COST_SIZE}; median of {latency_runs} "
                                 "invokes, ai_edge_litert (XNNPACK)"},
            "anchors": ANCHORS, "machine": machine_info(),
            "wall_time_s": wall.seconds, "rows": rows, "cost": cost_rows,
            "summary": summarize(rows, ("variant", "preset"), ("psnr", "error", "classified_as_b"))}


def format_table(results):
    paired = [[f"{r['variant']}/{r['preset']}", str(r["seed"]), str(r["steps"]), fmt(r["train_s"], digits=0),
               f"{r['psnr']:.2f} / {r['baseline_psnr']:.2f}", f"{r['l1']:.4f} / {r['baseline_l1']:.4f}",
               f"{r['ssim']:.3f} / {r['baseline_ssim']:.3f}"] for r in results["rows"] if "baseline_psnr" in r]
    unpaired = [[f"{r['variant']}/{r['preset']}", r["data"], str(r["seed"]), str(r["steps"]),
                 fmt(r["train_s"], digits=0), f"{r['error']:.4f} / {r['identity_error']:.4f}",
                 f"{r['reverse_error']:.4f}", f"{r['cycle_error']:.4f}",
                 f"{r['classified_as_b']:.1%} ({r['classifier_accuracy']:.0%})",
                 fmt(100 * r["label_preserved"]) + "%" if "label_preserved" in r else "-"]
                for r in results["rows"] if "identity_error" in r]
    cost = [[f"{r['variant']}/{r['preset']}", f"{r['params']:,}", f"{r['gmacs']:.2f}",
             *[f"{r['tflite'][q]['size_bytes'] / 1e6:.2f} MB" for q in ("none", "fp16")],
             *[fmt(r["tflite"][q][k], digits=0) for q in ("none", "fp16") for k in ("latency_ms_1t", "latency_ms_2t")]]
            for r in results["cost"]]
    parts = [f"translation: wall {results['wall_time_s']:.0f} s"]
    if paired:
        parts.append(render(["model", "seed", "steps", "train s", "PSNR model / grey", "L1 model / grey",
                             "SSIM model / grey"], paired))
    if unpaired:
        parts.append(render(["model", "data", "seed", "steps", "train s", "L1 vs truth / identity", "reverse L1",
                             "cycle L1", "G(x) as B (classifier acc.)", "label kept"], unpaired))
    if cost:
        parts.append(render(["generator @256", "params", "GMACs", "fp32", "fp16", "fp32 1t ms", "fp32 2t ms",
                             "fp16 1t ms", "fp16 2t ms"], cost))
    return "\n\n".join(parts)
