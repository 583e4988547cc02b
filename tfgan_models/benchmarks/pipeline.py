"""Input pipeline vs training: the pipeline must never be what a step waits for.

For each source (embedded ``digits``, PacGAN's ``ring8`` points, a ``folder:``
of PNG files written from the digits) the suite measures

* ``pipeline_per_s``: examples per second of ``data.load(...)`` iterated alone;
* ``train_per_s``: examples per second that ``fit`` consumes with that
  pipeline, for the model that trains on it (``dcgan`` ``demo`` for images,
  ``dcgan`` ``ring8`` for points);
* ``cached_train_per_s``: the same model fed one in-memory batch repeated,
  i.e. training with a free input pipeline;
* ``headroom`` = pipeline / training rate (must stay well above 1), and
  ``input_overhead`` = cached / real training rate - 1 (should be near 0).

Both halves share the same 2 cores during ``fit``, so ``input_overhead`` is
the direct test; ``headroom`` says how much slack is left. Every rate is the
best of ``rounds`` repetitions (the two training feeds alternate), since
other load on a shared machine only slows a repetition down; differences of
~10% in ``input_overhead`` are still within noise there.
"""

import os
import tempfile

import keras
import tensorflow as tf

from tfgan_models import data, registry
from tfgan_models.benchmarks import Timer, fmt, machine_info, render, resolve_seeds

BATCH = 64
IMAGE_SIZE = 32
NUM_FILES = 200
FULL = dict(batches=300, train_steps=150, rounds=5)
QUICK = dict(batches=100, train_steps=40, rounds=3)


def write_png_folder(path, count=NUM_FILES, image_size=IMAGE_SIZE):
    """Writes ``count`` grey 32x32 PNGs of the digits into class subfolders of ``path``."""
    from PIL import Image

    images, labels = data.digits_arrays("all", image_size)
    pixels = data.to_uint8(images[:count, ..., 0])  # (count, H, W) uint8
    for i, (image, label) in enumerate(zip(pixels, labels[:count])):
        folder = os.path.join(path, str(int(label)))
        os.makedirs(folder, exist_ok=True)
        Image.fromarray(image).save(os.path.join(folder, f"{i:04d}.png"))
    return path


def pipeline_rate(ds, batches, rounds=1):
    """Examples per second of iterating ``batches`` batches of ``ds``, best of ``rounds``.

    One warm-up batch first (shuffle buffers fill, files open). The best round
    is reported because other processes on a shared machine only ever slow a
    round down.
    """
    iterator = iter(ds)
    size = int(next(iterator).shape[0])
    best = 0.0
    for _ in range(rounds):
        with Timer() as t:
            for _ in range(batches):
                next(iterator)
        best = max(best, batches * size / t.seconds)
    return best


def training_rates(model, ds, steps, rounds=1):
    """``(with ds, with one cached batch)`` examples per second of ``fit``, best of ``rounds``.

    The two feeds alternate, so slow phases of a shared machine hit both
    alike; the model must be warm (step function traced).
    """
    batch = next(iter(ds))
    cached = tf.data.Dataset.from_tensors(batch).repeat()
    per_step = int(batch.shape[0])
    best = [0.0, 0.0]
    for _ in range(rounds):
        for i, source in enumerate((ds, cached)):
            with Timer() as t:
                model.fit(source, epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0)
            best[i] = max(best[i], steps * per_step / t.seconds)
    return best


def _model(variant, preset, seed):
    keras.utils.set_random_seed(seed)
    model = registry.get(variant, preset, seed=seed)
    # Trace the step function before timing: tracing is not throughput.
    warm = data.load(registry.preset(variant, preset)["data"], batch_size=model.data_batch_size(BATCH),
                     image_size=IMAGE_SIZE if len(model.data_shape) == 3 else None, repeat=True, seed=seed)
    model.fit(warm, epochs=1, steps_per_epoch=3, shuffle=False, verbose=0)
    return model


def run(quick=False, seeds=None, log=print, batches=None, train_steps=None, rounds=None,
        num_files=NUM_FILES):
    """Runs the suite; ``batches``, ``train_steps``, ``rounds``, ``num_files`` override the budget."""
    seed = resolve_seeds(seeds, quick, 1)[0]  # a speed test: one seed is enough
    budget = dict(QUICK if quick else FULL)
    overrides = {"batches": batches, "train_steps": train_steps, "rounds": rounds}
    budget.update({k: int(v) for k, v in overrides.items() if v is not None})
    if min(budget.values()) < 1 or int(num_files) < 1:
        raise ValueError(f"batches, train_steps, rounds and num_files must be >= 1, received "
                         f"{budget}, num_files={num_files!r}.")
    rows = []
    with Timer() as wall, tempfile.TemporaryDirectory(prefix="tfgan_pipeline_") as folder:
        write_png_folder(folder, int(num_files))
        image_model = _model("dcgan", "demo", seed)
        point_model = _model("dcgan", "ring8", seed)
        sources = [
            ("digits", "digits", image_model, dict(image_size=IMAGE_SIZE)),
            ("ring8", "ring8", point_model, {}),
            (f"folder ({num_files} PNG)", "folder:" + folder, image_model,
             dict(image_size=IMAGE_SIZE, channels=1)),
        ]
        for name, spec, model, kwargs in sources:
            ds = data.load(spec, batch_size=BATCH, repeat=True, seed=seed, **kwargs)
            pipe = pipeline_rate(ds, budget["batches"], budget["rounds"])
            real, cached = training_rates(model, ds, budget["train_steps"], budget["rounds"])
            row = {"source": name, "spec": spec if not spec.startswith("folder:") else "folder:<tmp>",
                   "model": f"dcgan/{'demo' if model is image_model else 'ring8'}", "batch_size": BATCH,
                   "pipeline_per_s": pipe, "train_per_s": real, "cached_train_per_s": cached,
                   "headroom": pipe / real, "input_overhead": cached / real - 1.0,
                   "bottleneck": bool(pipe < real)}
            log(f"[pipeline] {name:18s} pipeline {pipe:9.0f}/s, training {real:7.0f}/s "
                f"(cached {cached:7.0f}/s): headroom {row['headroom']:.1f}x")
            rows.append(row)
    return {
        "suite": "pipeline",
        "protocol": {"quick": bool(quick), "seed": seed, "batch_size": BATCH, "image_size": IMAGE_SIZE,
                     "num_files": int(num_files), **budget,
                     "rates": "examples per second; training counts real examples consumed by fit"},
        "machine": machine_info(),
        "wall_time_s": wall.seconds,
        "rows": rows,
        "pipeline_is_bottleneck": any(r["bottleneck"] for r in rows),
    }


def format_table(results):
    rows = [[r["source"], r["model"], fmt(r["pipeline_per_s"], digits=0), fmt(r["train_per_s"], digits=0),
             fmt(r["cached_train_per_s"], digits=0), f"{r['headroom']:.1f}x",
             f"{100 * r['input_overhead']:+.0f}%"] for r in results["rows"]]
    verdict = ("the input pipeline IS a bottleneck" if results["pipeline_is_bottleneck"]
               else "the input pipeline is not a bottleneck")
    head = f"pipeline (batch {results['protocol']['batch_size']}): {verdict}; wall {results['wall_time_s']:.0f} s"
    return head + "\n\n" + render(
        ["source", "model", "pipeline /s", "training /s", "cached /s", "headroom", "input overhead"], rows)
