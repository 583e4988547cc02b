"""`tfgan bench xla` and `tfgan bench throughput` at toy budgets, the XLA step check, and jit_compile="auto"."""

import json
import math
import os

import keras
import pytest
import tensorflow as tf

from tfgan_models import registry
from tfgan_models.benchmarks import SUITES, format_table, throughput, xla
from tfgan_models.models.dcgan import DCGAN

TINY = dict(data_shape=(16, 16, 1), latent_dim=8, width=8)


def _positive(value):
    return isinstance(value, float) and math.isfinite(value) and value > 0


def test_quick_throughput_suite_rates_ours_and_the_reference():
    logged = []
    results = SUITES["throughput"](quick=True, variants=("srresnet",), windows=1, window_s=0.05, log=logged.append)
    (row,) = results["rows"]
    for key in ("ours_img_per_s", "reference_img_per_s", "ratio", "ours_xla_on_img_per_s", "ours_xla_off_img_per_s",
                "reference_xla_on_img_per_s", "reference_xla_off_img_per_s", "ratio_xla_off", "ratio_xla_on",
                "ours_steps_per_execution_img_per_s",
                "ours_no_guard_img_per_s"):
        assert _positive(row[key]), (key, row[key])
    assert row["ratio"] == pytest.approx(row["ours_img_per_s"] / row["reference_img_per_s"])
    # Keras resolves the reference's jit_compile="auto" to off on a CPU-only machine; ours follows its class.
    assert row["reference_jit_compile"] is (len(tf.config.list_physical_devices("GPU")) > 0)
    assert row["ours_jit_compile"] is bool(registry.variant_class("srresnet").jit_compile_auto)
    assert row["retraces"] == 0 and logged
    json.loads(json.dumps(results))
    assert "throughput" in format_table("throughput", results)
    with pytest.raises(ValueError, match="unknown variant"):
        throughput.run(quick=True, variants=("stylegan",))


def test_reference_trains_the_same_networks_with_the_same_loss():
    """srresnet has no randomness: our step and the keras.io-style step give the same loss and weights."""
    model = registry.get("srresnet", "tiny")
    model.compile(jit_compile=False)
    reference = throughput.reference_model("srresnet", model, jit_compile=False)
    h, w, c = model.data_shape
    rng = tf.random.stateless_uniform((2, 4, h, w, c), seed=[1, 2], minval=-1.0, maxval=1.0)
    batch = (tf.image.resize(rng[0], (h // model.scale, w // model.scale)), rng[1])
    data = tf.data.Dataset.from_tensors(batch).repeat()
    ours = model.fit(data, epochs=1, steps_per_epoch=1, verbose=0).history["pixel_loss"][-1]
    theirs = reference.fit(data, epochs=1, steps_per_epoch=1, verbose=0).history["pixel_loss"][-1]
    assert theirs == pytest.approx(ours, rel=1e-5)
    for a, b in zip(model.generator.get_weights(), reference.generator.get_weights()):
        assert a == pytest.approx(b, abs=1e-6)


def test_quick_xla_suite_finds_dcgan_correct_under_xla():
    logged = []
    results = SUITES["xla"](quick=True, variants=("dcgan",), windows=1, window_s=0.05, log=logged.append)
    (row,) = results["rows"]
    assert row["correct"] is True and row["update_rel_diff"] <= xla.UPDATE_TOLERANCE
    assert _positive(row["img_per_s_off"]) and _positive(row["img_per_s_on"]) and _positive(row["speedup"])
    assert row["verdict"] in ("on", "slower") and logged
    assert ("dcgan" in results["auto_on"]) is (row["verdict"] == "on")
    json.loads(json.dumps(results))
    assert "xla" in format_table("xla", results)
    with pytest.raises(ValueError, match="windows must be an int >= 1"):
        xla.run(quick=True, windows=0)


def test_step_check_reports_differs_for_different_models_and_same_for_copies():
    batch = tf.random.stateless_uniform((4, 16, 16, 1), seed=[3, 4], minval=-1.0, maxval=1.0)

    def build(seed):
        keras.utils.set_random_seed(seed)
        model = DCGAN(seed=0, **TINY)
        model.compile(jit_compile=False)
        return model

    a, copy, other = build(0), build(0), build(1)
    xla.copy_state(a, copy)
    assert xla.judge(*xla.step_difference(a, copy, batch)[:2], speedup=2.0) == "on"
    a, other = build(0), build(1)
    loss_diff, update_diff, _, _ = xla.step_difference(a, other, batch)
    assert update_diff > xla.UPDATE_TOLERANCE
    assert xla.judge(loss_diff, update_diff, speedup=2.0) == "differs"
    assert xla.judge(0.0, 0.0, speedup=1.0) == "slower" and xla.judge(0.0, 0.0) == "same"


def test_random_streams_agree_with_and_without_xla_inside_the_check():
    gen = keras.random.SeedGenerator(5)

    def draws():
        return tf.concat([keras.random.normal((6,), seed=gen), keras.random.uniform((6,), seed=gen),
                          keras.random.dropout(tf.ones((6,)), 0.5, seed=gen)], 0)

    from keras.src.backend import random as backend_random

    state, original = gen.state.numpy(), backend_random.normal
    with xla.same_random_streams():
        plain = tf.function(draws)()
        gen.state.assign(state)
        compiled = tf.function(draws, jit_compile=True)()
    assert plain.numpy() == pytest.approx(compiled.numpy(), abs=1e-5)
    assert backend_random.normal is original  # Keras' own random ops are back after the block


class _XLAOn(DCGAN):
    jit_compile_auto = True


class _XLAOff(DCGAN):
    jit_compile_auto = False


def test_compile_auto_resolves_to_the_class_attribute():
    on, off = _XLAOn(seed=0, **TINY), _XLAOff(seed=0, **TINY)
    on.compile()
    off.compile(jit_compile="auto")
    assert on.jit_compile is True and off.jit_compile is False
    forced = _XLAOn(seed=0, **TINY)
    forced.compile(jit_compile=False)
    assert forced.jit_compile is False


def test_variant_defaults_follow_the_measured_xla_verdicts():
    path = os.path.join(os.path.dirname(__file__), os.pardir, "docs", "bench", "xla.json")
    with open(path) as f:
        rows = json.load(f)["rows"]
    package = {v for v in registry.list_variants()  # tests may register variants of their own
               if registry.variant_class(v).__module__.startswith("tfgan_models.")}
    assert {r["variant"] for r in rows} == package
    for r in rows:
        cls = registry.variant_class(r["variant"])
        assert cls.jit_compile_auto is (r["verdict"] == "on"), r["variant"]
        if r["verdict"] != "on":
            assert cls.jit_compile_note, f"{r['variant']} keeps XLA off without saying why"
