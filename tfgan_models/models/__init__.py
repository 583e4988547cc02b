"""The GAN variants, one paper per module, and their shared base class."""

from tfgan_models.models.gan_model import GANModel
from tfgan_models.models.gan import GAN
from tfgan_models.models.dcgan import DCGAN
from tfgan_models.models.lsgan import LSGAN
from tfgan_models.models.wgan import WGAN
from tfgan_models.models.wgan_gp import WGANGP

__all__ = ["GANModel", "GAN", "DCGAN", "LSGAN", "WGAN", "WGANGP"]
