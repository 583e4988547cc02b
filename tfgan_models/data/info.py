"""What a data spec holds, found without building its pipeline: channels and classes.

Runs use it so the data decides the channel count of an image model (an RGB
folder trains an RGB model) and a conditional model's number of classes.
"""

from tfgan_models.data.pipeline import parse_spec

# spec kind -> (channels, classes); None: unlabelled
_FIXED = {"digits": (1, 10), "mnist": (1, 10), "fashion_mnist": (1, 10), "stacked_mnist": (3, 1000),
          "binarized_mnist": (1, 10), "binarized_digits": (1, 10),
          "photos": (3, None), "ring8": (None, 8), "grid25": (None, 25)}
GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")


def spec_info(spec):
    """``{"channels": C or None (points), "num_classes": K or None (unlabelled), "labelled": bool}``.

    A folder is labelled when every image lies in a class subfolder (its
    classes are the subfolders); its channels are 1 when every image is grey,
    else 3. TFDS sets report their image feature's channels and their first
    ``ClassLabel``'s classes.
    """
    kind, arg = parse_spec(spec)
    if kind in _FIXED:
        channels, classes = _FIXED[kind]
    elif kind == "folder":
        channels, classes = _folder_info(arg)
    elif kind == "tfds":
        channels, classes = _tfds_info(arg)
    elif kind == "avatars":
        from tfgan_models.data.avatars import classes as attribute_classes

        channels, classes = 3, len(attribute_classes(arg[1])) if arg[1] else None
    else:  # a spec kind this module does not know yet: say nothing rather than guess
        channels, classes = None, None
    return {"channels": channels, "num_classes": classes, "labelled": classes is not None}


def _folder_info(path):
    from PIL import Image

    from tfgan_models.data.folder import scan_folder

    files, labels, class_names = scan_folder(path)
    grey = True
    for f in files[:256]:  # enough to tell grey from colour; the pipeline converts the rest
        with Image.open(f) as image:
            if image.mode not in GREY_MODES:
                grey = False
                break
    labelled = bool(class_names) and min(labels) >= 0
    return (1 if grey else 3), (len(class_names) if labelled else None)


def _tfds_info(body):
    import tensorflow_datasets as tfds

    from tfgan_models.data.tfds_source import parse_tfds_spec

    name, _ = parse_tfds_spec(body)
    try:
        features = tfds.builder(name).info.features
    except Exception as err:  # unknown name
        from tfgan_models.data.tfds_source import tfds_error

        message = tfds_error(name, err)
        raise ValueError((message if message.startswith("unknown TFDS") else
                          f"cannot read TFDS dataset {name!r}: {message}") + ".") from None
    images = [f for f in features.values() if isinstance(f, tfds.features.Image)]
    labels = [f for f in features.values() if isinstance(f, tfds.features.ClassLabel)]
    channels = int(images[0].shape[-1]) if images and images[0].shape[-1] else None
    return channels, (int(labels[0].num_classes) if labels else None)
