"""`GeneratorInput`: one input of a generator, declared once by its model.

Every model lists its generator's inputs in order (``model.generator_inputs()``):
name, dtype, shape without the batch axis, and prior. Everything that used to
guess from dtypes and positions reads this declaration instead:

* ``model.generate(n, seed=..., **inputs)`` fills what the caller did not give
  from the priors and checks what it did give (:meth:`GeneratorInput.check`);
* sample grids and ``tfgan sample``;
* SavedModel signatures (one tensor per input, under its name), the
  deterministic ``seed`` signature (inputs whose ``role`` is ``"noise"`` are
  drawn from the seed, the others stay inputs), TFLite input tensors and int8
  calibration data (:meth:`GeneratorInput.sample`).

Priors:

==================  =========  ==================================================
prior               dtype      meaning
==================  =========  ==================================================
normal              float32    N(0, I) (z)
truncated_normal    float32    N(0, I) resampled until ``|x| <= threshold`` (BigGAN)
uniform             float32    U(low, high) (InfoGAN's continuous codes: -1, 1)
categorical         int32      class index in [0, classes); ``cycle`` fills
                               defaults 0, 1, ..., K-1, 0, ... (one class per
                               grid column), otherwise uniform draws
text                string     a caption (raw UTF-8)
image               float32    pixels in [-1, 1] (super-resolution, translation)
mask                float32    1 inside the region to fill, 0 elsewhere
noise_image         float32    per-pixel N(0, 1) noise maps (StyleGAN)
==================  =========  ==================================================

This module sits at the bottom of the package (NumPy and Keras ops only), so
data, models and export can all read it.
"""

import dataclasses

import keras
import numpy as np
from keras import ops

PRIORS = ("normal", "truncated_normal", "uniform", "categorical", "text", "image", "mask", "noise_image")
_DTYPES = {"categorical": "int32", "text": "string"}
_NOISE_PRIORS = ("normal", "truncated_normal", "noise_image")
MAX_RESAMPLES = 16  # truncated normal: rounds of resampling before the last resort (clipping)


@dataclasses.dataclass(frozen=True)
class GeneratorInput:
    """One generator input. Build with the constructors below (``normal``, ``categorical``, ...).

    ``role``: ``"noise"`` (random per sample: the ``seed`` signature draws it
    from the seed) or ``"condition"`` (what the caller controls: labels, codes,
    text, images, masks). Defaults: noise for normal, truncated normal and
    noise images; condition otherwise.
    """

    name: str
    dtype: str
    shape: tuple
    prior: str
    classes: int = None
    threshold: float = None
    low: float = -1.0
    high: float = 1.0
    cycle: bool = False
    role: str = None

    def __post_init__(self):
        if self.prior not in PRIORS:
            raise ValueError(f"input {self.name!r}: unknown prior {self.prior!r}; known: {', '.join(PRIORS)}.")
        object.__setattr__(self, "shape", tuple(None if d is None else int(d) for d in self.shape))
        if self.role is None:
            object.__setattr__(self, "role", "noise" if self.prior in _NOISE_PRIORS else "condition")
        if self.role not in ("noise", "condition"):
            raise ValueError(f"input {self.name!r}: role must be 'noise' or 'condition', received {self.role!r}.")
        if self.prior == "categorical" and (self.classes is None or int(self.classes) < 1):
            raise ValueError(f"categorical input {self.name!r} needs classes >= 1, received {self.classes!r}.")
        if self.prior == "truncated_normal" and not (self.threshold and float(self.threshold) > 0):
            raise ValueError(f"truncated-normal input {self.name!r} needs a threshold > 0, "
                             f"received {self.threshold!r}.")

    # ------------------------------------------------------------ constructors
    @classmethod
    def normal(cls, name, dim, **kw):
        return cls(name, "float32", _shape(dim), "normal", **kw)

    @classmethod
    def truncated_normal(cls, name, dim, threshold, **kw):
        return cls(name, "float32", _shape(dim), "truncated_normal", threshold=float(threshold), **kw)

    @classmethod
    def uniform(cls, name, dim, low=-1.0, high=1.0, **kw):
        return cls(name, "float32", _shape(dim), "uniform", low=float(low), high=float(high), **kw)

    @classmethod
    def categorical(cls, name, classes, cycle=False, **kw):
        return cls(name, "int32", (), "categorical", classes=int(classes), cycle=bool(cycle), **kw)

    @classmethod
    def text(cls, name="text", **kw):
        return cls(name, "string", (), "text", **kw)

    @classmethod
    def image(cls, name, shape, **kw):
        return cls(name, "float32", tuple(shape), "image", **kw)

    @classmethod
    def mask(cls, name, shape, **kw):
        return cls(name, "float32", tuple(shape), "mask", **kw)

    @classmethod
    def noise_image(cls, name, shape, **kw):
        return cls(name, "float32", tuple(shape), "noise_image", **kw)

    # ---------------------------------------------------------------- config
    def to_config(self):
        """JSON-able; :meth:`from_config` rebuilds it (run directories store the inputs)."""
        config = dataclasses.asdict(self)
        config["shape"] = list(self.shape)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**{**config, "shape": tuple(config["shape"])})

    def describe(self):
        """The facts an export report gives about this input."""
        info = {"dtype": self.dtype, "shape": [None, *self.shape], "prior": self.prior}
        if self.classes:
            info["classes"] = self.classes
        if self.prior == "truncated_normal":
            info["threshold"] = self.threshold
        if self.prior == "uniform" and (self.low, self.high) != (-1.0, 1.0):
            info["range"] = [self.low, self.high]
        return info

    def value_range(self):
        """A human description of the values, e.g. for TFLite integration notes."""
        if self.prior == "truncated_normal":
            return f"N(0, I) truncated to |x| <= {self.threshold:g}"
        return {"normal": "N(0, I)", "uniform": f"[{self.low:g}, {self.high:g}]",
                "categorical": f"class index in [0, {(self.classes or 1) - 1}]", "text": "UTF-8 caption",
                "image": "pixels in [-1, 1]", "mask": "1 inside the region to fill, 0 elsewhere",
                "noise_image": "N(0, 1) per pixel"}[self.prior]

    @property
    def fixed_shape(self):
        return None not in self.shape

    # --------------------------------------------------------------- drawing
    def sample(self, rng, n):
        """``n`` NumPy draws from the prior with ``rng`` (a ``np.random.RandomState``).

        Categorical inputs cycle through the classes in shuffled order (every
        class present in calibration sets); ``cycle=True`` keeps the order.
        """
        n = int(n)
        if self.prior == "categorical":
            labels = np.arange(n) % self.classes
            return (labels if self.cycle else rng.permutation(labels)).astype("int32")
        if not self.fixed_shape:
            raise ValueError(f"input {self.name!r} has no fixed shape {self.shape}: it cannot be drawn.")
        shape = (n, *self.shape)
        if self.prior in ("normal", "noise_image"):
            return rng.standard_normal(shape).astype("float32")
        if self.prior == "truncated_normal":
            return truncate(rng.standard_normal(shape), self.threshold, rng)
        if self.prior == "uniform":
            return rng.uniform(self.low, self.high, shape).astype("float32")
        raise ValueError(f"input {self.name!r} ({self.prior}) has no prior to draw from: give it explicitly.")

    def random(self, shape, seed):
        """A Keras-ops draw from the prior for training, ``shape`` with the batch axis first.

        ``seed``: a ``keras.random.SeedGenerator`` (or int). Categorical
        draws are uniform over the classes.
        """
        if self.prior in ("normal", "noise_image"):
            return keras.random.normal(shape, seed=seed)
        if self.prior == "uniform":
            return keras.random.uniform(shape, self.low, self.high, seed=seed)
        if self.prior == "truncated_normal":
            x = keras.random.normal(shape, seed=seed)
            for _ in range(MAX_RESAMPLES):  # unrolled: XLA and tf.function friendly
                x = ops.where(ops.abs(x) > self.threshold, keras.random.normal(shape, seed=seed), x)
            return ops.clip(x, -self.threshold, self.threshold)
        if self.prior == "categorical":
            u = keras.random.uniform(shape, seed=seed)
            return ops.minimum(ops.cast(ops.floor(u * self.classes), "int32"), self.classes - 1)
        raise ValueError(f"input {self.name!r} ({self.prior}) comes from the data, not from a prior.")

    # ------------------------------------------------------------- checking
    def check(self, value, n=None):
        """``value`` as a NumPy array of this input for ``n`` samples, or a ``ValueError`` naming the input."""
        want = f"({'n' if n is None else n}{''.join(f', {d}' for d in self.shape)})"
        if self.prior == "text":
            array = np.asarray(value, dtype=object).reshape(-1) if not isinstance(value, str) else np.array([value], object)
            if not all(isinstance(v, (str, bytes)) for v in array):
                raise ValueError(f"input {self.name!r} takes strings, received {type(value).__name__}.")
        else:
            try:
                array = np.asarray(value)
            except (TypeError, ValueError) as err:
                raise ValueError(f"input {self.name!r} must be an array of shape {want}: {err}") from None
            if array.dtype == object or array.dtype.kind in "USb":
                raise ValueError(f"input {self.name!r} must be {self.dtype} numbers of shape {want}, "
                                 f"received {array.dtype} values.")
        if self.prior == "categorical":
            if array.dtype.kind == "f" and array.size and not np.all(np.mod(array, 1) == 0):
                raise ValueError(f"input {self.name!r} takes integer class indices in [0, {self.classes - 1}], "
                                 f"received fractional values.")
            if array.ndim == 0 and n is not None:  # one label for every sample
                array = np.full(n, array)
            array = array.astype("int64").reshape(-1) if array.ndim <= 1 else array
        elif self.prior != "text":
            array = array.astype(self.dtype)
            if self.shape and array.ndim == len(self.shape) and n is not None and array.shape == self.shape:
                array = np.broadcast_to(array, (n, *self.shape))  # one value for every sample
        if array.ndim != len(self.shape) + 1 or (n is not None and len(array) != n) or any(
                w is not None and g != w for g, w in zip(array.shape[1:], self.shape)):
            raise ValueError(f"input {self.name!r} must have shape {want} ({self.dtype}), "
                             f"received {tuple(array.shape)}.")
        if self.prior == "categorical" and array.size and (array.min() < 0 or array.max() >= self.classes):
            bad = sorted({int(v) for v in array if v < 0 or v >= self.classes})
            raise ValueError(f"input {self.name!r} takes class indices in [0, {self.classes - 1}], "
                             f"received {bad[:5]}{' ...' if len(bad) > 5 else ''}.")
        if self.prior == "categorical":
            array = array.astype("int32")
        if self.dtype == "float32" and array.size and not np.all(np.isfinite(array)):
            raise ValueError(f"input {self.name!r} holds NaN or infinite values.")
        return np.ascontiguousarray(array)


def truncate(x, threshold, rng):
    """The truncation trick (Brock et al. 2018, sec. 3.1): entries of N(0, 1) draws ``x`` with
    ``|x| > threshold`` are redrawn with ``rng`` until inside (clipped after ``MAX_RESAMPLES`` rounds);
    entries already inside are kept, so the same seed gives the same z wherever it was inside."""
    threshold = float(threshold)
    if not threshold > 0:
        raise ValueError(f"the truncation threshold must be > 0, received {threshold!r}.")
    x = np.array(x, dtype="float64")
    for _ in range(MAX_RESAMPLES):
        outside = np.abs(x) > threshold
        if not outside.any():
            break
        x[outside] = rng.standard_normal(int(outside.sum()))
    return np.clip(x, -threshold, threshold).astype("float32")


def _shape(dim):
    return (int(dim),) if np.ndim(dim) == 0 else tuple(dim)


def to_configs(inputs):
    return [i.to_config() for i in inputs]


def from_configs(configs):
    return [GeneratorInput.from_config(c) for c in configs]
