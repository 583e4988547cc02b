import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
import keras


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)
    yield


@pytest.fixture
def rng():
    return np.random.RandomState(0)


@pytest.fixture(scope="module")
def small_mnist_judges(tmp_path_factory):
    """Test-sized MNIST judges (2,000 training images, one epoch): the package CNN and the PCA + kNN one."""
    from tfgan_models import metrics

    cache = tmp_path_factory.mktemp("mnist_cache")
    return (metrics.MnistEvaluator(32, cache_dir=cache, train_size=2000, epochs=1),
            metrics.IndependentMnistJudge(32, train_size=2000))
