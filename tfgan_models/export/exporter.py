"""`export_run`, `export_saved_model`, `export_tflite`: gated, atomic, versioned exports.

Layout (the TF Serving model base path is ``ROOT/NAME``)::

    ROOT/NAME/export_report.json          figures, sizes and I/O specs of every version
    ROOT/NAME/VERSION/saved_model.pb      the serving SavedModel, where TF Serving looks
    ROOT/NAME/VERSION/variables/ ...
    ROOT/NAME/VERSION/tflite/NAME_none.tflite     fp32
    ROOT/NAME/VERSION/tflite/NAME_fp16.tflite     float16 weights
    ROOT/NAME/VERSION/tflite/NAME_dynamic.tflite  int8 weights, float activations
    ROOT/NAME/VERSION/tflite/NAME_int8.tflite     int8 weights and activations, float32 I/O
                                                  (uint8 or int8 I/O with ``int8_io``)

A version is built in a hidden staging folder beside it (TF Serving ignores
names that are not numbers), every gate runs there, and only then is the
folder renamed into place: a reader sees the old version or the new one,
never half of one. A failed gate or error leaves nothing behind, unless
``accept_gate_failures`` keeps an artifact whose figures missed its gate: a
warning is logged and the report records ``"passed": false, "accepted": true``.

TF Serving loads the highest version of ``ROOT/NAME``, so a TFLite-only
version (no ``saved_model.pb``) under a served root would fail to load: export
both formats, or TFLite-only exports to a root TF Serving does not watch.
"""

import datetime
import os
import warnings
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from tfgan_models.export import gates, saved_model, tflite
from tfgan_models.export.source import kind_module, parse_size, resolve
from tfgan_models.io import read_json, write_json

FORMATS = ("saved_model", "tflite")
REPORT = "export_report.json"


def export_run(run_dir, root, formats=FORMATS, quantizations=tflite.QUANTIZATIONS, name=None, version=1,
               input_size=None, overwrite=False, representative_data=None, log=None, max_side=None,
               int8_io=None, accept_gate_failures=False):
    """Exports a run directory (or a Keras generator) into ``ROOT/NAME/VERSION``; returns the report entry.

    Args:
        run_dir: a run directory (its ``generator.keras``: the EMA generator when
            the run keeps one), a ``GANModel`` or a Keras generator.
        root: the model base folder (``tfgan export``'s ``--out``).
        formats: any of ``"saved_model"``, ``"tflite"``.
        quantizations: TFLite flavours, any of ``"none"`` (fp32), ``"fp16"``,
            ``"dynamic"``, ``"int8"``.
        name: model name (default: the run directory's basename).
        version: positive integer, the TF Serving version folder.
        input_size: fixed TFLite input ``(H, W)`` / ``"HxW"`` of image-to-image
            generators (default 128x128 for super-resolution, 256x256 for
            translation); latent generators take none; inpainting models
            take only their network's size (the default).
        overwrite: replace an existing version (otherwise refused).
        representative_data: int8 calibration inputs: latents ``(N, latent_dim)``
            (or ``{input name: array}`` to give conditions too; missing ones are
            drawn from their priors), or images ``(N, H, W, C)`` as uint8 or
            float in [0, 1], resized to the input size. Default: 64 draws of
            the latent prior; for image generators, the run's own data pipeline.
            Inpainting models: ``{"images": ..., "masks": (N, H, W, 1) 0/1}``,
            by default 64 images of the run's data with its own masks.
        log: called with progress lines and warnings (``None``: warnings go
            through :mod:`warnings`).
        max_side: largest input side (pixels) the SavedModel's image
            signatures accept; larger requests are refused in the graph with an
            error naming the limit. Default 2048 for super-resolution inputs,
            1024 for translation (inpainting: 2048); only for generators that
            take images of any size. Recorded in the report.
        int8_io: ``"uint8"`` or ``"int8"``: the int8 TFLite file takes and
            returns quantized tensors (images: scale 1/255, raw pixels in)
            instead of float32; int32 inputs stay int32. Latent and
            image-to-image generators only. The report gives each tensor's
            dtype, scale and zero point.
        accept_gate_failures: keep artifacts whose gate figures miss their
            limit (a warning, and ``"accepted": true`` in the report) instead
            of raising :class:`GateError`.
    Raises:
        ValueError: bad request (unknown format, a size the model cannot
            take, an existing version, a Flex op), or :class:`GateError`.
    """
    formats = _check_choices("format", formats, FORMATS)
    quantizations = _check_choices("quantization", quantizations, tflite.QUANTIZATIONS)
    version = _check_version(version)
    int8_io = tflite.check_int8_io(int8_io)
    saved_model.check_max_side(max_side)
    if int8_io is not None and ("tflite" not in formats or "int8" not in quantizations):
        raise ValueError(f"int8_io={int8_io!r} (--int8-io) sets the I/O types of the int8 TFLite file; add tflite "
                         "to the formats and int8 to the quantizations (--quantize ...,int8).")
    source = resolve(run_dir, name)
    size = _input_size(source, input_size)
    max_side = saved_model.resolve_max_side(source, max_side)
    if int8_io is not None and kind_module(source) is not None:
        raise ValueError(f"int8_io (--int8-io) applies to latent and image-to-image generators; {source.name!r} "
                         f"({source.kind}) keeps float32 I/O in its int8 file.")
    base = os.path.join(os.fspath(root), source.name)
    final = os.path.join(base, str(version))
    if os.path.exists(final) and not overwrite:
        raise ValueError(f"{final} already exists; pass --overwrite (overwrite=True) to replace it, "
                         "or choose another --version.")
    warn = log or (lambda message: warnings.warn(message, stacklevel=3))
    log = log or (lambda message: None)

    def gated(check):  # a gate, or its failure kept when accept_gate_failures
        try:
            return check()
        except gates.GateError as err:
            if not accept_gate_failures or err.result is None:
                raise
            warn(f"warning: {str(err).split('; pass --accept-gate-failures')[0]}; exported anyway "
                 "(--accept-gate-failures).")
            return {**err.result, "passed": False, "accepted": True}
    created = _make_dirs(base)
    staging = tempfile.mkdtemp(prefix=f".staging-{version}-", dir=base)
    os.chmod(staging, 0o755)  # mkdtemp makes it private; the server may run as another user
    try:
        entry = {"created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                 "generator": source.describe(), "formats": list(formats)}
        if "saved_model" in formats:
            log(f"SavedModel of {source.name} ...")
            entry["saved_model"] = _saved_model(source, staging, max_side, gated)
        if "tflite" in formats:
            entry["tflite"] = _tflites(source, staging, quantizations, size, representative_data, log, int8_io,
                                       gated)
            if source.reverse is not None:  # two-way translation: b -> a files beside the a -> b ones
                entry["tflite_b_to_a"] = _tflites(source.reverse, staging, quantizations, size, None, log, int8_io,
                                                  gated)
            sidecars = getattr(kind_module(source), "tflite_sidecars", None)  # e.g. a text model's vocabulary
            if sidecars is not None:
                entry.update(sidecars(source, staging))
        _commit(staging, final, overwrite)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in reversed(created):
            if os.path.isdir(folder) and not os.listdir(folder):
                os.rmdir(folder)
        raise
    _update_report(base, source.name, version, entry)
    return entry


def export_saved_model(source, root, name=None, version=1, overwrite=False, max_side=None,
                       accept_gate_failures=False):
    """The TF Serving SavedModel alone into ``ROOT/NAME/VERSION``; see :func:`export_run`."""
    return export_run(source, root, formats=("saved_model",), name=name, version=version,
                      overwrite=overwrite, max_side=max_side, accept_gate_failures=accept_gate_failures)


def export_tflite(source, root, quantization="none", name=None, version=1, input_size=None,
                  representative_data=None, overwrite=False, int8_io=None, accept_gate_failures=False):
    """``.tflite`` file(s) alone into ``ROOT/NAME/VERSION/tflite/``; see :func:`export_run`.

    ``quantization`` is one of ``none | fp16 | dynamic | int8`` or a list of
    them. Image-to-image generators get a fixed input of ``input_size``
    (default 128x128 for super-resolution, 256x256 for translation). int8 is
    calibrated on ``representative_data`` or, by default, N(0, I) latents or
    the run's own data pipeline.
    """
    quantizations = (quantization,) if isinstance(quantization, str) else tuple(quantization)
    return export_run(source, root, formats=("tflite",), quantizations=quantizations, name=name,
                      version=version, input_size=input_size, overwrite=overwrite,
                      representative_data=representative_data, int8_io=int8_io,
                      accept_gate_failures=accept_gate_failures)


# ------------------------------------------------------------------ steps
def _saved_model(source, folder, max_side=None, gated=lambda check: check()):
    saved_model.write_saved_model(source, folder, max_side)
    loaded = tf.saved_model.load(folder)  # as TF Serving would, from the files just written
    result = gated(lambda: gates.check_saved_model(loaded, source))
    out = {"path": ".", "size_bytes": _tree_size(folder), "gate": result,
           "signatures": saved_model.signature_specs(loaded)}
    if max_side is not None:
        out["max_side"] = max_side
    return out


def _tflites(source, folder, quantizations, size, representative_data, log, int8_io=None,
             gated=lambda check: check()):
    out = {}
    os.makedirs(os.path.join(folder, "tflite"), exist_ok=True)
    params = int(source.generator.count_params())
    inputs = gates.gate_inputs_tflite(source, size, _data_images(source, size, 4, seed=1))
    for q in quantizations:
        log(f"TFLite {q} of {source.name} ...")
        calibration = None
        io_type = int8_io if q == "int8" else None
        if q == "int8":
            calibration, described = representative_set(source, size, representative_data)
            if io_type is not None and source.kind == "image":
                calibration = _full_pixel_range(calibration)
        data = tflite.convert(source, q, size, calibration, io_type)
        infix = "_b_to_a" if source.direction == "b_to_a" else ""
        rel = os.path.join("tflite", f"{source.name}{infix}_{q}.tflite")
        path = os.path.join(folder, rel)
        with open(path, "wb") as f:
            f.write(data)
        ops = tflite.check_has_weights(path, params, q)
        io = tflite.io_spec(source, size)
        if io_type is not None:  # the quantized tensors' dtypes, scales and zero points
            io = _quantized_io(io, tflite.io_details(path))
        out[q] = {"path": rel, "size_bytes": len(data), "io": io, "ops": ops,
                  "gate": gated(lambda: gates.check_tflite(path, source, q, inputs))}
        if calibration is not None:
            out[q]["calibration"] = described
    return out


def representative_set(source, size, representative_data=None, n=tflite.CALIBRATION_SAMPLES):
    """``({input name: float32 (N, ...) in .tflite units}, description)`` for int8 calibration.

    Default: latents and conditions from their priors (seed 0; the gates use
    other draws), or for image generators ``n`` images of the run's data.
    """
    if kind_module(source) is not None:
        return kind_module(source).representative_set(source, n, representative_data)
    if representative_data is not None:
        return _given_representative(source, size, representative_data)
    if source.kind == "latent":
        rng = np.random.RandomState(0)
        names = ", ".join(f"{i.name} ~ {i.prior}" for i in source.inputs)
        return {i.name: i.sample(rng, n) for i in source.inputs}, f"{n} draws of {names}"
    images = _data_images(source, size, n, seed=0)
    if images is None and source.direction == "b_to_a":
        raise ValueError(f"int8 export of the b -> a generator of {source.name!r} needs its calibration images "
                         "from the run's data: export it from a run directory.")
    if images is None:
        raise ValueError(f"int8 export of image generator {source.name!r} needs calibration images: "
                         "export it from a run directory, or pass representative_data.")
    spec = source.settings["run"]["data"]
    return {"images": images.astype("float32") / 255.0}, f"{len(images)} images of the run's data {spec!r}"


def _full_pixel_range(calibration):
    """Calibration images with one pixel at 0 and one at 1, so a quantized image input spans exactly
    [0, 1] (uint8: scale 1/255, zero point 0: raw pixels are the codes)."""
    images = np.array(calibration["images"], "float32")
    images[0, 0, 0, 0], images[0, 0, -1, 0] = 0.0, 1.0
    return {**calibration, "images": images}


def _quantized_io(io, details):
    """The report's I/O spec with the file's own dtypes and quantization parameters."""
    io = {**io, "inputs": dict(io["inputs"]), "outputs": dict(io["outputs"])}
    for side in ("inputs", "outputs"):
        for name, d in details[side].items():
            spec = dict(io[side].get(name, {"shape": d["shape"]}))
            spec["dtype"] = d["dtype"]
            if "quantization" in d:
                spec["quantization"] = d["quantization"]
                spec["range"] = (f"{spec.get('range', 'float')} as {d['dtype']} codes q: "
                                 "value = scale * (q - zero_point)")
            io[side][name] = spec
    return io


def _given_representative(source, size, given):
    """Checks user calibration data: an array (z, or images as uint8 / float [0, 1]) or a dict by input name."""
    expected = {name: shape[1:] for name, _, shape in tflite.tflite_inputs(source, size)}
    first = next(iter(expected))
    given = dict(given) if isinstance(given, dict) else {first: given}
    out = {}
    for name, value in given.items():
        if name not in expected:
            raise ValueError(f"representative_data has an entry {name!r}; the inputs are {sorted(expected)}.")
        data = np.asarray(value)
        if source.kind == "image" and data.ndim == 4 and data.shape[1:3] != tuple(size):
            data = tf.image.resize(data.astype("float32"), size).numpy().astype(data.dtype)  # to the fixed size
        if data.ndim != len(expected[name]) + 1 or tuple(data.shape[1:]) != tuple(expected[name]) or not len(data):
            raise ValueError(f"representative_data[{name!r}] must have shape (N, "
                             f"{', '.join(map(str, expected[name]))}), received {data.shape}.")
        out[name] = data.astype("float32") / 255.0 if data.dtype == np.uint8 else data
    n = len(out[first]) if first in out else len(next(iter(out.values())))
    rng = np.random.RandomState(0)
    for spec in source.inputs or []:  # conditions not given: drawn from their priors
        out.setdefault(spec.name, spec.sample(rng, n))
    if len({len(v) for v in out.values()}) != 1:
        raise ValueError(f"representative_data entries differ in length: { {k: len(v) for k, v in out.items()} }.")
    return out, f"{n} given examples"


def _data_images(source, size, n, seed):
    """uint8 images (n, H, W, C) from the run's own data pipeline, or ``None``."""
    if source.kind != "image" or not source.settings:
        return None
    from tfgan_models import data as data_lib

    spec = source.settings["run"]["data"]
    from tfgan_models import registry

    if hasattr(registry.variant_class(source.settings["variant"]), "data_kind"):  # translation: its own specs
        from tfgan_models.data import translation
        from tfgan_models.data.images import MIN_CROP_STD

        side = size[0]
        if "avatars" in spec:  # rendered faces: drawn at the training size and resized, not rendered anew
            side = min(side, int(source.settings["model"].get("data_shape", (side,))[0]))
        ds, _, _ = translation.load(spec, size=side, batch_size=n, seed=seed,
                                    domains=source.settings["run"].get("domains"))
        first, second = next(iter(ds))  # (input, target) or (a, b): b feeds the b -> a generator
        batch = second if source.direction == "b_to_a" else first
        images = data_lib.to_uint8(batch.numpy())
        if images.shape[1:3] != tuple(size):
            images = tf.image.resize(images, size).numpy().astype("uint8")
        # Instance norm magnifies rounding on flat images (a plain background): gates and calibration
        # use images with some contrast, topped up with smooth random ones.
        keep = images[images.mean(axis=-1).std(axis=(1, 2)) >= MIN_CROP_STD]
        extra = gates.smooth_images(n - len(keep), size, source.channels_in, seed=gates.GATE_SEED + seed)
        return np.concatenate([keep, extra]) if len(keep) < n else keep
    ds = data_lib.load(spec, batch_size=n, image_size=size, channels=source.channels_in, seed=seed,
                       drop_remainder=False)
    batch = next(iter(ds))
    batch = batch[0] if isinstance(batch, (tuple, list)) else batch  # paired data: the input side
    return data_lib.to_uint8(batch.numpy())


# ----------------------------------------------------------------- checks
def _check_choices(what, values, allowed):
    values = (values,) if isinstance(values, str) else tuple(values)
    unknown = [v for v in values if v not in allowed]
    if unknown or not values:
        raise ValueError(f"unknown {what} {', '.join(map(repr, unknown)) or '(none given)'}; "
                         f"choose from {', '.join(allowed)}.")
    return tuple(dict.fromkeys(values))


def _check_version(version):
    try:
        ok = int(version) == float(version) and int(version) >= 1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"version must be a positive integer (a TF Serving version folder), received {version!r}.")
    return int(version)


def _input_size(source, input_size):
    if kind_module(source) is not None:
        return kind_module(source).input_size(source, input_size)
    if source.kind == "latent":
        if input_size is not None:
            raise ValueError(f"{source.name!r} is a latent generator (z -> {source.output_shape}); "
                             "it takes no input size.")
        return None
    if input_size is None:
        return tflite.default_input_size(source)
    return parse_size(input_size, source.size_multiple)


# ------------------------------------------------------------ filesystem
def _make_dirs(path):
    """Creates ``path`` and missing parents; returns those it created, outermost first."""
    created, probe = [], os.path.abspath(path)
    while not os.path.exists(probe):
        created.append(probe)
        probe = os.path.dirname(probe)
    os.makedirs(path, exist_ok=True)
    return created[::-1]


def _commit(staging, final, overwrite):
    """Renames ``staging`` to ``final``; an existing ``final`` is swapped out, never half-replaced."""
    if not os.path.exists(final):
        os.rename(staging, final)
        return
    if not overwrite:
        raise ValueError(f"{final} already exists; pass --overwrite (overwrite=True) to replace it.")
    aside = tempfile.mkdtemp(prefix=f".old-{os.path.basename(final)}-", dir=os.path.dirname(final))
    os.rmdir(aside)
    os.rename(final, aside)
    try:
        os.rename(staging, final)
    except BaseException:
        os.rename(aside, final)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def _tree_size(folder, skip=("tflite",)):
    total = 0
    for top, dirs, files in os.walk(folder):
        if top == folder:
            dirs[:] = [d for d in dirs if d not in skip]
        total += sum(os.path.getsize(os.path.join(top, f)) for f in files)
    return total


def _update_report(base, name, version, entry):
    """Merges ``entry`` as ``version`` into ``ROOT/NAME/export_report.json``, atomically.

    Entries of versions whose folder no longer exists are dropped.
    """
    path = os.path.join(base, REPORT)
    report = read_json(path) if os.path.exists(path) else {}
    versions = {v: e for v, e in report.get("versions", {}).items() if os.path.isdir(os.path.join(base, v))}
    versions[str(version)] = entry
    write_json(path, {"name": name, "gates": {"max_abs_diff": gates.MAX_ABS_DIFF, "min_psnr_db": gates.MIN_PSNR_DB,
                                              "fp16_or_min_psnr_db": gates.FP16_MIN_PSNR_DB},
                      "versions": dict(sorted(versions.items(), key=lambda kv: int(kv[0])))})
    os.chmod(path, 0o644)  # atomic writes start from a private temporary file
