"""Variant registry: names -> model classes and their presets.

A preset is a dict of constructor keyword arguments plus a few run settings
(``RUN_KEYS``): the default data spec, batch size, epochs, steps per epoch and,
optionally, the optimizers as Keras config dicts (see :func:`optimizer`).
"""

import copy

RUN_KEYS = ("data", "domains", "batch_size", "epochs", "steps_per_epoch", "g_optimizer", "d_optimizer", "optimizers")

_VARIANTS = {}


def optimizer(class_name, **config):
    """A Keras optimizer config dict for presets, e.g. ``optimizer("Adam", learning_rate=2e-4)``."""
    return {"class_name": class_name, "config": config}


def register_variant(name, presets, default_preset="demo"):
    """Class decorator registering a variant under ``name`` with its presets."""

    def wrap(cls):
        for preset_name, preset in presets.items():
            missing = {"data", "batch_size", "epochs"} - set(preset)
            if missing:
                raise ValueError(f"preset {name}/{preset_name} lacks {sorted(missing)}")
        if default_preset not in presets:
            raise ValueError(f"default preset {default_preset!r} of {name} is not defined")
        _VARIANTS[name] = (cls, presets, default_preset)
        cls.variant_name = name
        return cls

    return wrap


def _ensure_loaded():
    import tfgan_models.models  # noqa: F401  registers the built-in variants


def list_variants():
    """Names of the registered variants, sorted."""
    _ensure_loaded()
    return sorted(_VARIANTS)


def _entry(name):
    _ensure_loaded()
    if name not in _VARIANTS:
        raise ValueError(f"unknown variant {name!r}; known variants: {', '.join(sorted(_VARIANTS))}")
    return _VARIANTS[name]


def variant_class(name):
    return _entry(name)[0]


def list_presets(name):
    """Preset names of a variant; the default comes first."""
    _, presets, default = _entry(name)
    return [default] + sorted(p for p in presets if p != default)


def default_preset(name):
    return _entry(name)[2]


def preset(name, preset_name=None):
    """A deep copy of a preset dict (``None``: the variant's default preset)."""
    _, presets, default = _entry(name)
    preset_name = preset_name or default
    if preset_name not in presets:
        raise ValueError(
            f"unknown preset {preset_name!r} for {name}; known presets: {', '.join(list_presets(name))}"
        )
    return copy.deepcopy(presets[preset_name])


def split_preset(config):
    """Splits a preset into ``(constructor_kwargs, run_settings)``."""
    model_kwargs = {k: v for k, v in config.items() if k not in RUN_KEYS}
    run = {k: v for k, v in config.items() if k in RUN_KEYS}
    return model_kwargs, run


def get(name, preset_name=None, compile=True, **overrides):
    """Builds variant ``name`` from a preset, compiled with the preset's optimizers.

    ``overrides`` replace constructor arguments of the preset, e.g.
    ``get("dcgan", "demo", seed=3, ema_decay=0.999)``.
    """
    cls = variant_class(name)
    model_kwargs, run = split_preset(preset(name, preset_name))
    model_kwargs.update(overrides)
    model = cls(**model_kwargs)
    if compile:
        model.compile(optimizers=run.get("optimizers"), g_optimizer=run.get("g_optimizer"),
                      d_optimizer=run.get("d_optimizer"))
    return model
