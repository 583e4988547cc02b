"""BigGAN: Brock, Donahue & Simonyan 2018, "Large Scale GAN Training for High
Fidelity Natural Image Synthesis" (arXiv:1809.11096).

Followed: the authors' code, ajbrock/BigGAN-PyTorch (``BigGAN.py`` G_arch /
D_arch and forward, ``layers.py`` ccbn / Attention / SN, ``train_fns.py``,
``utils.py`` ema / ortho), where it and the paper agree; where they differ we
say which we took:

* G: z split into one chunk per block plus one (hierarchical z); chunk 0 goes
  through a linear layer to 4x4 maps, chunk i joins the shared class
  embedding to condition both batch norms of residual up-block i
  (:class:`~tfgan_models.layers.ConditionalBatchNorm`); self-attention at the
  resolutions in ``attention``; output BN (unconditional) -> ReLU -> 3x3 conv -> tanh.
* D: residual down-blocks (pre-activation after the first), ReLU, sum pooling,
  projection head ``linear(h) + <embed(y), h>``.
* Spectral norm on every G and D layer (the shared embedding excepted, as in the
  code); orthogonal init ("ortho") or N(0, 0.02) ("N02", the CIFAR script).
* Hinge loss; ``discriminator_steps`` D steps per G step, each on fresh real
  data; Adam(beta_1=0, beta_2=0.999); fake labels drawn uniformly.
* Orthogonal regularisation of G's convolution and linear kernels, beta = 1e-4
  (paper sec. 3.1) as a Keras regulariser, so :meth:`GenerativeModel.apply_gradients`
  adds it to the G step (the paper's formula; the authors' code adds half its
  gradient). The code also regularises the conditional-BN gain/bias maps and the
  attention projections; here they are left out (the shared embedding too, as there).
* EMA of G's weights (decay 0.9999) after ``ema_start`` G steps; batch-norm
  statistics are copied, and :meth:`BigGAN.standing_statistics` recomputes them
  for the EMA weights ("standing statistics", paper app. C.1).
* Truncation trick (paper sec. 3.1): ``generate(n, truncation=0.5)`` and the
  SavedModel's ``truncated`` signature resample |z_i| above the threshold.

Presets: ``paper`` (ImageNet 128x128: ch 96, z 120, shared 128, attention at
64, 2 D steps, G 5e-5 / D 2e-4, EMA from 20k; batch 2048 in the paper, 256
here, for GPUs), ``cifar`` (the authors' ``launch_cifar_ema.sh``: 4 D steps,
2e-4 both, batch 50, EMA from 1,000, no attention, no shared embedding or
hierarchical z, N02 init, no ortho), ``demo`` (real MNIST 32x32 on a CPU),
``tiny`` (tests).

Element spec: ``(images (B, H, W, C) in [-1, 1], labels int (B,))``.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from tfgan_models.layers import OneHot
from tfgan_models.layers.biggan import ConditionalBatchNorm, OrthogonalRegularizer, Projection, SelfAttention, sn
from tfgan_models.losses import hinge_discriminator_loss, hinge_generator_loss
from tfgan_models.models.conditional import ConditionalGANModel
from tfgan_models.registry import register_variant

# Channel multipliers of ch (BigGAN.py G_arch / D_arch). G: the 4x4 input, then each up-block's output;
# D: each block's output and whether it halves the size. 16 is ours: the 32 arch with one block fewer.
G_ARCH = {16: [4, 4, 4], 32: [4, 4, 4, 4], 64: [16, 16, 8, 4, 2], 128: [16, 16, 8, 4, 2, 1]}
D_ARCH = {16: ([4, 4, 4], [True, False, False]), 32: ([4, 4, 4, 4], [True, True, False, False]),
          64: ([1, 2, 4, 8, 16], [True] * 4 + [False]), 128: ([1, 2, 4, 8, 16, 16], [True] * 5 + [False])}


@keras.saving.register_keras_serializable(package="tfgan_models")
class Chunk(keras.layers.Layer):
    """``x[:, start:stop]``: one chunk of the hierarchical z."""

    def __init__(self, start, stop, **kwargs):
        super().__init__(**kwargs)
        self.start, self.stop = int(start), int(stop)

    def call(self, x):
        return x[:, self.start : self.stop]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.stop - self.start)

    def get_config(self):
        return {**super().get_config(), "start": self.start, "stop": self.stop}


@keras.saving.register_keras_serializable(package="tfgan_models")
class SumPool(keras.layers.Layer):
    """(B, H, W, C) -> (B, C): the sum over positions (BigGAN's D pools by summing, not averaging)."""

    def call(self, x):
        return ops.sum(x, axis=(1, 2))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


def _initializer(init):
    if init not in ("ortho", "N02"):
        raise ValueError(f"init must be 'ortho' or 'N02', received {init!r}.")
    return keras.initializers.Orthogonal() if init == "ortho" else keras.initializers.RandomNormal(0.0, 0.02)


def z_chunks(latent_dim, num_blocks, hierarchical):
    """Sizes of the z chunks: one for the input layer and one per block (hierarchical), or all of z."""
    if not hierarchical:
        return [latent_dim]
    if latent_dim % (num_blocks + 1):
        raise ValueError(f"hierarchical z splits latent_dim={latent_dim} into {num_blocks + 1} equal chunks "
                         f"(one for the input layer, one per block): use a multiple of {num_blocks + 1}.")
    return [latent_dim // (num_blocks + 1)] * (num_blocks + 1)


def biggan_generator(data_shape, latent_dim, num_classes, ch, shared_dim=128, hierarchical=True, attention=(),
                     init="ortho", ortho_beta=1e-4, cross_replica_bn=False):
    """G([z (B, latent_dim), labels (B,)]) -> images (B, H, W, C) in [-1, 1]."""
    h_out, _, channels = data_shape
    if h_out not in G_ARCH:
        raise ValueError(f"BigGAN builds {sorted(G_ARCH)} pixel images; received {tuple(data_shape)}.")
    widths = [m * ch for m in G_ARCH[h_out]]
    num_blocks = len(widths) - 1
    kw = dict(kernel_initializer=_initializer(init),
              kernel_regularizer=OrthogonalRegularizer(ortho_beta) if ortho_beta else None)
    z = keras.Input((latent_dim,), name="z")
    labels = keras.Input((), dtype="int32", name="labels")
    sizes = z_chunks(latent_dim, num_blocks, hierarchical)
    ends = np.cumsum(sizes)
    chunks = [Chunk(e - s, e, name=f"z_{i}")(z) for i, (s, e) in enumerate(zip(sizes, ends))]
    # The shared embedding is a plain lookup (no SN, no ortho): the code leaves it out of both.
    y = (keras.layers.Embedding(num_classes, shared_dim, embeddings_initializer=_initializer(init),
                                name="shared")(labels) if shared_dim else OneHot(num_classes, name="onehot")(labels))
    h = sn(keras.layers.Dense(4 * 4 * widths[0], **kw, name="linear"))(chunks[0])
    h = keras.layers.Reshape((4, 4, widths[0]))(h)
    for i in range(num_blocks):
        cond = keras.layers.Concatenate(name=f"cond_{i}")([y, chunks[i + 1]]) if hierarchical else y
        bn = dict(synchronized=cross_replica_bn, kernel_initializer=_initializer(init))
        x = keras.layers.UpSampling2D(2, name=f"block{i}_up_x")(h)
        h = keras.layers.ReLU()(ConditionalBatchNorm(**bn, name=f"block{i}_bn1")([h, cond]))
        h = sn(keras.layers.Conv2D(widths[i + 1], 3, padding="same", **kw, name=f"block{i}_conv1"))(
            keras.layers.UpSampling2D(2, name=f"block{i}_up_h")(h))
        h = keras.layers.ReLU()(ConditionalBatchNorm(**bn, name=f"block{i}_bn2")([h, cond]))
        h = sn(keras.layers.Conv2D(widths[i + 1], 3, padding="same", **kw, name=f"block{i}_conv2"))(h)
        x = sn(keras.layers.Conv2D(widths[i + 1], 1, **kw, name=f"block{i}_shortcut"))(x)
        h = keras.layers.Add(name=f"block{i}_out")([h, x])
        if h.shape[1] in attention:
            h = SelfAttention(kernel_initializer=_initializer(init), name=f"attention_{h.shape[1]}")(h)
    h = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, synchronized=cross_replica_bn, name="out_bn")(h)
    h = sn(keras.layers.Conv2D(channels, 3, padding="same", **kw, name="out_conv"))(keras.layers.ReLU()(h))
    images = keras.layers.Activation("tanh", dtype="float32", name="images")(h)  # float32 under mixed precision
    return keras.Model([z, labels], images, name="generator")


def biggan_discriminator(data_shape, num_classes, ch, attention=(), init="ortho"):
    """D([images, labels]) -> hinge logits (B, 1) (float32)."""
    size = data_shape[0]
    if size not in D_ARCH:
        raise ValueError(f"BigGAN builds {sorted(D_ARCH)} pixel images; received {tuple(data_shape)}.")
    multipliers, downsample = D_ARCH[size]
    kw = dict(kernel_initializer=_initializer(init))
    images = keras.Input(tuple(data_shape), name="images")
    labels = keras.Input((), dtype="int32", name="labels")
    h = images
    for i, (m, down) in enumerate(zip(multipliers, downsample)):
        width, x = m * ch, h
        h = keras.layers.ReLU()(h) if i else h  # pre-activation except in the first block
        h = sn(keras.layers.Conv2D(width, 3, padding="same", **kw, name=f"block{i}_conv1"))(h)
        h = sn(keras.layers.Conv2D(width, 3, padding="same", **kw, name=f"block{i}_conv2"))(keras.layers.ReLU()(h))
        h = keras.layers.AveragePooling2D(2)(h) if down else h
        shortcut = sn(keras.layers.Conv2D(width, 1, **kw, name=f"block{i}_shortcut"))
        if i == 0:  # the first block pools before its 1x1 conv, the others after
            x = shortcut(keras.layers.AveragePooling2D(2)(x) if down else x)
        else:
            x = keras.layers.AveragePooling2D(2)(shortcut(x)) if down else shortcut(x)
        h = keras.layers.Add(name=f"block{i}_out")([h, x])
        if h.shape[1] in attention:
            h = SelfAttention(kernel_initializer=_initializer(init), name=f"attention_{h.shape[1]}")(h)
    h = SumPool(name="sum_pool")(keras.layers.ReLU()(h))
    logits = Projection(num_classes, kernel_initializer=_initializer(init), dtype="float32", name="projection")(
        [h, labels])
    return keras.Model([images, labels], logits, name="discriminator")


PRESETS = {
    # paper: ImageNet 128x128 (sec. 4 and the authors' launch_BigGAN_bs256x8.sh) for GPUs; batch 2048 in the paper
    "paper": dict(data="tfds:imagenet2012", data_shape=(128, 128, 3), num_classes=1000, latent_dim=120, ch=96,
                  shared_dim=128, attention=[64], discriminator_steps=2, g_lr=5e-5, d_lr=2e-4, adam_epsilon=1e-6,
                  ema_decay=0.9999, ema_start=20000, batch_size=256, epochs=100),
    # cifar: ajbrock/BigGAN-PyTorch scripts/launch_cifar_ema.sh on tfds:cifar10, for a GPU (500 epochs there)
    "cifar": dict(data="tfds:cifar10", data_shape=(32, 32, 3), num_classes=10, latent_dim=128, ch=64, shared_dim=0,
                  hierarchical=False, attention=[], init="N02", ortho_beta=0.0, discriminator_steps=4, g_lr=2e-4,
                  d_lr=2e-4, adam_epsilon=1e-8, ema_decay=0.9999, ema_start=1000, batch_size=50, epochs=500),
    # demo: class-conditional real MNIST at 32x32 on a 2-core CPU (README: figures and time). 2,800 G steps:
    # the EMA averages ~100 steps (0.99; the paper's 0.9999 suits 100k+ steps) from step 1,000, with
    # standing statistics before each checkpoint (copied raw-G statistics cost the EMA ~1 point of accuracy)
    "demo": dict(data="mnist", data_shape=(32, 32, 1), num_classes=10, latent_dim=64, ch=8, shared_dim=32,
                 attention=[], discriminator_steps=2, g_lr=2e-4, d_lr=2e-4, adam_epsilon=1e-6, ema_decay=0.99,
                 ema_start=1000, standing_stats=2048, batch_size=64, epochs=14, steps_per_epoch=200),
    # tiny: test size
    "tiny": dict(data="digits", data_shape=(16, 16, 1), num_classes=10, latent_dim=12, ch=2, shared_dim=8,
                 attention=[16], discriminator_steps=2, ema_decay=0.9, ema_start=1, batch_size=8, epochs=1,
                 steps_per_epoch=2),
}


@keras.saving.register_keras_serializable(package="tfgan_models")
@register_variant("biggan", PRESETS)
class BigGAN(ConditionalGANModel):
    """BigGAN (Brock et al. 2018): class-conditional, hinge, SN, cBN, projection D, hierarchical z.

    Args:
        data_shape: ``(H, W, C)`` with H = W in 16, 32, 64, 128.
        latent_dim: size of z (a multiple of blocks + 1 when ``hierarchical``).
        num_classes: number of classes.
        ch: channel width; block widths are multiples of it (``G_ARCH`` / ``D_ARCH``).
        shared_dim: size of the shared class embedding (0: one-hot labels, no sharing).
        hierarchical: split z across the blocks.
        attention: resolutions with a self-attention block in G and D.
        init: ``"ortho"`` or ``"N02"``.
        ortho_beta: orthogonal regularisation strength on G (0: off).
        cross_replica_bn: batch statistics over all replicas under ``tf.distribute``.
        g_lr, d_lr, adam_epsilon: Adam(beta_1=0, beta_2=0.999) settings.
        standing_stats: with ``tfgan train``, recompute the inference generator's batch-norm statistics
            over this many samples before each checkpoint (0: off; see :meth:`standing_statistics`).
        collapse_patience: with ``tfgan train``, stop after this many epochs of collapse (D loss ~0,
            G loss rising), keeping the weights from before it (0: off; see ``CollapseDetector``).
        **kwargs: ``discriminator_steps``, ``ema_decay``, ``ema_start``, ``seed``; see :class:`GANModel`.
    """
    jit_compile_note = "XLA ran at 0.64x the plain step on CPU at demo size (docs/bench/xla.json)"

    def __init__(self, data_shape=(32, 32, 3), latent_dim=120, num_classes=10, ch=64, shared_dim=128,
                 hierarchical=True, attention=(), init="ortho", ortho_beta=1e-4, cross_replica_bn=False,
                 g_lr=5e-5, d_lr=2e-4, adam_epsilon=1e-6, standing_stats=0, collapse_patience=3, generator=None,
                 discriminator=None, **kwargs):
        data_shape = tuple(data_shape)
        self.ch, self.shared_dim, self.hierarchical, self.init = int(ch), int(shared_dim), bool(hierarchical), init
        self.attention = tuple(int(r) for r in attention)  # a tuple: Keras would track a list
        self.ortho_beta, self.cross_replica_bn = float(ortho_beta), bool(cross_replica_bn)
        self.g_lr, self.d_lr, self.adam_epsilon = float(g_lr), float(d_lr), float(adam_epsilon)
        self.standing_stats, self.collapse_patience = int(standing_stats), int(collapse_patience)
        if generator is None:
            generator = biggan_generator(data_shape, int(latent_dim), int(num_classes), self.ch, self.shared_dim,
                                         self.hierarchical, self.attention, init, self.ortho_beta,
                                         self.cross_replica_bn)
        if discriminator is None:
            discriminator = biggan_discriminator(data_shape, int(num_classes), self.ch, self.attention, init)
        kwargs.setdefault("discriminator_steps", 2)
        super().__init__(generator=generator, discriminator=discriminator, num_classes=num_classes,
                         data_shape=data_shape, latent_dim=latent_dim, **kwargs)

    def get_config(self):
        return {**super().get_config(), "ch": self.ch, "shared_dim": self.shared_dim,
                "hierarchical": self.hierarchical, "attention": list(self.attention), "init": self.init,
                "ortho_beta": self.ortho_beta, "cross_replica_bn": self.cross_replica_bn, "g_lr": self.g_lr,
                "d_lr": self.d_lr, "adam_epsilon": self.adam_epsilon, "standing_stats": self.standing_stats,
                "collapse_patience": self.collapse_patience}

    loss_names = ("d_loss", "g_loss", "d_real", "d_fake")  # d_real / d_fake: mean D logits of the last D step

    def discriminator_input_shapes(self):
        return [self.data_shape, ()]

    def default_optimizers(self):
        return {name: keras.optimizers.Adam(lr, beta_1=0.0, beta_2=0.999, epsilon=self.adam_epsilon)
                for name, lr in (("generator", self.g_lr), ("discriminator", self.d_lr))}

    def train_step(self, data):
        # 1. discriminator_steps D steps, each on fresh real (x, y) and fake G(z, y'), y' ~ U{classes}:
        #    descend E[relu(1 - D(x, y))] + E[relu(1 + D(G(z, y'), y'))] (hinge).
        # 2. G step on new z, y': descend -E[D(G(z, y'), y')] + ortho regulariser (added by apply_gradients).
        # 3. EMA of G after ema_start G steps; report the losses and the D margins.
        images, labels = self.unpack_labelled(data)
        for real, y in zip(self.real_batches(images), self.real_batches(labels)):
            batch = tf.shape(real)[0]
            y_fake = self.sample_labels(batch)
            fake = self.generator([self.latents(batch), y_fake], training=True)
            with tf.GradientTape() as tape:
                real_logits = self.discriminator([real, y], training=True)
                fake_logits = self.discriminator([fake, y_fake], training=True)
                d_loss = hinge_discriminator_loss(real_logits, fake_logits)
            self.apply_gradients("discriminator", tape, d_loss)
        y_fake = self.sample_labels(batch)
        with tf.GradientTape() as tape:
            fake = self.generator([self.latents(batch), y_fake], training=True)
            g_loss = hinge_generator_loss(self.discriminator([fake, y_fake], training=True))
        self.apply_gradients("generator", tape, g_loss)
        self.update_ema()
        return self.track(d_loss=d_loss, g_loss=g_loss, d_real=ops.mean(real_logits), d_fake=ops.mean(fake_logits))

    def standing_statistics(self, samples=2048, batch_size=256, seed=0, network=None):
        """Recomputes the batch-norm statistics of ``network`` (default: the inference generator).

        "Standing statistics" (paper app. C.1; authors' ``utils.accumulate_standing_stats``):
        the network runs in training mode on ``samples`` fresh (z, y) and each
        batch norm's moving mean and variance become the average of the batch
        statistics, so they match the weights in use (the EMA weights had the
        raw generator's statistics copied). Every other weight (spectral-norm
        kernels, power-iteration vectors) is restored afterwards.
        """
        network = network or self.inference_generator
        norms = [layer for layer in network._flatten_layers(include_self=False)
                 if isinstance(layer, keras.layers.BatchNormalization)]
        others = [w for w in network.weights if not any(w is v for n in norms for v in n.weights)]
        saved = [ops.convert_to_numpy(w) for w in others]
        momenta, trainable = [n.momentum for n in norms], network.trainable
        network.trainable = True  # Keras runs frozen batch norm in inference mode even when training=True
        try:
            for index, start in enumerate(range(0, int(samples), int(batch_size))):
                for norm in norms:  # momentum 1 - 1/(k+1): the moving average becomes the running mean
                    norm.momentum = index / (index + 1.0)
                n = min(int(batch_size), int(samples) - start)
                network(self.generator_arrays(n, seed=seed * 100003 + index, labels=np.random.RandomState(
                    seed + index).randint(self.num_classes, size=n)), training=True)
        finally:
            for norm, momentum in zip(norms, momenta):
                norm.momentum = momentum
            network.trainable = trainable
            for w, value in zip(others, saved):
                w.assign(value)
        return network
