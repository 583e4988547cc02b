"""CycleGAN: Zhu et al. 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent
Adversarial Networks" (ICCV 2017, arXiv:1703.10593).

Paper -> code (domains X = a, Y = b):
    * G: X -> Y is ``generator``; F: Y -> X is ``reverse_generator``. Both are the
      ResNet generator of appendix 7.2 (:func:`tfgan_models.models.translation.resnet_generator`):
      c7s1-64, d128, d256, R256 x 9 (6 below 256x256), u128, u64, c7s1-3;
      instance norm, reflect padding.
    * D_Y is ``discriminator`` (judges b), D_X is ``reverse_discriminator`` (judges a):
      70x70 PatchGANs with instance norm.
    * L_GAN: least squares (sec. 4): D minimises (D(y) - 1)^2 + D(G(x))^2 (halved,
      as in the authors' code), G minimises (D(G(x)) - 1)^2.
    * L_cyc = |F(G(x)) - x|_1 + |G(F(y)) - y|_1 with lambda_cycle = 10 (eq. 2, 3).
    * L_identity = |G(y) - y|_1 + |F(x) - x|_1 with weight 0.5 * lambda (sec. 5.2;
      ``identity_weight`` is the 0.5; 0 turns it off).
    * D is updated on a history of 50 generated images (sec. 4, Shrivastava et al.):
      :class:`ImagePool`.
    * Initialisation as the authors' ``init_weights(net, 'normal', 0.02)``: kernels ~ N(0, 0.02),
      norm gamma ~ N(1, 0.02), beta 0 (their instance norm is not affine; see
      :mod:`tfgan_models.models.translation` for that difference).
    * Adam(2e-4, beta_1 0.5), batch 1; the learning rate is constant for the
      first half of training and decays linearly to 0 over the second
      (100 + 100 epochs): :class:`tfgan_models.callbacks.LinearDecay`, which
      ``tfgan train`` adds for this variant; add it to your own ``fit`` calls.
"""

import keras
import tensorflow as tf
from keras import ops

from tfgan_models.losses import least_squares_discriminator_loss, least_squares_generator_loss, pixel_l1_loss
from tfgan_models.models.translation import (TranslationModel, at_work_size, patchgan_discriminator,
                                             resnet_generator)
from tfgan_models.registry import register_variant

POOL_SIZE = 50


class ImagePool:
    """The history of generated images of Shrivastava et al. 2017, as CycleGAN's code keeps it.

    Until ``size`` images are stored, each new image is stored and returned.
    Then each new image is, with probability 1/2, returned as is; otherwise a
    random stored image is returned and the new one takes its place. The
    buffer is a non-trainable weight of the model, so checkpoints keep it.

    Under ``tf.distribute`` every replica queries the whole global batch (its
    images and draws gathered from all replicas, in replica order) and keeps
    its own slice of the answer: each replica's copy of the history stays the
    single-device history, and N replicas train as one device would.
    """

    def __init__(self, model, name, size, image_shape):
        self.size = int(size)
        self.images = model.add_weight(name=f"{name}_images", shape=(self.size, *image_shape), initializer="zeros",
                                       trainable=False)
        self.count = model.add_weight(name=f"{name}_count", shape=(), initializer="zeros", dtype="int32",
                                      trainable=False)

    def query(self, model, images):
        if self.size == 0:
            return images
        out = []
        batch = images.shape[0]
        if batch is None:
            raise ValueError("the image history needs a static batch size (batch with drop_remainder=True).")
        coins = model.noise((batch,), distribution="uniform")
        slots = ops.cast(ops.floor(model.noise((batch,), distribution="uniform") * self.size), "int32")
        ctx = tf.distribute.get_replica_context()
        replicas = ctx.num_replicas_in_sync if ctx is not None else 1
        if replicas > 1:  # the global batch and its draws (model.noise gives each replica its slice)
            images, coins, slots = (ctx.all_gather(x, axis=0) for x in (images, coins, slots))
        # The history is updated image by image on tensors and written back once (one assign per
        # variable: assigns of distributed variables are slow to trace).
        stored, count = ops.convert_to_tensor(self.images), ops.convert_to_tensor(self.count)
        for i in range(batch * replicas):
            new = images[i]
            full = count >= self.size
            slot = tf.where(full, tf.minimum(slots[i], self.size - 1), tf.minimum(count, self.size - 1))
            old = ops.take(stored, slot, axis=0)
            swap = tf.logical_and(full, coins[i] < 0.5)
            out.append(tf.where(swap, old, new))
            keep_old = tf.logical_and(full, tf.logical_not(swap))
            stored = tf.tensor_scatter_nd_update(stored, [[slot]], [tf.where(keep_old, old, new)])
            count = tf.minimum(count + 1, self.size)
        self.images.assign(stored)
        self.count.assign(count)
        out = ops.stack(out)  # (batch * replicas, H, W, C)
        if replicas > 1:  # this replica's slice, with its static shape
            out = tf.slice(out, [ctx.replica_id_in_sync_group * batch] + [0] * (len(out.shape) - 1),
                           [batch] + list(out.shape[1:]))
        return out


PRESETS = {
    # paper: 256x256, ResNet-9 G, batch 1, 200 epochs (100 constant + 100 decaying), identity 0.5
    "paper": dict(data="tfds:cycle_gan/horse2zebra", data_shape=(256, 256, 3), filters=64, blocks=9,
                  d_filters=64, batch_size=1, epochs=200),
    # demo: learn digits -> inverted digits from unpaired images (the benchmark's known mapping), a few
    # CPU minutes; identity loss off, since it pulls G towards the identity this task must leave
    "demo": dict(data="unpaired:digits,inverted:digits", data_shape=(32, 32, 3), filters=16, blocks=3,
                 d_filters=32, identity_weight=0.0, batch_size=4, epochs=10, steps_per_epoch=100),
    # mobile: slim generator with depthwise-separable residual blocks (<= 3 GMACs at 256x256)
    "mobile": dict(data="unpaired:digits,inverted:digits", data_shape=(32, 32, 3), filters=16, blocks=6,
                   separable=True, d_filters=32, identity_weight=0.0, batch_size=4, epochs=10,
                   steps_per_epoch=100),
    # smile / glasses: FaceApp-style editors on rendered faces (tfgan_models[faces]), the mobile generator
    # at 128x128 (exported at 256x256: it edits at 128 and adds the upsampled change); identity loss on,
    # as the paper's photo tasks, because everything but the mouth / the glasses must stay; the paper's
    # batch size 1 (6,000 steps, ~14 CPU minutes: batch 4 saw no more images a second here)
    "smile": dict(data="avatars", domains="Smile,-Smile", data_shape=(128, 128, 3), filters=16, blocks=6,
                  separable=True, d_filters=32, work_size=128, batch_size=1, epochs=10, steps_per_epoch=600),
    "glasses": dict(data="avatars", domains="Glasses,-Glasses", data_shape=(128, 128, 3), filters=16, blocks=6,
                    separable=True, d_filters=32, work_size=128, batch_size=1, epochs=10, steps_per_epoch=600),
    # tiny: test size
    "tiny": dict(data="unpaired:photos,hue:photos", data_shape=(16, 16, 3), filters=4, blocks=1, d_filters=4,
                 d_layers=1, pool_size=4, batch_size=2, epochs=1, steps_per_epoch=2),
}


@keras.saving.register_keras_serializable(package="tfgan_models")
@register_variant("cyclegan", PRESETS)
class CycleGAN(TranslationModel):
    """CycleGAN (Zhu et al. 2017): G: a -> b, F: b -> a, D_Y, D_X; LSGAN + cycle + identity losses.

    Args:
        data_shape: training crops ``(S, S, 3)``, S a multiple of 4.
        filters, blocks: ResNet generator width (64) and residual blocks (9; 6 below 256x256).
        separable: depthwise-separable residual blocks (the ``mobile`` preset).
        d_filters, d_layers: PatchGAN width (64) and stride-2 layers (3: 70x70).
        cycle_weight: lambda (10). identity_weight: the identity loss weight as a fraction of lambda (0.5).
        pool_size: generated-image history per discriminator (50).
        work_size: run the generators at this side and add their upsampled change to images of any
            size (:func:`~tfgan_models.models.translation.at_work_size`; the face-editor presets).
        **kwargs: ``seed``; see :class:`TranslationModel`.
    """

    loss_names = ("d_loss", "g_loss", "adversarial_loss", "cycle_loss", "identity_loss")
    jit_compile_note = "XLA ran at 0.78x the plain step on CPU at demo size (docs/bench/xla.json)"
    data_kind = "unpaired"
    two_way = True
    default_preview = "unpaired:digits,inverted:digits"
    lr_schedule = "linear_decay"  # constant for the first half of the epochs, then linearly to 0

    def __init__(self, data_shape=(256, 256, 3), filters=64, blocks=9, separable=False, d_filters=64, d_layers=3,
                 cycle_weight=10.0, identity_weight=0.5, pool_size=POOL_SIZE, work_size=None, generator=None,
                 discriminator=None, reverse_generator=None, reverse_discriminator=None, **kwargs):
        if int(data_shape[0]) % 4:
            raise ValueError(f"CycleGAN crops must be a multiple of 4, received {data_shape[0]}.")

        def build_g(name):
            network = resnet_generator(3, filters, blocks, separable=separable, name=name)
            return at_work_size(network, work_size, name) if work_size else network

        build_d = lambda name: patchgan_discriminator(3, d_filters, d_layers, name=name)  # noqa: E731
        super().__init__(
            generator=generator if generator is not None else build_g("G"),
            discriminator=discriminator if discriminator is not None else build_d("D_Y"),
            reverse_generator=reverse_generator if reverse_generator is not None else build_g("F"),
            reverse_discriminator=reverse_discriminator if reverse_discriminator is not None else build_d("D_X"),
            data_shape=data_shape, **kwargs)
        self.filters, self.blocks, self.separable = filters, blocks, bool(separable)
        self.d_filters, self.d_layers = d_filters, d_layers
        self.cycle_weight, self.identity_weight = float(cycle_weight), float(identity_weight)
        self.pool_size = int(pool_size)
        self.work_size = int(work_size) if work_size else None
        self.pool_a = ImagePool(self, "pool_a", self.pool_size, self.data_shape)
        self.pool_b = ImagePool(self, "pool_b", self.pool_size, self.data_shape)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "blocks": self.blocks, "separable": self.separable,
                "d_filters": self.d_filters, "d_layers": self.d_layers, "cycle_weight": self.cycle_weight,
                "identity_weight": self.identity_weight, "pool_size": self.pool_size,
                "work_size": self.work_size}

    def train_step(self, data):
        # 1. G step: fake_b = G(a), fake_a = F(b); descend (D_Y(fake_b) - 1)^2 + (D_X(fake_a) - 1)^2
        #    + lambda * (|F(fake_b) - a| + |G(fake_a) - b|) + 0.5 * lambda * (|G(b) - b| + |F(a) - a|).
        # 2. D step on the image histories: D_Y: 1/2 [(D_Y(b) - 1)^2 + D_Y(pool_b(fake_b))^2], D_X alike.
        a, b = self.unpack_pair(data)
        G, F, D_Y, D_X = self.generator, self.reverse_generator, self.discriminator, self.reverse_discriminator
        with tf.GradientTape() as tape:
            fake_b, fake_a = G(a, training=True), F(b, training=True)
            adversarial_loss = 2.0 * (least_squares_generator_loss(D_Y(fake_b, training=True))
                                      + least_squares_generator_loss(D_X(fake_a, training=True)))
            cycle_loss = pixel_l1_loss(a, F(fake_b, training=True)) + pixel_l1_loss(b, G(fake_a, training=True))
            identity_loss = ops.zeros(())
            if self.identity_weight:
                identity_loss = pixel_l1_loss(b, G(b, training=True)) + pixel_l1_loss(a, F(a, training=True))
            g_loss = (adversarial_loss + self.cycle_weight * cycle_loss
                      + self.identity_weight * self.cycle_weight * identity_loss)
        self.apply_gradients(self.g_optimizer, tape, g_loss, self.generator_variables)
        fake_b, fake_a = self.pool_b.query(self, fake_b), self.pool_a.query(self, fake_a)
        with tf.GradientTape() as tape:
            d_loss = (least_squares_discriminator_loss(D_Y(b, training=True), D_Y(fake_b, training=True))
                      + least_squares_discriminator_loss(D_X(a, training=True), D_X(fake_a, training=True)))
        self.apply_gradients(self.d_optimizer, tape, d_loss, self.discriminator_variables)
        return self.track(d_loss=d_loss, g_loss=g_loss, adversarial_loss=adversarial_loss, cycle_loss=cycle_loss,
                          identity_loss=identity_loss)
