"""StyleGAN: Karras, Laine & Aila 2018, "A Style-Based Generator Architecture for Generative Adversarial
Networks" (arXiv:1812.04948; code ``NVlabs/stylegan:training/networks_stylegan.py``, ``training/loss.py``), with
StyleGAN2's generator by default: Karras, Laine, Aittala, Hellsten, Lehtinen & Aila 2019, "Analyzing and Improving
the Image Quality of StyleGAN" (arXiv:1912.04958; code ``NVlabs/stylegan2:training/networks_stylegan2.py``,
``training/loss.py`` ``G_logistic_ns_pathreg`` / ``D_logistic_r1``, ``training/training_loop.py``).

Code name -> paper (networks in :mod:`.stylegan_networks`):
    mapping            f: z -> w, the mapping network (8 FC in the papers, lr x 0.01); ``mapping(z)``
    truncation         the broadcast to W+ and the truncation trick w' = w_avg + psi (w - w_avg) (SG1 app. B;
                       ``truncation_psi``, ``truncation_cutoff``); ``w_avg`` is the tracked mean of w (beta 0.995)
    synthesis          g: W+ -> image; StyleGAN2's 'skip' G (config e/f, weight demodulation, sec. 2.2) or, with
                       ``architecture="stylegan1"``, StyleGAN's AdaIN G (instance norm + style_mod)
    noise_i            the per-layer noise images B (explicit generator inputs, so exports are reproducible)
    num_ws             the number of style layers (2 log2(res) - 2)
    style_mixing       mixing regularisation (SG1 sec. 3.1): probability 0.9 that a *batch* (as ``G_main``:
                       one draw per global batch) takes w2 = f(z2) from a crossover layer uniform in [1, num_ws)
    r1_gamma           gamma of R1 = gamma / 2 E||grad_x D(x)||^2 on reals (Mescheder et al. 2018; SG1's loss)
    r1_interval        lazy regularisation (SG2 sec. 3.1): R1 on every 16th D step, weighted by 16
    pl_weight          path-length regularisation (SG2 sec. 3.2): E(||J_w^T y|| - a)^2, a an EMA (decay 0.01)
                       of the lengths, on batch / 2, every 4th G step weighted by 4
Loss: the non-saturating logistic loss (``G_logistic_ns``, ``D_logistic``). Optimizers: Adam(lr, 0, 0.99,
1e-8), lr and the betas of each network multiplied / raised by c / (c + 1) for its lazy interval c
(``training_loop.py``). G EMA: the code's half-life form 0.5^(batch / (kimg * 1000)) converted to
``ema_decay`` in the presets (10 kimg in SG2; ADA's cifar 500 kimg with a ramp, here ``ema_warmup``).

Where this differs from the code: the lazy regularisers are added to the main loss of the steps they fall on
(one Adam step per minibatch) instead of a separate optimizer step; ``ModulatedConv2D`` upsamples (nearest +
blur) before the convolution instead of a transposed convolution then blur; D's ``conv -> Downsample2D`` for
the code's blur -> stride-2 conv; StyleGAN2's noise strength is per channel (a scalar in SG2, per channel in
SG1). Left out: progressive growing (SG1), conditioning labels, ADA's augmentation, fp16 layers and conv
clamping, multi-GPU gradient accumulation.

Element spec: images ``(B, H, W, C)`` in [-1, 1], H = W a power of 2 >= 8 (or a tuple whose first entry is that).
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from tfgan_models.inputs import GeneratorInput
from tfgan_models.losses import input_gradient, non_saturating_discriminator_loss, non_saturating_generator_loss
from tfgan_models.models.gan_model import GANModel
from tfgan_models.models.stylegan_networks import (ARCHITECTURES, D_ARCHITECTURES, noise_resolutions, num_ws,
                                                   stylegan_discriminator, stylegan_generator)
from tfgan_models.registry import register_variant


def half_life_decay(kimg, batch_size):
    """The code's G EMA beta = 0.5^(batch / (kimg * 1000)) (``G_smoothing_kimg``, ADA's ``ema_kimg``)."""
    return round(0.5 ** (batch_size / (kimg * 1000.0)), 6)


PRESETS = {
    # paper: StyleGAN2-ADA's `cifar` config (the smallest official setting) without ADA's augmentation and
    # unconditional: 32x32x3, mapping 2, 512 fmaps, batch 64, mbstd 32, lr 2.5e-3, gamma 0.01, no mixing, no PL,
    # D 'orig', EMA 500 kimg with a ramp (here a warm-up); 100,000 kimg = 2,000 epochs of the 50k images
    "paper": dict(data="tfds:cifar10", data_shape=(32, 32, 3), latent_dim=512, w_dim=512, mapping_layers=2,
                  fmap_base=32768, fmaps=512, mbstd_group=32, d_architecture="orig", learning_rate=2.5e-3,
                  r1_gamma=0.01, style_mixing=0.0, pl_weight=0.0, ema_decay=half_life_decay(500, 64),
                  ema_warmup=True, batch_size=64, epochs=2000),
    # demo: real MNIST 32x32 on a 2-core CPU, 3,000 steps of 32 (80-160 ms each). gamma 10 is SG1/SG2's default;
    # ADA's heuristic 0.0002 res^2 / batch = 0.0064 (tried x4, x30, x150) let these small networks collapse to one
    # or two digits within 500 steps in our runs. G EMA: half-life 10 kimg (SG2)
    "demo": dict(data="mnist", data_shape=(32, 32, 1), latent_dim=64, w_dim=64, mapping_layers=3, fmap_base=512,
                 fmaps=64, mbstd_group=4, learning_rate=2e-3, r1_gamma=10.0, style_mixing=0.9, pl_weight=0.0,
                 ema_decay=half_life_decay(10, 32), batch_size=32, epochs=12, steps_per_epoch=250),
    # faces: CelebA (tfds:celeb_a, or --data folder:DIR) at 128x128 with StyleGAN2's networks (mapping 8, w 512,
    # fmaps 16384 / res up to 512), ADA's auto settings for 128 px at batch 32 (gamma 0.0002 res^2 / batch = 0.1,
    # lr 2.5e-3, EMA 10 kimg), mixing 0.9, path length 2; about 25M images; for a GPU
    "faces": dict(data="tfds:celeb_a", data_shape=(128, 128, 3), latent_dim=512, w_dim=512, mapping_layers=8,
                  fmap_base=16384, fmaps=512, mbstd_group=4, learning_rate=2.5e-3, r1_gamma=0.1, style_mixing=0.9,
                  pl_weight=2.0, ema_decay=half_life_decay(10, 32), batch_size=32, epochs=150),
    # tiny: test size; lazy R1 every 2nd step, so two steps show both kinds
    "tiny": dict(data="digits", data_shape=(8, 8, 1), latent_dim=8, w_dim=8, mapping_layers=2, fmap_base=64,
                 fmaps=8, mbstd_group=4, r1_gamma=0.01, r1_interval=2, pl_weight=0.0, ema_decay=0.9, batch_size=8,
                 epochs=1, steps_per_epoch=2),
}


@keras.saving.register_keras_serializable(package="tfgan_models")
@register_variant("stylegan", PRESETS)
class StyleGAN(GANModel):
    """StyleGAN2 (default) or StyleGAN: mapping network, styles, per-layer noise, R1, lazy regularisation.

    Args:
        data_shape: ``(res, res, C)`` with res a power of 2 >= 8.
        latent_dim, w_dim: sizes of z and w; mapping_layers: depth of the mapping network.
        fmap_base, fmaps: feature maps at resolution r are ``min(fmap_base / r, fmaps)`` in G and D.
        architecture: ``"stylegan2"`` (modulated convs, skip G) or ``"stylegan1"`` (AdaIN).
        d_architecture: ``"resnet"`` (SG2) or ``"orig"`` (ADA's cifar). mbstd_group: minibatch-stddev group.
        learning_rate: Adam's lr before the lazy rescaling (SG2: 2e-3).
        r1_gamma, r1_interval: R1 weight gamma and its lazy interval (16).
        pl_weight, pl_interval, pl_decay, pl_batch_shrink: path-length regularisation (2, 4, 0.01, 2; 0: off).
        style_mixing: probability that a batch is mixed (0.9). w_avg_beta: decay of ``w_avg`` (0.995).
        truncation_cutoff: style layers that ``generate(truncation=psi)`` truncates (None: all, as SG2).
        **kwargs: ``ema_decay``, ``ema_warmup``, ``seed``; see :class:`GANModel`.
    """
    jit_compile_note = "XLA cannot compile its step: minibatch stddev's Tile gradient needs a compile-time-constant shape"

    def __init__(self, data_shape=(32, 32, 3), latent_dim=512, w_dim=512, mapping_layers=8, fmap_base=32768,
                 fmaps=512, architecture="stylegan2", d_architecture="resnet", mbstd_group=4, learning_rate=2e-3,
                 r1_gamma=10.0, r1_interval=16, pl_weight=2.0, pl_interval=4, pl_decay=0.01, pl_batch_shrink=2,
                 style_mixing=0.9, w_avg_beta=0.995, truncation_cutoff=None, generator=None, discriminator=None,
                 **kwargs):
        data_shape = tuple(int(d) for d in data_shape)
        res = data_shape[0] if data_shape else 0
        if len(data_shape) != 3 or data_shape[1] != res or res < 8 or res & (res - 1):
            raise ValueError(f"data_shape must be (res, res, C) with res a power of 2 >= 8, received {data_shape}.")
        checks = {"architecture": (architecture, architecture in ARCHITECTURES, " or ".join(ARCHITECTURES)),
                  "d_architecture": (d_architecture, d_architecture in D_ARCHITECTURES, " or ".join(D_ARCHITECTURES)),
                  "r1_gamma": (r1_gamma, r1_gamma >= 0, ">= 0"), "pl_weight": (pl_weight, pl_weight >= 0, ">= 0"),
                  "style_mixing": (style_mixing, 0 <= style_mixing <= 1, "in [0, 1]"),
                  "w_avg_beta": (w_avg_beta, 0 <= w_avg_beta < 1, "in [0, 1)"),
                  "pl_decay": (pl_decay, 0 < pl_decay <= 1, "in (0, 1]"),
                  "learning_rate": (learning_rate, learning_rate > 0, "> 0"),
                  "truncation_cutoff": (truncation_cutoff, truncation_cutoff is None or
                                        0 <= int(truncation_cutoff) <= num_ws(res), f"None or in [0, {num_ws(res)}]"),
                  "discriminator_steps": (kwargs.get("discriminator_steps", 1),
                                          kwargs.get("discriminator_steps", 1) == 1, "1 (one D step per G step)"),
                  **{name: (value, int(value) >= 1, "an integer >= 1") for name, value in (
                      ("r1_interval", r1_interval), ("pl_interval", pl_interval), ("pl_batch_shrink", pl_batch_shrink),
                      ("mapping_layers", mapping_layers), ("mbstd_group", mbstd_group))}}
        for name, (value, ok, allowed) in checks.items():
            if not ok:
                raise ValueError(f"{name} must be {allowed}, received {value!r}.")
        self.w_dim, self.mapping_layers, self.fmap_base, self.fmaps = int(w_dim), int(mapping_layers), int(
            fmap_base), int(fmaps)
        self.architecture, self.d_architecture, self.mbstd_group = architecture, d_architecture, int(mbstd_group)
        self.learning_rate, self.r1_gamma, self.r1_interval = float(learning_rate), float(r1_gamma), int(r1_interval)
        self.pl_weight, self.pl_interval, self.pl_decay = float(pl_weight), int(pl_interval), float(pl_decay)
        self.pl_batch_shrink, self.style_mixing = int(pl_batch_shrink), float(style_mixing)
        self.w_avg_beta = float(w_avg_beta)
        self.truncation_cutoff = None if truncation_cutoff is None else int(truncation_cutoff)
        self.resolution = res
        if generator is None:
            generator = stylegan_generator(data_shape, latent_dim, self.w_dim, self.mapping_layers, self.fmap_base,
                                           self.fmaps, architecture, self.truncation_cutoff)
        if discriminator is None:
            discriminator = stylegan_discriminator(data_shape, self.fmap_base, self.fmaps, self.mbstd_group,
                                                   d_architecture)
        super().__init__(generator=generator, discriminator=discriminator, data_shape=data_shape,
                         latent_dim=latent_dim, **kwargs)
        missing = [n for n in ("mapping", "truncation", "synthesis") if n not in {x.name for x in generator.layers}]
        if missing:  # training and sampling go through the parts (style mixing, truncation, W+)
            raise ValueError(f"generator must hold the parts named mapping, truncation and synthesis (as "
                             f"stylegan_generator builds); {generator.name!r} lacks {', '.join(missing)}.")
        # a: the moving average of the path lengths (G_logistic_ns_pathreg's pl_mean), saved with the model.
        self.pl_mean = self.add_weight(shape=(), name="pl_mean", initializer="zeros", trainable=False,
                                       aggregation="mean")

    @property
    def loss_names(self):
        return ("d_loss", "g_loss", "r1_penalty") + (("pl_penalty", "pl_mean") if self.pl_weight else ())

    def generator_inputs(self):
        """``z`` then one N(0, 1) noise image per noisy layer (``noise_0`` at 4x4, ...)."""
        return [GeneratorInput.normal("z", self.latent_dim)] + [
            GeneratorInput.noise_image(f"noise_{i}", (r, r, 1))
            for i, r in enumerate(noise_resolutions(self.resolution, self.architecture))]

    CONFIG_KEYS = ("w_dim", "mapping_layers", "fmap_base", "fmaps", "architecture", "d_architecture", "mbstd_group",
                   "learning_rate", "r1_gamma", "r1_interval", "pl_weight", "pl_interval", "pl_decay",
                   "pl_batch_shrink", "style_mixing", "w_avg_beta", "truncation_cutoff")

    def get_config(self):
        return {**super().get_config(), **{key: getattr(self, key) for key in self.CONFIG_KEYS}}

    def default_optimizers(self):
        """Adam(lr, 0, 0.99, 1e-8) with lr x c / (c + 1) and betas ^ (c / (c + 1)) (``training_loop.py``)."""
        ratios = {"generator": self.pl_interval / (self.pl_interval + 1.0),
                  "discriminator": self.r1_interval / (self.r1_interval + 1.0)}
        return {name: keras.optimizers.Adam(self.learning_rate * r, beta_1=0.0, beta_2=0.99 ** r, epsilon=1e-8)
                for name, r in ratios.items()}

    # ------------------------------------------------------------ training
    def _styles(self, batch):
        """``(w, W+)`` for a batch: f(z) broadcast to every layer; on a fraction ``style_mixing`` of the batches
        the layers from a random crossover in [1, num_ws) on take f(z2) instead (``G_main``'s StyleMix)."""
        mapping, broadcast = self.generator.get_layer("mapping"), self.generator.get_layer("truncation")
        w = mapping(self.latents(batch), training=True)
        ws = broadcast(w)
        if self.style_mixing > 0:
            ws2 = broadcast(mapping(self.latents(batch), training=True))
            # One draw per global batch through the seed generator: every replica mixes the same way.
            u = keras.random.uniform((2,), seed=self.seed_generator)
            crossover = ops.where(u[0] < self.style_mixing,
                                  1 + ops.cast(ops.floor(u[1] * (self.num_ws - 1)), "int32"), self.num_ws)
            layer = ops.reshape(ops.arange(self.num_ws, dtype="int32"), (1, -1, 1))
            ws = ops.where(layer < crossover, ws, ws2)
        return w, ws

    def _synthesize(self, ws, batch):
        noise = [self.draw(spec, batch) for spec in self.generator_inputs()[1:]]  # fresh noise every call
        return self.generator.get_layer("synthesis")([ws, *noise], training=True)

    def _r1(self, real):
        """``(D(x), E||grad_x D(x)||^2)`` in float32: the inner tape's gradient is differentiated by the outer one."""
        logits, grads = input_gradient(lambda x: self.discriminator(x, training=True), ops.cast(real, "float32"),
                                       self.loss_scale("discriminator"))
        return logits, ops.mean(ops.sum(ops.square(grads), axis=(1, 2, 3)))

    def _path_length(self, batch):
        """(||J_w^T y|| - a)^2 on a batch / pl_batch_shrink, y ~ N(0, I) / sqrt(H W); a <- lerp(a, E||J^T y||, decay).
        The penalty uses the updated a as a tensor, so (as the code) its gradient also flows through a."""
        batch = ops.maximum(batch // self.pl_batch_shrink, 1)
        _, ws = self._styles(batch)

        def projected(w):  # <G(w), y> per pixel, y ~ N(0, I) / sqrt(H W)
            images = ops.cast(self._synthesize(w, batch), "float32")
            return images * self.noise(ops.shape(images)) / float(self.resolution)

        _, grads = input_gradient(projected, ws, self.loss_scale("generator"))
        lengths = ops.sqrt(ops.mean(ops.sum(ops.square(grads), axis=2), axis=1))
        a = self.pl_mean + self.pl_decay * (ops.mean(lengths) - self.pl_mean)
        # pl_mean is assigned by train_step, outside the tf.cond: under tf.distribute its cross-replica update
        # cannot be made inside a cond branch.
        return ops.mean(ops.square(lengths - a)), ops.stop_gradient(a)

    def train_step(self, data):
        # 1. D step: fakes from mixed styles and fresh noise; descend softplus(D(G(z))) + softplus(-D(x)), plus,
        #    when the D optimizer's step count is a multiple of r1_interval, r1_interval * gamma / 2 * R1.
        # 2. G step on new z: descend softplus(-D(G(z))), plus, if pl_weight and the G step count is a multiple of
        #    pl_interval, pl_interval * pl_weight * the path-length penalty.
        # 3. w_avg <- lerp(mean of this G step's w, w_avg, w_avg_beta); G EMA; report.
        real = self.unpack_real(data)
        batch = ops.shape(real)[0]
        fake = self._synthesize(self._styles(batch)[1], batch)
        lazy_r1 = ops.equal(self.d_optimizer.iterations % self.r1_interval, 0)
        with tf.GradientTape() as tape:
            real_logits, r1 = tf.cond(lazy_r1, lambda: self._r1(real), lambda: (
                ops.cast(self.discriminator(real, training=True), "float32"), tf.constant(0.0)))
            d_loss = non_saturating_discriminator_loss(real_logits, self.discriminator(fake, training=True))
            total = d_loss + self.r1_interval * self.r1_gamma / 2.0 * r1
        self.apply_gradients("discriminator", tape, total)
        with tf.GradientTape() as tape:
            w, ws = self._styles(batch)
            g_loss = non_saturating_generator_loss(self.discriminator(self._synthesize(ws, batch), training=True))
            total, pl = g_loss, tf.constant(0.0)
            if self.pl_weight:
                lazy_pl = ops.equal(self.g_optimizer.iterations % self.pl_interval, 0)
                pl, a = tf.cond(lazy_pl, lambda: self._path_length(batch),
                                lambda: (tf.constant(0.0), ops.convert_to_tensor(self.pl_mean)))
                total = g_loss + self.pl_interval * self.pl_weight * pl
        self.apply_gradients("generator", tape, total)
        if self.pl_weight:
            self.pl_mean.assign(a)
        w_avg = self.generator.get_layer("truncation").w_avg
        w_avg.assign(ops.mean(ops.cast(w, "float32"), axis=0) * (1.0 - self.w_avg_beta) + w_avg * self.w_avg_beta)
        self.update_ema()
        extra = dict(pl_penalty=pl, pl_mean=self.pl_mean) if self.pl_weight else {}
        return self.track(d_loss=d_loss, g_loss=g_loss, r1_penalty=r1, **extra)

    # ----------------------------------------------------------- sampling
    @property
    def num_ws(self):
        """Style layers of W+ (2 log2(res) - 2)."""
        return num_ws(self.resolution)

    @property
    def w_average(self):
        """The tracked mean of w, ``(w_dim,)`` float32 (of the inference generator)."""
        return ops.convert_to_numpy(self.inference_generator.get_layer("truncation").w_avg).astype("float32")

    def generator_arrays(self, n=None, seed=None, truncation=None, **given):
        """As :meth:`GenerativeModel.generator_arrays`, with the noise images drawn with seed 0 when ``seed``
        is None, so a given z always gives the same image. StyleGAN truncates in W: pass psi to :meth:`generate`."""
        if truncation is not None:
            raise ValueError("StyleGAN truncates w, not z: pass truncation (psi) to generate(), not here.")
        arrays = super().generator_arrays(n, seed=seed, **given)
        if seed is None:
            rng = np.random.RandomState(0)
            for i, spec in enumerate(self.generator_inputs()[1:], 1):
                if spec.name not in given or given[spec.name] is None:
                    arrays[i] = spec.sample(rng, len(arrays[0]))
        return arrays

    def generate(self, n=None, seed=None, truncation=None, batch_size=256, **inputs):
        """Samples in [-1, 1] (float32, not clipped) from z and the noise images (drawn with ``seed`` unless given).

        ``truncation`` is psi of the truncation trick in W (SG1 app. B), *not* the base class's z resampling:
        w' = w_avg + psi (w - w_avg) on the first ``truncation_cutoff`` style layers. None or 1: none; 0: every
        sample is the image of w_avg. The same seed gives the same z and noise for every psi.
        """
        psi = self._check_psi(truncation)
        arrays = self.generator_arrays(n, seed=seed, **inputs)
        net = self.inference_generator
        if psi is None:
            return self._batched(lambda a: net(a, training=False), arrays, batch_size)
        return self._batched(lambda a: net.get_layer("synthesis")([net.get_layer("truncation")(
            net.get_layer("mapping")(a[0], training=False), psi=psi), *a[1:]], training=False), arrays, batch_size)

    def mapping(self, z, batch_size=256):
        """w = f(z) ``(n, w_dim)`` for z ``(n, latent_dim)`` (the inference generator's mapping network)."""
        z = self.generator_inputs()[0].check(z)
        return self._batched(lambda a: self.inference_generator.get_layer("mapping")(a[0], training=False), [z],
                             batch_size)

    def synthesize(self, ws, seed=0, batch_size=256, **noise):
        """Images from W+ ``(n, num_ws, w_dim)`` (a ``(n, w_dim)`` w is used at every layer) and the noise images
        (``noise_i=`` given, the others drawn with ``seed``)."""
        ws = np.asarray(ws, dtype="float32")
        if ws.ndim == 2:
            ws = np.repeat(ws[:, None, :], self.num_ws, axis=1)
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(f"ws must have shape (n, {self.num_ws}, {self.w_dim}) or (n, {self.w_dim}), received "
                             f"{tuple(np.shape(ws))}.")
        z = np.zeros((len(ws), self.latent_dim), "float32")  # a placeholder: only the noise images are drawn
        arrays = self.generator_arrays(seed=seed, z=z, **noise)
        synthesis = self.inference_generator.get_layer("synthesis")
        return self._batched(lambda a: synthesis(a, training=False), [ws, *arrays[1:]], batch_size)

    def style_mix(self, z_a, z_b, crossover, seed=0, batch_size=256):
        """Images whose style layers ``< crossover`` come from z_a (coarse: pose, shape) and the rest from z_b
        (fine: colour, texture), with the same noise (SG1 sec. 3.1, fig. 3). ``crossover`` in [0, num_ws]."""
        if isinstance(crossover, bool) or not isinstance(crossover, (int, np.integer)) or not (
                0 <= crossover <= self.num_ws):
            raise ValueError(f"crossover must be an integer in [0, {self.num_ws}], received {crossover!r}.")
        z_a = self.generator_inputs()[0].check(z_a)
        z_b = self.generator_inputs()[0].check(z_b, len(z_a))
        ws_a, ws_b = (np.repeat(self.mapping(z, batch_size)[:, None], self.num_ws, axis=1) for z in (z_a, z_b))
        layer = np.arange(self.num_ws).reshape(1, -1, 1)
        return self.synthesize(np.where(layer < int(crossover), ws_a, ws_b), seed=seed, batch_size=batch_size)

    @staticmethod
    def _check_psi(psi):
        if psi is None:
            return None
        if isinstance(psi, bool) or not np.isscalar(psi) or not np.isfinite(psi) or float(psi) < 0:
            raise ValueError(f"truncation (psi) must be a number >= 0 or None, received {psi!r}.")
        return None if float(psi) == 1.0 else float(psi)

    @staticmethod
    def _batched(fn, arrays, batch_size):
        out = [ops.convert_to_numpy(fn([ops.convert_to_tensor(a[i : i + int(batch_size)]) for a in arrays]))
               for i in range(0, len(arrays[0]), int(batch_size))]
        return np.concatenate(out).astype("float32")
