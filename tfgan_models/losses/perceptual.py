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
"""

import os

import keras
from keras import ops

VGG19_NOTOP_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG19_NOTOP_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
                   "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5")
IMAGENET_BGR_MEAN = (103.939, 116.779, 123.68)
SRGAN_FEATURE_RESCALE = 1.0 / 12.75


class VGGWeightsError(FileNotFoundError, ValueError):
    """The ImageNet VGG19 weights a perceptual loss needs are not available."""


def keras_cache_path():
    """Where Keras caches the VGG19 no-top weights (respects ``KERAS_HOME``)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "models", VGG19_NOTOP_FILE)


def resolve_vgg_weights(vgg_weights=None):
    """``None`` -> the Keras cache file; a path -> that file; ``"random"`` -> ``None`` (tests only).

    Raises :class:`VGGWeightsError` with instructions when the file is missing.
    """
    if vgg_weights == "random":
        return None
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
        "line. Random VGG weights are never used silently.")


def vgg19_features(layer="block5_conv4", before_activation=False, vgg_weights=None, name=None):
    """A frozen VGG19 feature extractor: images (B, H, W, 3) RGB in [-1, 1] -> features (B, h, w, C).

    ``layer`` is a Keras VGG19 layer name (``block5_conv4`` is the paper's
    phi_5,4: the 4th convolution before the 5th max-pooling).
    """
    path = resolve_vgg_weights(vgg_weights)
    vgg = keras.applications.VGG19(include_top=False, weights=path, input_shape=(None, None, 3))
    names = [l.name for l in vgg.layers]
    if layer not in names or not layer.startswith("block"):
        raise ValueError(f"unknown VGG19 layer {layer!r}; use one of {', '.join(n for n in names if 'conv' in n)}.")
    images = keras.Input((None, None, 3), name="images")
    # Caffe preprocessing, as keras.applications.vgg19.preprocess_input on [0, 255] RGB.
    x = (images + 1.0) * 127.5
    x = ops.flip(x, axis=-1) - ops.convert_to_tensor(IMAGENET_BGR_MEAN, "float32")
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
    model = keras.Model(images, x, name=name or f"vgg19_{layer}{'_linear' if before_activation else ''}")
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
