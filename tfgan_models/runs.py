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

import keras
import numpy as np
import tensorflow as tf

from tfgan_models import data as data_lib
from tfgan_models import registry
from tfgan_models.callbacks import AtomicCheckpoint, HistoryLog, NaNGuard, SampleGrid, samples_picture
from tfgan_models.callbacks.images import encode_png
from tfgan_models.io import read_json, write_bytes, write_json


class RunError(ValueError):
    """A run directory cannot be used as asked (finished, or holding another run)."""


def run_settings(variant, preset=None, data=None, epochs=None, steps_per_epoch=None,
                 batch_size=None, seed=0, image_size=None, ema_decay=None, model_overrides=None, domains=None):
    """The full, JSON-able description of a run: preset merged with overrides.

    ``model_overrides``: more constructor arguments (``None`` values ignored),
    e.g. ``{"init": RUN_DIR, "vgg_weights": PATH}`` for the super-resolution GANs.
    """
    preset = preset or registry.default_preset(variant)
    model_kwargs, run = registry.split_preset(registry.preset(variant, preset))
    model_kwargs["seed"] = int(seed)
    if ema_decay is not None:
        model_kwargs["ema_decay"] = float(ema_decay)
    model_kwargs.update({k: v for k, v in (model_overrides or {}).items() if v is not None})
    if image_size is not None:
        shape = list(model_kwargs.get("data_shape", ()))
        if len(shape) != 3:
            raise ValueError(f"--image-size applies to image models; {variant}/{preset} models {shape}.")
        model_kwargs["data_shape"] = [int(image_size), int(image_size), shape[-1]]
    for key, value in (("data", data), ("epochs", epochs), ("steps_per_epoch", steps_per_epoch),
                       ("batch_size", batch_size)):
        if value is not None:
            run[key] = value
    for key in ("epochs", "batch_size", "steps_per_epoch"):
        if run.get(key) is not None and int(run[key]) < 1:
            raise ValueError(f"{key.replace('_', '-')} must be >= 1, received {run[key]}.")
    if domains is not None:
        run["domains"] = list(domains.split(",")) if isinstance(domains, str) else list(domains)
    cls = registry.variant_class(variant)
    if hasattr(cls, "check_data_spec"):  # translation variants: paired / unpaired specs
        cls.check_data_spec(run["data"])
        if run.get("domains") is not None:
            from tfgan_models.data.translation import parse_domains

            parse_domains(run["domains"])
    elif run.get("domains") is not None:
        raise ValueError(f"--domains splits unpaired translation data; {variant} does not take it.")
    else:
        data_lib.parse_spec(run["data"])  # fail early on a bad spec
    return {"variant": variant, "preset": preset, "model": _jsonable(model_kwargs), "run": run}


def _jsonable(kwargs):
    return {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}


def build_model(settings):
    """The compiled model described by ``settings`` (see :func:`run_settings`)."""
    cls = registry.variant_class(settings["variant"])
    kwargs = dict(settings["model"])
    if "data_shape" in kwargs:
        kwargs["data_shape"] = tuple(kwargs["data_shape"])
    model = cls(**kwargs)
    run = settings["run"]
    model.compile(g_optimizer=run.get("g_optimizer"), d_optimizer=run.get("d_optimizer"))
    return model


def training_data(model, settings):
    """``(dataset, steps_per_epoch)`` feeding ``model`` from the run's data spec."""
    run = settings["run"]
    shape = model.data_shape
    kwargs = dict(image_size=shape[:2], channels=shape[2]) if len(shape) == 3 else {}
    batch = model.data_batch_size(run["batch_size"])
    seed = settings["model"].get("seed")
    if hasattr(model, "training_dataset"):
        # Variants with their own element spec (paired or unpaired images) build their pipeline:
        # training_dataset(spec, batch_size, seed) -> (repeated dataset, steps_per_epoch or None).
        extra = {"domains": run["domains"]} if run.get("domains") is not None else {}
        dataset, steps = model.training_dataset(run["data"], batch, seed, **extra)
        steps = run.get("steps_per_epoch") or steps
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
    steps = run.get("steps_per_epoch")
    if steps is None:
        steps = int(dataset.cardinality())
        if steps < 1:
            raise ValueError(f"cannot tell the size of {run['data']!r} or it holds fewer than one batch "
                             f"of {batch}: pass --steps-per-epoch.")
    return dataset.repeat(), int(steps)


def train(settings, out, overwrite=False, verbose="auto", callbacks=()):
    """Trains the run described by ``settings`` into ``out``; resumes an interrupted run there.

    Returns the history rows. Raises :class:`RunError` when ``out`` holds a
    finished run (unless ``overwrite``) or a run with other settings.
    """
    config_path = os.path.join(out, "config.json")
    backup = os.path.join(out, "backup")
    if os.path.exists(config_path) and not overwrite:
        previous = read_json(config_path)
        if previous.get("settings") != _roundtrip(settings):
            raise RunError(f"{out} holds a different run ({previous.get('settings', {}).get('variant')}); "
                           "use another --out, or --overwrite to replace it.")
        if previous.get("status") == "complete":
            raise RunError(f"{out} holds a finished run; use another --out, or --overwrite to train it again.")
    if overwrite:
        for name in ("history.json", "config.json"):
            if os.path.exists(os.path.join(out, name)):
                os.remove(os.path.join(out, name))
        if os.path.isdir(backup):
            import shutil
            shutil.rmtree(backup)
    keras.utils.set_random_seed(int(settings["model"].get("seed") or 0))
    model = build_model(settings)
    dataset, steps = training_data(model, settings)
    write_json(config_path, {"settings": settings, "status": "running"})
    model_path = os.path.join(out, "model.keras")
    history = keras.callbacks.History()
    fit_callbacks = [
        keras.callbacks.BackupAndRestore(backup),
        NaNGuard(checkpoint_hint=f"The last good checkpoint is kept at {model_path}; "
                                 "rerunning the same command resumes from the last completed epoch."),
        *_schedule(model, int(settings["run"]["epochs"])),
        *callbacks,  # before the writers below, so metrics they log reach history.json
        SampleGrid(os.path.join(out, "samples"), log_dir=os.path.join(out, "logs")),
        AtomicCheckpoint(model_path, os.path.join(out, "generator.keras")),
        HistoryLog(os.path.join(out, "history.json")),
        keras.callbacks.TensorBoard(os.path.join(out, "logs"), write_graph=False),
        history,
    ]
    model.fit(dataset, epochs=int(settings["run"]["epochs"]), steps_per_epoch=steps,
              callbacks=fit_callbacks, verbose=verbose, shuffle=False)
    write_json(config_path, {"settings": settings, "status": "complete"})
    return read_json(os.path.join(out, "history.json"))


def _schedule(model, epochs):
    """The paper's learning-rate schedule callback, if the variant has one (CycleGAN's linear decay)."""
    if getattr(model, "lr_schedule", None) == "linear_decay":
        from tfgan_models.callbacks import LinearDecay

        return [LinearDecay(epochs - epochs // 2, epochs // 2)]
    return []


def _roundtrip(settings):
    import json
    return json.loads(json.dumps(settings, default=list))


def _load_run_file(run_dir, name):
    path = os.path.join(run_dir, name)
    if not os.path.isdir(run_dir):
        raise FileNotFoundError(f"run directory {run_dir!r} does not exist.")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{run_dir!r} holds no {name} yet (no epoch has finished).")
    settings = read_json(os.path.join(run_dir, "config.json"))["settings"]
    registry._ensure_loaded()  # the variants' classes and custom layers must be registered to load
    return keras.models.load_model(path), settings


def load_generator(run_dir):
    """``(generator keras.Model, settings)`` of a run directory (the EMA generator when kept)."""
    return _load_run_file(run_dir, "generator.keras")


def load_model(run_dir):
    """``(model, settings)``: the whole GAN of a run directory (its ``generate`` knows labels and codes)."""
    return _load_run_file(run_dir, "model.keras")


def sample(run_dir, n=64, seed=0, out="samples.png", labels=None, traverse=None):
    """Writes samples of a run: ``.png`` a grid, ``.npy`` uint8 ``(N, H, W, C)``
    (2-D points: float32 ``(N, 2)``). Returns the array written or pictured.

    ``labels`` (conditional variants) gives one label per sample, or one label
    for all. ``traverse`` draws a latent-traversal grid instead (``labels`` for
    cGAN/AC-GAN; ``categorical`` or ``continuous:I`` for InfoGAN), one row per
    fixed noise vector, as in the InfoGAN paper's figures.
    """
    if int(n) < 1:
        raise ValueError(f"--n must be >= 1, received {n}.")
    if not out.endswith((".png", ".npy")):
        raise ValueError(f"--out must end in .png or .npy, received {out!r}.")
    model, settings = load_model(run_dir)
    cols = None
    if hasattr(model, "preview"):  # translation: pictures from the data the run trained on
        model.preview = (settings["run"]["data"], settings["run"].get("domains"))
    if hasattr(model, "sample_picture"):  # image-to-image variants: a before/after picture
        if not out.endswith(".png"):
            raise ValueError(f"{type(model).__name__} samples are before/after pictures: use --out FILE.png.")
        picture = model.sample_picture(seed=int(seed))
        write_bytes(out, encode_png(picture))
        return picture
    if traverse is not None:
        if not hasattr(model, "traversal"):
            raise ValueError(f"{type(model).__name__} has no codes or labels to traverse.")
        samples, cols = model.traversal(traverse, rows=max(1, int(n) // 10), seed=int(seed))
    else:
        conditions = {}
        if labels is not None:
            labels = np.asarray(labels, "int32").reshape(-1)
            conditions["labels"] = np.resize(labels, int(n))
        samples = model.generate(int(n), seed=int(seed), **conditions)
    if out.endswith(".npy"):
        array = samples if samples.ndim == 2 else data_lib.to_uint8(samples)
        with open(out + ".tmp", "wb") as f:
            np.save(f, array)
        os.replace(out + ".tmp", out)
        return array
    write_bytes(out, encode_png(samples_picture(samples, cols=cols)))
    return samples


def translate_files(run_dir, paths, out, direction="a_to_b"):
    """Translates image files with a translation run; yields ``(input, output)`` paths as they are written.

    One input writes ``out`` (a ``.png``); several write ``out/NAME.png`` each.
    Images keep their size (reflect-padded to what the network needs, cropped back).
    """
    model, settings = load_model(run_dir)
    if not hasattr(model, "translate"):
        raise ValueError(f"{run_dir} holds a {settings['variant']} run, not an image-translation run.")
    paths = list(paths)
    if len(paths) == 1 and not out.endswith(".png"):
        raise ValueError(f"--out must be a .png file for one input image, received {out!r}.")
    for path in paths:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"input image {path!r} does not exist.")
    for path in paths:
        try:
            image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False).numpy()
        except tf.errors.InvalidArgumentError as err:
            raise ValueError(f"cannot decode {path!r} as an image: {err.message.splitlines()[0]}") from None
        result = model.translate(image[None].astype("float32") / 127.5 - 1.0, direction=direction)[0]
        target = out if len(paths) == 1 else os.path.join(
            out, os.path.splitext(os.path.basename(path))[0] + ".png")
        write_bytes(target, encode_png(data_lib.to_uint8(result)))
        yield path, target
