"""Quality and speed suites behind ``tfgan bench``; each returns a JSON-ready dict.

``SUITES[name](quick=False, seeds=None, log=print, **overrides)`` runs a suite:

* ``mixtures``: mode coverage on PacGAN's ring8 / grid25 (VEEGAN / PacGAN protocol);
* ``digits``: classifier-based scores of the ``demo`` presets on 32x32 digits;
* ``pipeline``: input-pipeline rate against the training step rate;
* ``text2image``: GAN-INT-CLS and StackGAN (and their ablations) read by shape judges on captioned shapes;
* ``multiscale``: LAPGAN, ProGAN and StyleGAN on MNIST: per-stage FD, class shares, truncation, style mixing;
* ``xla``: every variant's training step with and without XLA: equal within a tolerance, and how much faster;
* ``throughput``: ``fit`` images/s of our models against the same networks trained keras.io-style;
* ``stacked_mnist``: modes and KL on Stacked MNIST (VEEGAN / PacGAN protocol), DCGAN with and without packing;
* ``mnist``: every unconditional and conditional variant on real MNIST: standard FID, class shares, accuracies.

Every result holds ``suite``, ``protocol``, ``machine``, ``wall_time_s`` and
``rows`` (one per run). :func:`format_table` renders it for a terminal.
Suites import TensorFlow only when they run: importing this module is free.
"""

import datetime
import math
import os
import platform
import time

__all__ = ["SUITES", "format_table", "machine_info", "resolve_seeds", "summarize"]


def load_average():
    """The 1-minute load average now (a suite records it as it ends): well above 1 per core means other jobs
    shared the CPU while it measured."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def machine_info():
    """Where a result was measured: timings compare only across equal machines."""
    import numpy as np
    import tensorflow as tf
    import keras

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count()
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable,
        "gpus": len(tf.config.list_physical_devices("GPU")),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def resolve_seeds(seeds, quick, full_default):
    """``seeds`` (None, or a count >= 1) -> the list of seeds ``[0, ..., n-1]``."""
    if seeds is None:
        seeds = 1 if quick else full_default
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds must be a positive int (the number of seeds), received {seeds!r}.")
    return list(range(seeds))


def summarize(rows, keys, metrics):
    """Mean and standard deviation over seeds of ``metrics``, grouped by ``keys``.

    The std is the sample std (ddof=1), ``None`` for a single seed. ``None``
    values (a diverged run has no score) are left out; a metric with no value
    at all gives ``None``.
    """
    groups = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in keys), []).append(row)
    out = []
    for group_key, group in groups.items():
        entry = dict(zip(keys, group_key), runs=len(group))
        for m in metrics:
            values = [float(r[m]) for r in group if r.get(m) is not None]
            mean = sum(values) / len(values) if values else None
            entry[m] = mean
            entry[m + "_std"] = (math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
                                 if len(values) > 1 else None)
        out.append(entry)
    return out


class Timer:
    """``with Timer() as t: ...``; then ``t.seconds``."""

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def _suite_module(name):
    # Imported on demand so that `import tfgan_models.benchmarks` loads no TensorFlow.
    import importlib

    if name not in _SUITE_NAMES:
        raise ValueError(f"unknown benchmark suite {name!r}; known suites: {', '.join(_SUITE_NAMES)}.")
    return importlib.import_module(f"tfgan_models.benchmarks.{name.replace('-', '_')}")


def _runner(name):
    def run(quick=False, seeds=None, log=print, **overrides):
        return _suite_module(name).run(quick=quick, seeds=seeds, log=log, **overrides)

    run.__name__ = f"run_{name}"
    run.__doc__ = f"Runs the {name!r} suite; see tfgan_models.benchmarks.{name}.run."
    return run


_SUITE_NAMES = ("mixtures", "digits", "pipeline", "conditional", "export", "sr", "translation", "biggan", "inpaint-ar",
               "faceapp", "text2image", "multiscale", "xla", "throughput", "default_job", "stacked_mnist", "mnist")
SUITES = {name: _runner(name) for name in _SUITE_NAMES}


def format_table(suite, results):
    """A plain-text summary of a suite's ``results`` dict."""
    if not isinstance(results, dict) or "rows" not in results:
        raise ValueError(f"results must be the dict a suite returns (with 'rows'), received {type(results).__name__}.")
    return _suite_module(suite).format_table(results)


def render(headers, rows):
    """Left-aligned columns: ``headers`` (list of str), ``rows`` (lists of str)."""
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def fmt(value, std=None, digits=1):
    """``12.3 ± 0.4`` (or ``12.3`` without a std, ``-`` for None)."""
    if value is None:
        return "-"
    text = f"{value:.{digits}f}"
    return text if std is None else f"{text} ± {std:.{digits}f}"
