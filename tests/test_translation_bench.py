import json

import numpy as np
import pytest

from tfgan_models import runs
from tfgan_models.benchmarks import SUITES, format_table
from tfgan_models.data import translation


def test_translation_suite_runs_end_to_end(tmp_path, monkeypatch):
    from skimage.metrics import structural_similarity

    from tfgan_models.benchmarks import translation as bench

    classifiers = []  # the domain classifier the suite trains, to recompute its share from G(x)

    def spy(*args, **kwargs):
        net, accuracy = real_classifier(*args, **kwargs)
        classifiers.append(net)
        return net, accuracy

    real_classifier = bench.domain_classifier
    monkeypatch.setattr(bench, "domain_classifier", spy)
    results = SUITES["translation"](quick=True, log=lambda m: None, steps=2,
                                    models=(("pix2pix", "tiny"), ("cyclegan", "tiny")),
                                    cost=(("cyclegan", "tiny"),), keep=str(tmp_path))
    json.dumps(results)
    paired, unpaired = results["rows"]
    assert paired["variant"] == "pix2pix" and paired["steps"] == 2

    # pix2pix's figures, recomputed from its saved run on the same held-out crops (pixels in [0, 1]).
    model, settings = runs.load_model(paired["run_dir"])
    inputs, targets = translation.held_out(settings["run"]["data"], bench.EVAL_SIZE, bench.N_EVAL)
    truth, grey = targets / 255.0, inputs / 255.0
    out = (np.asarray(model.translate(inputs / 127.5 - 1.0), "float64") + 1.0) / 2.0
    for suffix, images in (("", out), ("baseline_", grey)):
        assert paired[suffix + "l1"] == pytest.approx(np.mean(np.abs(truth - images)), rel=1e-5)
        assert paired[suffix + "psnr"] == pytest.approx(-10 * np.log10(np.mean((truth - images) ** 2)), abs=1e-4)
        ssim = np.mean([structural_similarity(t, i, channel_axis=-1, data_range=1.0, gaussian_weights=True,
                                              sigma=1.5, use_sample_covariance=False)
                        for t, i in zip(truth, images)])
        assert paired[suffix + "ssim"] == pytest.approx(ssim, abs=1e-4)
    assert paired["baseline_psnr"] > 15.0  # grey vs colour: a real baseline, not a blank

    # cyclegan: errors against the known hue rotation, and the classifier's share, recomputed.
    assert unpaired["data"] == "unpaired:photos,hue:photos"
    model, _ = runs.load_model(unpaired["run_dir"])
    x, _ = translation.held_out(unpaired["data"], model.data_shape[0], bench.N_EVAL)
    forward, _ = translation.known_mapping(unpaired["data"])
    truth = forward(x).astype("float64") / 255.0
    fake_b = model.translate(x / 127.5 - 1.0)
    assert unpaired["identity_error"] == pytest.approx(np.mean(np.abs(truth - x / 255.0)), rel=1e-5)
    assert unpaired["error"] == pytest.approx(np.mean(np.abs(truth - (fake_b + 1.0) / 2.0)), rel=1e-5)
    (classifier,) = classifiers
    share = np.mean(np.asarray(classifier(fake_b, training=False))[:, 0] > 0)
    assert unpaired["classified_as_b"] == pytest.approx(share)
    # The share means something only if the classifier tells the domains apart on held-out real crops.
    assert unpaired["classifier_accuracy"] > 0.75

    cost = results["cost"][0]
    assert cost["gmacs"] > 0 and cost["tflite"]["fp16"]["size_bytes"] < cost["tflite"]["none"]["size_bytes"]
    table = format_table("translation", results)
    assert "PSNR model / grey" in table and "L1 vs truth / identity" in table and "GMACs" in table
