"""FaceApp-style editors on rendered faces: edit success, identity kept, their phone files and latency.

Editors (each exactly ``tfgan train VARIANT --preset P``; ``--quick`` caps the steps, ``--runs``
scores trained runs instead):

* ``cyclegan/smile``: unpaired ``avatars --domains Smile,-Smile`` (a -> b removes the smile,
  b -> a adds it);
* ``cyclegan/glasses``: unpaired ``Glasses,-Glasses`` (a -> b removes the glasses, b -> a adds them);
* ``pix2pix/glasses``: paired ``paired:avatars/Glasses`` (face -> the same face with glasses).

Held-out identities (the avatars ``test`` split, never seen in training) are rendered at 256x256,
the size of the exported phone files, and edited there by the Keras model, then by the TFLite fp16
and int8 files that ``tfgan export`` writes (run under LiteRT). Two judges read the edits, both
trained on real renders of training identities only (:mod:`tfgan_models.metrics.faces`): the
package's attribute CNN, and an independent HOG + logistic-regression reader. For every editor,
direction, engine and judge:

* edit success: the share of edited faces read as having the target attribute;
* identity kept: the share whose skin colour, hair type, clothing and eyes are read the same as
  in the input face (each part's share too);
* for Pix2Pix, PSNR and L1 against the true render of the same face with the attribute, next to
  the input's own (the "do nothing" baseline).

Latency: the median ``invoke()`` of each file at 256x256 with 1 and 2 threads (LiteRT, XNNPACK).
Targets: success >= 90% and identity kept >= 90% (Keras); int8 within 3 points of the float
model; fp16 <= 100 ms with 2 threads.
"""

import os
import tempfile

import numpy as np

from tfgan_models import runs
from tfgan_models.benchmarks import Timer, fmt, machine_info, render, resolve_seeds
from tfgan_models.benchmarks import translation as translation_bench
from tfgan_models.data import avatars, translation

EDITORS = (("cyclegan", "smile"), ("cyclegan", "glasses"), ("pix2pix", "glasses"))
EXPORT_SIZE = 256
QUICK_STEPS, QUICK_FACES = 200, 48
TARGETS = {"success": 0.9, "identity_kept": 0.9, "int8_points": 3.0, "fp16_2t_ms": 100.0}


def directions(settings):
    """``[(direction, attribute, input value, target value)]`` of a face-editor run."""
    spec, domains = settings["run"]["data"], settings["run"].get("domains")
    if spec.startswith("paired:avatars/"):
        return [("a_to_b", spec.partition("/")[2], 0, 1)]
    if spec != "avatars" or not domains:
        raise ValueError(f"the faceapp suite scores avatar editors (avatars --domains A,-A or paired:avatars/A); "
                         f"this run trained on {spec!r}.")
    (attribute_a, wanted_a), (attribute_b, wanted_b) = [d[0] for d in translation.parse_domains(domains)]
    if attribute_a != attribute_b or wanted_a == wanted_b:
        raise ValueError(f"the faceapp suite scores one attribute's two domains (e.g. Smile,-Smile); got {domains!r}.")
    a, b = int(wanted_a), int(wanted_b)
    return [("a_to_b", attribute_a, a, b), ("b_to_a", attribute_a, b, a)]


def held_out_faces(attribute, value, n, paired):
    """uint8 held-out faces at the export size whose ``attribute`` is ``value`` (and, paired, the truth)."""
    if paired:
        without, with_, _ = avatars.pairs(attribute, avatars.FACES_PER_SPLIT["test"], EXPORT_SIZE, "test")
        return without[:n], with_[:n]
    images, labels = avatars.faces(avatars.FACES_PER_SPLIT["test"], EXPORT_SIZE, "test")
    return images[labels[attribute] == value][:n], None


def score(edited, inputs, truth, attribute, target, judges):
    from tfgan_models.metrics.faces import edit_scores

    row = {name: edit_scores(judge, inputs, edited, attribute, target) for name, judge in judges.items()}
    if truth is not None:  # the translation suite's PSNR and L1 (pixels in [0, 1])
        row["psnr"], row["l1"] = translation_bench._psnr(truth, edited), translation_bench._l1(truth, edited)
        row["baseline_psnr"], row["baseline_l1"] = (translation_bench._psnr(truth, inputs),
                                                    translation_bench._l1(truth, inputs))
    return row


def bench_editor(run_dir, judges, n, folder, latency_runs, log):
    from tfgan_models.benchmarks.export import latency_ms
    from tfgan_models.data.images import to_uint8
    from tfgan_models.export import exporter, tflite

    model, settings = runs.load_model(run_dir)
    name = f"{settings['variant']}/{settings['preset']}"
    export_name = os.path.basename(os.path.normpath(run_dir))
    report = exporter.export_run(run_dir, folder, formats=("tflite",), quantizations=("fp16", "int8"),
                                 input_size=(EXPORT_SIZE, EXPORT_SIZE), name=export_name, overwrite=True)
    files, gates = {}, {}
    for key, suffix in (("tflite", ""), ("tflite_b_to_a", "_b_to_a")):
        for q, entry in report.get(key, {}).items():
            files[q + suffix] = os.path.join(folder, export_name, "1", entry["path"])
            gates[q + suffix] = {"size_bytes": entry["size_bytes"], "gate": entry["gate"]}
    row = {"editor": name, "run_dir": run_dir, "data": settings["run"]["data"],
           "domains": settings["run"].get("domains"), "steps": int(model.g_optimizer.iterations),
           "directions": [], "latency_ms": {}, "tflite": gates}
    for direction, attribute, value, target in directions(settings):
        inputs, truth = held_out_faces(attribute, value, n, model.data_kind == "paired")
        engines = {"keras": to_uint8(model.translate(inputs, direction))}
        suffix = "_b_to_a" if direction == "b_to_a" else ""
        for q in ("fp16", "int8"):
            out = tflite.Runner(files[q + suffix])({"images": inputs.astype("float32") / 255.0})
            engines[q] = np.clip(np.round(out * 255.0), 0, 255).astype("uint8")
        entry = {"direction": direction, "attribute": attribute, "target": target, "faces": len(inputs),
                 "engines": {e: score(out, inputs, truth, attribute, target, judges) for e, out in engines.items()}}
        row["directions"].append(entry)
        k = entry["engines"]["keras"]["classifier"]
        log(f"[faceapp] {name} {direction} ({attribute} -> {target}): success {k['success']:.1%}, identity kept "
            f"{k['identity_kept']:.1%} (classifier, Keras, {len(inputs)} held-out faces)")
    probe = {"images": np.random.RandomState(0).uniform(0, 1, (1, EXPORT_SIZE, EXPORT_SIZE, 3)).astype("float32")}
    for q in ("fp16", "int8"):
        row["latency_ms"][q] = {f"{t}t": latency_ms(files[q], probe, t, latency_runs) for t in (1, 2)}
    return row


def judges_for(seeds, log, train_faces=None):
    """``{"classifier": CNN seed 0, "independent": HOG judge, "classifier_seedK": CNN seed K, ...}`` and
    each judge's accuracy per attribute on the held-out renders."""
    from tfgan_models.metrics.faces import TRAIN_FACES, AttributeClassifier, IndependentFaceJudge

    count = train_faces or TRAIN_FACES
    judges = {"classifier": AttributeClassifier(seeds[0], count), "independent": IndependentFaceJudge(count)}
    judges.update({f"classifier_seed{seed}": AttributeClassifier(seed, count) for seed in seeds[1:]})
    images, labels = avatars.faces(avatars.FACES_PER_SPLIT["test"], EXPORT_SIZE, "test")
    accuracy = {name: judge.accuracy(images, labels) for name, judge in judges.items()}
    for name, acc in accuracy.items():
        log(f"[faceapp] {name} on {len(images)} held-out renders: "
            + ", ".join(f"{k} {v:.1%}" for k, v in acc.items()))
    return judges, accuracy


def run(quick=False, seeds=None, log=print, steps=None, editors=EDITORS, run_dirs=None, keep=None, faces=None,
        train_faces=None):
    """Trains the editors (``steps`` caps them; ``--quick``: 200) or scores ``run_dirs``; ``seeds``: how many
    attribute CNNs (seeds 0..n-1) read every edit beside the independent judge; ``faces``: held-out faces
    per direction (default all)."""
    seed_list = resolve_seeds(seeds, quick, 1)
    steps = int(steps) if steps is not None else (QUICK_STEPS if quick else None)
    n = int(faces or (QUICK_FACES if quick else avatars.FACES_PER_SPLIT["test"]))
    latency_runs = 3 if quick else 20
    rows, trained = [], []
    with Timer() as wall, tempfile.TemporaryDirectory(prefix="tfgan-bench-faceapp-") as tmp:
        folder = keep or tmp
        os.makedirs(folder, exist_ok=True)
        for variant, preset in ([] if run_dirs else editors):
            run_dir = os.path.join(folder, f"{variant}-{preset}")
            overrides = {"epochs": 1, "steps_per_epoch": steps} if steps else {}
            with Timer() as clock:
                runs.train(runs.run_settings(variant, preset, seed=0, **overrides), run_dir, verbose=0)
            trained.append((run_dir, clock.seconds))
        judges, accuracy = judges_for(seed_list, log, train_faces)
        for run_dir, train_s in (trained or [(r, None) for r in run_dirs]):
            rows.append({**bench_editor(run_dir, judges, n, os.path.join(folder, "export"), latency_runs, log),
                         "train_s": train_s})
    return {"suite": "faceapp",
            "protocol": {"quick": bool(quick), "judge_seeds": seed_list, "steps": steps or "preset",
                         "faces": f"avatars test split (held-out identities) rendered at {EXPORT_SIZE}x{EXPORT_SIZE}, "
                                  f"up to {n} per direction",
                         "judges": "classifier: multi-head CNN; independent: HOG + colour thumbnail, logistic "
                                   "regression; both trained on renders of training identities",
                         "latency": f"median of {latency_runs} invokes at {EXPORT_SIZE}x{EXPORT_SIZE}, ai_edge_litert"},
            "targets": TARGETS, "judge_accuracy": accuracy, "machine": machine_info(), "wall_time_s": wall.seconds,
            "rows": rows}


def format_table(results):
    judges = [[name, *[f"{acc[a]:.1%}" for a in avatars.ATTRIBUTES]] for name, acc in results["judge_accuracy"].items()]
    names = list(results["judge_accuracy"])
    edits = []
    for r in results["rows"]:
        for d in r["directions"]:
            for engine, s in d["engines"].items():
                cells = [f"{s[j]['success']:.1%} / {s[j]['identity_kept']:.1%}" for j in names]
                truth = f"{s['psnr']:.1f} / {s['baseline_psnr']:.1f}" if "psnr" in s else "-"
                edits.append([r["editor"], f"{d['direction']} ({d['attribute']}={d['target']})", engine,
                              str(d["faces"]), *cells, truth])
    latency = [[r["editor"], *[fmt(r["latency_ms"][q][t], digits=0) for q in ("fp16", "int8") for t in ("1t", "2t")]]
               for r in results["rows"]]
    return "\n\n".join([f"faceapp: wall {results['wall_time_s']:.0f} s",
                        render(["judge on held-out renders", *avatars.ATTRIBUTES], judges),
                        render(["editor", "direction", "engine", "faces", *[f"{j}: success / identity" for j in names],
                                "PSNR vs truth / input"], edits),
                        render(["editor @256", "fp16 1t ms", "fp16 2t ms", "int8 1t ms", "int8 2t ms"], latency)])
