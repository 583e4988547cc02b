"""Any TensorFlow Datasets image set, keys found from its feature spec."""

import tensorflow as tf


def parse_tfds_spec(body):
    """``NAME[/CONFIG][:SPLIT]`` -> ``(name, split)``; split defaults to ``train``."""
    name, _, split = body.partition(":")
    if not name:
        raise ValueError("tfds spec needs a dataset name: tfds:NAME[/CONFIG][:SPLIT].")
    return name, split or "train"


def load_tfds(name, split, data_dir=None):
    """``(dataset of (image uint8 (H, W, C), label int32), feature info)`` for a TFDS set.

    The image key is ``hr`` when the set has one (super-resolution sets such as
    ``div2k``), else the first ``Image`` feature; the label key is the first
    ``ClassLabel`` (label -1 when there is none).
    """
    import tensorflow_datasets as tfds

    try:
        ds, info = tfds.load(name, split=split, with_info=True, data_dir=data_dir, shuffle_files=True)
    except Exception as err:  # unknown name, unknown split, missing download
        message = tfds_error(name, err)
        raise ValueError(message if message.startswith("unknown TFDS") else
                         f"cannot load TFDS dataset {name!r} split {split!r}: {message}") from None
    features = info.features
    image_keys = [k for k, f in features.items() if isinstance(f, tfds.features.Image)]
    image_key = "hr" if "hr" in image_keys else next(iter(image_keys), None)
    if image_key is None:
        raise ValueError(f"TFDS dataset {name!r} has no image feature (features: {list(features)}).")
    label_key = next((k for k, f in features.items() if isinstance(f, tfds.features.ClassLabel)), None)

    def select(example):
        label = tf.cast(example[label_key], tf.int32) if label_key else tf.constant(-1, tf.int32)
        return example[image_key], label

    return ds.map(select, num_parallel_calls=tf.data.AUTOTUNE), features[image_key]


def tfds_error(name, err):
    """One line for a failed ``tfds.builder``/``tfds.load`` of ``name``.

    TFDS's own message for an unknown name lists every registered dataset
    (~460 lines); this says ``unknown TFDS dataset 'NAME'`` with up to 5 close
    matches from ``tfds.list_builders()`` (no network), else the error's first line.
    """
    import difflib

    import tensorflow_datasets as tfds

    base = name.split("/")[0]
    known = tfds.list_builders(with_community_datasets=False)
    if base not in known:
        close = difflib.get_close_matches(base, known, n=5)
        return (f"unknown TFDS dataset {base!r}" + (f"; close matches: {', '.join(close)}" if close else "")
                + " (tfds.list_builders() lists all)")
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    if lines and lines[0].endswith(":"):  # e.g. "... Here are 10 BuilderConfigs whose name closely match:"
        return lines[0] + " " + ", ".join(lines[1:6])
    return lines[0] if lines else type(err).__name__
