"""Layers of BigGAN (Brock et al. 2018, arXiv:1809.11096) and the papers it builds on.

* :class:`ConditionalBatchNorm`: batch norm without its own affine, then
  ``x_hat * (1 + gain(c)) + bias(c)`` with ``gain`` and ``bias`` linear maps of
  the conditioning vector ``c`` (BigGAN sec. 3: the shared class embedding
  concatenated with a chunk of z; authors' ``layers.py:ccbn``).
* :class:`SelfAttention`: SAGAN's attention block (Zhang et al. 2018,
  arXiv:1805.08318) as in the authors' ``layers.py:Attention``: 1x1 theta / phi
  / g projections to C/8, C/8, C/2 channels, phi and g max-pooled 2x2,
  ``x + gamma * o(g softmax(theta^T phi))`` with ``gamma`` starting at 0.
* :class:`Projection`: the projection discriminator head (Miyato & Koyama 2018,
  arXiv:1802.05637): ``linear(h) + <embed(y), h>``.
* :class:`OrthogonalRegularizer`: BigGAN sec. 3.1,
  ``R_beta(W) = beta * ||W^T W * (1 - I)||_F^2`` with W flattened to
  ``(fan_in, out)`` (each output filter one column). The authors' ``utils.ortho``
  adds ``2 beta (W W^T * (1 - I)) W`` to the gradient, half the gradient of the
  paper's formula; this layer follows the paper (its gradient is ``4 beta ...``).
* :func:`sn`: spectral normalisation (Miyato et al. 2018, arXiv:1802.05957)
  through Keras's ``SpectralNormalization``. In training it runs one power
  iteration and *stores* ``W / sigma`` in the kernel (no gradient through
  sigma, like TF-GAN and unlike the PyTorch hook), so the stored kernel is
  the normalised one: inference and export use it as a plain constant.

Every layer runs in TFLite with builtin ops (GATHER, FULLY_CONNECTED, MUL,
ADD, BATCH_MATMUL, SOFTMAX, MAX_POOL_2D, CONV_2D).
"""

import keras
from keras import ops

from tfgan_models.layers.conditioning import OneHot


def sn(layer, power_iterations=1):
    """``layer`` (Conv2D, Dense, Embedding) with spectral normalisation."""
    return keras.layers.SpectralNormalization(layer, power_iterations=power_iterations, name=f"sn_{layer.name}")


@keras.saving.register_keras_serializable(package="tfgan_models")
class OrthogonalRegularizer(keras.regularizers.Regularizer):
    """``beta * ||W^T W * (1 - I)||_F^2`` (BigGAN sec. 3.1), W reshaped to ``(-1, out)``.

    Only the off-diagonal of the Gram matrix is penalised: filters are pushed
    towards orthogonality without constraining their norms.
    """

    def __init__(self, beta=1e-4):
        if float(beta) < 0:
            raise ValueError(f"beta must be >= 0, received {beta!r}.")
        self.beta = float(beta)

    def __call__(self, kernel):
        w = ops.reshape(kernel, (-1, kernel.shape[-1]))  # (fan_in, out)
        gram = ops.matmul(ops.transpose(w), w)  # (out, out)
        off_diagonal = gram * (1.0 - ops.eye(gram.shape[0], dtype=gram.dtype))
        return self.beta * ops.sum(ops.square(off_diagonal))

    def get_config(self):
        return {"beta": self.beta}


@keras.saving.register_keras_serializable(package="tfgan_models")
class ConditionalBatchNorm(keras.layers.Layer):
    """``[x (B, H, W, C), c (B, D)] -> BN(x) * (1 + gain(c)) + bias(c)``.

    The normalisation has no affine of its own; ``gain`` and ``bias`` are
    spectrally normalised linear maps without bias (authors' ``ccbn``).
    ``synchronized=True`` computes the batch statistics across replicas under
    ``tf.distribute`` (BigGAN's cross-replica batch norm).
    """

    def __init__(self, momentum=0.9, epsilon=1e-5, synchronized=False, kernel_initializer="orthogonal",
                 spectral_norm=True, **kwargs):
        super().__init__(**kwargs)
        self.momentum, self.epsilon, self.synchronized = float(momentum), float(epsilon), bool(synchronized)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.spectral_norm = bool(spectral_norm)
        self.norm = keras.layers.BatchNormalization(momentum=self.momentum, epsilon=self.epsilon, center=False,
                                                    scale=False, synchronized=self.synchronized, name="bn")

    def build(self, input_shape):
        x_shape, c_shape = input_shape
        channels = int(x_shape[-1])

        def linear(name):
            layer = keras.layers.Dense(channels, use_bias=False, kernel_initializer=self.kernel_initializer,
                                       name=name)
            return sn(layer) if self.spectral_norm else layer

        self.gain, self.bias = linear("gain"), linear("bias")
        self.norm.build(x_shape)
        self.gain.build(c_shape)
        self.bias.build(c_shape)

    def call(self, inputs, training=None):
        x, c = inputs
        x_hat = self.norm(x, training=training)
        gain = 1.0 + ops.cast(self.gain(c, training=training), x_hat.dtype)  # (B, C)
        bias = ops.cast(self.bias(c, training=training), x_hat.dtype)
        return x_hat * gain[:, None, None, :] + bias[:, None, None, :]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon,
                "synchronized": self.synchronized, "spectral_norm": self.spectral_norm,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


@keras.saving.register_keras_serializable(package="tfgan_models")
class SelfAttention(keras.layers.Layer):
    """SAGAN self-attention (Zhang et al. 2018) as BigGAN's authors wrote it; ``gamma`` starts at 0,
    so the block is the identity at initialisation and the network learns how much to attend."""

    def __init__(self, kernel_initializer="orthogonal", spectral_norm=True, **kwargs):
        super().__init__(**kwargs)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.spectral_norm = bool(spectral_norm)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        if channels % 8:
            raise ValueError(f"SelfAttention needs channels divisible by 8, received {channels}.")

        def conv(filters, name):
            layer = keras.layers.Conv2D(filters, 1, use_bias=False, kernel_initializer=self.kernel_initializer,
                                        name=name)
            return sn(layer) if self.spectral_norm else layer

        self.theta, self.phi = conv(channels // 8, "theta"), conv(channels // 8, "phi")
        self.g, self.o = conv(channels // 2, "g"), conv(channels, "o")
        for layer in (self.theta, self.phi, self.g):
            layer.build(input_shape)
        self.o.build((*input_shape[:-1], channels // 2))
        self.gamma = self.add_weight(shape=(), initializer="zeros", name="gamma")

    def call(self, x, training=None):
        _, h, w, c = x.shape
        theta = ops.reshape(self.theta(x, training=training), (-1, h * w, c // 8))  # (B, N, C/8)
        phi = ops.reshape(ops.max_pool(self.phi(x, training=training), 2, 2), (-1, h * w // 4, c // 8))
        g = ops.reshape(ops.max_pool(self.g(x, training=training), 2, 2), (-1, h * w // 4, c // 2))
        beta = ops.softmax(ops.matmul(theta, ops.transpose(phi, (0, 2, 1))), axis=-1)  # (B, N, N/4)
        attended = ops.reshape(ops.matmul(beta, g), (-1, h, w, c // 2))
        return x + ops.cast(self.gamma, x.dtype) * self.o(attended, training=training)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "spectral_norm": self.spectral_norm,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


@keras.saving.register_keras_serializable(package="tfgan_models")
class Projection(keras.layers.Layer):
    """``[h (B, D), labels (B,)] -> linear(h) + <embed(labels), h>`` (B, 1) (Miyato & Koyama 2018)."""

    def __init__(self, num_classes, kernel_initializer="orthogonal", spectral_norm=True, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.spectral_norm = bool(spectral_norm)

    def build(self, input_shape):
        h_shape, y_shape = input_shape
        linear = keras.layers.Dense(1, kernel_initializer=self.kernel_initializer, name="linear")
        # embed(y) as a bias-free linear map of one-hot y: the same (K, D) matrix as an Embedding, but
        # Keras's SpectralNormalization casts a wrapped layer's output to its input's dtype (int labels).
        embed = keras.layers.Dense(int(h_shape[-1]), use_bias=False, kernel_initializer=self.kernel_initializer,
                                   name="embed")
        self.linear, self.embed = (sn(linear), sn(embed)) if self.spectral_norm else (linear, embed)
        self.onehot = OneHot(self.num_classes, name="onehot")
        self.onehot.build(y_shape)  # Keras builds a model under tf.distribute only when every layer is built
        self.linear.build(h_shape)
        self.embed.build((*y_shape, self.num_classes))

    def call(self, inputs, training=None):
        h, labels = inputs
        embedded = self.embed(ops.cast(self.onehot(labels), h.dtype), training=training)  # (B, D)
        projection = ops.sum(embedded * h, axis=-1, keepdims=True)
        return self.linear(h, training=training) + projection

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], 1)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "spectral_norm": self.spectral_norm,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}
