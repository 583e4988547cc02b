"""Stacked MNIST mode coverage (VEEGAN / PacGAN protocol), with and without packing.

Protocol (VEEGAN, Srivastava et al. 2017, sec. 5.2; PacGAN, Lin et al. 2018, sec. 5.2):

* data: Stacked MNIST (:func:`tfgan_models.data.stacked_mnist_arrays`): three
  MNIST digits as the R, G, B channels, 1,000 modes, 128,000 training images,
  here at 32 x 32 (DCGAN's power-of-two sizes);
* model: DCGAN (the ``demo`` preset's networks at 32 x 32 x 3), plain and
  packed (PacDCGAN-m: the discriminator judges m samples concatenated on the
  channel axis; ``batch_size`` counts discriminator inputs, as the authors' code);
* 26,000 samples; each channel is read by the package's MNIST classifier
  (:class:`tfgan_models.metrics.MnistEvaluator`, 99.3% on the test split); a
  sample's mode is the triple of digits. Reported: modes with at least one
  sample (of 1,000) and KL(mode histogram || uniform) in nats, both also read
  by :class:`tfgan_models.metrics.IndependentMnistJudge` (PCA + 5-NN, another
  kind of classifier), and the same scores of 26,000 real test images (the
  floor the classifiers allow).

The published figures use VEEGAN's deliberately small discriminator and
days-long GPU budgets; they are ``anchors`` for orientation, not a like-for-like
comparison (ANCHORS.md, sec. 1).
"""

import keras
import numpy as np

from tfgan_models import data, registry
from tfgan_models.benchmarks import Timer, load_average, machine_info, render, resolve_seeds, summarize
from tfgan_models.metrics import IndependentMnistJudge, MnistEvaluator, kl_to_uniform

VARIANT, PRESET = "dcgan", "demo"
IMAGE_SIZE = 32
NUM_SAMPLES = 26_000  # VEEGAN / PacGAN
NUM_MODES = 1000
PACKINGS = (1, 2)
BATCH_SIZE = 64  # discriminator inputs per step
FULL_STEPS = 4000
FULL_SEEDS = 1
QUICK_STEPS = 50
ANCHORS = [
    {"method": "DCGAN", "modes": 99.0, "kl": 3.40, "source": "VEEGAN Table 2 / PacGAN Table 2"},
    {"method": "ALI", "modes": 16.0, "kl": 5.40, "source": "VEEGAN Table 2"},
    {"method": "Unrolled GAN", "modes": 48.7, "kl": 4.32, "source": "VEEGAN Table 2"},
    {"method": "VEEGAN", "modes": 150.0, "kl": 2.95, "source": "VEEGAN Table 2"},
    {"method": "PacDCGAN2", "modes": 1000.0, "kl": 0.06, "source": "PacGAN Table 2"},
    {"method": "PacDCGAN3", "modes": 1000.0, "kl": 0.06, "source": "PacGAN Table 2"},
    {"method": "PacDCGAN4", "modes": 1000.0, "kl": 0.07, "source": "PacGAN Table 2"},
]


def channel_digits(images, predict_labels):
    """(N, H, W, 3) in [-1, 1] -> (N, 3) digits, each channel read as a grey MNIST image."""
    images = np.asarray(images, "float32")
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"stacked MNIST samples must be (N, H, W, 3), received {images.shape}.")
    return np.stack([predict_labels(images[..., c : c + 1]) for c in range(3)], axis=1)


def mode_scores(digits):
    """``modes`` covered (>= 1 sample) of the 1,000 and ``kl`` to uniform (nats) from (N, 3) digits."""
    modes = np.asarray(digits, "int64") @ np.array([100, 10, 1])
    counts = np.bincount(modes, minlength=NUM_MODES)
    return {"modes": int(np.count_nonzero(counts)), "kl": kl_to_uniform(counts)}


def judges():
    """``{name: images -> labels}``: the package's CNN and the independent PCA + 5-NN judge."""
    cnn, knn = MnistEvaluator(IMAGE_SIZE), IndependentMnistJudge(IMAGE_SIZE)
    return {"cnn": lambda x: cnn.predict(x).argmax(axis=1), "knn": knn.predict_labels}


def score(images, readers):
    out = {}
    for name, read in readers.items():
        for key, value in mode_scores(channel_digits(images, read)).items():
            out[f"{key}_{name}"] = value
    return out


def train_and_score(packing, seed, steps, readers, num_samples=NUM_SAMPLES):
    """One run of DCGAN (packed when ``packing`` > 1) on Stacked MNIST. Returns a row dict."""
    with Timer() as total:
        keras.utils.set_random_seed(seed)
        model = registry.get(VARIANT, PRESET, seed=seed, data_shape=(IMAGE_SIZE, IMAGE_SIZE, 3), packing=packing)
        ds = data.load("stacked_mnist", batch_size=model.data_batch_size(BATCH_SIZE), image_size=IMAGE_SIZE,
                       channels=3, repeat=True, seed=seed)
        with Timer() as train:
            history = model.fit(ds, epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0)
        scores = score(model.generate(num_samples, seed=seed), readers)
    return {"variant": VARIANT if packing == 1 else f"pac{VARIANT}{packing}", "packing": packing, "seed": seed,
            "steps": steps, "batch_size": BATCH_SIZE, **scores,
            "final_losses": {k: float(v[-1]) for k, v in history.history.items()},
            "ms_per_step": 1000.0 * train.seconds / steps, "train_s": train.seconds, "wall_s": total.seconds}


def run(quick=False, seeds=None, log=print, steps=None, packings=PACKINGS, num_samples=NUM_SAMPLES):
    """Runs the suite; overrides: ``steps``, ``packings`` (e.g. ``(1, 2, 4)``), ``num_samples``."""
    seed_list = resolve_seeds(seeds, quick, FULL_SEEDS)
    steps = int(steps if steps is not None else (QUICK_STEPS if quick else FULL_STEPS))
    packings = tuple(int(m) for m in packings)
    if steps < 1 or not packings or min(packings) < 1 or int(num_samples) < 1:
        raise ValueError(f"steps, packings and num_samples must be >= 1; received {steps}, {packings}, {num_samples}.")
    with Timer() as wall:
        readers = judges()
        real, _ = data.stacked_mnist_arrays("test", n=int(num_samples), seed=0)
        real = real.astype("float32") / 127.5 - 1.0
        floor = score(np.asarray(keras.ops.image.resize(real, (IMAGE_SIZE, IMAGE_SIZE))), readers)
        log(f"[stacked_mnist] real test images: {floor['modes_cnn']} modes, KL {floor['kl_cnn']:.3f} (cnn); "
            f"{floor['modes_knn']} modes, KL {floor['kl_knn']:.3f} (knn)")
        rows = []
        for packing in packings:
            for seed in seed_list:
                row = train_and_score(packing, seed, steps, readers, int(num_samples))
                log(f"[stacked_mnist] packing {packing} seed {seed}: {row['modes_cnn']} modes, KL {row['kl_cnn']:.3f} "
                    f"(cnn); {row['modes_knn']} modes, KL {row['kl_knn']:.3f} (knn); {row['ms_per_step']:.0f} ms/step, "
                    f"{row['wall_s']:.0f} s")
                rows.append(row)
    return {
        "suite": "stacked_mnist",
        "protocol": {"quick": bool(quick), "steps": steps, "seeds": seed_list, "num_samples": int(num_samples),
                     "packings": list(packings), "model": f"{VARIANT}/{PRESET} at {IMAGE_SIZE}x{IMAGE_SIZE}x3",
                     "batch_size": BATCH_SIZE, "modes": "modes with >= 1 sample, of 1,000",
                     "kl": "KL(mode histogram || uniform), nats",
                     "reference": "VEEGAN (Srivastava et al. 2017) sec. 5.2 / PacGAN (Lin et al. 2018) sec. 5.2"},
        "machine": machine_info(), "load_average": load_average(), "wall_time_s": wall.seconds,
        "real_floor": floor, "rows": rows,
        "summary": summarize(rows, ("variant",), ("modes_cnn", "kl_cnn", "modes_knn", "kl_knn", "ms_per_step")),
        "anchors": ANCHORS,
    }


def format_table(results):
    def cell(s, key, digits):
        std = s.get(key + "_std")
        return f"{s[key]:.{digits}f}" + ("" if std is None else f" ± {std:.{digits}f}")

    rows = [[s["variant"], str(s["runs"]), cell(s, "modes_cnn", 0), cell(s, "kl_cnn", 3), cell(s, "modes_knn", 0),
             cell(s, "kl_knn", 3), cell(s, "ms_per_step", 0)] for s in results["summary"]]
    f, p = results["real_floor"], results["protocol"]
    rows.append(["real test images", "-", str(f["modes_cnn"]), f"{f['kl_cnn']:.3f}", str(f["modes_knn"]),
                 f"{f['kl_knn']:.3f}", "-"])
    head = (f"stacked_mnist: {p['steps']} steps, {len(p['seeds'])} seed(s), {p['num_samples']} samples; "
            f"wall {results['wall_time_s']:.0f} s")
    table = render(["model", "runs", "modes (cnn)", "KL (cnn)", "modes (knn)", "KL (knn)", "ms/step"], rows)
    anchors = render(["published", "modes", "KL", "source"],
                     [[a["method"], f"{a['modes']:g}", f"{a['kl']:.2f}", a["source"]] for a in results["anchors"]])
    return "\n\n".join([head, table, anchors])
