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
        raise ValueError(f"cannot load TFDS dataset {name!r} split {split!r}: {err}") from err
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
