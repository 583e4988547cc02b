"""The variants, one paper per module, and their shared base classes.

Every module of this package is imported here, so a new variant is one new
file: its ``@register_variant`` makes it known to ``registry``, ``tfgan list``
and ``tfgan train`` without an edit anywhere else.
"""

import importlib
import pkgutil

from tfgan_models.models.generative import GenerativeModel, Phase
from tfgan_models.models.gan_model import GANModel
from tfgan_models.models.conditional import ConditionalGANModel
from tfgan_models.models.gan import GAN
from tfgan_models.models.dcgan import DCGAN
from tfgan_models.models.lsgan import LSGAN
from tfgan_models.models.wgan import WGAN
from tfgan_models.models.wgan_gp import WGANGP
from tfgan_models.models.cgan import CGAN
from tfgan_models.models.acgan import ACGAN
from tfgan_models.models.infogan import InfoGAN

__all__ = ["GenerativeModel", "Phase", "GANModel", "ConditionalGANModel", "GAN", "DCGAN", "LSGAN", "WGAN", "WGANGP", "CGAN", "ACGAN",
           "InfoGAN"]
from tfgan_models.models.sr_model import SRModel
from tfgan_models.models.srresnet import SRResNet
from tfgan_models.models.srgan import SRGAN
from tfgan_models.models.esrgan import ESRGAN

__all__ += ["SRModel", "SRResNet", "SRGAN", "ESRGAN"]
from tfgan_models.models.translation import TranslationModel
from tfgan_models.models.pix2pix import Pix2Pix
from tfgan_models.models.cyclegan import CycleGAN
from tfgan_models.models.discogan import DiscoGAN

__all__ += ["TranslationModel", "Pix2Pix", "CycleGAN", "DiscoGAN"]

for _module in pkgutil.iter_modules(__path__):  # variants added as new files register themselves
    importlib.import_module(f"{__name__}.{_module.name}")
