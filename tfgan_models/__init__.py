from tfgan_models import registry
