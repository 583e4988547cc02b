"""`GenerativeModel`: the plumbing every generative model in this package shares.

GANs (:class:`~tfgan_models.models.gan_model.GANModel`), the super-resolution
and translation models, and autoregressive models all sit on it. Nothing here
is a paper's algorithm.
"""

import copy
import dataclasses

import keras
import numpy as np
from keras import ops
from keras.src.saving import serialization_lib
import tensorflow as tf

from tfgan_models.inputs import GeneratorInput, truncate
from tfgan_models.models.networks import check_network

_SHORT = {"generator": "g", "discriminator": "d"}


@dataclasses.dataclass(frozen=True)
class Phase:
    """One stage of multi-phase training (progressive growing, StackGAN's stages, LAPGAN's levels).

    ``epochs`` x ``steps_per_epoch`` steps at ``batch_size`` on data of
    ``data_shape`` (``None``: the model's), with fresh optimizers when
    ``reset_optimizers``. ``settings`` is handed to :meth:`GenerativeModel.enter_phase`.
    """

    name: str
    epochs: int
    steps_per_epoch: int = None
    batch_size: int = None
    data_shape: tuple = None
    reset_optimizers: bool = False
    settings: dict = None


@keras.saving.register_keras_serializable(package="tfgan_models")
class GenerativeModel(keras.Model):
    """Base class of every generative model: plumbing only.

    A subclass implements:

    * ``__init__``: build default networks, pass the rest here; extend
      :meth:`get_config` with its own constructor arguments;
    * ``generator_inputs()``: the generator's inputs in order, as
      :class:`~tfgan_models.inputs.GeneratorInput` declarations (the one
      contract that ``generate``, sample grids, export and validation read);
    * ``optimizer_names`` (default ``("generator",)``), ``default_optimizers()``
      (a dict by name, or a tuple in ``optimizer_names`` order) and, for names
      other than ``generator`` / ``discriminator``, a ``<name>_variables`` property;
    * ``loss_names`` and ``train_step(data)``, opening with a numbered plan,
      using :meth:`apply_gradients` and returning :meth:`track`;
    * optionally ``phases()`` and ``enter_phase(phase)`` for multi-phase training.

    This class provides optimizers by name (each built on its own variables at
    compile time, so ``fit`` works under ``tf.distribute``); regularisation
    losses (``kernel_regularizer``, ``add_loss``) of the networks an update
    trains, added to that update's loss and reported as ``<g|d|name>_reg_loss``;
    loss scaling for mixed precision (``optimizer.scale_loss``); gradients
    scaled for the global batch under distribution; replica-exact noise;
    generator EMA with an optional start step and warm-up; ``generate``.
    """

    optimizer_names = ("generator",)
    loss_names = ()
    # What ``compile(jit_compile="auto")`` means for this variant: XLA where it was measured faster and
    # correct on CPU (README, "XLA"); a variant that stays off says why in ``jit_compile_note``.
    jit_compile_auto = False
    jit_compile_note = ""

    def __init__(self, generator, data_shape, ema_decay=None, ema_start=0, ema_warmup=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.data_shape = tuple(None if d is None else int(d) for d in data_shape)
        if ema_decay is not None and not 0.0 < float(ema_decay) < 1.0:
            raise ValueError(f"ema_decay must be in (0, 1) or None, received {ema_decay!r}.")
        if int(ema_start) < 0:
            raise ValueError(f"ema_start must be >= 0, received {ema_start!r}.")
        self.ema_decay = None if ema_decay is None else float(ema_decay)
        self.ema_start, self.ema_warmup = int(ema_start), bool(ema_warmup)
        self.seed = seed
        check_network("generator", generator, [i.shape for i in self.generator_inputs()], self.data_shape)
        self.generator = generator
        self.generator_ema = None
        if self.ema_decay is not None:
            self.generator_ema = keras.models.clone_model(generator)
            self.generator_ema.set_weights(generator.get_weights())
            self.generator_ema.trainable = False
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_trackers = {n: keras.metrics.Mean(name=n) for n in self.loss_names}
        self.reg_trackers = {}
        self.built = True

    # ----------------------------------------------------------------- config
    def generator_inputs(self):
        """The generator's inputs, in order (:class:`~tfgan_models.inputs.GeneratorInput`)."""
        raise NotImplementedError(f"{type(self).__name__} must declare generator_inputs().")

    def get_config(self):
        return {"name": self.name, "data_shape": list(self.data_shape), "ema_decay": self.ema_decay,
                "ema_start": self.ema_start, "ema_warmup": self.ema_warmup, "seed": self.seed,
                # Networks are stored whole: a checkpoint reloads even if the builders change.
                "generator": keras.saving.serialize_keras_object(self.generator)}

    network_keys = ("generator",)

    @classmethod
    def from_config(cls, config):
        config = copy.deepcopy(config)  # deserialisation consumes nested dicts
        for key in cls.network_keys:
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

    # ------------------------------------------------------------- optimizers
    def default_optimizers(self):
        """The paper's optimizers: a dict by name, or a tuple in ``optimizer_names`` order."""
        return {name: keras.optimizers.Adam(2e-4, beta_1=0.5) for name in self.optimizer_names}

    @staticmethod
    def optimizer_attribute(name):
        return f"{_SHORT.get(name, name)}_optimizer"

    def optimizers_by_name(self):
        return {name: getattr(self, self.optimizer_attribute(name)) for name in self.optimizer_names}

    def variables_for(self, name):
        """Trainable variables the optimizer ``name`` updates: ``<name>_variables``."""
        return list(getattr(self, f"{name}_variables"))

    @property
    def generator_variables(self):
        return self.generator.trainable_variables

    def compile(self, optimizers=None, g_optimizer=None, d_optimizer=None, **kwargs):
        """Sets the optimizers by name (``None``: the paper's) and builds each on its variables.

        ``g_optimizer`` / ``d_optimizer`` are short for ``optimizers={"generator": ...,
        "discriminator": ...}``. Other keyword arguments (``jit_compile``,
        ``steps_per_execution``, ``run_eagerly``) go to ``keras.Model.compile``;
        ``jit_compile="auto"`` (the default) is the variant's measured choice, ``jit_compile_auto``.
        """
        given = {k: v for k, v in dict(optimizers or {}).items() if v is not None}
        for name, opt in (("generator", g_optimizer), ("discriminator", d_optimizer)):
            if opt is not None:
                if name in given:
                    raise ValueError(f"the {name} optimizer is given twice (optimizers= and its short form).")
                given[name] = opt
        unknown = sorted(set(given) - set(self.optimizer_names))
        if unknown:
            raise ValueError(f"{type(self).__name__} has the optimizers {', '.join(self.optimizer_names)}; "
                             f"received {', '.join(unknown)}.")
        defaults = self.default_optimizers()
        if not isinstance(defaults, dict):
            defaults = dict(zip(self.optimizer_names, defaults))
        # keras.optimizers.get edits a config dict in place (a preset's): give it a copy.
        chosen = {n: keras.optimizers.get(copy.deepcopy(given[n]) if isinstance(given[n], dict) else given[n])
                  if n in given else defaults[n] for n in self.optimizer_names}
        if self.dtype_policy.name == "mixed_float16":  # float16 gradients underflow without a loss scale
            chosen = {n: o if isinstance(o, keras.optimizers.LossScaleOptimizer)
                      else keras.optimizers.LossScaleOptimizer(o) for n, o in chosen.items()}
        if len({id(o) for o in chosen.values()}) != len(chosen):
            raise ValueError("each optimizer must be a different optimizer object.")
        for name, opt in chosen.items():
            setattr(self, self.optimizer_attribute(name), opt)
        if kwargs.get("jit_compile", "auto") == "auto":  # XLA has no collectives for CPUs: not over CPU replicas
            kwargs["jit_compile"] = bool(type(self).jit_compile_auto) and not replicas_on_cpu()
        super().compile(optimizer=None, **kwargs)
        self._compile_config = serialization_lib.SerializableDict(optimizers=chosen, **kwargs)
        for name, opt in chosen.items():
            opt.build(self.variables_for(name))
            has_reg = any(net.losses for net in self._networks_training(self.variables_for(name)))
            if has_reg and name not in self.reg_trackers:
                self.reg_trackers[name] = keras.metrics.Mean(name=f"{_SHORT.get(name, name)}_reg_loss")
        if self.uses_loss_scaling() and "skipped_steps" not in self.reg_trackers:
            self.reg_trackers["skipped_steps"] = keras.metrics.Sum(name="skipped_steps")

    def compile_from_config(self, config):
        config = serialization_lib.deserialize_keras_object(config)
        optimizers = dict(config.pop("optimizers", None) or {})
        for key, name in (("g_optimizer", "generator"), ("d_optimizer", "discriminator")):
            opt = config.pop(key, None)  # checkpoints written before optimizers by name
            if opt is not None and name in self.optimizer_names:
                optimizers[name] = opt
        self.compile(optimizers=optimizers, **config)

    def reset_optimizers(self):
        """Fresh optimizers with the same settings (a new training phase); the step must be retraced."""
        for name, opt in self.optimizers_by_name().items():
            fresh = type(opt).from_config(opt.get_config())
            fresh.build(self.variables_for(name))
            setattr(self, self.optimizer_attribute(name), fresh)
        self.train_function = None

    # ------------------------------------------------------- step helpers
    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Under a tf.distribute strategy Keras's fit first reads one batch through an iterator of its own to
        # build the model symbolically. These models are built at construction; that extra iterator would spend
        # one reshuffle of the (seeded) training data, so N replicas would train on other batches than one device.
        if all(layer.built for layer in self._flatten_layers()):
            return
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    @property
    def metrics(self):
        return list(self.loss_trackers.values()) + list(self.reg_trackers.values())

    def data_batch_size(self, batch_size):
        """Examples per ``fit`` step for a batch size (GANs with several D steps take more)."""
        return int(batch_size)

    def track(self, **losses):
        """Updates the loss trackers and returns the logs ``train_step`` must return.

        Under dynamic loss scaling (``mixed_float16``) a step whose gradients overflowed was skipped by the
        ``LossScaleOptimizer`` (which then halves its scale): such steps are counted in ``skipped_steps``, and
        non-finite loss values (a penalty whose inner gradient overflowed) are left out of the means, so one
        overflow neither poisons the epoch's losses nor trips the NaN guard.
        """
        scaled = "skipped_steps" in self.reg_trackers
        for name, value in losses.items():
            value = ops.cast(value, "float32")
            if scaled:
                ok = ops.isfinite(value)
                self.loss_trackers[name].update_state(ops.where(ok, value, 0.0), sample_weight=ops.cast(ok, "float32"))
            else:
                self.loss_trackers[name].update_state(value)
        skipped, self._skipped_updates = getattr(self, "_skipped_updates", []), []
        if scaled and skipped:  # a step counts as skipped when any of its updates was
            self.reg_trackers["skipped_steps"].update_state(ops.cast(ops.any(ops.stack(skipped)), "float32"))
        return {m.name: m.result() for m in self.metrics}

    def uses_loss_scaling(self):
        """``True`` when the optimizers scale the loss (``mixed_float16``)."""
        return any(isinstance(o, keras.optimizers.LossScaleOptimizer) for o in self.optimizers_by_name().values()
                   if o is not None)

    def loss_scale(self, optimizer):
        """The current loss scale of ``optimizer`` (an optimizer or its name) under ``mixed_float16``, else ``None``:
        what the inner gradient of a penalty is scaled by (``losses.input_gradient``)."""
        opt = self.optimizers_by_name()[optimizer] if isinstance(optimizer, str) else optimizer
        return opt.dynamic_scale if isinstance(opt, keras.optimizers.LossScaleOptimizer) else None

    def _networks(self):
        return [layer for layer in self._flatten_layers(include_self=False, recursive=False)
                if isinstance(layer, keras.Model) and layer is not self.generator_ema]

    def _networks_training(self, variables):
        ids = {id(v) for v in variables}
        return [net for net in self._networks() if any(id(v) in ids for v in net.trainable_variables)]

    def regularization_loss(self, variables):
        """Sum of the ``losses`` of the networks owning ``variables`` (``None`` when they add none)."""
        losses = [loss for net in self._networks_training(variables) for loss in net.losses]
        return ops.sum(ops.stack([ops.cast(x, "float32") for x in losses])) if losses else None

    def apply_gradients(self, optimizer, tape, loss, variables=None):
        """One update on ``loss`` (a per-replica mean) by ``optimizer`` (an optimizer or its name).

        Inside the same tape it adds the regularisation losses of the networks
        being trained and applies the optimizer's loss scale (mixed precision;
        ``apply_gradients`` of a ``LossScaleOptimizer`` unscales and skips
        non-finite steps). Dividing by the number of replicas makes the
        cross-replica gradient sum equal the gradient of the global-batch mean.
        """
        by_name = self.optimizers_by_name()
        name = optimizer if isinstance(optimizer, str) else next(
            (n for n, o in by_name.items() if o is optimizer), None)
        optimizer = by_name[name] if isinstance(optimizer, str) else optimizer
        variables = self.variables_for(name) if variables is None else list(variables)
        with tape:  # re-entering records these ops too (regularisers are computed from the weights here)
            reg = self.regularization_loss(variables)
            total = loss if reg is None else loss + ops.cast(reg, loss.dtype)
            scaled = optimizer.scale_loss(total)
        grads = tape.gradient(scaled, variables)
        replicas = _replicas()
        if replicas > 1:
            grads = [_divided(g, replicas) for g in grads]
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):  # it skips non-finite updates: count them
            self._skipped_updates = [*getattr(self, "_skipped_updates", []), ops.logical_not(optimizer.check_finite(grads))]
        optimizer.apply_gradients(zip(grads, variables))
        if reg is not None and name in self.reg_trackers:
            self.reg_trackers[name].update_state(reg)

    def draw(self, spec, batch):
        """Draws ``spec``'s prior for ``batch`` examples of this replica.

        The whole global batch is drawn and each replica keeps its slice, so
        training over N replicas sees exactly the single-device noise.
        """
        ctx = tf.distribute.get_replica_context()
        replicas = _replicas()
        full = spec.random((batch * replicas, *spec.shape), self.seed_generator)
        if replicas == 1:
            return full
        start = ctx.replica_id_in_sync_group * batch
        return full[start : start + batch]

    def noise(self, shape, distribution="normal"):
        """N(0, 1) or U[0, 1) noise of ``shape`` (batch first), replica-exact (see :meth:`draw`)."""
        spec = (GeneratorInput.normal("noise", shape[1:]) if distribution == "normal"
                else GeneratorInput.uniform("noise", shape[1:], 0.0, 1.0))
        return self.draw(spec, shape[0])

    def update_ema(self):
        """generator_ema <- d * generator_ema + (1 - d) * generator, after ``ema_start`` steps.

        ``d`` is ``ema_decay``, or with ``ema_warmup`` min(ema_decay, (1 + t) / (10 + t)) at t steps
        after the start (the warm-up of TensorFlow's ExponentialMovingAverage num_updates); before
        the start the EMA copies the generator.
        """
        if self.generator_ema is None:
            return
        step = ops.cast(self.optimizers_by_name()[self.optimizer_names[0]].iterations, "float32")
        t = step - float(self.ema_start)
        decay = ops.minimum(self.ema_decay, (1.0 + t) / (10.0 + t)) if self.ema_warmup else self.ema_decay
        decay = ops.where(t < 0.0, 0.0, decay)
        for ema_w, w in zip(self.generator_ema.weights, self.generator.weights):
            if w.trainable:
                ema_w.assign(decay * ema_w + (1.0 - decay) * w)
            else:  # batch-norm statistics are copied, not averaged
                ema_w.assign(w)

    # ----------------------------------------------------------------- phases
    def phases(self):
        """Training phases in order, or ``None`` for one ``fit`` (see :class:`Phase`)."""
        return None

    def enter_phase(self, phase):
        """Reconfigures the model for ``phase`` (a :class:`Phase`); subclasses with phases override."""

    def begin_phase(self, index, phase):
        """Enters phase ``index``: the model's own settings, fresh optimizers if it asks (not for the
        first phase, whose optimizers are new), and a step traced anew for its shapes."""
        self.enter_phase(phase)
        if phase.reset_optimizers and index > 0:
            self.reset_optimizers()
        self.train_function = None

    def fit_phases(self, dataset_for, callbacks=None, **fit_kwargs):
        """Trains every phase in order from Python: ``dataset_for(phase)`` gives each phase's repeated dataset.

        Each phase enters the model, resets the optimizers if it asks, and runs
        ``fit`` for its epochs (epochs are numbered across phases). ``tfgan
        train`` does the same and can resume a phase after a crash. Returns the
        ``History`` of each phase.
        """
        phases, offset, histories = self.phases(), 0, []
        if not phases:
            raise ValueError(f"{type(self).__name__} declares no phases: train it with fit().")
        for index, phase in enumerate(phases):
            self.begin_phase(index, phase)
            histories.append(self.fit(dataset_for(phase), epochs=offset + phase.epochs, initial_epoch=offset,
                                      steps_per_epoch=phase.steps_per_epoch, callbacks=callbacks, **fit_kwargs))
            offset += phase.epochs
        return histories

    # -------------------------------------------------------------- inference
    @property
    def inference_generator(self):
        """The network to sample and export: the EMA generator when enabled."""
        return self.generator_ema if self.generator_ema is not None else self.generator

    def call(self, inputs, training=False):
        return self.inference_generator(inputs, training=training)

    def generator_arrays(self, n=None, seed=None, truncation=None, **given):
        """``[array per generator input]`` for ``n`` samples: ``given`` ones checked, the rest drawn.

        Defaults: the first input, when it is N(0, I) noise, is ``keras.random.normal((n, ...),
        seed=seed)``; other inputs come from their priors with ``np.random.RandomState(seed)``
        (conditions with seed 0 when ``seed`` is None, so a given z always gives the same sample);
        categorical inputs with ``cycle`` go 0, 1, ..., K-1, 0, ..., other categorical inputs are
        uniform draws. Condition draws are made whether or not the input is given, so giving one
        input never changes the values drawn for the others.

        ``truncation`` (> 0): the truncation trick (Brock et al. 2018): entries of the drawn z with
        ``|z_i| > truncation`` are redrawn (:func:`~tfgan_models.inputs.truncate`); the others keep
        their values, so one seed gives the same z at every threshold wherever it was inside.
        """
        specs = list(self.generator_inputs())
        names = [s.name for s in specs]
        given = {k: v for k, v in given.items() if v is not None}
        unknown = sorted(set(given) - set(names))
        if unknown:
            raise ValueError(f"{type(self).__name__} takes the inputs {', '.join(names)}; received "
                             f"{', '.join(unknown)}.")
        if n is None:
            if not given:
                raise ValueError(f"generate() needs n >= 1 or one of the inputs {', '.join(names)}.")
            first = next(s for s in specs if s.name in given)
            n = len(first.check(given[first.name]))
        if int(n) < 1:
            raise ValueError(f"generate() needs n >= 1, received n={n!r}.")
        n = int(n)
        if truncation is not None and not (specs[0].prior == "normal" and specs[0].role == "noise"):
            raise ValueError(f"{type(self).__name__} has no N(0, I) z to truncate (its first input is "
                             f"{specs[0].name!r}, {specs[0].prior}).")
        if truncation is not None and specs[0].name in given:
            raise ValueError(f"give either {specs[0].name}= or truncation=, not both: truncation draws z.")
        conditions = np.random.RandomState(0 if seed is None else seed)
        noise = np.random.RandomState(seed)
        arrays = []
        for i, spec in enumerate(specs):
            if i == 0 and spec.prior == "normal":
                default = None if spec.name in given else ops.convert_to_numpy(
                    keras.random.normal((n, *spec.shape), seed=seed))
                if truncation is not None and default is not None:
                    default = truncate(default, truncation, np.random.RandomState(seed))
            elif spec.prior == "categorical":
                # Drawn even when given, so giving one input never changes the draws of the others.
                default = (np.arange(n) % spec.classes).astype("int32") if spec.cycle else \
                    conditions.randint(spec.classes, size=n).astype("int32")
            elif spec.role == "condition" and spec.prior == "uniform":
                default = spec.sample(conditions, n)
            else:
                default = None if spec.name in given else spec.sample(noise if spec.role == "noise" else conditions, n)
            arrays.append(spec.check(given[spec.name], n) if spec.name in given else default)
        return arrays

    def generate(self, n=None, seed=None, batch_size=256, truncation=None, **inputs):
        """Samples in [-1, 1] as a float32 NumPy array ``(n, *output shape)``.

        ``inputs`` by name (``z=``, ``labels=``, ...; see ``generator_inputs()``); what is not
        given is drawn from its prior with ``seed``. ``truncation``: draw z with the truncation
        trick at that threshold (see :meth:`generator_arrays`).
        """
        arrays = self.generator_arrays(n, seed=seed, truncation=truncation, **inputs)
        batches = []
        for i in range(0, len(arrays[0]), int(batch_size)):
            chunk = [a[i : i + int(batch_size)] for a in arrays]
            out = self.inference_generator(chunk if len(chunk) > 1 else chunk[0], training=False)
            batches.append(ops.convert_to_numpy(out))
        return np.concatenate(batches).astype("float32")


def _divided(gradient, n):
    """``gradient / n``; embedding lookups give ``IndexedSlices``, which do not divide."""
    if gradient is None:
        return None
    if isinstance(gradient, tf.IndexedSlices):
        return tf.IndexedSlices(gradient.values / n, gradient.indices, gradient.dense_shape)
    return gradient / n


def _replicas():
    ctx = tf.distribute.get_replica_context()
    return ctx.num_replicas_in_sync if ctx is not None else 1


def replicas_on_cpu(strategy=None):
    """Whether ``strategy`` (default: the current one) all-reduces between several CPU replicas: XLA has no
    collectives for CPUs there."""
    strategy = strategy or tf.distribute.get_strategy()
    return strategy.num_replicas_in_sync > 1 and all(
        tf.DeviceSpec.from_string(d).device_type == "CPU" for d in strategy.extended.worker_devices)
