"""Run settings: a variant's preset merged with the user's overrides, checked against the data.

``run_settings`` gives the JSON-able description of a run that :mod:`tfgan_models.runs`
trains and records in ``config.json``.
"""

import keras

from tfgan_models import data as data_lib
from tfgan_models import registry


def run_settings(variant, preset=None, data=None, epochs=None, steps_per_epoch=None,
                 batch_size=None, seed=0, image_size=None, ema_decay=None, model_overrides=None, domains=None,
                 channels=None, num_classes=None, overrides=None, mixed_precision=None, jit_compile="auto",
                 distribute=None):
    """The full, JSON-able description of a run: preset merged with overrides.

    ``model_overrides``: more constructor arguments (``None`` values ignored),
    e.g. ``{"init": RUN_DIR, "vgg_weights": PATH}`` for the super-resolution GANs.
    ``overrides``: any constructor arguments of the variant (``tfgan train --set
    key=value``), checked against its constructor and recorded as ``overrides``.

    Image models trained on ``data`` other than the preset's take its channel
    count (an RGB folder trains an RGB model) unless ``channels`` says
    otherwise; conditional models take the data's number of classes unless
    ``num_classes`` says otherwise, and refuse unlabelled data.

    ``mixed_precision``, ``jit_compile`` and ``distribute`` (see :mod:`tfgan_models.execution`) are
    recorded under ``execution``: they may differ when a run is resumed.
    """
    preset = preset or registry.default_preset(variant)
    cls = registry.variant_class(variant)
    model_kwargs, run = registry.split_preset(registry.preset(variant, preset))
    overrides = check_overrides(cls, overrides or {})
    phase_keys = getattr(cls, "phase_epoch_keys", ())
    if phase_keys and (epochs is not None or steps_per_epoch is not None):  # each phase has its own budget
        raise ValueError(f"{variant} trains in phases; set their budgets with "
                         f"{' '.join(f'--set {k}=N' for k in phase_keys)} instead of --epochs / --steps-per-epoch.")
    model_kwargs["seed"] = int(seed)
    if ema_decay is not None:
        model_kwargs["ema_decay"] = float(ema_decay)
    model_kwargs.update({k: v for k, v in (model_overrides or {}).items() if v is not None})
    model_kwargs.update(overrides)
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
    if ("total_steps" in constructor_arguments(cls) and "total_steps" not in overrides
            and (epochs is not None or steps_per_epoch is not None) and run.get("steps_per_epoch")):
        model_kwargs["total_steps"] = int(run["epochs"]) * int(run["steps_per_epoch"])  # the LR schedule follows the run
    if domains is not None:
        run["domains"] = list(domains.split(",")) if isinstance(domains, str) else list(domains)
    if hasattr(cls, "check_data_spec"):  # translation variants: paired / unpaired specs
        cls.check_data_spec(run["data"])
        if run.get("domains") is not None:
            from tfgan_models.data.translation import parse_domains

            parse_domains(run["domains"])
    elif run.get("domains") is not None:
        raise ValueError(f"--domains splits unpaired translation data; {variant} does not take it.")
    else:
        data_lib.parse_spec(run["data"])  # fail early on a bad spec
        _fit_to_data(cls, model_kwargs, run["data"], data is not None and "data_shape" not in overrides,
                     channels, num_classes if num_classes is not None else overrides.get("num_classes"))
    from tfgan_models import execution

    execution.policy_name(mixed_precision)  # fail early on an unknown name
    execution.jit_compile(jit_compile)
    if distribute is not None and distribute not in execution.STRATEGIES:
        raise ValueError(f"--distribute takes {', '.join(execution.STRATEGIES)}, received {distribute!r}.")
    settings = {"variant": variant, "preset": preset, "model": _jsonable(model_kwargs), "run": run,
                "execution": {"mixed_precision": mixed_precision, "jit_compile": jit_compile,
                              "distribute": distribute}}
    if overrides:
        settings["overrides"] = _jsonable(overrides)
    return settings


def constructor_arguments(cls):
    """Names of the keyword arguments ``cls(...)`` accepts, along its base classes."""
    import inspect

    names = set()
    for klass in cls.__mro__:
        if klass is keras.Model:
            break
        if "__init__" in vars(klass):
            params = inspect.signature(klass.__init__).parameters.values()
            names.update(p.name for p in params if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD,
                                                                                    p.KEYWORD_ONLY))
    return names - {"generator", "discriminator", "reverse_generator", "reverse_discriminator", "name"}


def check_overrides(cls, overrides):
    """``{key: value}`` constructor overrides, keys checked against the constructor."""
    known = constructor_arguments(cls)
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"--set {unknown[0]}: {cls.__name__} has no constructor argument {unknown[0]!r}; "
                         f"known: {', '.join(sorted(known))}.")
    return dict(overrides)


def parse_set(items):
    """``["key=value", ...]`` -> ``{key: value}``; values are JSON (numbers, true, null, [1, 2]) or strings."""
    import json

    out = {}
    for item in items or ():
        key, sep, text = str(item).partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set takes key=value, received {item!r}.")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        out[key.strip()] = value
    return out


def _fit_to_data(cls, model_kwargs, spec, data_given, channels, num_classes):
    """Channels from the data (or ``channels``) and classes from labelled data (or ``num_classes``)."""
    from tfgan_models.data.info import spec_info

    shape = list(model_kwargs.get("data_shape") or ())
    conditional = getattr(cls, "requires_labels", False)
    if channels is not None and (len(shape) != 3 or int(channels) not in (1, 3)):
        raise ValueError(f"--channels takes 1 or 3 for image models; received {channels} for a model of {shape}.")
    if len(shape) != 3 and not conditional:
        return
    info = spec_info(spec)
    if len(shape) == 3:
        if channels is not None:
            shape[2] = int(channels)
            if info["channels"] == 3 and shape[2] == 1:
                import warnings

                warnings.warn(f"converting colour images of {spec!r} to grey (--channels 1)", UserWarning,
                              stacklevel=3)
        elif data_given and info["channels"]:
            shape[2] = info["channels"]
        model_kwargs["data_shape"] = shape
    if conditional:
        if not info["labelled"]:
            raise ValueError(f"{cls.__name__} is conditional and trains on labelled data; {spec!r} has no labels "
                             "(a folder needs every image in a class subfolder).")
        k = int(num_classes) if num_classes is not None else info["num_classes"]  # the data decides by default
        if info["num_classes"] > k:
            raise ValueError(f"{spec!r} has {info['num_classes']} classes but the model has num_classes={k}: "
                             f"labels {k}..{info['num_classes'] - 1} would be out of range.")
        model_kwargs["num_classes"] = k


def _jsonable(kwargs):
    return {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}
