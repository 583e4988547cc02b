"""BestMetricCheckpoint: metric in the logs, best model saved only on improvement, reloadable."""

import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_models import data, registry
from tfgan_models.callbacks import HistoryLog
from tfgan_models.callbacks.metric_checkpoint import BestMetricCheckpoint, digits_fid_metric, generator_metric
from tfgan_models.io import read_json
from tfgan_models.metrics.digits import DigitsEvaluator
from tfgan_models.metrics.fid import FrechetInceptionDistance


def tiny(name="dcgan"):
    keras.utils.set_random_seed(0)
    return registry.get(name, "tiny", seed=0)


def digits(model):
    return data.load("digits", batch_size=8, image_size=8, repeat=True, seed=0,
                     with_labels=getattr(model, "requires_labels", False))


def evaluator_real(size):
    return data.digits_arrays("train", size)[0]


class Scripted:
    """A metric_fn returning scripted values; remembers the generator's weights at each call."""

    def __init__(self, values):
        self.values, self.weights = list(values), []

    def __call__(self, model):
        self.weights.append([w.copy() for w in model.generator.get_weights()])
        return self.values[len(self.weights) - 1]


class FileWatch(keras.callbacks.Callback):
    """Records, after each epoch, the inode of a file (an atomic replace gives a new one)."""

    def __init__(self, path):
        super().__init__()
        self.path, self.inodes = path, []

    def on_epoch_end(self, epoch, logs=None):
        self.inodes.append(os.stat(self.path).st_ino if os.path.exists(self.path) else None)


def saves(inodes):
    """Epochs (1-based) after which the watched file was (re)written."""
    return [i + 1 for i, (a, b) in enumerate(zip([None] + inodes[:-1], inodes)) if b is not None and a != b]


def test_metric_lands_in_logs_and_best_model_is_saved_only_on_improvement(tmp_path):
    model = tiny()
    path = str(tmp_path / "best.keras")
    metric = Scripted([5.0, 3.0, 4.0, float("nan"), 3.5])
    watch = FileWatch(path)
    callback = BestMetricCheckpoint(metric, every=1, mode="min", filepath=path, name="fid",
                                    log_dir=str(tmp_path / "logs"))
    history = model.fit(digits(model), epochs=5, steps_per_epoch=2, verbose=0,
                        callbacks=[callback, HistoryLog(str(tmp_path / "history.json")), watch])
    np.testing.assert_equal(history.history["fid"], [5.0, 3.0, 4.0, math.nan, 3.5])
    assert [row["fid"] for row in read_json(str(tmp_path / "history.json"))][:3] == [5.0, 3.0, 4.0]
    assert saves(watch.inodes) == [1, 2]  # 5 then 3; 4, NaN and 3.5 are no better
    assert (callback.best, callback.best_epoch) == (3.0, 2)
    assert read_json(str(tmp_path / "best.json")) == {"metric": "fid", "mode": "min", "value": 3.0, "epoch": 2}
    # The file holds the epoch-2 model, not the last one: last is not best.
    reloaded = keras.models.load_model(path)
    for saved, best, last in zip(reloaded.generator.get_weights(), metric.weights[1], model.generator.get_weights()):
        np.testing.assert_allclose(saved, best)
    assert not all(np.allclose(b, l) for b, l in zip(metric.weights[1], model.generator.get_weights()))
    z = np.random.RandomState(0).randn(4, model.latent_dim).astype("float32")
    assert reloaded.generate(z=z).shape == (4, 8, 8, 1)
    # TensorBoard scalar under log_dir/metrics, one per evaluation.
    events = [f for f in os.listdir(tmp_path / "logs" / "metrics")]
    values = []
    for record in tf.data.TFRecordDataset([str(tmp_path / "logs" / "metrics" / f) for f in events]):
        event = tf.compat.v1.Event.FromString(record.numpy())
        values += [(event.step, float(tf.make_ndarray(v.tensor))) for v in event.summary.value if v.tag == "fid"]
    assert [step for step, _ in values] == [1, 2, 3, 4, 5] and values[1] == (2, 3.0)


def test_every_n_epochs_and_max_mode(tmp_path):
    model = tiny()
    path = str(tmp_path / "best.keras")
    metric = Scripted([0.2, 0.9, 0.5])
    watch = FileWatch(path)
    history = model.fit(digits(model), epochs=6, steps_per_epoch=1, verbose=0,
                        callbacks=[BestMetricCheckpoint(metric, every=2, mode="max", filepath=path, name="acc"),
                                   watch])
    assert len(metric.weights) == 3  # epochs 2, 4, 6
    assert history.history["acc"] == [0.2, 0.9, 0.5]
    assert saves(watch.inodes) == [2, 4]


def test_a_resumed_run_keeps_a_better_earlier_checkpoint(tmp_path):
    model = tiny()
    path = str(tmp_path / "best.keras")
    model.fit(digits(model), epochs=1, steps_per_epoch=1, verbose=0,
              callbacks=[BestMetricCheckpoint(Scripted([1.0]), filepath=path)])
    before = os.stat(path).st_ino
    resumed = BestMetricCheckpoint(Scripted([2.0, 0.5]), filepath=path)
    model.fit(digits(model), epochs=2, steps_per_epoch=1, verbose=0, callbacks=[resumed])
    assert (resumed.best, resumed.best_epoch) == (0.5, 2)
    assert os.stat(path).st_ino != before  # 2.0 was kept out, 0.5 went in
    assert read_json(str(tmp_path / "best.json"))["value"] == 0.5


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="'min' or 'max'"):
        BestMetricCheckpoint(lambda m: 0.0, mode="lowest")
    with pytest.raises(ValueError, match="every"):
        BestMetricCheckpoint(lambda m: 0.0, every=0)
    with pytest.raises(ValueError, match=r"\.keras"):
        BestMetricCheckpoint(lambda m: 0.0, filepath="best.h5")


def test_digits_fid_metric_scores_unconditional_and_conditional_models():
    model = tiny("dcgan")
    metric_fn = digits_fid_metric(n=200, seed=3)
    value = metric_fn(model)
    evaluator = DigitsEvaluator(8)
    expected = evaluator.frechet_distance(model.generate(200, seed=3), evaluator_real(8))
    assert value == pytest.approx(expected, rel=1e-6)
    assert metric_fn(model) == pytest.approx(value, rel=1e-9)  # same latents every call
    cgan = tiny("cgan")
    cgan_value = digits_fid_metric(n=100)(cgan)  # generate(n) cycles the labels
    assert cgan_value == pytest.approx(evaluator.frechet_distance(cgan.generate(100, seed=0), evaluator_real(8)),
                                       rel=1e-6)


def test_generator_metric_returns_one_entry_of_a_dict_result():
    from tfgan_models.metrics.features import DigitsFeatures
    from tfgan_models.metrics.precision_recall import PrecisionRecall

    model = tiny()
    real = evaluator_real(8)[:300]
    recall = generator_metric(PrecisionRecall(features=DigitsFeatures(8)), real=real, n=100, key="recall")
    # Against a direct computation on the same n samples (seed 0): the entry asked for, not the other one.
    direct = PrecisionRecall(features=DigitsFeatures(8))
    direct.update_state(real=real, fake=model.generate(100, seed=0))
    assert recall(model) == direct.result()["recall"]
    # A "generator" of real digits (the train split's tail, not in ``real``) scores high where the
    # untrained one scores low: the value follows the samples.
    held = evaluator_real(8)[300:400]
    stand_in = type("RealDigits", (), {"generate": lambda self, n, seed=0: held[:n]})()
    precision = generator_metric(PrecisionRecall(features=DigitsFeatures(8)), real=real, n=100, key="precision")
    assert precision(stand_in) > 0.8 and precision(model) < 0.3
    with pytest.raises(ValueError, match="key="):
        generator_metric(PrecisionRecall(features=DigitsFeatures(8)), real=real, n=100)(model)
    fid = generator_metric(FrechetInceptionDistance(features=DigitsFeatures(8)), real=real, n=100)
    expected = DigitsFeatures(8).evaluator.frechet_distance(real, model.generate(100, seed=0))
    assert fid(model) == pytest.approx(expected, rel=1e-6)
    assert fid(stand_in) < 0.2 * fid(model)  # the real features are kept between calls; only the fakes change
