"""`GANModel`: the plumbing every GAN variant shares, on top of :class:`GenerativeModel`.

The algorithms live in the subclasses, one paper per file; this file holds
nothing a paper would describe.
"""

import keras
from keras import ops

from tfgan_models.inputs import GeneratorInput
from tfgan_models.models.generative import GenerativeModel
from tfgan_models.models.networks import check_network

Z_PRIORS = "normal, uniform (U(-1, 1)), uniform:LOW,HIGH, truncated:THRESHOLD"


def z_input(latent_dim, prior="normal", name="z"):
    """The ``GeneratorInput`` of z for a prior name: ``normal``, ``uniform`` (U(-1, 1)),
    ``uniform:LOW,HIGH`` or ``truncated:THRESHOLD``."""
    kind, _, arg = str(prior).partition(":")
    try:
        if kind == "normal" and not arg:
            return GeneratorInput.normal(name, latent_dim)
        if kind == "uniform":
            low, high = (float(v) for v in arg.split(",")) if arg else (-1.0, 1.0)
            if low < high:
                return GeneratorInput.uniform(name, latent_dim, low, high, role="noise")
        if kind == "truncated" and float(arg) > 0:
            return GeneratorInput.truncated_normal(name, latent_dim, float(arg))
    except ValueError:
        pass
    raise ValueError(f"unknown z prior {prior!r}; known: {Z_PRIORS}.")


def packed_shape(data_shape, packing):
    """The discriminator's input shape when it judges ``packing`` samples at once: last axis times ``packing``."""
    shape = tuple(int(d) for d in data_shape)
    return shape[:-1] + (shape[-1] * int(packing),)


@keras.saving.register_keras_serializable(package="tfgan_models")
class GANModel(GenerativeModel):
    """Base class of the GAN variants: plumbing only.

    A subclass implements what :class:`GenerativeModel` asks (``__init__``,
    ``train_step``, ``loss_names``, ``default_optimizers``); latent GANs get
    ``generator_inputs() = [z]`` from ``latent_dim`` and ``z_prior`` and add
    their conditions. It adds to :class:`GenerativeModel`:

    * the ``discriminator`` and its optimizer (``optimizer_names`` are
      ``generator`` and ``discriminator``; ``compile(g_optimizer=, d_optimizer=)``);
    * ``discriminator_steps`` (``n_critic``): every ``fit`` step runs that many
      discriminator updates and one generator update, each discriminator
      update on *fresh* real data: the incoming batch holds
      ``discriminator_steps * batch_size`` examples split into disjoint chunks
      (:meth:`real_batches`). Build the pipeline with
      ``tfgan_models.data.load(..., batch_size=model.data_batch_size(B))``;
    * :meth:`latents`: z from its prior, replica-exact;
    * ``packing`` (PacGAN, Lin et al. 2018, arXiv:1712.04086; unconditional
      variants): the discriminator judges ``m`` samples at once, concatenated
      on the last axis (:meth:`pack`; :meth:`judge` = D(pack(x))), all real or
      all fake. As in the authors' code (fjxmlzn/PacGAN), ``batch_size``
      counts discriminator inputs: a step draws ``m * batch_size`` real and
      generated samples (:meth:`data_batch_size`).

    Randomness goes through ``self.seed_generator`` (seeded by ``seed``).
    Pixels are in [-1, 1] inside the model.
    """

    optimizer_names = ("generator", "discriminator")
    loss_names = ("d_loss", "g_loss")

    def __init__(self, generator, discriminator, data_shape, latent_dim=None, discriminator_steps=1,
                 z_prior="normal", packing=1, **kwargs):
        if int(discriminator_steps) < 1:
            raise ValueError(f"discriminator_steps must be >= 1, received {discriminator_steps!r}.")
        if isinstance(packing, bool) or not isinstance(packing, int) or packing < 1:
            raise ValueError(f"packing must be an int >= 1 (samples per discriminator input), received {packing!r}.")
        if packing > 1 and type(self).discriminator_input_shapes is not GANModel.discriminator_input_shapes:
            raise ValueError(f"packing applies to the unconditional variants; {type(self).__name__}'s "
                             "discriminator also takes conditions.")
        self.packing = int(packing)
        self.latent_dim = None if latent_dim is None else int(latent_dim)
        self.z_prior = str(z_prior)
        if self.latent_dim is not None:
            z_input(self.latent_dim, self.z_prior)  # fail early on an unknown prior
        self.discriminator_steps = int(discriminator_steps)
        super().__init__(generator=generator, data_shape=data_shape, **kwargs)
        if discriminator is not None or "discriminator" in self.optimizer_names:
            check_network("discriminator", discriminator, self.discriminator_input_shapes(), None)
        self.discriminator = discriminator

    # ----------------------------------------------------------------- config
    def generator_inputs(self):
        """``[z]``; conditional variants add their labels or codes."""
        return [z_input(self.latent_dim, self.z_prior)]

    def discriminator_input_shapes(self):
        return [packed_shape(self.data_shape, self.packing)]

    network_keys = ("generator", "discriminator")

    def get_config(self):
        config = {**super().get_config(), "discriminator_steps": self.discriminator_steps, "packing": self.packing,
                  "discriminator": keras.saving.serialize_keras_object(self.discriminator)}
        if self.latent_dim is not None:
            config.update(latent_dim=self.latent_dim, z_prior=self.z_prior)
        return config

    @property
    def discriminator_variables(self):
        return self.discriminator.trainable_variables if self.discriminator is not None else []

    # ------------------------------------------------------- step helpers
    def data_batch_size(self, batch_size):
        """Examples per ``fit`` step: one fresh batch per discriminator step, ``packing`` samples per D input."""
        return int(batch_size) * self.discriminator_steps * self.packing

    def pack(self, x):
        """``(m * B, ..., C)`` -> ``(B, ..., m * C)``: samples ``m*i .. m*i + m - 1`` side by side on the last axis.

        Consecutive samples, so under ``tf.distribute`` each replica packs its own slice.
        """
        m = self.packing
        if m == 1:
            return x
        if x.shape[0] is not None and x.shape[0] % m:
            raise ValueError(f"packing={m} needs a batch divisible by {m}, received {x.shape[0]} samples.")
        shape = tuple(x.shape[1:])
        grouped = ops.reshape(x, (-1, m) + shape)  # (B, m, ..., C)
        rank = len(shape)
        grouped = ops.transpose(grouped, (0,) + tuple(range(2, rank + 1)) + (1, rank + 1))  # (B, ..., m, C)
        return ops.reshape(grouped, (-1,) + packed_shape(shape, m))

    def judge(self, x, training=True):
        """The discriminator's scores of ``x``, packed: ``(m * B, ...)`` samples -> ``(B, ...)`` scores."""
        return self.discriminator(self.pack(x), training=training)

    def unpack_real(self, data):
        """The real examples of a batch; labels and other entries are ignored."""
        real = data[0] if isinstance(data, (tuple, list)) else data
        if tuple(real.shape[1:]) != self.data_shape:
            raise ValueError(
                f"{type(self).__name__} expects real data of shape (batch, "
                f"{', '.join(map(str, self.data_shape))}), received {tuple(real.shape)}."
            )
        return ops.cast(real, self.compute_dtype)

    def real_batches(self, real):
        """Splits the step's batch into ``discriminator_steps`` disjoint chunks.

        Chunk ``i`` takes examples ``i, i + n, i + 2n, ...``: strided rather than
        contiguous, so that under ``tf.distribute`` (which hands each replica a
        contiguous slice of the global batch) the replicas' chunk ``i`` together
        are exactly the single-device chunk ``i``.
        """
        n = self.discriminator_steps
        if n == 1:
            return [real]
        size = real.shape[0]
        if size is not None and size % n:
            raise ValueError(
                f"A batch of {size} examples cannot feed {n} discriminator steps with fresh "
                f"data: use a batch size divisible by {n} (model.data_batch_size(B) gives it) "
                "and drop_remainder=True."
            )
        grouped = ops.reshape(real, (-1, n) + tuple(real.shape[1:]))  # (B / n, n, ...)
        return [grouped[:, i] for i in range(n)]

    def latents(self, batch):
        """z of shape ``(batch, latent_dim)`` from its prior (N(0, I) unless ``z_prior`` says otherwise)."""
        return self.draw(self.generator_inputs()[0], batch)
