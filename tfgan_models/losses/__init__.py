"""Losses: pure functions of discriminator outputs, each citing its paper."""

from tfgan_models.losses.adversarial import (
    hinge_discriminator_loss,
    hinge_generator_loss,
    least_squares_discriminator_loss,
    least_squares_generator_loss,
    minimax_discriminator_loss,
    minimax_generator_loss,
    non_saturating_discriminator_loss,
    non_saturating_generator_loss,
    relativistic_average_discriminator_loss,
    relativistic_average_generator_loss,
    wasserstein_discriminator_loss,
    wasserstein_generator_loss,
)
from tfgan_models.losses.information import auxiliary_classifier_loss, categorical_code_loss, gaussian_code_loss
from tfgan_models.losses.penalties import gradient_penalty, input_gradient
from tfgan_models.losses.perceptual import (
    VGGWeightsError,
    perceptual_l1_loss,
    vgg19_features,
    vgg_content_loss,
)
from tfgan_models.losses.reconstruction import pixel_l1_loss, pixel_mse_loss

__all__ = [
    "VGGWeightsError",
    "perceptual_l1_loss",
    "pixel_l1_loss",
    "pixel_mse_loss",
    "relativistic_average_discriminator_loss",
    "relativistic_average_generator_loss",
    "vgg19_features",
    "vgg_content_loss",
    "auxiliary_classifier_loss",
    "categorical_code_loss",
    "gaussian_code_loss",
    "gradient_penalty",
    "input_gradient",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "least_squares_discriminator_loss",
    "least_squares_generator_loss",
    "minimax_discriminator_loss",
    "minimax_generator_loss",
    "non_saturating_discriminator_loss",
    "non_saturating_generator_loss",
    "wasserstein_discriminator_loss",
    "wasserstein_generator_loss",
]
from tfgan_models.losses.matching import kl_to_standard_normal, matching_aware_discriminator_loss, sje_loss

__all__ += ["kl_to_standard_normal", "matching_aware_discriminator_loss", "sje_loss"]
