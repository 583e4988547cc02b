"""PixelRNN: van den Oord, Kalchbrenner & Kavukcuoglu 2016, "Pixel Recurrent Neural Networks"
(arXiv:1601.06759): Row LSTM, Diagonal BiLSTM and PixelCNN.

There is no official code. We follow the paper and cross-check against the Theano port
``igul222/pixel_rnn`` (``pixel_rnn.py``), whose backward-direction shift is correct:

* p(x) = prod_i p(x_i,R | x_<i) p(x_i,G | x_<i, x_i,R) p(x_i,B | ...) (sec. 2); colour masks
  R < G < B on feature groups (sec. 3.4, igul222's ``Conv2D``), see
  :mod:`tfgan_models.layers.autoregressive`.
* First layer a 7x7 convolution with mask A to ``2h`` maps; then ``layers`` residual blocks
  (sec. 3.3): a Row LSTM / Diagonal BiLSTM of ``h`` units and a 1x1 mask-B convolution back
  to ``2h``, added to its input; PixelCNN blocks are ReLU -> 1x1 (h) -> ReLU -> 3x3 mask B ->
  ReLU -> 1x1 (2h) (Fig. 5). Output: ReLU -> 1x1 mask B -> ReLU -> 1x1 mask B (sec. 3/5) to a
  sigmoid per channel (``output="bernoulli"``, binary MNIST, as igul222) or a ``levels``-way
  softmax per channel (``"categorical"``, sec. 2.2's 256-way softmax).
* Diagonal BiLSTM: the right-to-left output shifted down one row (igul222; the carpedm20 port
  zeroes the last row instead, a causality bug).
* Zero initial LSTM states (the paper learns them; igul222 learns c0/h0 from zeros).
* Optimizer: Adam 1e-3 with elementwise gradient clipping at 1 (igul222's, ``grad_clip``) by
  default; it reaches ~94 nats on binarized MNIST in ~4 CPU minutes (presets below). It was not
  compared with RMSProp (paper sec. 5.2, no learning rate given), which the ``paper`` preset
  uses with batch 16 as sec. 5.2.

Pixels: images in [-1, 1]. Binary data is -1 / +1 (on = +1): target ``x > 0``, network input
the snapped +-1 image. 8-bit data: level ``round((x + 1) (levels - 1) / 2)``; network input
the level back in [-1, 1]. The network maps model-range images to logits
``(B, H, W, C)`` (bernoulli) or ``(B, H, W, C, levels)`` (categorical).

Sampling (:meth:`PixelRNN.sample`, :meth:`PixelRNN.complete`) is one ``tf.function`` with an
in-graph loop over the H*W*C positions, Gumbel-max / logistic noise drawn up front from the
seed, so a seed fixes the samples. Export one step (the network), the loop on the host.

Element spec: images ``(B, H, W, C)`` in [-1, 1], or ``(images, labels)`` (labels ignored).
"""

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from tfgan_models.inputs import GeneratorInput
from tfgan_models.layers.autoregressive import DiagonalBiLSTM, MaskedConv2D, RowLSTM
from tfgan_models.models.generative import GenerativeModel
from tfgan_models.registry import optimizer, register_variant

ARCHITECTURES = ("diagonal_bilstm", "row_lstm", "pixelcnn")
OUTPUTS = ("bernoulli", "categorical")


def pixelrnn_network(data_shape, architecture="diagonal_bilstm", hidden=16, layers=7, output="bernoulli",
                     levels=256, head=None, name="generator"):
    """Images ``(B, H, W, C)`` in [-1, 1] -> logits ``(B, H, W, C)`` or ``(B, H, W, C, levels)``."""
    h_, w_, c_ = (int(d) for d in data_shape)
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {ARCHITECTURES}, received {architecture!r}.")
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {OUTPUTS}, received {output!r}.")
    if hidden % c_:
        raise ValueError(f"hidden ({hidden}) must be divisible by the {c_} colour channels.")
    head = int(head or 2 * hidden)
    mask = lambda f, k, t="B", n=None: MaskedConv2D(f, k, t, c_, name=n)  # noqa: E731
    images = keras.Input(data_shape, name="images")
    x = mask(2 * hidden, 7, "A", "conv_7x7_a")(images)  # (B, H, W, 2h)
    for i in range(int(layers)):
        if architecture == "pixelcnn":
            y = mask(hidden, 1, n=f"block{i}_in")(keras.layers.ReLU()(x))
            y = mask(hidden, 3, n=f"block{i}_3x3")(keras.layers.ReLU()(y))
            y = keras.layers.ReLU()(y)
        elif architecture == "row_lstm":
            y = RowLSTM(hidden, c_, name=f"row_lstm{i}")(x)  # (B, H, W, h)
        else:
            y = DiagonalBiLSTM(hidden, c_, name=f"diagonal_bilstm{i}")(x)
        x = keras.layers.Add(name=f"residual{i}")([x, mask(2 * hidden, 1, n=f"block{i}_out")(y)])
    x = mask(head, 1, n="head")(keras.layers.ReLU()(x))
    k = c_ if output == "bernoulli" else c_ * int(levels)
    logits = mask(k, 1, n="logits")(keras.layers.ReLU()(x))  # (B, H, W, C [* levels])
    if output == "categorical":
        logits = keras.layers.Reshape((h_, w_, c_, int(levels)), name="per_channel")(logits)
    return keras.Model(images, logits, name=name)


# Sized for `tfgan train pixelrnn --preset X` in <= ~18 min on a shared 2-core CPU, batch 32: measured
# ~0.33 s/step (Diagonal BiLSTM h16 x2), ~0.15-0.2 s (Row LSTM h32 x2, PixelCNN h32 x8), plus ~1-2 min per
# epoch for the 64-sample grid (784 network passes), hence 3 long epochs. Pilot, DBiLSTM h16 x2:
# 95.6 nats on 1,000 test images after 300 steps, 93.6 after 600 (published 79.20 at 7 layers).
def _cosine_adam(steps, learning_rate=1e-3, clip=1.0):
    """Preset optimizers: Adam with igul222's elementwise clip and a cosine decay to 5% over ``steps``."""
    schedule = {"module": "keras.optimizers.schedules", "class_name": "CosineDecay",
                "config": {"initial_learning_rate": learning_rate, "decay_steps": int(steps), "alpha": 0.05}}
    return {"generator": optimizer("Adam", learning_rate=schedule, clipvalue=clip)}


PRESETS = {
    # demo: Diagonal BiLSTM, 2 residual layers of h=16 (the paper's MNIST width), Adam 1e-3 with clip 1 and a
    # cosine decay to 5% over the run (no schedule in the paper; ~1 nat over a constant rate here), ~17 CPU minutes
    "demo": dict(data="binarized_mnist", data_shape=(28, 28, 1), architecture="diagonal_bilstm", hidden=16,
                 layers=2, batch_size=32, epochs=3, steps_per_epoch=1000, optimizers=_cosine_adam(3000)),
    # row_lstm: the Row LSTM is ~2x cheaper per step: wider (h=32), more steps
    "row_lstm": dict(data="binarized_mnist", data_shape=(28, 28, 1), architecture="row_lstm", hidden=32,
                     layers=2, batch_size=32, epochs=3, steps_per_epoch=1400),
    # pixelcnn: 7x7 A + 8 residual 3x3 B blocks of h=32 (enough depth to cover the digit above); ~3x cheaper per
    # step than the Diagonal BiLSTM: more steps, the same cosine decay
    "pixelcnn": dict(data="binarized_mnist", data_shape=(28, 28, 1), architecture="pixelcnn", hidden=32,
                     layers=8, batch_size=32, epochs=3, steps_per_epoch=2500, optimizers=_cosine_adam(7500)),
    # paper: sec. 5 MNIST, Diagonal BiLSTM 7 layers h=16, RMSProp, batch 16 (for a GPU; the paper gives no
    # learning rate: Keras's default, with igul222's elementwise clip at 1)
    "paper": dict(data="binarized_mnist", data_shape=(28, 28, 1), architecture="diagonal_bilstm", hidden=16,
                  layers=7, batch_size=16, epochs=50,
                  optimizers={"generator": optimizer("RMSprop", learning_rate=1e-3, clipvalue=1.0)}),
    # digits: binarized 8x8 digits (1,260 train; the recipes' CPU protocol: h16, 2 layers, Adam 1e-3, batch 32);
    # the bench sets architecture= to compare the three. About a minute on a 2-core CPU
    "digits": dict(data="binarized_digits", data_shape=(8, 8, 1), architecture="diagonal_bilstm", hidden=16,
                   layers=2, batch_size=32, epochs=30, steps_per_epoch=40),
    # tiny: test size
    "tiny": dict(data="binarized_digits", data_shape=(8, 8, 1), architecture="diagonal_bilstm", hidden=4,
                 layers=1, batch_size=8, epochs=1, steps_per_epoch=2),
}


@keras.saving.register_keras_serializable(package="tfgan_models")
@register_variant("pixelrnn", PRESETS)
class PixelRNN(GenerativeModel):
    """PixelRNN / PixelCNN: exact likelihood by an autoregressive network (van den Oord et al. 2016).

    Args:
        architecture: ``"diagonal_bilstm"``, ``"row_lstm"`` or ``"pixelcnn"``.
        data_shape: ``(H, W, C)``.
        hidden: ``h``: LSTM units / PixelCNN block width (residual streams carry ``2h``).
        layers: recurrent layers / residual blocks.
        output: ``"bernoulli"`` (binary images) or ``"categorical"`` (``levels``-way softmax).
        levels: intensity levels of the categorical output (256 for 8-bit images).
        head: width of the output 1x1 layer (default ``2 * hidden``).
        grad_clip: elementwise gradient clip of the default optimizer (``None``: none).
        generator: optional network replacing :func:`pixelrnn_network`.
        **kwargs: ``seed``, ``ema_decay``, ...; see :class:`GenerativeModel`.
    """

    loss_names = ("nll", "bits_per_dim")
    jit_compile_note = "XLA ran at 0.12x the plain step on CPU at demo size (docs/bench/xla.json)"
    sample_grid_n = 16  # a 28x28 grid costs 784 network passes: 16 samples per epoch, not 64
    validation_images = 2000  # of the validation split, scored after every epoch (val_nll, val_bits_per_dim)

    def __init__(self, architecture="diagonal_bilstm", data_shape=(28, 28, 1), hidden=16, layers=7,
                 output="bernoulli", levels=256, head=None, grad_clip=1.0, generator=None, **kwargs):
        data_shape = tuple(int(d) for d in data_shape)
        if len(data_shape) != 3:
            raise ValueError(f"data_shape must be (H, W, C), received {data_shape!r}.")
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, received {output!r}.")
        if generator is None:
            generator = pixelrnn_network(data_shape, architecture, hidden, layers, output, levels, head)
        logits_shape = data_shape + ((int(levels),) if output == "categorical" else ())
        # The base checks the network's output against data_shape; the categorical logits have an extra
        # axis, so it checks the logits shape, and data_shape is then the image shape.
        super().__init__(generator=generator, data_shape=logits_shape, **kwargs)
        self.data_shape = data_shape
        self.architecture, self.hidden, self.layers_count = architecture, int(hidden), int(layers)
        self.output_type, self.levels, self.head = output, int(levels), head
        self.grad_clip = None if grad_clip is None else float(grad_clip)
        self._sampler = None

    def get_config(self):
        return {**super().get_config(), "architecture": self.architecture, "hidden": self.hidden,
                "layers": self.layers_count, "output": self.output_type, "levels": self.levels, "head": self.head,
                "grad_clip": self.grad_clip}

    def generator_inputs(self):
        return [GeneratorInput.image("images", self.data_shape[:3])]

    def default_optimizers(self):
        clip = {} if self.grad_clip is None else {"clipvalue": self.grad_clip}
        return {"generator": keras.optimizers.Adam(1e-3, **clip)}

    # ------------------------------------------------------------ likelihood
    def prepare(self, images):
        """Images in [-1, 1] -> ``(network input, targets)``: snapped images and {0, 1} / levels."""
        x = ops.convert_to_tensor(images, "float32")
        if self.output_type == "bernoulli":
            on = ops.cast(x > 0.0, "float32")
            return 2.0 * on - 1.0, on
        top = float(self.levels - 1)
        level = ops.clip(ops.round((x + 1.0) * (top / 2.0)), 0.0, top)
        return level * (2.0 / top) - 1.0, ops.cast(level, "int32")

    def logits(self, images, training=False):
        """Logits of every position given the pixels before it: (B, H, W, C[, levels]).

        The trained network when ``training``, else the inference one (the EMA network when enabled)."""
        net = self.generator if training else self.inference_generator
        return net(self.prepare(images)[0], training=training)

    def _nll(self, images, training=False):
        target = self.prepare(images)[1]
        logits = ops.cast(self.logits(images, training=training), "float32")
        if self.output_type == "bernoulli":
            per_dim = tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=logits)
        else:
            per_dim = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=target, logits=logits)
        return ops.sum(ops.reshape(per_dim, (ops.shape(per_dim)[0], -1)), axis=1)  # (B,) nats

    def nll(self, images):
        """Negative log-likelihood in nats per image, float32 ``(B,)``."""
        return self._nll(images)

    def bits_per_dim(self, nll):
        return nll / (float(np.prod(self.data_shape)) * math.log(2.0))

    def train_step(self, data):
        # 1. the images (labels, if any, are ignored)
        # 2. per-image NLL under the tape (targets are the snapped images themselves); loss = its mean
        # 3. one update of the network (and of its EMA, when enabled); 4. track NLL in nats per image and in bits per dimension
        images = data[0] if isinstance(data, (tuple, list)) else data
        with tf.GradientTape() as tape:
            nll = self._nll(images, training=True)
            loss = ops.mean(nll)
        self.apply_gradients("generator", tape, loss)
        self.update_ema()
        return self.track(nll=loss, bits_per_dim=self.bits_per_dim(loss))

    def test_step(self, data):
        images = data[0] if isinstance(data, (tuple, list)) else data
        nll = ops.mean(self._nll(images))
        return self.track(nll=nll, bits_per_dim=self.bits_per_dim(nll))

    def validation_data(self, spec):
        """The runs hook: the first ``validation_images`` of ``spec``'s validation split (``binarized_mnist``
        -> ``binarized_mnist:valid``), or ``None`` when the spec has none. The test split is never touched."""
        from tfgan_models.data import load

        kind = str(spec).split(":")[0]
        if kind not in ("binarized_mnist", "binarized_digits"):
            return None
        batch = min(500, self.validation_images)
        return load(f"{kind}:valid", batch_size=batch, shuffle=False, drop_remainder=False).take(
            -(-self.validation_images // batch))

    # -------------------------------------------------------------- sampling
    def _sample_graph(self, canvas, noise, start):
        """Fills positions ``start ..`` of ``canvas`` in raster then channel order."""
        h_, w_, c_ = self.data_shape
        total = h_ * w_ * c_
        net = self.inference_generator
        for i in tf.range(start, total):
            r, col, ch = i // (w_ * c_), (i // c_) % w_, i % c_
            logits = net(canvas, training=False)[:, r, col, ch]  # (n,) or (n, levels)
            if self.output_type == "bernoulli":  # logistic noise: P(l > log u - log(1 - u)) = sigmoid(l)
                value = tf.where(logits > noise[:, r, col, ch], 1.0, -1.0)
            else:  # Gumbel-max
                level = tf.cast(tf.argmax(logits + noise[:, r, col, ch], axis=-1), "float32")
                value = level * (2.0 / (self.levels - 1)) - 1.0
            here = tf.reshape(tf.one_hot(i, total), (1, h_, w_, c_))
            canvas = canvas * (1.0 - here) + value[:, None, None, None] * here
        return canvas

    def _fill(self, canvas, start, seed):
        if self._sampler is None:
            self._sampler = tf.function(self._sample_graph, reduce_retracing=True)
        n = int(canvas.shape[0])
        seed = np.random.randint(2**31 - 1) if seed is None else int(seed)
        shape = (n, *self.data_shape) + ((self.levels,) if self.output_type == "categorical" else ())
        u = tf.random.stateless_uniform(shape, seed=[seed, 0], minval=1e-7, maxval=1.0 - 1e-7)
        noise = tf.math.log(u) - tf.math.log1p(-u) if self.output_type == "bernoulli" else -tf.math.log(-tf.math.log(u))
        return self._sampler(canvas, noise, tf.constant(start, "int32")).numpy().astype("float32")

    def sample(self, n, seed=None):
        """``n`` images in [-1, 1], drawn pixel by pixel and channel by channel."""
        if n is None or int(n) < 1:
            raise ValueError(f"sample() needs n >= 1, received {n!r}.")
        return self._fill(tf.zeros((int(n), *self.data_shape)), 0, seed)

    def complete(self, images, rows=None, seed=None):
        """Keeps the top ``rows`` rows of each image (snapped to the data's values) and samples the rest."""
        images = np.asarray(images, "float32")
        if images.ndim != 4 or tuple(images.shape[1:]) != self.data_shape:
            raise ValueError(f"complete() takes images (N, {', '.join(map(str, self.data_shape))}), "
                             f"received {images.shape}.")
        h_, w_, c_ = self.data_shape
        rows = h_ // 2 if rows is None else int(rows)
        if not 0 <= rows <= h_:
            raise ValueError(f"rows must be in [0, {h_}], received {rows}.")
        return self._fill(self.prepare(images)[0], rows * w_ * c_, seed)

    def generate(self, n=None, seed=None, batch_size=None, truncation=None, **inputs):
        """Samples (``n``) or completions of ``images=`` (top half kept; ``rows=``), in [-1, 1]."""
        if truncation is not None:
            raise ValueError("PixelRNN has no z to truncate.")
        if inputs.get("images") is not None:
            return self.complete(inputs["images"], rows=inputs.get("rows"), seed=seed)
        return self.sample(n, seed)
