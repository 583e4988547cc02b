"""Run directories: train a registered variant into a folder, resume it, sample from it.

Layout of a run directory::

    config.json      variant, preset, constructor kwargs, run settings, status
    model.keras      the whole GAN (both networks, optimizers): reload and keep training
    generator.keras  the generator to sample and export (the EMA one when enabled)
    history.json     one row of losses per epoch
    samples/         epoch_0001.png ... from fixed latents
    logs/            TensorBoard scalars and sample images
    backup/          present only while a run is unfinished; used to resume it
"""

import os
import sys

import keras
import numpy as np
import tensorflow as tf

from tfgan_models import data as data_lib
from tfgan_models import execution, registry
from tfgan_models.callbacks import AtomicBackup, AtomicCheckpoint, HistoryLog, NaNGuard, SampleGrid, samples_picture
from tfgan_models.callbacks.images import encode_png
from tfgan_models.io import read_json, remove_temporaries, write_bytes, write_json
from tfgan_models.settings import (  # noqa: F401  the run settings are part of this module's API
    check_overrides, constructor_arguments, parse_set, run_settings)


class RunError(ValueError):
    """A run directory cannot be used as asked (finished, or holding another run)."""


def build_model(settings, strategy=None):
    """The compiled model described by ``settings`` (see :func:`run_settings`).

    Networks, optimizers and their variables are created under ``strategy``'s scope (default: the current
    strategy) and the run's precision policy; ``jit_compile`` comes from ``settings["execution"]``.
    """
    cls = registry.variant_class(settings["variant"])
    kwargs = dict(settings["model"])
    if "data_shape" in kwargs:
        kwargs["data_shape"] = tuple(kwargs["data_shape"])
    run, how = settings["run"], settings.get("execution") or {}
    strategy = strategy or tf.distribute.get_strategy()
    with execution.precision(how.get("mixed_precision")), strategy.scope():
        model = cls(**kwargs)
        model.compile(optimizers=run.get("optimizers"), g_optimizer=run.get("g_optimizer"),
                      d_optimizer=run.get("d_optimizer"),
                      jit_compile=execution.jit_compile(how.get("jit_compile", "auto"), strategy))
    return model


def training_data(model, settings, data_shape=None, batch_size=None, steps_per_epoch=None):
    """``(dataset, steps_per_epoch)`` feeding ``model`` from the run's data spec.

    ``data_shape``, ``batch_size`` and ``steps_per_epoch`` override the run's (a training phase's).
    """
    run = settings["run"]
    shape = tuple(data_shape or model.data_shape)
    kwargs = dict(image_size=shape[:2], channels=shape[2]) if len(shape) == 3 else {}
    batch = model.data_batch_size(batch_size or run["batch_size"])
    seed = settings["model"].get("seed")
    steps = steps_per_epoch or run.get("steps_per_epoch")
    if hasattr(model, "training_dataset"):
        # Variants with their own element spec (paired or unpaired images) build their pipeline:
        # training_dataset(spec, batch_size, seed) -> (repeated dataset, steps_per_epoch or None).
        extra = {"domains": run["domains"]} if run.get("domains") is not None else {}
        dataset, own_steps = model.training_dataset(run["data"], batch, seed, **extra)
        _check_not_empty(dataset, run["data"], batch)
        steps = steps or own_steps
        if not steps:
            raise ValueError(f"cannot tell the size of {run['data']!r}: pass --steps-per-epoch.")
        return dataset, int(steps)
    labelled = getattr(model, "requires_labels", False)
    dataset = data_lib.load(run["data"], batch_size=batch, seed=seed, with_labels=labelled, **kwargs)
    spec = dataset.element_spec[0] if labelled else dataset.element_spec
    got = tuple(spec.shape[1:])
    if got != shape:
        raise ValueError(f"data {run['data']!r} yields examples of shape {got}; "
                         f"{settings['variant']}/{settings['preset']} models {shape}.")
    _check_not_empty(dataset, run["data"], batch)
    if steps is None:
        steps = int(dataset.cardinality())
        if steps < 1:
            raise ValueError(f"cannot tell the size of {run['data']!r} or it holds fewer than one batch "
                             f"of {batch}: pass --steps-per-epoch.")
    return dataset.repeat(), int(steps)


def _check_not_empty(dataset, spec, batch):
    """Zero batches would train zero steps and call the run finished: an error instead."""
    if int(dataset.cardinality()) == 0:
        raise ValueError(f"{spec!r} holds fewer than one batch of {batch} examples (batches keep only full ones): "
                         "lower --batch-size or add data.")


def train(settings, out, overwrite=False, verbose="auto", callbacks=(), strategy=None, guard=None):
    """Trains the run described by ``settings`` into ``out``; resumes an interrupted run there.

    A model that declares ``phases()`` trains them in order (each with its own
    data shape, batch size, step budget and, if asked, fresh optimizers);
    ``config.json`` records the phases done, each phase keeps its own backup,
    so a crash resumes inside the phase it stopped in, and ``history.json``
    rows name their phase. Returns the history rows. Raises
    :class:`RunError` when ``out`` holds a finished run (unless ``overwrite``)
    or a run with other settings (``settings["execution"]`` may differ: precision, XLA, devices).
    ``strategy``: a ``tf.distribute`` strategy (default: :func:`execution.strategy` of the settings').
    ``guard``: arguments of the :class:`NaNGuard` (``check_every``, ``max_loss``, ``jump``).
    A finished single-phase run continues when ``settings`` asks for more epochs than it trained.
    ``verbose="auto"``: a progress bar on a terminal, one line per epoch otherwise.
    """
    # The strategy first (multi_worker must exist before any TF op); then non-chief workers get their own folder.
    strategy = strategy or execution.strategy((settings.get("execution") or {}).get("distribute"))
    out = execution.worker_directory(out, strategy)
    config_path = os.path.join(out, "config.json")
    backup = os.path.join(out, "backup")
    previous, extend = _previous_run(out, settings, overwrite)
    remove_temporaries(out)  # files a killed process was writing: never complete, never read
    how = settings.get("execution") or {}
    keras.utils.set_random_seed(int(settings["model"].get("seed") or 0))
    model = build_model(settings, strategy)
    model_path = os.path.join(out, "model.keras")
    phases = model.phases() or [None]
    done = int(previous.get("phases_done", 0)) if len(phases) > 1 else 0
    if (done or extend) and os.path.exists(model_path):  # earlier phases (or a finished run) continue
        with execution.precision(how.get("mixed_precision")), strategy.scope():
            model = keras.models.load_model(model_path)
    record = {"settings": settings, "inputs": _inputs_config(model), "status": "running"}
    offset = extend or sum(_phase_epochs(p, settings) for p in phases[:done])
    if verbose == "auto":  # a progress bar on a terminal; one plain line per epoch in a log file or pipe
        verbose = 1 if sys.stdout.isatty() else 2
    history_log = HistoryLog(os.path.join(out, "history.json"))
    for index, phase in enumerate(phases):
        if index < done:
            continue
        epochs = _phase_epochs(phase, settings) - (extend or 0)
        if phase is not None:
            model.begin_phase(index, phase)
            history_log.extra = {"phase": phase.name}
        dataset, steps = training_data(model, settings, *(
            (phase.data_shape, phase.batch_size, phase.steps_per_epoch) if phase is not None else ()))
        dataset = execution.shard_by_examples(dataset)  # multi_worker: each worker its slice of every batch
        write_json(config_path, {**record, "phases_done": index} if phase is not None else record)
        restore = AtomicBackup(backup if phase is None else os.path.join(backup, f"phase_{index}"), fallback=model_path,
                               history=os.path.join(out, "history.json"))
        fit_callbacks = [
            restore,
            NaNGuard(checkpoint_hint=f"The last good checkpoint is kept at {model_path}; rerunning the same "
                                     "command resumes from the last completed epoch.", **(guard or {})),
            *_schedule(model, offset + epochs),
            *_model_callbacks(model, out),
            *callbacks,  # before the writers below, so metrics they log reach history.json
            SampleGrid(os.path.join(out, "samples"), n=getattr(model, "sample_grid_n", 64),
                       log_dir=os.path.join(out, "logs")),
            AtomicCheckpoint(model_path, os.path.join(out, "generator.keras")),
            history_log,
            keras.callbacks.TensorBoard(os.path.join(out, "logs"), write_graph=False),
            restore.writer(),  # last: a kill before it redoes the epoch; after it, everything of the epoch is on disk
        ]
        # Likelihood models score a held-out validation split after every epoch (val_* in history.json).
        validation = model.validation_data(settings["run"]["data"]) if hasattr(model, "validation_data") else None
        # A phase resumed from its backup (AtomicBackup) sets model._initial_epoch, which fit() prefers to its
        # initial_epoch argument: cleared so the next phase starts at its own first epoch.
        model._initial_epoch = None
        steps_before = _steps_taken(model)
        model.fit(dataset, epochs=offset + epochs, initial_epoch=offset, steps_per_epoch=steps,
                  callbacks=fit_callbacks, verbose=verbose, shuffle=False, validation_data=validation)
        if _steps_taken(model) == steps_before and model._initial_epoch in (None, offset) and epochs > 0:
            raise ValueError(f"training ran 0 steps: {settings['run']['data']!r} yields no batch of "
                             f"{model.data_batch_size(settings['run']['batch_size'])} examples; lower --batch-size "
                             "or add data.")
        offset += epochs
    if os.path.isdir(backup) and not os.listdir(backup):  # the phases' backups are gone: so is their folder
        os.rmdir(backup)
    write_json(config_path, {**record, "status": "complete", **({"phases_done": len(phases)}
                                                                if phases[0] is not None else {})})
    return read_json(os.path.join(out, "history.json"))


RUN_FILES = ("config.json", "history.json", "model.keras", "generator.keras", "generator_b_to_a.keras")
RUN_FOLDERS = ("backup", "samples", "logs")


def _previous_run(out, settings, overwrite):
    """``(previous config.json, epochs to extend from or None)``; with ``overwrite`` the old run's files go first."""
    config_path = os.path.join(out, "config.json")
    if os.path.exists(out) and not os.path.isdir(out):
        raise RunError(f"--out {out!r} is a file; a run directory is a folder.")
    if overwrite:
        import shutil

        for name in RUN_FILES:  # only what a run writes: other files in the folder stay
            if os.path.isfile(os.path.join(out, name)):
                os.remove(os.path.join(out, name))
        for name in RUN_FOLDERS:
            shutil.rmtree(os.path.join(out, name), ignore_errors=True)
        return {}, None
    if not os.path.exists(config_path):
        return {}, None
    previous = read_json(config_path)
    old, new = _model_part(previous.get("settings")), _model_part(_roundtrip(settings))
    old_epochs, new_epochs = (x.get("run", {}).get("epochs") for x in (old, new))
    same = [{**x, "run": {k: v for k, v in x.get("run", {}).items() if k != "epochs"}} for x in (old, new)]
    if same[0] != same[1]:
        raise RunError(f"{out} holds a different run ({previous.get('settings', {}).get('variant')}); "
                       "use another --out, or --overwrite to replace it.")
    if previous.get("status") == "complete":
        if old_epochs is not None and new_epochs is not None and int(new_epochs) > int(old_epochs) \
                and "phases_done" not in previous:
            return previous, int(old_epochs)  # train epochs old+1 .. new on the finished model
        raise RunError(f"{out} holds a finished run of {old_epochs} epochs; pass a larger --epochs to continue it, "
                       "another --out, or --overwrite to train it again.")
    return previous, None


def _steps_taken(model):
    """Updates made by all the model's optimizers (a phase may train one of them only)."""
    return sum(int(opt.iterations.numpy()) for opt in model.optimizers_by_name().values())


def _phase_epochs(phase, settings):
    return int(settings["run"]["epochs"]) if phase is None else int(phase.epochs)


def _inputs_config(model):
    """The model's declared generator inputs, as JSON (export reads them from the run)."""
    from tfgan_models.inputs import to_configs

    return to_configs(model.generator_inputs())


def _schedule(model, epochs):
    """The paper's learning-rate schedule callback, if the variant has one (CycleGAN's linear decay)."""
    if getattr(model, "lr_schedule", None) == "linear_decay":
        from tfgan_models.callbacks import LinearDecay

        return [LinearDecay(epochs - epochs // 2, epochs // 2)]
    return []


def _model_callbacks(model, out):
    """Callbacks a variant asks for by attribute: ``collapse_patience`` (stop at a collapse, keeping the
    weights from before it) and ``standing_stats`` (recompute batch-norm statistics before each checkpoint)."""
    from tfgan_models.callbacks import CollapseDetector, StandingStatistics

    found = []
    if getattr(model, "collapse_patience", 0):
        found.append(CollapseDetector(patience=model.collapse_patience, checkpoint_dir=out))
    if getattr(model, "standing_stats", 0):
        found.append(StandingStatistics(model.standing_stats))
    return found


def _model_part(settings):
    """A run's settings without ``execution`` (how it runs may change between resumes)."""
    return {k: v for k, v in (settings or {}).items() if k != "execution"}


def _roundtrip(settings):
    import json
    return json.loads(json.dumps(settings, default=list))


def _load_run_file(run_dir, name):
    path = os.path.join(run_dir, name)
    if not os.path.isdir(run_dir):
        raise FileNotFoundError(f"run directory {run_dir!r} does not exist.")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{run_dir!r} holds no {name} yet (no epoch has finished).")
    try:
        config = read_json(os.path.join(run_dir, "config.json"))
        settings = {**config["settings"], "inputs": config.get("inputs")}  # the generator's declared inputs
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{run_dir!r} has no readable config.json ({type(err).__name__}: {err}); "
                         "it is not a run directory or it is damaged.") from err
    registry._ensure_loaded()  # the variants' classes and custom layers must be registered to load
    try:
        return keras.models.load_model(path), settings
    except Exception as err:  # a truncated or foreign file: say which, in one line
        raise ValueError(f"cannot load {path!r}: the file is damaged or not a Keras model "
                         f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}).") from err


def load_generator(run_dir):
    """``(generator keras.Model, settings)`` of a run directory (the EMA generator when kept)."""
    return _load_run_file(run_dir, "generator.keras")


def load_model(run_dir):
    """``(model, settings)``: the whole model of a run directory (its ``generate`` knows labels and codes).

    Image-to-image models preview the run's own data (their ``preview``: translation pairs, an inpainting
    run's held-out split), not their class default.
    """
    model, settings = _load_run_file(run_dir, "model.keras")
    if hasattr(model, "preview"):
        model.preview = (settings["run"]["data"], settings["run"].get("domains"))
    return model, settings


def sample(run_dir, n=64, seed=0, out="samples.png", labels=None, traverse=None, inputs=None, truncation=None,
           texts=None, interpolate=None, steps=8, levels=False, style_mix=False, crossover=None):
    """Writes samples of a run: ``.png`` a grid, ``.npy`` uint8 ``(N, H, W, C)``
    (2-D points: float32 ``(N, 2)``). Returns the array written or pictured.

    ``labels`` (conditional variants) gives one label per sample, or one label
    for all. ``traverse`` draws a latent-traversal grid instead (``labels`` for
    cGAN/AC-GAN; ``categorical`` or ``continuous:I`` for InfoGAN), one row per
    fixed noise vector, as in the InfoGAN paper's figures. ``inputs``: generator
    inputs by name (``model.generator_inputs()``), one value per sample or one
    value (or row) for all. ``truncation``: a threshold for the truncation trick, or a list of
    thresholds (``None`` for none) giving one row of ``n`` samples each, from the same seed and
    conditions: the truncation trade-off in one picture. Text-to-image runs: ``texts`` gives one row
    of ``n`` samples per caption; ``interpolate=(caption_a, caption_b)`` one row of ``steps`` images
    along the line between their embeddings, with the same noise. ``levels`` (LAPGAN, ProGAN): one row
    per sample, one column per pyramid level or resolution, coarsest first (each enlarged to the final
    size). ``style_mix`` (StyleGAN): the paper's style-mixing grid (Figure 3): the top row are sources A,
    the left column sources B, and each cell takes its first ``crossover`` styles (coarse) from the
    column's A and the rest from the row's B (``crossover`` defaults to half the styles: 4x4 and 8x8).
    """
    if int(n) < 1:
        raise ValueError(f"--n must be >= 1, received {n}.")
    if os.path.isdir(out):
        raise ValueError(f"--out {out!r} is a folder; samples go to one file: give a path ending in .png or .npy, "
                         f"e.g. {os.path.join(out, 'samples.png')!r}.")
    if not out.endswith((".png", ".npy")):
        raise ValueError(f"--out must end in .png or .npy, received {out!r}.")
    parent = os.path.dirname(os.path.abspath(out))
    while not os.path.exists(parent):  # the folders to create: the nearest existing one must be a folder
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise ValueError(f"--out {out!r} cannot be written: {parent!r} is a file, not a folder.")
    model, settings = load_model(run_dir)
    cols = None
    if hasattr(model, "sample_picture"):  # image-to-image variants: a before/after picture
        if not out.endswith(".png"):
            raise ValueError(f"{type(model).__name__} samples are before/after pictures: use --out FILE.png.")
        picture = model.sample_picture(seed=int(seed))
        write_bytes(out, encode_png(picture))
        return picture
    if levels or style_mix:
        if levels and style_mix or (labels, traverse, inputs or None, texts, interpolate) != (None,) * 5:
            raise ValueError("--levels and --style-mix cannot be combined with each other or with --labels, "
                             "--traverse, --input, --text or --interpolate.")
        samples, cols = (_levels_grid if levels else _mixing_grid)(model, int(n), int(seed), truncation, crossover)
    elif texts is not None or interpolate is not None:
        if not hasattr(model, "interpolate"):
            raise ValueError(f"{type(model).__name__} takes no captions: --text and --interpolate apply to "
                             "text-to-image runs (gan_int_cls, stackgan).")
        if (labels, traverse, inputs or None) != (None, None, None) or (texts is not None and interpolate):
            raise ValueError("--text or --interpolate (one of them) cannot be combined with --labels, --traverse "
                             "or --input.")
        if interpolate is not None:
            samples, cols = model.interpolate(*interpolate, steps=int(steps), seed=int(seed)), int(steps)
        else:
            samples, cols = model.generate(texts=texts, n_per_text=int(n), seed=int(seed), truncation=truncation), int(n)
    elif traverse is not None:
        if truncation is not None:
            raise ValueError("--traverse and --truncation cannot be combined: a traversal fixes z.")
        if not hasattr(model, "traversal"):
            raise ValueError(f"{type(model).__name__} has no codes or labels to traverse.")
        samples, cols = model.traversal(traverse, rows=max(1, int(n) // 10), seed=int(seed))
    else:
        conditions = dict(inputs or {})
        if labels is not None:
            conditions["labels"] = labels
        specs = {spec.name: spec for spec in model.generator_inputs()}
        for name, value in conditions.items():
            if name not in specs:
                raise ValueError(f"{type(model).__name__} has the inputs {', '.join(specs)}; received {name!r}.")
            conditions[name] = _per_sample(specs[name], value, int(n))
        thresholds = list(truncation) if isinstance(truncation, (list, tuple)) else [truncation]
        cols = int(n) if len(thresholds) > 1 else None
        samples = np.concatenate([model.generate(int(n), seed=int(seed), truncation=t, **conditions)
                                  for t in thresholds])
    if out.endswith(".npy"):
        array = samples if samples.ndim == 2 else data_lib.to_uint8(samples)
        with open(out + ".tmp", "wb") as f:
            np.save(f, array)
        os.replace(out + ".tmp", out)
        return array
    write_bytes(out, encode_png(samples_picture(samples, cols=cols)))
    return samples


def _levels_grid(model, n, seed, truncation, crossover):
    """``n`` rows of the coarse-to-fine levels of one sample each, nearest-enlarged to the final size."""
    if not hasattr(model, "generate_levels"):
        raise ValueError(f"--levels applies to coarse-to-fine runs (lapgan, progan); {type(model).__name__} "
                         "has no levels.")
    if truncation is not None or crossover is not None:
        raise ValueError("--levels takes no --truncation or --crossover.")
    stages = model.generate_levels(n, seed=seed)
    size = stages[-1].shape[1]
    big = [np.repeat(np.repeat(s, size // s.shape[1], axis=1), size // s.shape[2], axis=2) for s in stages]
    return np.stack(big, axis=1).reshape(-1, *big[-1].shape[1:]), len(big)


def _mixing_grid(model, n, seed, truncation, crossover):
    """The style-mixing grid: a blank corner, ``k`` sources A on top, ``k`` sources B down the left."""
    if not hasattr(model, "style_mix"):
        raise ValueError(f"--style-mix applies to StyleGAN runs; {type(model).__name__} has no styles to mix.")
    if truncation is not None:
        raise ValueError("--style-mix draws untruncated styles: leave out --truncation.")
    k = max(1, min(int(n), 8))
    crossover = model.num_ws // 2 if crossover is None else int(crossover)
    if not 0 <= crossover <= model.num_ws:
        raise ValueError(f"--crossover must be in [0, {model.num_ws}] (the number of styles), received {crossover}.")
    latent = model.generator_inputs()[0].shape
    z_a = np.random.RandomState(seed).standard_normal((k, *latent)).astype("float32")
    z_b = np.random.RandomState(seed + 1).standard_normal((k, *latent)).astype("float32")
    a, b = model.style_mix(z_a, z_a, model.num_ws, seed=seed), model.style_mix(z_b, z_b, 0, seed=seed)
    rows = [np.concatenate([np.zeros_like(a[:1]), a])]
    for i in range(k):
        mixed = model.style_mix(z_a, np.repeat(z_b[i : i + 1], k, axis=0), crossover, seed=seed)
        rows.append(np.concatenate([b[i : i + 1], mixed]))
    return np.concatenate(rows), k + 1


def _per_sample(spec, value, n):
    """Values given on the command line for ``n`` samples: one per sample, one for all, or repeated."""
    value = np.asarray(value)
    width = int(np.prod(spec.shape)) if spec.shape else 1
    if value.size % width:
        raise ValueError(f"input {spec.name!r} takes {width} value(s) per sample, received {value.size}.")
    rows = value.reshape(-1, *spec.shape) if spec.shape else value.reshape(-1)
    return np.resize(rows, (n, *rows.shape[1:]))


def translate_files(run_dir, paths, out, direction="a_to_b"):
    """Translates image files with a translation run; yields ``(input, output)`` paths as they are written.

    One input writes ``out`` (a ``.png``); several write ``out/NAME.png`` each.
    Images keep their size (reflect-padded to what the network needs, cropped back).
    """
    model, settings = load_model(run_dir)
    if not hasattr(model, "translate"):
        raise ValueError(f"{run_dir} holds a {settings['variant']} run, not an image-translation run.")
    paths = _check_image_files(paths, out)
    for path in paths:
        image = _decode_image_file(path, channels=3)
        result = model.translate(image[None].astype("float32") / 127.5 - 1.0, direction=direction)[0]
        target = _output_path(paths, out, path)
        write_bytes(target, encode_png(data_lib.to_uint8(result)))
        yield path, target


def _check_image_files(paths, out):
    """The input image files as a list, after checking they exist and ``out`` suits their number: a ``.png``
    for one, a folder (not a file) for several."""
    paths = list(paths)
    if len(paths) == 1 and not out.endswith(".png"):
        raise ValueError(f"--out must be a .png file for one input image, received {out!r}.")
    if len(paths) > 1 and os.path.isfile(out):
        raise ValueError(f"--out must be a folder for several input images; {out!r} is a file.")
    for path in paths:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"input image {path!r} does not exist.")
    return paths


def _decode_image_file(path, channels):
    """uint8 ``(H, W, channels)`` of an image file, or one line saying it cannot be decoded."""
    try:
        return tf.io.decode_image(tf.io.read_file(path), channels=channels, expand_animations=False).numpy()
    except tf.errors.InvalidArgumentError as err:
        raise ValueError(f"cannot decode {path!r} as an image: {err.message.splitlines()[0]}") from None


def _output_path(paths, out, path):
    """``out`` for one input, else ``out/NAME.png``."""
    return out if len(paths) == 1 else os.path.join(out, os.path.splitext(os.path.basename(path))[0] + ".png")


def read_mask(path, shape, seed=0):
    """A ``(H, W)`` float 0/1 mask for an image of ``shape``: ``"center"``, ``"random"`` (seeded), or a PNG
    file of the image's size whose nonzero pixels (> 127) are the hole."""
    from tfgan_models.data.masks import center_mask, random_mask

    h, w = int(shape[0]), int(shape[1])
    if path == "center":
        return center_mask(h, w)[..., 0]
    if path == "random":
        return random_mask(h, w, [int(seed), 0]).numpy()[..., 0]
    if not os.path.isfile(path):
        raise FileNotFoundError(f"mask file {path!r} does not exist (use center, random or a PNG file).")
    try:
        mask = tf.io.decode_image(tf.io.read_file(path), expand_animations=False).numpy()
    except tf.errors.InvalidArgumentError as err:
        raise ValueError(f"cannot decode mask {path!r} as an image: {err.message.splitlines()[0]}") from None
    if mask.shape[:2] != (h, w):
        raise ValueError(f"mask {path!r} is {mask.shape[1]}x{mask.shape[0]}; the image is {w}x{h}.")
    return (mask.max(axis=-1) > 127).astype("float32")


def inpaint_files(run_dir, paths, out, mask="center", seed=0):
    """Fills holes in image files with an inpainting run; yields ``(input, output)`` paths as they are written.

    ``mask``: ``center``, ``random`` or a PNG of each image's size (nonzero = hole). Images keep their size;
    pixels outside the hole are copied exactly. One input writes ``out`` (a ``.png``); several write
    ``out/NAME.png`` each.
    """
    model, settings = load_model(run_dir)
    if not hasattr(model, "inpaint_image"):
        raise ValueError(f"{run_dir} holds a {settings['variant']} run, not an inpainting run.")
    paths = _check_image_files(paths, out)
    channels = model.data_shape[-1]
    images = []
    for path in paths:  # decode and check every input (and its mask) before writing anything
        image = _decode_image_file(path, channels)
        images.append((path, image, read_mask(mask, image.shape, seed)))
    for path, image, hole in images:
        result = model.inpaint_image(image, hole)
        target = _output_path(paths, out, path)
        write_bytes(target, encode_png(np.repeat(result, 3, axis=-1) if result.shape[-1] == 1 else result))
        yield path, target


def interpolate(run_a, run_b, alpha, out, overwrite=False):
    """ESRGAN's network interpolation (Wang et al. 2018, sec. 3.4): a run directory whose G is (1 - alpha) G_a + alpha G_b.

    ``run_a`` is the PSNR-oriented run, ``run_b`` the GAN run (same generator
    architecture, e.g. ``esrgan`` ``stage="psnr"`` then ``stage="gan"``);
    ``alpha`` in [0, 1] (0: run_a's generator, 1: run_b's). ``out`` is a new run
    directory holding ``model.keras`` (run_b's model, interpolated G),
    ``generator.keras`` and ``config.json``, so it samples, evaluates and
    exports like any run. Returns ``out``.
    """
    alpha = float(alpha)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], received {alpha!r}.")
    if os.path.exists(os.path.join(out, "config.json")) and not overwrite:
        raise ValueError(f"{out} already holds a run; choose another --out or pass --overwrite.")
    model_a, _ = load_model(run_a)
    model_b, settings = load_model(run_b)
    inputs = settings.pop("inputs", None)
    pairs = [(model_b.generator, model_a.generator)]
    if model_b.generator_ema is not None:
        pairs.append((model_b.generator_ema, model_a.inference_generator))
    for target, other in pairs:
        mine, theirs = target.get_weights(), other.get_weights()
        if [w.shape for w in mine] != [w.shape for w in theirs]:
            raise ValueError(f"cannot interpolate {run_a!r} and {run_b!r}: their generators differ in "
                             f"architecture ({other.count_params()} vs {target.count_params()} parameters).")
        target.set_weights([(1.0 - alpha) * a + alpha * b if np.issubdtype(b.dtype, np.floating) else b
                            for a, b in zip(theirs, mine)])
    os.makedirs(out, exist_ok=True)
    model_b.save(os.path.join(out, "model.keras"))
    model_b.inference_generator.save(os.path.join(out, "generator.keras"))
    if hasattr(model_b, "sample_picture"):
        write_bytes(os.path.join(out, "samples", "interpolated.png"), encode_png(model_b.sample_picture(seed=0)))
    write_json(os.path.join(out, "config.json"), {
        "settings": settings, "inputs": inputs, "status": "complete",
        "interpolation": {"run_a": os.path.abspath(run_a), "run_b": os.path.abspath(run_b), "alpha": alpha}})
    return out
