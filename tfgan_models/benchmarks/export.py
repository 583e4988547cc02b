"""Export: TFLite file size, LiteRT latency and parity for every exportable generator.

For each registered variant's ``demo`` generator (2-D point generators have
nothing to export) and each quantization (``none`` = fp32, ``fp16``,
``dynamic``, ``int8``) the suite converts the generator exactly as ``tfgan
export`` does and measures

* ``size_bytes`` of the ``.tflite`` file;
* ``latency_ms_1t`` / ``latency_ms_2t``: median wall time of one
  ``Interpreter.invoke()`` (batch 1, XNNPACK, the default CPU delegate) over
  >= 20 runs after 3 warm-up runs, with 1 and 2 threads;
* ``max_abs_diff`` and ``psnr_db`` against the float Keras generator on fresh
  inputs in [0, 1] units, and whether the export gate passes.

The generators have **random weights** (nothing is trained): file size and
latency do not depend on the weights, and parity of random networks is a fair
(if pessimistic, for int8) proxy. Pass ``run_dirs`` to measure trained runs.
Anchors: the official TFLite super-resolution sample (ESRGAN, 50x50 ->
200x200) is 4.9 MB fp32 and takes 137 ms per image on a 2-core CPU; ESPCN
takes 3.9 ms.
"""

import os
import statistics
import tempfile
import time

import keras
import numpy as np

from tfgan_models import registry
from tfgan_models.benchmarks import fmt, machine_info, render, resolve_seeds
from tfgan_models.export import exporter, gates, tflite
from tfgan_models.export.source import resolve

PRESET = "demo"
THREADS = (1, 2)
QUICK_RUNS, FULL_RUNS, WARMUP = 20, 100, 3
ANCHORS = {
    "esrgan_tflite_sample": {"size_mb": 4.9, "latency_ms": 137.0, "input": "50x50 -> 200x200 RGB",
                             "cpu": "2-core CPU", "source": "TFLite super-resolution example (ESRGAN)"},
    "espcn": {"latency_ms": 3.9, "source": "ESPCN on a 2-core CPU"},
}


def exportable_variants():
    """Registered variants whose demo preset generates images."""
    return [v for v in registry.list_variants()
            if len(registry.preset(v, PRESET).get("data_shape", ())) == 3]


def latency_ms(path, inputs, threads, runs, warmup=WARMUP):
    """Median milliseconds of one ``invoke()`` of the ``.tflite`` file at ``path``."""
    with tflite.quiet():
        interp = tflite.interpreter(path, num_threads=threads)
        interp.allocate_tensors()
        indexes = interp._get_full_signature_list()[tflite.SIGNATURE]["inputs"]
        dtypes = {d["index"]: d["dtype"] for d in interp.get_input_details()}
        for name, value in inputs.items():
            interp.set_tensor(indexes[name], np.asarray(value[:1], dtypes[indexes[name]]))
        for _ in range(warmup):
            interp.invoke()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        interp.invoke()
        times.append(1000.0 * (time.perf_counter() - start))
    return statistics.median(times)


def measure(source, quantization, runs, folder):
    """One row: size, latencies and parity of ``source`` exported with ``quantization``."""
    calibration = exporter.representative_set(source, None)[0] if quantization == "int8" else None
    data = tflite.convert(source, quantization, None, calibration)
    path = os.path.join(folder, f"{source.name}_{quantization}.tflite")
    with open(path, "wb") as f:
        f.write(data)
    tflite.check_has_weights(path, int(source.generator.count_params()), quantization)
    inputs = gates.gate_inputs_tflite(source, None)
    try:
        result = gates.check_tflite(path, source, quantization, inputs)
    except gates.GateError as err:
        result = {**gates.figures(gates.keras_unit(source, inputs), tflite.Runner(path)(inputs)),
                  "passed": False, "error": str(err)}
    row = {"quantization": quantization, "size_bytes": len(data), "params": int(source.generator.count_params()),
           "max_abs_diff": result["max_abs_diff"], "psnr_db": result["psnr_db"],
           "gate_passed": bool(result["passed"]), "runs": runs}
    for threads in THREADS:
        row[f"latency_ms_{threads}t"] = latency_ms(path, inputs, threads, runs)
    return row


def run(quick=False, seeds=None, log=print, variants=None, run_dirs=None, quantizations=tflite.QUANTIZATIONS):
    """Runs the suite; ``variants`` (demo generators) or ``run_dirs`` (trained runs) select the generators."""
    start = time.perf_counter()
    seed_list = resolve_seeds(seeds, quick, 1)
    runs = QUICK_RUNS if quick else FULL_RUNS
    quantizations = exporter._check_choices("quantization", quantizations, tflite.QUANTIZATIONS)
    if run_dirs:
        targets = [(os.path.basename(os.path.normpath(d)), None, d) for d in run_dirs]
    else:
        known = exportable_variants()
        variants = list(variants) if variants else known
        unknown = [v for v in variants if v not in known]
        if unknown:
            raise ValueError(f"cannot benchmark {unknown}: exportable variants are {', '.join(known)}.")
        targets = [(v, s, None) for v in variants for s in seed_list]
    rows = []
    with tempfile.TemporaryDirectory(prefix="tfgan-bench-export-") as folder:
        for label, seed, run_dir in targets:
            if run_dir is None:
                keras.utils.set_random_seed(seed)
                source = resolve(registry.get(label, PRESET, compile=False, seed=seed), name=label)
            else:
                source = resolve(run_dir)
            for q in quantizations:
                row = {"generator": label, "preset": PRESET if run_dir is None else "run", "seed": seed,
                       "output_shape": list(source.output_shape), **measure(source, q, runs, folder)}
                log(f"{label:8s} {q:8s} {row['size_bytes'] / 1e6:7.3f} MB  "
                    f"{row['latency_ms_1t']:7.3f} ms (1 thread)  {row['latency_ms_2t']:7.3f} ms (2 threads)  "
                    f"max|diff| {row['max_abs_diff']:.2g}  PSNR {_psnr(row['psnr_db'])}")
                rows.append(row)
    return {
        "suite": "export",
        "protocol": {
            "quick": bool(quick), "seeds": seed_list if not run_dirs else None, "preset": PRESET,
            "quantizations": list(quantizations), "latency_runs": runs, "warmup_runs": WARMUP,
            "threads": list(THREADS), "batch": 1, "runtime": "ai_edge_litert Interpreter (XNNPACK)",
            "weights": "random (untrained demo generators)" if not run_dirs else "trained runs",
            "parity": "vs the float Keras generator, [0, 1] units, fresh inputs (the export gates' inputs)",
            "gates": {"max_abs_diff": gates.MAX_ABS_DIFF, "min_psnr_db": gates.MIN_PSNR_DB},
        },
        "anchors": ANCHORS,
        "machine": machine_info(),
        "wall_time_s": time.perf_counter() - start,
        "rows": rows,
    }


def _psnr(value):
    return "identical" if value is None else f"{value:.1f} dB"


def format_table(results):
    """The rows as a table, then the anchors."""
    headers = ["generator", "quant", "size", "ms 1 thread", "ms 2 threads", "max|diff|", "PSNR", "gate"]
    body = [[r["generator"], r["quantization"], f"{r['size_bytes'] / 1e6:.3f} MB",
             fmt(r["latency_ms_1t"], digits=3), fmt(r["latency_ms_2t"], digits=3),
             f"{r['max_abs_diff']:.2g}", _psnr(r["psnr_db"]), "pass" if r["gate_passed"] else "FAIL"]
            for r in results["rows"]]
    p, a = results["protocol"], results["anchors"]
    notes = [
        f"weights: {p['weights']}; median of {p['latency_runs']} invokes, batch 1, {p['runtime']}",
        f"anchors: TFLite ESRGAN sample {a['esrgan_tflite_sample']['size_mb']} MB fp32, "
        f"{a['esrgan_tflite_sample']['latency_ms']:g} ms per 50x50 image (2-core CPU); "
        f"ESPCN {a['espcn']['latency_ms']:g} ms",
    ]
    return render(headers, body) + "\n" + "\n".join(notes)
