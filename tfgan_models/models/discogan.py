"""DiscoGAN: Kim et al. 2017, "Learning to Discover Cross-Domain Relations with Generative
Adversarial Networks" (ICML 2017, arXiv:1703.05192), and its authors' code (SKTBrain/DiscoGAN,
``discogan/image_translation.py``, PyTorch 0.1, 2017).

Paper -> code (domains A and B):
    * G_AB is ``generator``, G_BA is ``reverse_generator`` (:func:`discogan_generator`):
      an encoder-decoder of 4x4 stride-2 convs, 64-128-256-512 down with
      LeakyReLU(0.2) and batch norm (none on the first), 256-128-64-3 up with
      ReLU and batch norm, tanh (sec. 4 and the authors' code; 64x64 images).
    * D_B is ``discriminator``, D_A is ``reverse_discriminator``
      (:func:`discogan_discriminator`): 64-128-256-512 4x4 stride-2 convs with
      LeakyReLU and batch norm, then a conv over the remaining 4x4 map -> one logit.
    * Adam(2e-4, beta_1 0.5), batch 64 in the authors' code.

Two objectives (``recipe``); the authors' code is the default, as it is what their results came from:

* ``recipe="paper"`` (sec. 3.3, eq. 3-5): the standard GAN loss (G in its non-saturating form) and
  the reconstruction losses L_CONST_A = |G_BA(G_AB(x_A)) - x_A|^2, L_CONST_B alike (mean squared
  error on [-1, 1] pixels); L_G = L_GAN_B + L_CONST_A + L_GAN_A + L_CONST_B, L_D = L_D_A + L_D_B;
  G and D both updated every iteration.
* ``recipe="code"`` (default), what ``image_translation.py`` adds, none of it in the paper:
    - feature matching: D also returns its hidden maps after conv 2, 3, 4 (``relu2..4``);
      ``get_fm_loss`` takes, per layer, l2 = (batch mean of real maps - batch mean of fake maps)^2
      and ``HingeEmbeddingLoss(l2, target 1)``, which for target 1 is just mean(l2): the sum over
      layers of the mean squared difference of batch-mean features (:func:`feature_matching_loss`);
      G's adversarial term per domain is 0.1 x BCE GAN loss + 0.9 x feature matching;
    - a reconstruction-weight curriculum: ``rate = starting_rate`` (0.01) while ``iters <
      gan_curriculum`` (10,000), then ``default_rate`` (0.5);
      L_G = (1 - rate) x (adversarial_A + adversarial_B) + rate x (L_CONST_A + L_CONST_B), with
      L_CONST the MSE of [0, 1] pixels (their sigmoid output), a quarter of the MSE on [-1, 1];
    - D's BCE loss halved (0.5 real + 0.5 fake);
    - one update per iteration: D when ``iters % update_interval == 0`` (3: iterations 0, 3, 6...),
      G otherwise, every loss computed from one forward pass. The iteration counter is the model
      weight ``iteration`` (checkpointed: a resumed run continues the curriculum and the cycle).
  Not reproduced: their Adam ``weight_decay=1e-5`` (an L2 term in PyTorch). Under tf.distribute with
  several replicas the code recipe is refused (an optimizer update inside ``tf.cond`` cannot be
  synchronised); the paper recipe trains there.
  ``gan_curriculum`` counts iterations (fit steps); the 10,000 of the code assumes long runs, so
  presets with short budgets set it in proportion (the ``demo`` preset: a tenth of its 2,000).

Initialisation and batch norm follow the authors' code, not the N(0, 0.02) of pix2pix / CycleGAN:
it calls no init function, so every layer kept PyTorch 0.1's defaults, reproduced here
(``_kernel_init``, ``_batch_norm``): conv and transposed-conv kernels ~ U(-1/sqrt(n), 1/sqrt(n))
with n = input channels x 4 x 4 (for a transposed conv too), batch-norm gamma ~ U(0, 1) and beta 0,
running averages with PyTorch's momentum 0.1 (Keras momentum 0.9) and eps 1e-5. The paper itself
names no initialisation. Its convs have no bias at all; here the first conv of each network and
the output layers keep a (zero-initialised) bias. Its generators end in a sigmoid on [0, 1] images;
here in tanh on [-1, 1] images (the same up to scaling).

Batch norm normalises with moving statistics at inference, so exports are deterministic.
"""

import keras
import tensorflow as tf
from keras import ops

from tfgan_models.losses import minimax_discriminator_loss, non_saturating_generator_loss, pixel_mse_loss
from tfgan_models.models.translation import TranslationModel
from tfgan_models.registry import register_variant

WIDTHS = (64, 128, 256, 512)
RECIPES = ("code", "paper")
FEATURE_LAYERS = ("conv_1_lrelu", "conv_2_lrelu", "conv_3_lrelu")  # the code's relu2, relu3, relu4 of D
FM_WEIGHT = 0.9  # the code's gen_loss * 0.1 + fm_loss * 0.9


def feature_matching_loss(real_features, fake_features):
    """sum over layers of mean_{h,w,c} (mean_batch f(real) - mean_batch f(fake))^2.

    The authors' ``get_fm_loss``: ``HingeEmbeddingLoss(l2, target=1)`` of the squared difference of
    batch-mean features is the mean of ``l2`` (for target 1 the hinge loss is its input).
    """
    if len(real_features) != len(fake_features) or not real_features:
        raise ValueError(f"feature matching needs as many real as fake feature maps (>= 1), received "
                         f"{len(real_features)} and {len(fake_features)}.")
    total = 0.0
    for real, fake in zip(real_features, fake_features):
        real, fake = ops.cast(real, "float32"), ops.cast(fake, "float32")
        total += ops.mean(ops.square(ops.mean(real, axis=0) - ops.mean(fake, axis=0)))
    return total


def with_features(discriminator, layers=FEATURE_LAYERS):
    """A view of ``discriminator`` (shared weights): images -> [logits, *hidden maps of ``layers``]."""
    names = {layer.name for layer in discriminator.layers}
    missing = [n for n in layers if n not in names]
    if missing:
        raise ValueError(f"feature matching reads D's layers {list(layers)}; {discriminator.name!r} has no "
                         f"{missing} (pass recipe='paper' or feature_matching=False for another D).")
    outputs = [discriminator.get_layer(n).output for n in layers]
    return keras.Model(discriminator.inputs, [discriminator.outputs[0], *outputs], name=f"{discriminator.name}_fm")


def _kernel_init(transposed=False):
    """PyTorch 0.1's conv default, U(+-1/sqrt(in_channels * k * k)) (Keras's fan_out of a transposed kernel)."""
    return keras.initializers.VarianceScaling(1.0 / 3.0, "fan_out" if transposed else "fan_in", "uniform")


def _batch_norm(name):
    """PyTorch 0.1's BatchNorm2d defaults: gamma ~ U(0, 1), beta 0, momentum 0.1 (Keras 0.9), eps 1e-5."""
    gamma = keras.initializers.RandomUniform(0.0, 1.0)
    return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, gamma_initializer=gamma, name=name)


def discogan_generator(channels=3, filters=64, name="generator"):
    """Images (B, H, W, channels) -> images in [-1, 1]; H, W multiples of 16."""
    images = keras.Input((None, None, channels), name="images")
    x = images
    widths = [w * filters // 64 for w in WIDTHS]
    for i, width in enumerate(widths):
        x = keras.layers.Conv2D(width, 4, strides=2, padding="same", use_bias=i == 0,
                                kernel_initializer=_kernel_init(), name=f"conv_{i}")(x)
        if i:
            x = _batch_norm(f"conv_{i}_bn")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"conv_{i}_lrelu")(x)
    for i, width in enumerate(reversed(widths[:-1])):
        x = keras.layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False,
                                         kernel_initializer=_kernel_init(transposed=True), name=f"deconv_{i}")(x)
        x = _batch_norm(f"deconv_{i}_bn")(x)
        x = keras.layers.ReLU(name=f"deconv_{i}_relu")(x)
    x = keras.layers.Conv2DTranspose(channels, 4, strides=2, padding="same",
                                     kernel_initializer=_kernel_init(transposed=True), name="deconv_out")(x)
    return keras.Model(images, keras.layers.Activation("tanh", dtype="float32", name="tanh")(x), name=name)


def discogan_discriminator(data_shape, filters=64, name="discriminator"):
    """Images (B, S, S, C) -> logits (B, 1); S a multiple of 16."""
    images = keras.Input(tuple(data_shape), name="images")
    x = images
    for i, width in enumerate(w * filters // 64 for w in WIDTHS):
        x = keras.layers.Conv2D(width, 4, strides=2, padding="same", use_bias=i == 0,
                                kernel_initializer=_kernel_init(), name=f"conv_{i}")(x)
        if i:
            x = _batch_norm(f"conv_{i}_bn")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"conv_{i}_lrelu")(x)
    x = keras.layers.Conv2D(1, data_shape[0] // 16, kernel_initializer=_kernel_init(),
                            name="conv_out")(x)  # 4x4 valid at 64x64
    return keras.Model(images, keras.layers.Flatten(dtype="float32", name="logits")(x), name=name)


PRESETS = {
    # paper: 64x64, full width, batch 64 (pass --data unpaired:..., or tfds:celeb_a --domains Male,-Male)
    "paper": dict(data="unpaired:photos,hue:photos", data_shape=(64, 64, 3), filters=64, d_filters=64,
                  batch_size=64, epochs=100),
    # demo: digits -> inverted digits from unpaired images (the benchmark's known mapping); the code recipe,
    # 2,000 iterations (one D or G update each: 1,333 G and 667 D updates), its curriculum switch scaled to
    # the run: gan_curriculum = a tenth of the iterations (the code's 10,000 assumes far longer runs); the
    # paper's 64x64 images (32x32 leaves a 2x2 bottleneck: the digit was kept for one seed in two), at
    # width 16 for the CPU
    "demo": dict(data="unpaired:digits,inverted:digits", data_shape=(64, 64, 3), filters=16, d_filters=16,
                 gan_curriculum=200, batch_size=16, epochs=20, steps_per_epoch=100),
    # tiny: test size
    "tiny": dict(data="unpaired:photos,hue:photos", data_shape=(16, 16, 3), filters=4, d_filters=4,
                 batch_size=2, epochs=1, steps_per_epoch=2),
}


@keras.saving.register_keras_serializable(package="tfgan_models")
@register_variant("discogan", PRESETS)
class DiscoGAN(TranslationModel):
    """DiscoGAN (Kim et al. 2017): G_AB, G_BA, D_A, D_B; GAN losses + L2 reconstruction both ways.

    Args:
        data_shape: training crops ``(S, S, 3)``, S a multiple of 16 (64 in the paper).
        filters, d_filters: first-layer widths of the generators and discriminators (64).
        recipe: ``"code"`` (default: the authors' code) or ``"paper"`` (eq. 3-5); see the module docstring.
        reconstruction_weight: weight of each L_CONST in the paper recipe (1).
        feature_matching: the code recipe's feature matching (True); False keeps its BCE GAN loss only.
        starting_rate, default_rate, gan_curriculum: the code recipe's reconstruction weight,
            ``starting_rate`` (0.01) for the first ``gan_curriculum`` iterations (10,000), then
            ``default_rate`` (0.5).
        update_interval: the code recipe updates D on iterations ``i % update_interval == 0``, G on the
            others (3).
        **kwargs: ``seed``; see :class:`TranslationModel`.
    """

    loss_names = ("d_loss", "g_loss", "adversarial_loss", "reconstruction_loss", "feature_matching_loss")
    jit_compile_note = "XLA ran at 0.42x the plain step on CPU at demo size (docs/bench/xla.json)"
    data_kind = "unpaired"
    two_way = True
    default_preview = "unpaired:digits,inverted:digits"

    def __init__(self, data_shape=(64, 64, 3), filters=64, d_filters=64, recipe="code", reconstruction_weight=1.0,
                 feature_matching=True, starting_rate=0.01, default_rate=0.5, gan_curriculum=10000, update_interval=3,
                 generator=None, discriminator=None, reverse_generator=None, reverse_discriminator=None, **kwargs):
        if int(data_shape[0]) % 16:
            raise ValueError(f"DiscoGAN crops must be a multiple of 16, received {data_shape[0]}.")
        if recipe not in RECIPES:
            raise ValueError(f"DiscoGAN recipe must be one of {RECIPES}, received {recipe!r}.")
        if not (0.0 <= starting_rate <= 1.0 and 0.0 <= default_rate <= 1.0):
            raise ValueError(f"starting_rate and default_rate must be in [0, 1], received {starting_rate}, "
                             f"{default_rate}.")
        if int(gan_curriculum) < 0 or int(update_interval) < 2:
            raise ValueError(f"gan_curriculum must be >= 0 and update_interval >= 2 (1 would never update G), "
                             f"received {gan_curriculum} and {update_interval}.")
        build_d = lambda name: discogan_discriminator(data_shape, d_filters, name=name)  # noqa: E731
        super().__init__(
            generator=generator if generator is not None else discogan_generator(3, filters, name="G_AB"),
            discriminator=discriminator if discriminator is not None else build_d("D_B"),
            reverse_generator=(reverse_generator if reverse_generator is not None
                               else discogan_generator(3, filters, name="G_BA")),
            reverse_discriminator=reverse_discriminator if reverse_discriminator is not None else build_d("D_A"),
            data_shape=data_shape, **kwargs)
        self.filters, self.d_filters, self.recipe = filters, d_filters, recipe
        self.reconstruction_weight = float(reconstruction_weight)
        self.feature_matching = bool(feature_matching)
        self.starting_rate, self.default_rate = float(starting_rate), float(default_rate)
        self.gan_curriculum, self.update_interval = int(gan_curriculum), int(update_interval)
        # the code's `iters`, checkpointed with the model so a resumed run keeps its curriculum and cycle
        self.iteration = self.add_weight(name="iteration", shape=(), initializer="zeros", dtype="int64",
                                         trainable=False, aggregation="only_first_replica")
        uses_fm = recipe == "code" and self.feature_matching
        # Untracked views (shared weights): tracking them would list D's layers twice in the saved model.
        object.__setattr__(self, "_d_views", tuple(with_features(d) if uses_fm else d for d in (
            self.discriminator, self.reverse_discriminator)))

    def discriminator_input_shapes(self):
        return [self.data_shape]

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "d_filters": self.d_filters, "recipe": self.recipe,
                "reconstruction_weight": self.reconstruction_weight, "feature_matching": self.feature_matching,
                "starting_rate": self.starting_rate, "default_rate": self.default_rate,
                "gan_curriculum": self.gan_curriculum, "update_interval": self.update_interval}

    def reconstruction_rate(self):
        """The code recipe's ``rate`` now: starting_rate while iteration < gan_curriculum, then default_rate."""
        return ops.where(ops.less(self.iteration, self.gan_curriculum), self.starting_rate, self.default_rate)

    def _objective(self, x_a, x_b):
        """Every loss of one iteration from one forward pass (as the authors' loop computes them)."""
        G_AB, G_BA = self.generator, self.reverse_generator
        x_ab, x_ba = G_AB(x_a, training=True), G_BA(x_b, training=True)  # (B, S, S, 3)
        reconstruction = pixel_mse_loss(x_a, G_BA(x_ab, training=True)) + pixel_mse_loss(x_b, G_AB(x_ba, training=True))
        code, fm = self.recipe == "code", self.recipe == "code" and self.feature_matching
        d_loss = gan = matching = ops.zeros(())
        for D, real, fake in zip(self._d_views, (x_b, x_a), (x_ab, x_ba)):  # D_B judges B, D_A judges A
            (real_logits, *real_maps), (fake_logits, *fake_maps) = (
                D(x, training=True) if fm else [D(x, training=True)] for x in (real, fake))
            d_loss += (0.5 if code else 1.0) * minimax_discriminator_loss(real_logits, fake_logits)
            gan += non_saturating_generator_loss(fake_logits)
            if fm:
                matching += feature_matching_loss(real_maps, fake_maps)
        if not code:
            adversarial = gan
            g_loss = adversarial + self.reconstruction_weight * reconstruction
        else:
            adversarial = (1.0 - FM_WEIGHT) * gan + FM_WEIGHT * matching if fm else gan
            rate = self.reconstruction_rate()  # the code's MSE is on [0, 1] pixels: a quarter of ours
            g_loss = (1.0 - rate) * adversarial + rate * 0.25 * reconstruction
        return dict(d_loss=d_loss, g_loss=g_loss, adversarial_loss=adversarial, reconstruction_loss=reconstruction,
                    feature_matching_loss=matching)

    def _update(self, x_a, x_b, network):
        """The code recipe's iteration: all losses, then one update of ``network`` (generator / discriminator)."""
        with tf.GradientTape() as tape:
            losses = self._objective(x_a, x_b)
        if network == "generator":
            self.apply_gradients(self.g_optimizer, tape, losses["g_loss"], self.generator_variables)
        else:
            self.apply_gradients(self.d_optimizer, tape, losses["d_loss"], self.discriminator_variables)
        # mixed precision: the skipped-update flag apply_gradients records is a tensor of this cond branch;
        # hand it out through the cond's outputs (train_step gives it back to `track`)
        flags, self._skipped_updates = getattr(self, "_skipped_updates", []), []
        return {**losses, "skipped": ops.any(ops.stack(flags)) if flags else ops.convert_to_tensor(False)}

    def train_step(self, data):
        # 1. Forward (`_objective`): x_AB = G_AB(x_A), x_BA = G_BA(x_B), their reconstructions, D_B on (x_B, x_AB) and
        #    D_A on (x_A, x_BA) (code recipe: with D's hidden maps for feature matching).
        # 2. paper: G descends L_GAN_B + L_CONST_A + L_GAN_A + L_CONST_B (eq. 3-5) and D descends L_D_A + L_D_B,
        #    both from this forward pass (D's weights and inputs are those of a G-first, D-second step).
        # 3. code: D's step on iterations i % update_interval == 0, G's on the others, with
        #    L_G = (1 - rate) (0.1 GAN + 0.9 FM) + rate L_CONST, rate = starting_rate until gan_curriculum.
        # 4. iteration += 1.
        x_a, x_b = self.unpack_pair(data)
        if self.recipe == "paper":
            with tf.GradientTape(persistent=True) as tape:
                losses = self._objective(x_a, x_b)
            self.apply_gradients(self.g_optimizer, tape, losses["g_loss"], self.generator_variables)
            self.apply_gradients(self.d_optimizer, tape, losses["d_loss"], self.discriminator_variables)
            del tape
        else:
            if tf.distribute.has_strategy() and tf.distribute.get_strategy().num_replicas_in_sync > 1:
                raise ValueError("DiscoGAN's code recipe picks D's or G's update with tf.cond, which tf.distribute "
                                 "cannot synchronise across replicas; train it on one device or use recipe='paper'.")
            d_turn = ops.equal(self.iteration % self.update_interval, 0)
            losses = tf.cond(d_turn, lambda: self._update(x_a, x_b, "discriminator"),
                             lambda: self._update(x_a, x_b, "generator"))
            skipped = losses.pop("skipped")
            self._skipped_updates = [skipped] if self.uses_loss_scaling() else []
        self.iteration.assign_add(1)
        return self.track(**losses)
