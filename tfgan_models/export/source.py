"""What is being exported: a generator, its kind, and what the export needs to know about it.

Two kinds of generator are exportable:

* ``"latent"``: fixed-shape inputs -> images (B, H, W, C) in [-1, 1]. The
  inputs are the ones the model declares (``model.generator_inputs()``,
  recorded in a run's ``config.json``): noise (z, noise maps) and conditions
  (labels, codes, masks), each with its prior. Only a bare Keras generator
  has its inputs inferred: z first, int inputs class indices (classes read
  from the ``OneHot`` layer that consumes them), other float inputs U(-1, 1) codes;
* ``"image"``: ``images (B, H, W, C) -> images (B, s*H, s*W, C')`` in [-1, 1],
  fully convolutional (super-resolution with scale ``s`` > 1, translation with
  ``s`` = 1). The size multiple the network needs (``2^k`` for ``k``
  downsamplings) and the scale are found by probing the network once.

* ``"inpaint"``: ``(images (B, H, W, C), masks (B, H, W, 1)) -> images`` at a fixed
  size (Context Encoders): an image input then a mask input as the model declares
  them. Its signatures, TFLite graph and gates are in :mod:`.inpainting`;
* ``"autoregressive"``: ``images (B, H, W, C) -> logits`` of every position given the
  pixels before it (PixelRNN, PixelCNN: a network with a mask-A ``MaskedConv2D``).
  Likelihood, one-step and sampling signatures, gates: :mod:`.autoregressive`.
* ``"text2image"``: ``[*noise, text (tf.string)] -> images`` (GAN-INT-CLS, StackGAN): a declared input
  with prior ``"text"`` (a bare network: a tf.string input). Captions in, seeded noise, an ``embed``
  signature; TFLite takes character ids: :mod:`.text2image`.

2-D point generators (output rank 2) have nothing to serve as an image and are
refused. A later variant plugs in here: a new input signature is a new kind; a kind
whose signatures and gates are its own names its module in ``KIND_MODULES``, and
the generic steps (``saved_model``, ``tflite``, ``gates``, ``exporter``) hand it over.
"""

import dataclasses
import importlib
import os
import re

import keras
import numpy as np

from tfgan_models.inputs import GeneratorInput, from_configs
from tfgan_models.models.generative import GenerativeModel
from tfgan_models.models.networks import probe_image_generator
from tfgan_models.callbacks.training import reverse_generator_path
from tfgan_models.runs import load_generator

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
KIND_MODULES = {"inpaint": "tfgan_models.export.inpainting",
                "autoregressive": "tfgan_models.export.autoregressive",
                "text2image": "tfgan_models.export.text2image"}


def kind_module(source):
    """The module of a kind (a :class:`Source` or a kind name) with its own signatures, TFLite graph and
    gates (see ``KIND_MODULES``), or None."""
    path = KIND_MODULES.get(source if isinstance(source, str) else source.kind)
    return importlib.import_module(path) if path else None


@dataclasses.dataclass
class Source:
    """A generator ready to export. ``settings`` is the run's (``None`` for a bare model)."""

    generator: keras.Model
    kind: str                     # "latent" | "image" | "inpaint" | "autoregressive" | "text2image"
    name: str
    settings: dict = None
    run_dir: str = None
    latent_dim: int = None        # latent generators
    inputs: list = None           # latent generators: [z, *conditions] in the generator's order; inpaint: [images, masks]
    channels_in: int = None       # image generators
    size_multiple: int = 1        # image generators: H and W must be multiples of this
    scale: int = 1                # image generators: output size / input size
    reverse: "Source" = None      # two-way translation (CycleGAN, DiscoGAN): the b -> a generator
    direction: str = None         # two-way translation: "a_to_b" or "b_to_a"

    @property
    def output_shape(self):
        return tuple(self.generator.output_shape[1:])

    def describe(self):
        """JSON-able facts for the export report."""
        info = {"kind": self.kind, "network": self.generator.name,
                "params": int(self.generator.count_params()),
                "input_shape": list(self.generator.input_shape),
                "output_shape": list(self.generator.output_shape)}
        if self.kind == "image":
            info.update(size_multiple=self.size_multiple, scale=self.scale)
            if self.reverse is not None:
                info["directions"] = {"a_to_b": "serving_default / bytes (also a_to_b / a_to_b_bytes)",
                                      "b_to_a": "b_to_a / b_to_a_bytes"}
        else:
            info["inputs"] = {i.name: i.describe() for i in self.inputs}
        if kind_module(self) is not None:
            info.update(kind_module(self).describe(self))
        if self.settings:
            info.update(variant=self.settings.get("variant"), preset=self.settings.get("preset"))
        if self.run_dir:
            info["run_dir"] = os.path.abspath(self.run_dir)
        return info


def resolve(source, name=None):
    """A :class:`Source` from a run directory, a ``GANModel`` or a Keras generator.

    A run directory gives its ``generator.keras`` (the EMA generator when the
    run keeps one) and its settings; a ``GANModel`` gives its
    ``inference_generator``. ``name`` defaults to the run directory's basename,
    else the variant or network name.
    """
    settings = run_dir = reverse = declared = None
    if isinstance(source, (str, os.PathLike)):
        run_dir = os.fspath(source)
        generator, settings = load_generator(run_dir)
        if settings.get("inputs"):  # recorded by the run from the model's generator_inputs()
            declared = from_configs(settings["inputs"])
        default_name = os.path.basename(os.path.normpath(os.path.abspath(run_dir)))
        reverse_path = reverse_generator_path(os.path.join(run_dir, "generator.keras"))
        if os.path.exists(reverse_path):
            reverse = keras.models.load_model(reverse_path)
    elif isinstance(source, GenerativeModel):
        generator = source.inference_generator
        declared = list(source.generator_inputs())
        default_name = getattr(source, "variant_name", None) or source.name
        if getattr(source, "two_way", False):
            reverse = source.inference_reverse_generator
    elif isinstance(source, keras.Model):
        generator, default_name = source, source.name
    else:
        raise ValueError(f"export needs a run directory or a keras.Model generator, "
                         f"received {type(source).__name__}.")
    name = check_name(name or default_name)
    resolved = _resolve_generator(generator, name, settings, run_dir, declared)
    if reverse is not None:
        if resolved.kind != "image":
            raise ValueError(f"{name!r}: only image-to-image generators export two directions.")
        resolved.direction = "a_to_b"
        resolved.reverse = _resolve_generator(reverse, name, settings, run_dir, declared)
        resolved.reverse.direction = "b_to_a"
    return resolved


def _resolve_generator(generator, name, settings, run_dir, declared=None):
    """A :class:`Source`; ``declared``: the model's ``generator_inputs()`` (inferred from the network when None)."""
    inputs, outputs = generator.inputs or [], generator.outputs or []
    if not inputs or len(outputs) != 1:
        raise ValueError(f"export handles functional generators with one output; {generator.name!r} "
                         f"has {len(inputs)} inputs and {len(outputs)} outputs.")
    in_shape, out_shape = tuple(inputs[0].shape), tuple(outputs[0].shape)
    for kind in KIND_MODULES:  # kinds with their own signatures: inpainting, autoregressive, text-to-image
        module = kind_module(kind)
        if module.matches(generator, declared):
            specs = _distinct_names(generator, list(declared or module.declared_inputs(generator)))
            return Source(generator, kind, name, settings, run_dir, inputs=specs, channels_in=int(in_shape[-1]))
    if len(out_shape) == 2:
        raise ValueError(f"{generator.name!r} generates 2-D points (output shape {out_shape}); only "
                         "image generators can be exported for TF Serving and TFLite.")
    if len(out_shape) != 4:
        raise ValueError(f"export needs a generator of images (B, H, W, C); {generator.name!r} "
                         f"outputs {out_shape}.")
    if None in out_shape[3:]:
        raise ValueError(f"{generator.name!r} has an unknown number of output channels: {out_shape}.")
    image_in = declared[0].prior == "image" if declared else len(in_shape) == 4
    if not image_in:
        if None in out_shape[1:]:
            raise ValueError(f"latent generator {generator.name!r} must produce a fixed image size, "
                             f"its output shape is {out_shape}.")
        specs = _check_declared(generator, declared) if declared else latent_inputs(generator, settings)
        return Source(generator, "latent", name, settings, run_dir, latent_dim=specs[0].shape[0], inputs=specs)
    if len(inputs) > 1:
        raise ValueError(f"image-to-image export handles generators with one input; {generator.name!r} "
                         f"has {len(inputs)}.")
    if len(in_shape) == 4:
        if in_shape[1:3] != (None, None) or in_shape[3] is None:
            raise ValueError(f"image-to-image export needs a fully convolutional generator with input "
                             f"shape (None, None, None, C); {generator.name!r} takes {in_shape}.")
        multiple, scale = probe_image_generator(generator)
        return Source(generator, "image", name, settings, run_dir, channels_in=int(in_shape[3]),
                      size_multiple=multiple, scale=scale)
    raise ValueError(f"export handles latent generators (input (B, latent_dim)) and image-to-image "
                     f"generators (input (B, H, W, C)); {generator.name!r} takes {in_shape}.")


def _check_declared(generator, declared):
    """The model's declared inputs, checked against the network and against what export can serve."""
    if len(declared) != len(generator.inputs):
        raise ValueError(f"{generator.name!r} has {len(generator.inputs)} inputs but its model declares "
                         f"{len(declared)}: {[i.name for i in declared]}.")
    for spec, tensor in zip(declared, generator.inputs):
        if tuple(tensor.shape[1:]) != spec.shape or not spec.fixed_shape:
            raise ValueError(f"input {spec.name!r} is declared {spec.shape} but {generator.name!r} takes "
                             f"{tuple(tensor.shape[1:])}; latent exports need fixed input shapes.")
        if spec.prior in ("text", "image"):
            raise ValueError(f"input {spec.name!r} ({spec.prior}) of {generator.name!r}: this export handles "
                             "latent inputs (noise, labels, codes, masks, noise maps).")
    return _distinct_names(generator, list(declared))


def latent_inputs(generator, settings=None):
    """Inputs inferred from a bare latent generator (no model declares them): z first (rank 2 float), then its conditions."""
    specs = []
    for i, tensor in enumerate(generator.inputs):
        shape, dtype = tuple(tensor.shape[1:]), str(tensor.dtype)
        name = tensor.name.split(":")[0]
        if None in shape:
            raise ValueError(f"input {name!r} of {generator.name!r} has an unknown size: {tensor.shape}.")
        if i == 0:
            if len(shape) != 1 or not dtype.startswith("float"):
                raise ValueError(f"the first input of latent generator {generator.name!r} must be z, float "
                                 f"(B, latent_dim); it is {dtype} {tensor.shape}.")
            specs.append(GeneratorInput.normal(name, shape))
        elif dtype.startswith("int") and shape == ():
            specs.append(GeneratorInput.categorical(name, _classes(generator, tensor, settings)))
        elif dtype.startswith("float") and len(shape) == 1:
            specs.append(GeneratorInput.uniform(name, shape))
        else:
            raise ValueError(f"cannot export input {name!r} ({dtype} {tensor.shape}) of {generator.name!r}: "
                             "conditions must be int class indices (B,) or float codes (B, C).")
    return _distinct_names(generator, specs)


def _distinct_names(generator, specs):
    """``specs``, or an error when two share a name or one is called ``seed`` (the seed signature's input)."""
    names = [s.name for s in specs]
    if len(set(names)) != len(names) or "seed" in names:
        raise ValueError(f"the inputs of {generator.name!r} need distinct names other than 'seed': {names}.")
    return specs


def _classes(generator, tensor, settings):
    """Number of classes of an int input: the ``num_classes`` of the layer consuming it, or the run's."""
    for layer in _all_layers(generator):
        for node in getattr(layer, "_inbound_nodes", []):
            if any(t is tensor for t in node.input_tensors) and getattr(layer, "num_classes", None):
                return int(layer.num_classes)
    model = (settings or {}).get("model", {})
    for key in ("num_classes", "num_categories"):
        if model.get(key):
            return int(model[key])
    raise ValueError(f"cannot tell how many classes input {tensor.name!r} of {generator.name!r} takes: "
                     "feed it through a tfgan_models.layers.OneHot layer, or export from a run directory.")


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def check_name(name):
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"a model name must be letters, digits, '_', '-' or '.', not starting with "
                         f"'.', '_' or '-'; received {name!r}.")
    return name


def parse_size(size, multiple=1, what="input size"):
    """``128``, ``(128, 96)``, ``"128x96"`` -> ``(128, 96)``; multiples of ``multiple``."""
    if isinstance(size, str):
        parts = size.lower().split("x")
        try:
            hw = tuple(int(p) for p in parts) if len(parts) == 2 else (int(size),) * 2
        except ValueError:
            raise ValueError(f"{what} must look like HxW (e.g. 256x256), received {size!r}.") from None
    elif isinstance(size, (int, np.integer)):
        hw = (int(size), int(size))
    else:
        hw = tuple(int(s) for s in size)
    if len(hw) != 2 or min(hw) < 1:
        raise ValueError(f"{what} must be two positive integers (H, W), received {size!r}.")
    if hw[0] % multiple or hw[1] % multiple:
        raise ValueError(f"{what} {hw[0]}x{hw[1]} is not a multiple of {multiple}, the size multiple this "
                         f"network needs; e.g. {-(-hw[0] // multiple) * multiple}x"
                         f"{-(-hw[1] // multiple) * multiple} works.")
    return hw
