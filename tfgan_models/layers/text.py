"""Text layers for text-to-image GANs: a character tokenizer inside the model, and the char-CNN-RNN.

Reed, Akata, Lee & Schiele 2016, "Learning Deep Representations of Fine-Grained
Visual Descriptions" (CVPR; code ``reedscot/cvpr2016``, ``modules/HybridCNN.lua``)
embed a caption character by character: a one-hot alphabet of 70 symbols, temporal
convolutions with max-pooling, a recurrent layer over what is left of the sequence,
its hidden states averaged over time, then a linear map to the embedding.

:class:`CharTokenizer` turns UTF-8 strings into ids with core ``tf.strings`` ops
only (no tensorflow-text), so a SavedModel that holds it loads in a process that
imports nothing but TensorFlow and runs in the stock ``tensorflow/serving`` image.
Those string ops are not TFLite builtins, so the TFLite files take the ids:
:func:`caption_ids` (NumPy, and its copy in ``export/client.py``) makes the same ids.

Normalisation, identical in both: ASCII upper case is lowered; runs of spaces,
tabs and line breaks become one space; leading and trailing spaces go; characters
outside :data:`ALPHABET` (accents, emoji, invalid UTF-8) become ``UNKNOWN``; the
ids are cut or zero-padded (``PAD``) to ``length``. An empty caption is all padding.
"""

import re

import keras
import numpy as np
import tensorflow as tf

from tfgan_models.layers.conditioning import OneHot

# The character-level ConvNet alphabet (Zhang, Zhao & LeCun 2015) Reed et al. use, without its
# duplicate "-", plus the space: 69 symbols. Id 0 pads; ids 1..69 are the symbols; 70 is unknown.
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-,;.!?:'\"/\\|_@#$%^&*~`+=<>()[]{} "
PAD, UNKNOWN = 0, len(ALPHABET) + 1
VOCAB_SIZE = len(ALPHABET) + 2
_SPACES = r"[\t\n\f\r ]+"  # RE2's and Python's readings of this class agree (RE2's \s omits \v)


def caption_ids(texts, length):
    """int32 ``(N, length)`` ids of captions (``str`` or UTF-8 ``bytes``), as :class:`CharTokenizer` makes them."""
    texts = [texts] if isinstance(texts, (str, bytes)) else list(texts)
    index = {c: i + 1 for i, c in enumerate(ALPHABET)}
    out = np.zeros((len(texts), int(length)), "int32")
    for row, text in enumerate(texts):
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        text = re.sub(_SPACES, " ", text).strip(" ")
        ids = [index.get(c.lower() if c < "\x80" else c, UNKNOWN) for c in text[: int(length)]]
        out[row, : len(ids)] = ids
    return out


@keras.saving.register_keras_serializable(package="tfgan_models")
class CharTokenizer(keras.layers.Layer):
    """UTF-8 strings ``(B,)`` -> int32 character ids ``(B, length)`` (see the module docstring).

    Core TensorFlow string ops; the layer runs on the TensorFlow backend only.
    """

    def __init__(self, length, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        if int(length) < 1:
            raise ValueError(f"length must be >= 1, received {length!r}.")
        self.length = int(length)
        table = np.full(129, UNKNOWN, "int32")  # code points 0..127, and 128 for all the others
        for i, c in enumerate(ALPHABET):
            table[ord(c)] = i + 1
        self._table = table

    def call(self, text):
        text = tf.reshape(tf.convert_to_tensor(text, tf.string), [-1])
        text = tf.strings.lower(text)  # without an encoding it lowers ASCII letters only, as caption_ids
        text = tf.strings.regex_replace(tf.strings.regex_replace(text, _SPACES, " "), "^ | $", "")
        # Cut the bytes first: a 10,000-character caption is never decoded whole (4 bytes per character at most).
        text = tf.strings.substr(text, 0, 4 * self.length)
        points = tf.strings.unicode_decode(text, "UTF-8", errors="replace", replacement_char=0xFFFD)
        ids = tf.gather(tf.constant(self._table), tf.minimum(points.flat_values, 128))
        return tf.cast(points.with_flat_values(ids).to_tensor(PAD, shape=[None, self.length]), "int32")

    def compute_output_spec(self, text):
        return keras.KerasTensor((text.shape[0], self.length), dtype="int32")

    def get_config(self):
        return {**super().get_config(), "length": self.length}


def char_cnn_rnn(length, embedding_dim, filters=(384, 512, 256), pools=(3, 3, 2), rnn_units=256, name="text_encoder"):
    """The char-CNN-RNN text encoder: ids ``(B, length)`` -> embedding ``(B, embedding_dim)``.

    One-hot characters -> for each of ``filters``: temporal conv (kernel 4) + ReLU + max-pool
    (``pools``) -> GRU over the pooled sequence -> hidden states averaged over time -> linear.
    Reed et al.'s CUB model uses filters 384, 512, 256 on 201 characters. The GRU is unrolled
    (the sequence length is static), so the TFLite graph holds plain builtin ops, no WHILE loop.
    """
    if len(filters) != len(pools):
        raise ValueError(f"filters and pools need the same length, received {filters!r} and {pools!r}.")
    ids = keras.Input((int(length),), dtype="int32", name="ids")
    h = OneHot(VOCAB_SIZE, name="chars")(ids)
    for i, (width, pool) in enumerate(zip(filters, pools)):
        h = keras.layers.Conv1D(int(width), 4, padding="same", activation="relu", name=f"conv_{i}")(h)
        h = keras.layers.MaxPooling1D(int(pool), padding="same", name=f"pool_{i}")(h)
    h = keras.layers.GRU(int(rnn_units), return_sequences=True, unroll=True, name="rnn")(h)
    h = keras.layers.GlobalAveragePooling1D(name="mean_over_time")(h)
    embedding = keras.layers.Dense(int(embedding_dim), name="embedding")(h)
    return keras.Model(ids, embedding, name=name)
