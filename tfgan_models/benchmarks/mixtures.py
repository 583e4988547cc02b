"""Mode collapse on 2-D Gaussian mixtures: every unconditional variant, ring8 and grid25.

Protocol (VEEGAN, Srivastava et al. 2017, sec. 5.1; PacGAN, Lin et al. 2018,
sec. 5.1), scaled to a 2-core CPU:

* data: PacGAN's mixtures (:mod:`tfgan_models.data.mixtures`), 100k points;
* networks and optimizers: each variant's ``ring8`` / ``grid25`` preset
  (PacGAN's G 4x400 ReLU+BN, D 3x200 maxout(5), z 2-D, batch 100);
* ``steps`` generator updates (``fit`` steps; WGAN and WGAN-GP make 5 critic
  updates per step, on fresh data, as their papers do);
* 2,500 samples scored by :func:`tfgan_models.metrics.mixture_scores`
  (modes captured, % high quality within 3 sigma, reverse KL over modes).

PacGAN trains for ~400k steps; at ~10-60 ms a step here that is days, so this
suite compares variants at an equal, much smaller budget (``FULL_STEPS``) and
reports the published figures as ``anchors`` for orientation only: published
GAN numbers depend on the architecture and the budget (ANCHORS.md, sec. 1).
"""

import keras

from tfgan_models import data, registry
from tfgan_models.benchmarks import Timer, fmt, machine_info, render, resolve_seeds, summarize
from tfgan_models.metrics import mixture_scores

VARIANTS = ("gan", "dcgan", "lsgan", "wgan", "wgan_gp")
MIXTURES = ("ring8", "grid25")
NUM_SAMPLES = 2500  # VEEGAN / PacGAN
# Step budgets. Measured on 2 shared CPU cores, batch 100 (ms per fit step):
# gan / dcgan / lsgan 10-22, wgan 26-50, wgan_gp 35-80 (5 critic updates each).
# Probed learning curves (seed 0): vanilla GAN on ring8 has 8/8 modes at 63% HQ
# after 5k steps (69% after 10k), but on grid25 only 13 modes / 3% HQ after 5k
# vs 18 / 24% after 10k (LSGAN: 20 / 15% -> 19 / 28%): the grid needs twice the
# budget. PacGAN's 400k steps (ANCHORS.md: >= 25k) would take 5-15 h per seed
# here. The full suite (5 variants x 2 mixtures x 3 seeds) must fit a working
# session on 2 cores (~1 h), so it uses 2.5k / 4k steps; pass steps= for longer
# budgets (5k / 10k take ~2 h and cover more of the grid).
FULL_STEPS = {"ring8": 2500, "grid25": 4000}
FULL_SEEDS = 3
QUICK_STEPS = {"ring8": 600, "grid25": 600}  # ~3-4 min in all: checks the plumbing, not quality

# Published figures: modes / HQ % from 2,500 samples (reverse KL where published).
ANCHORS = [
    {"method": "GAN", "ring8": {"modes": 1.0, "hq_percent": 99.3}, "grid25": {"modes": 3.3, "hq_percent": 0.5},
     "source": "VEEGAN (Srivastava et al. 2017) Table 1"},
    {"method": "GAN (PacGAN architecture, ~400k steps)",
     "ring8": {"modes": 6.3, "hq_percent": 98.2, "reverse_kl": 0.45},
     "grid25": {"modes": 17.3, "hq_percent": 94.8, "reverse_kl": 0.70},
     "source": "PacGAN (Lin et al. 2018) Table 1", "steps": 400_000},
    {"method": "Unrolled GAN (5 unrolling steps)", "ring8": {"modes": 7.6, "hq_percent": 35.6},
     "grid25": {"modes": 23.6, "hq_percent": 16.0}, "source": "VEEGAN Table 1"},
    {"method": "VEEGAN", "ring8": {"modes": 8.0, "hq_percent": 52.9}, "grid25": {"modes": 24.6, "hq_percent": 40.0},
     "source": "VEEGAN Table 1"},
    {"method": "WGAN-GP", "ring8": {"modes": 6.8, "hq_percent": 59.6}, "grid25": {"modes": 24.2, "hq_percent": 28.7},
     "source": "GDPP (Elfeki et al. 2019) Table 1"},
    {"method": "PacGAN2 (~400k steps)", "ring8": {"modes": 7.9, "hq_percent": 96.0},
     "grid25": {"modes": 23.8, "hq_percent": 91.0},
     "note": "HQ approximate: PacGAN2-4 span 95.6-97.7 (ring) and 91.3-94.2 (grid); "
             "PacGAN4 reverse KL 0.07 (ring) / 0.04 (grid)",
     "source": "PacGAN Table 1", "steps": 400_000},
]


def train_and_score(variant, mixture, seed, steps, num_samples=NUM_SAMPLES, packing=1):
    """One run: build, train ``steps`` steps, sample and score. Returns a row dict.

    ``packing`` m > 1: PacGAN's packed discriminator (m samples per D input; the
    preset's ``batch_size`` counts D inputs, so a step draws m times as many points).
    """
    with Timer() as total:
        keras.utils.set_random_seed(seed)
        model = registry.get(variant, mixture, seed=seed, **({"packing": packing} if packing > 1 else {}))
        batch = registry.preset(variant, mixture)["batch_size"]
        ds = data.load(mixture, batch_size=model.data_batch_size(batch), repeat=True, seed=seed)
        with Timer() as train:
            history = model.fit(ds, epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0)
        scores = mixture_scores(model.generate(num_samples, seed=seed), mixture)
    return {
        "variant": variant if packing == 1 else f"pac{variant}{packing}", "packing": packing,
        "mixture": mixture, "seed": seed, "steps": steps, "batch_size": batch,
        "discriminator_steps": model.discriminator_steps,
        "modes": scores["modes"], "num_modes": scores["num_modes"], "hq_percent": scores["hq_percent"],
        "reverse_kl": scores["reverse_kl"], "mode_counts": scores["mode_counts"],
        "final_losses": {k: float(v[-1]) for k, v in history.history.items()},
        # Includes tracing the step function (~1-3 s), so short runs overstate it.
        "ms_per_step": 1000.0 * train.seconds / steps,
        "train_s": train.seconds, "wall_s": total.seconds,
    }


def run(quick=False, seeds=None, log=print, steps=None, variants=None, mixtures=None,
        num_samples=NUM_SAMPLES, packings=(1,)):
    """Runs the suite and returns its results dict.

    Overrides of the protocol (for tests and exploration): ``steps`` (an int
    for every mixture, or ``{"ring8": n, ...}``), ``variants``, ``mixtures``,
    ``num_samples``, ``packings`` (PacGAN degrees, e.g. ``(1, 2)``: each variant
    with and without packing).
    """
    packings = tuple(int(m) for m in packings)
    if not packings or min(packings) < 1:
        raise ValueError(f"packings must be ints >= 1, received {packings!r}.")
    seed_list = resolve_seeds(seeds, quick, FULL_SEEDS)
    mixtures = _subset("mixture", mixtures, MIXTURES)
    budget = dict(QUICK_STEPS if quick else FULL_STEPS)
    if steps is not None:  # one int for every mixture, or a dict per mixture
        budget.update(steps if isinstance(steps, dict) else {m: steps for m in mixtures})
    budget = {m: int(budget[m]) for m in mixtures}
    if min(budget.values()) < 1:
        raise ValueError(f"steps must be >= 1, received {steps!r}.")
    variants = _subset("variant", variants, VARIANTS)
    rows = []
    with Timer() as wall:
        for mixture in mixtures:
            for variant, packing in ((v, m) for v in variants for m in packings):
                for seed in seed_list:
                    row = train_and_score(variant, mixture, seed, budget[mixture], num_samples, packing)
                    log(f"[mixtures] {row['variant']:8s} {mixture:6s} seed {seed}: {row['modes']}/{row['num_modes']} "
                        f"modes, {row['hq_percent']:.1f}% HQ, rKL {row['reverse_kl']:.3f}, "
                        f"{row['ms_per_step']:.1f} ms/step, {row['wall_s']:.0f} s")
                    rows.append(row)
    return {
        "suite": "mixtures",
        "protocol": {
            "quick": bool(quick), "steps": budget, "seeds": seed_list, "num_samples": num_samples,
            "variants": list(variants), "packings": list(packings), "mixtures": list(mixtures),
            "preset": "<mixture name>",
            "hq_threshold": "3 sigma (Euclidean, nearest mean)",
            "reverse_kl": "KL(nearest-mode histogram of all samples || uniform), nats",
            "reference": "VEEGAN (Srivastava et al. 2017) / PacGAN (Lin et al. 2018) sec. 5.1",
        },
        "machine": machine_info(),
        "wall_time_s": wall.seconds,
        "rows": rows,
        "summary": summarize(rows, ("variant", "mixture"),
                             ("modes", "hq_percent", "reverse_kl", "ms_per_step", "wall_s")),
        "anchors": ANCHORS,
    }


def _subset(kind, chosen, known):
    if chosen is None:
        return tuple(known)
    chosen = (chosen,) if isinstance(chosen, str) else tuple(chosen)
    unknown = [c for c in chosen if c not in known]
    if unknown or not chosen:
        raise ValueError(f"unknown {kind}(s) {unknown or chosen!r}; known: {', '.join(known)}.")
    return chosen


def format_table(results):
    """Mean ± std over seeds per variant and mixture, then the published anchors."""
    rows = [[s["variant"], s["mixture"], str(s["runs"]),
             fmt(s["modes"], s["modes_std"]), fmt(s["hq_percent"], s["hq_percent_std"]),
             fmt(s["reverse_kl"], s["reverse_kl_std"], 3), fmt(s["ms_per_step"]), fmt(s["wall_s"], digits=0)]
            for s in results["summary"]]
    p = results["protocol"]
    steps = ", ".join(f"{m} {n}" for m, n in p["steps"].items())
    head = (f"mixtures: steps {steps}, {len(p['seeds'])} seed(s), {p['num_samples']} samples; "
            f"wall {results['wall_time_s']:.0f} s")
    table = render(["variant", "mixture", "runs", "modes", "HQ %", "reverse KL", "ms/step", "wall s"], rows)
    anchors = render(["published", "ring8 modes / HQ %", "grid25 modes / HQ %", "source"],
                     [[a["method"], f"{a['ring8']['modes']} / {a['ring8']['hq_percent']}",
                       f"{a['grid25']['modes']} / {a['grid25']['hq_percent']}", a["source"]]
                      for a in results.get("anchors", [])])
    return "\n\n".join([head, table, anchors])
