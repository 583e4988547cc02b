"""Super-resolution x4 on a 2-core CPU (ANCHORS P3 / P5): quality gain over bicubic and TFLite cost.

Protocol, per model (``srresnet/demo`` and the mobile preset ``srresnet/mobile``)
and seed:

1. Train with ``runs.train`` (exactly what ``tfgan train srresnet --preset P``
   runs) on the preset's data (``photos:train+extra``: the 6 P3 training
   photos and the 2 extra embedded ones), the preset's whole
   schedule (the demo's cosine decay ends with its 3,400 steps: a run cut
   short by a clock would stop at a high learning rate); the training time is
   reported against the 10-minute target. ``--quick`` (or ``budget_s``) stops
   training after a wall-clock budget instead (120 s).
2. Score PSNR-Y / SSIM-Y (BT.601, 4-pixel border) on the 3 held-out photos
   (astronaut, coffee, chelsea; whole images, tiled), and bicubic on the same
   images (:mod:`tfgan_models.metrics.sr`).
3. Export TFLite with ``tfgan_models.export.export_run`` (its gates included) at the
   fixed 128x128 -> 512x512 input, every quantization; record file size and
   the median latency of one ``invoke()`` with 1 and 2 threads (LiteRT,
   XNNPACK); score each ``.tflite`` file on the held-out photos (96-pixel
   tiles with 16 pixels of context padded to 128x128) and report its PSNR
   drop against the float Keras model scored the same way.

Anchors (Set5 x4, Y): bicubic 28.42, ESPCN 30.76 (+2.3 dB), SRResNet 32.05
(+3.6), RRDB 32.73 (+4.3) after days of GPU training; in-house bicubic on
the held-out photos 26.84 / 27.29 / 31.48 dB. Targets: srresnet/demo gains >= 1.3 dB
(mean of 3 seeds) within 10 minutes each; mobile fp16 <= 60 ms at 128x128 with 2 threads; int8
loses <= 0.3 dB (XLSR's published int8 cost is 0.27 dB).
"""

import os
import tempfile
import time

import keras
import numpy as np

from tfgan_models import runs
from tfgan_models.benchmarks import fmt, machine_info, render, resolve_seeds, summarize
from tfgan_models.benchmarks.export import latency_ms
from tfgan_models.data.paired import eval_images
from tfgan_models.export import export_run, tflite
from tfgan_models.metrics.sr import score_images

MODELS = (("srresnet", "demo"), ("srresnet", "mobile"))
QUICK_BUDGET_S, TARGET_TRAIN_S = 120.0, 600.0
TFLITE_SIZE, TILE, CONTEXT = 128, 96, 16
ANCHORS = {"set5_x4_y": {"bicubic": 28.42, "espcn": 30.76, "srresnet": 32.05, "rrdb": 32.73},
           "bicubic_heldout_photos_db": {"astronaut": 26.84, "coffee": 27.29, "chelsea": 31.48},
           "xlsr_int8_drop_db": 0.27,
           "targets": {"srresnet_gain_db": 1.3, "train_minutes": 10, "mobile_fp16_ms_2t": 60.0,
                       "int8_drop_db": 0.3}}


class WallClockBudget(keras.callbacks.Callback):
    """Counts steps and time; stops ``fit`` once ``seconds`` have passed (``None``: never)."""

    def __init__(self, seconds=None):
        super().__init__()
        self.seconds = None if seconds is None else float(seconds)

    def on_train_begin(self, logs=None):
        self.start, self.steps = time.perf_counter(), 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if self.seconds is not None and time.perf_counter() - self.start >= self.seconds:
            self.model.stop_training = True

    @property
    def elapsed(self):
        return time.perf_counter() - self.start


class FixedSizeTFLite:
    """A ``.tflite`` file as a generator callable: patches reflect-padded to its fixed input size."""

    def __init__(self, path, size, scale):
        self.runner, self.size, self.scale = tflite.Runner(path, num_threads=2), size, scale

    def __call__(self, patch):  # (1, h, w, 3) in [-1, 1] -> (1, s*h, s*w, 3) in [-1, 1]
        _, h, w, _ = patch.shape
        padded = np.pad(patch, [(0, 0), (0, self.size - h), (0, self.size - w), (0, 0)], mode="reflect")
        out = self.runner({"images": (padded + 1.0) / 2.0}) * 2.0 - 1.0
        return out[:, : h * self.scale, : w * self.scale]


def _tiled_scores(generator, pairs, scale):
    return score_images(generator, pairs, scale, tile=TILE, overlap=CONTEXT)["mean"]


def bench_model(variant, preset, seed, budget_s, folder, quantizations, latency_runs, log):
    out = os.path.join(folder, f"{variant}-{preset}-{seed}")
    settings = runs.run_settings(variant, preset, seed=seed, epochs=None if budget_s is None else 10_000)
    budget = WallClockBudget(budget_s)
    runs.train(settings, out, verbose=0, callbacks=[budget])
    history = runs.read_json(os.path.join(out, "history.json"))
    scale = int(settings["model"]["scale"])
    pairs = eval_images("photos:test", scale=scale)
    generator, _ = runs.load_generator(out)
    whole = score_images(generator, pairs, scale, tile=128, overlap=32)
    row = {"variant": variant, "preset": preset, "seed": seed, "train_s": round(budget.elapsed, 1),
           "train_within_target": budget.elapsed <= TARGET_TRAIN_S,
           "steps": budget.steps, "epochs": len(history), "params": int(generator.count_params()),
           **{k: whole["mean"][k] for k in ("psnr_y", "ssim_y", "bicubic_psnr_y", "bicubic_ssim_y",
                                              "psnr_gain_db", "ssim_gain")},
           "per_image": whole["images"], "tflite": {}}
    log(f"{variant}/{preset} seed {seed}: {budget.steps} steps in {budget.elapsed:.0f} s, PSNR-Y "
        f"{row['psnr_y']:.2f} dB vs bicubic {row['bicubic_psnr_y']:.2f} ({row['psnr_gain_db']:+.2f} dB), "
        f"SSIM-Y {row['ssim_y']:.4f} vs {row['bicubic_ssim_y']:.4f}")
    entry = export_run(out, os.path.join(folder, "export"), formats=("tflite",), quantizations=quantizations,
                       input_size=TFLITE_SIZE, name=f"{preset}{seed}")
    float_tiled = _tiled_scores(FixedSizeTFLiteKeras(generator, TFLITE_SIZE, scale), pairs, scale)
    row["keras_tiled_psnr_y"] = float_tiled["psnr_y"]
    base = os.path.join(folder, "export", f"{preset}{seed}", "1")
    probe = {"images": np.random.RandomState(0).uniform(0, 1, (1, TFLITE_SIZE, TFLITE_SIZE, 3)).astype("float32")}
    for q, e in entry["tflite"].items():
        path = os.path.join(base, e["path"])
        scores = _tiled_scores(FixedSizeTFLite(path, TFLITE_SIZE, scale), pairs, scale)
        row["tflite"][q] = {"size_bytes": e["size_bytes"], "gate_passed": e["gate"]["passed"],
                            "latency_ms_1t": latency_ms(path, probe, 1, latency_runs),
                            "latency_ms_2t": latency_ms(path, probe, 2, latency_runs),
                            "psnr_y": scores["psnr_y"], "drop_db": float_tiled["psnr_y"] - scores["psnr_y"]}
        t = row["tflite"][q]
        log(f"  tflite {q:8s} {t['size_bytes'] / 1e6:7.3f} MB  {t['latency_ms_1t']:8.1f} ms (1t)  "
            f"{t['latency_ms_2t']:8.1f} ms (2t)  PSNR-Y {t['psnr_y']:.2f} (drop {t['drop_db']:+.3f} dB)")
    return row


class FixedSizeTFLiteKeras(FixedSizeTFLite):
    """The float Keras generator run exactly like :class:`FixedSizeTFLite` (same padding)."""

    def __init__(self, generator, size, scale):
        self.generator, self.size, self.scale = generator, size, scale
        self.runner = lambda inputs: np.asarray(generator(inputs["images"] * 2.0 - 1.0, training=False)) / 2.0 + 0.5


def run(quick=False, seeds=None, log=print, budget_s=None, models=MODELS,
        quantizations=("none", "fp16", "dynamic", "int8"), keep=None):
    """Runs the suite; ``keep`` is a folder to keep the run directories and exports in."""
    start = time.perf_counter()
    seed_list = resolve_seeds(seeds, quick, 3)
    budget_s = float(budget_s) if budget_s else (QUICK_BUDGET_S if quick else None)
    latency_runs = 10 if quick else 30
    rows = []
    with tempfile.TemporaryDirectory(prefix="tfgan-bench-sr-") as tmp:
        folder = keep or tmp
        os.makedirs(folder, exist_ok=True)
        for variant, preset in models:
            for seed in seed_list:
                rows.append(bench_model(variant, preset, seed, budget_s, folder, quantizations, latency_runs, log))
    summary = summarize(rows, ("variant", "preset"), ("psnr_gain_db", "ssim_gain", "psnr_y", "bicubic_psnr_y"))
    return {"suite": "sr",
            "protocol": {"quick": bool(quick), "seeds": seed_list,
                         "budget": f"{budget_s:g} s wall clock" if budget_s else "the preset's whole schedule",
                         "train_data": "each preset's (srresnet demo and mobile: photos:train+extra, i.e. rocket, "
                                       "hubble, ihc, retina, china, flower, motorcycle, camera)",
                         "test_data": "photos:test (astronaut, coffee, chelsea), whole images",
                         "metric": "PSNR/SSIM on Y (BT.601), 4-pixel border, bicubic recomputed",
                         "tflite": f"{TFLITE_SIZE}x{TFLITE_SIZE} -> {4 * TFLITE_SIZE}x{4 * TFLITE_SIZE}, "
                                   f"median of {latency_runs} invokes, ai_edge_litert (XNNPACK)",
                         "tflite_quality": f"{TILE}-px tiles + {CONTEXT}-px context padded to {TFLITE_SIZE}, "
                                           "drop vs the Keras float model tiled the same way"},
            "anchors": ANCHORS, "machine": machine_info(), "wall_time_s": time.perf_counter() - start,
            "rows": rows, "summary": summary}


def format_table(results):
    """Quality rows, then TFLite rows, then the anchors."""
    body = [[f"{r['variant']}/{r['preset']}", str(r["seed"]), f"{r['params']:,}", f"{r['train_s']:.0f} s",
             str(r["steps"]), f"{r['bicubic_psnr_y']:.2f}/{r['bicubic_ssim_y']:.4f}",
             f"{r['psnr_y']:.2f}/{r['ssim_y']:.4f}", f"{r['psnr_gain_db']:+.2f}", f"{r['ssim_gain']:+.4f}"]
            for r in results["rows"]]
    quality = render(["model", "seed", "params", "train", "steps", "bicubic PSNR/SSIM", "model PSNR/SSIM",
                      "gain dB", "SSIM gain"], body)
    lite = [[f"{r['variant']}/{r['preset']}", q, f"{t['size_bytes'] / 1e6:.3f} MB", fmt(t["latency_ms_1t"]),
             fmt(t["latency_ms_2t"]), f"{t['psnr_y']:.2f}", f"{t['drop_db']:+.3f}",
             "pass" if t["gate_passed"] else "FAIL"]
            for r in results["rows"] for q, t in r["tflite"].items()]
    lite_table = render(["model", "quant", "size", "ms 1 thread", "ms 2 threads", "PSNR-Y tiled", "drop dB",
                         "gate"], lite)
    a = results["anchors"]
    notes = (f"anchors (Set5 x4, Y): bicubic {a['set5_x4_y']['bicubic']}, ESPCN +2.3 dB, SRResNet +3.6, "
             f"RRDB +4.3 (days of GPU); targets: srresnet/demo >= +1.3 dB (mean of 3 seeds) in <= 10 min "
             f"each, mobile fp16 <= 60 ms "
             f"(2 threads, 128x128), int8 drop <= 0.3 dB")
    return quality + "\n\n" + lite_table + "\n" + notes
