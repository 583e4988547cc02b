"""`GANModel`: the plumbing every GAN variant in this package shares.

The algorithms live in the subclasses, one paper per file; this file holds
nothing a paper would describe.
"""

import copy

import numpy as np
import tensorflow as tf
import keras
from keras import ops
from keras.src.saving import serialization_lib


@keras.saving.register_keras_serializable(package="tfgan_models")
class GANModel(keras.Model):
    """Base class of the GAN variants: plumbing only.

    A subclass implements:

    * ``__init__``: build the default networks when ``generator`` /
      ``discriminator`` are ``None`` and pass everything on to this class;
      extend :meth:`get_config` with its own constructor arguments.
    * ``train_step(data)``: the paper's algorithm, opening with a numbered plan.
      It calls :meth:`real_batches` for the real data of each discriminator
      step, :meth:`latents` / :meth:`noise` for randomness,
      :meth:`apply_gradients` for updates, and returns :meth:`track`.
    * ``loss_names``: the names of the losses its ``train_step`` reports.
    * ``default_optimizers()``: the paper's ``(g_optimizer, d_optimizer)``.

    This class provides:

    * ``compile(g_optimizer=None, d_optimizer=None, ...)``. ``None`` means the
      paper's optimizer. Both optimizers are built on their own network's
      variables at compile time, so ``fit`` works under a ``tf.distribute``
      strategy and an optimizer never meets a variable it does not know.
    * ``discriminator_steps`` (``n_critic``): every ``fit`` step runs that many
      discriminator updates and one generator update. Each discriminator update
      sees *fresh* real data: the incoming batch holds
      ``discriminator_steps * batch_size`` examples and is split into that many
      disjoint chunks (:meth:`real_batches`). Build the pipeline with
      ``tfgan_models.data.load(..., batch_size=model.data_batch_size(B))``.
    * Loss trackers (the ``metrics`` property) and :meth:`track`.
    * Correct gradients under distribution: each replica's mean loss is divided
      by the number of replicas (:meth:`apply_gradients`), i.e. losses are
      scaled by the global batch size, because ``tf.distribute`` sums
      gradients across replicas. Noise is drawn for the whole global batch and
      each replica takes its own slice, so a run over N replicas replays the
      single-device run exactly.
    * Optional generator EMA (``ema_decay``): ``generator_ema`` tracks an
      exponential moving average of the generator's weights after every
      generator update; :meth:`generate`, ``call`` and export use it.
    * :meth:`generate`, ``get_config`` / ``from_config`` and ``.keras``
      save/load that restores optimizers and can resume training.

    Randomness goes through ``self.seed_generator`` (seeded by ``seed``).
    Pixels are in [-1, 1] inside the model.
    """

    loss_names = ("d_loss", "g_loss")
    # True for models that may train without a discriminator (SRResNet's
    # pixel-loss training); then ``discriminator`` is None and has no variables.
    discriminator_optional = False

    def __init__(
        self,
        generator,
        discriminator,
        data_shape,
        latent_dim,
        discriminator_steps=1,
        ema_decay=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.data_shape = tuple(int(d) for d in data_shape)
        self.latent_dim = int(latent_dim)
        if int(discriminator_steps) < 1:
            raise ValueError(
                f"discriminator_steps must be >= 1, received {discriminator_steps!r}."
            )
        if ema_decay is not None and not 0.0 < float(ema_decay) < 1.0:
            raise ValueError(f"ema_decay must be in (0, 1) or None, received {ema_decay!r}.")
        self.discriminator_steps = int(discriminator_steps)
        self.ema_decay = None if ema_decay is None else float(ema_decay)
        self.seed = seed
        _check_network("generator", generator, self.generator_input_shapes(), self.data_shape)
        if discriminator is not None or not self.discriminator_optional:
            _check_network("discriminator", discriminator, self.discriminator_input_shapes(), None)
        self.generator = generator
        self.discriminator = discriminator
        self.generator_ema = None
        if self.ema_decay is not None:
            self.generator_ema = keras.models.clone_model(generator)
            self.generator_ema.set_weights(generator.get_weights())
            self.generator_ema.trainable = False
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_trackers = {n: keras.metrics.Mean(name=n) for n in self.loss_names}
        self.built = True

    # ----------------------------------------------------------------- config
    def generator_input_shapes(self):
        """Shapes of the generator's inputs, without the batch axis (conditional models add labels)."""
        return [(self.latent_dim,)]

    def discriminator_input_shapes(self):
        return [self.data_shape]

    def get_config(self):
        return {
            "name": self.name,
            "data_shape": list(self.data_shape),
            "latent_dim": self.latent_dim,
            "discriminator_steps": self.discriminator_steps,
            "ema_decay": self.ema_decay,
            "seed": self.seed,
            # Networks are stored whole, so a checkpoint reloads even if the
            # builders change, and user-supplied networks round-trip.
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
        }

    @classmethod
    def from_config(cls, config):
        config = copy.deepcopy(config)  # deserialisation consumes nested dicts
        for key in ("generator", "discriminator"):
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

    # ---------------------------------------------------------------- compile
    def default_optimizers(self):
        """The paper's ``(g_optimizer, d_optimizer)``; subclasses override."""
        return (
            keras.optimizers.Adam(2e-4, beta_1=0.5),
            keras.optimizers.Adam(2e-4, beta_1=0.5),
        )

    def compile(self, g_optimizer=None, d_optimizer=None, **kwargs):
        """Sets the two optimizers (``None``: the paper's) and builds them.

        Other keyword arguments (``jit_compile``, ``steps_per_execution``,
        ``run_eagerly``) go to ``keras.Model.compile``.
        """
        default_g, default_d = self.default_optimizers()
        self.g_optimizer = keras.optimizers.get(g_optimizer) if g_optimizer is not None else default_g
        self.d_optimizer = keras.optimizers.get(d_optimizer) if d_optimizer is not None else default_d
        if self.g_optimizer is self.d_optimizer:
            raise ValueError("g_optimizer and d_optimizer must be two different optimizer objects.")
        kwargs.setdefault("jit_compile", False)
        super().compile(optimizer=None, **kwargs)
        self._compile_config = serialization_lib.SerializableDict(
            g_optimizer=self.g_optimizer, d_optimizer=self.d_optimizer, **kwargs
        )
        self.g_optimizer.build(self.generator_variables)
        self.d_optimizer.build(self.discriminator_variables)

    def compile_from_config(self, config):
        self.compile(**serialization_lib.deserialize_keras_object(config))

    @property
    def generator_variables(self):
        """Variables the generator step trains (InfoGAN adds Q's head)."""
        return self.generator.trainable_variables

    @property
    def discriminator_variables(self):
        return self.discriminator.trainable_variables if self.discriminator is not None else []

    # ------------------------------------------------------- step helpers
    @property
    def metrics(self):
        return list(self.loss_trackers.values())

    def track(self, **losses):
        """Updates the loss trackers and returns the logs ``train_step`` must return."""
        for name, value in losses.items():
            self.loss_trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.loss_trackers.items()}

    def data_batch_size(self, batch_size):
        """Examples per ``fit`` step: one fresh batch per discriminator step."""
        return int(batch_size) * self.discriminator_steps

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

    def noise(self, shape, distribution="normal"):
        """Noise of ``shape`` (batch axis first) for this replica.

        Draws the noise of the whole global batch and keeps this replica's slice,
        so that training over N replicas sees exactly the single-device noise.
        """
        ctx = tf.distribute.get_replica_context()
        replicas = ctx.num_replicas_in_sync if ctx is not None else 1
        batch = shape[0]
        full_shape = (batch * replicas,) + tuple(shape[1:])
        draw = keras.random.normal if distribution == "normal" else keras.random.uniform
        full = draw(full_shape, seed=self.seed_generator)
        if replicas == 1:
            return full
        start = ctx.replica_id_in_sync_group * batch
        return full[start : start + batch]

    def latents(self, batch):
        """z ~ N(0, I) of shape ``(batch, latent_dim)``."""
        return self.noise((batch, self.latent_dim))

    def apply_gradients(self, optimizer, tape, loss, variables):
        """One optimizer step on ``loss`` (a per-replica mean).

        Dividing by the number of replicas makes the cross-replica gradient sum
        equal the gradient of the global-batch mean.
        """
        ctx = tf.distribute.get_replica_context()
        replicas = ctx.num_replicas_in_sync if ctx is not None else 1
        grads = tape.gradient(loss, variables)
        if replicas > 1:
            grads = [None if g is None else g / replicas for g in grads]
        optimizer.apply_gradients(zip(grads, variables))

    def update_ema(self):
        """generator_ema <- decay * generator_ema + (1 - decay) * generator."""
        if self.generator_ema is None:
            return
        decay = self.ema_decay
        for ema_w, w in zip(self.generator_ema.weights, self.generator.weights):
            if w.trainable:
                ema_w.assign(decay * ema_w + (1.0 - decay) * w)
            else:  # batch-norm statistics are copied, not averaged
                ema_w.assign(w)

    # -------------------------------------------------------------- inference
    @property
    def inference_generator(self):
        """The network to sample and export: the EMA generator when enabled."""
        return self.generator_ema if self.generator_ema is not None else self.generator

    def call(self, inputs, training=False):
        return self.inference_generator(inputs, training=training)

    def condition_inputs(self, n, seed=None, **conditions):
        """Generator inputs besides z for ``n`` samples (labels, codes); none here."""
        if conditions:
            raise ValueError(f"{type(self).__name__} is unconditional; received {sorted(conditions)}.")
        return []

    def generate(self, n=None, z=None, seed=None, batch_size=256, **conditions):
        """Samples in [-1, 1] as a float32 NumPy array ``(n, *data_shape)``.

        Give either ``n`` (latents drawn from ``seed``) or ``z`` ``(n, latent_dim)``.
        Conditional variants also take ``labels=`` or ``codes=``.
        """
        if z is None:
            if n is None or int(n) < 1:
                raise ValueError(f"generate() needs n >= 1 or z, received n={n!r}.")
            z = keras.random.normal((int(n), self.latent_dim), seed=seed)
        z = np.asarray(z, dtype="float32")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(
                f"z must have shape (n, {self.latent_dim}), received {z.shape}."
            )
        extra = self.condition_inputs(len(z), seed=seed, **conditions)
        batches = []
        for i in range(0, len(z), batch_size):
            inputs = [z[i : i + batch_size]] + [c[i : i + batch_size] for c in extra]
            out = self.inference_generator(inputs if extra else inputs[0], training=False)
            batches.append(ops.convert_to_numpy(out))
        return np.concatenate(batches).astype("float32")


def _check_network(role, network, input_shapes, output_shape):
    if not isinstance(network, keras.Model):
        raise ValueError(f"{role} must be a keras.Model, received {type(network).__name__}.")
    got_in = [tuple(t.shape[1:]) for t in network.inputs] if network.inputs else None
    want_in = [tuple(s) for s in input_shapes]
    if got_in is not None and got_in != want_in:
        shown = lambda shapes: shapes[0] if len(shapes) == 1 else shapes  # noqa: E731
        raise ValueError(
            f"{role} {network.name!r} takes inputs of shape {shown(got_in)}; this model feeds it "
            f"{shown(want_in)}."
        )
    if output_shape is not None and network.outputs:
        got_out = tuple(network.outputs[0].shape[1:])
        # A fully convolutional network (None spatial sizes) fits any size.
        if len(got_out) != len(output_shape) or any(
                g is not None and g != w for g, w in zip(got_out, output_shape)):
            raise ValueError(
                f"{role} {network.name!r} produces outputs of shape {got_out}; the data has "
                f"shape {tuple(output_shape)}."
            )
