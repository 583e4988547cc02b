"""tfgan_models: GAN variants as ``keras.Model`` subclasses trained with ``model.fit``.

Public API::

    from tfgan_models import registry, data
    model = registry.get("dcgan", "demo")          # compiled with the preset's optimizers
    model.fit(data.load("digits", batch_size=model.data_batch_size(64)), epochs=10)
    images = model.generate(16, seed=0)            # float32 in [-1, 1]

Submodules and classes are imported on first use, so ``import tfgan_models``
itself is cheap and has no side effects (the ``tfgan`` command relies on this
to quieten TensorFlow's start-up logs before TensorFlow loads).
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = ("benchmarks", "callbacks", "data", "evaluate", "export", "inputs", "losses", "metrics", "models",
               "registry", "runs")
_CLASSES = {name: "tfgan_models.models" for name in (
    "ACGAN", "CGAN", "ConditionalGANModel", "CycleGAN", "DCGAN", "DiscoGAN", "ESRGAN", "GAN", "GANModel",
    "GenerativeModel", "InfoGAN", "Phase",
    "LSGAN", "Pix2Pix", "SRGAN", "SRModel", "SRResNet", "TranslationModel", "WGAN", "WGANGP")}

_CLASSES["GeneratorInput"] = "tfgan_models.inputs"

__all__ = ["__version__", *_SUBMODULES, *_CLASSES]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"tfgan_models.{name}")
    if name in _CLASSES:
        return getattr(importlib.import_module(_CLASSES[name]), name)
    raise AttributeError(f"module 'tfgan_models' has no attribute {name!r}")
