"""Face editors: the work-size wrapper, a tiny avatar editor trained, exported and used from the CLI,
the face judges and `tfgan bench faceapp` on it."""

import json

import keras
import numpy as np
import pytest
from PIL import Image

from tfgan_models import runs
from tfgan_models.benchmarks import faceapp
from tfgan_models.cli import main
from tfgan_models.data import avatars
from tfgan_models.models.translation import at_work_size, resnet_generator


@pytest.fixture
def small_sets(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(avatars, "FACES_PER_SPLIT", {"train": 24, "test": 8})


def test_work_size_wrapper_is_the_network_at_its_size_and_adds_only_the_change():
    keras.utils.set_random_seed(0)
    network = resnet_generator(3, 4, 1, name="G")
    wrapped = at_work_size(network, 32)
    x = np.random.RandomState(0).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(wrapped(x), network(x), atol=2e-6)  # training crops: unchanged
    big = np.random.RandomState(1).uniform(-1, 1, (1, 96, 64, 3)).astype("float32")
    assert wrapped(big).shape == big.shape  # any size in, the same size out
    # a network that changes nothing leaves every input pixel exactly as it was
    identity = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Identity()])
    np.testing.assert_allclose(at_work_size(identity, 32)(big), big, atol=1e-6)
    # a uniform change at work size is the same uniform change at full size, clipped to [-1, 1]
    brighten = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Lambda(lambda t: t + 0.1)])
    np.testing.assert_allclose(at_work_size(brighten, 32)(big), np.clip(big + 0.1, -1, 1), atol=1e-6)


def _tiny_editor(folder, variant="cyclegan", data="avatars", domains="Smile,-Smile"):
    settings = runs.run_settings(variant, "tiny", data=data, domains=domains, seed=0, overrides={"work_size": 16})
    runs.train(settings, str(folder), verbose=0)
    return str(folder)


def test_a_tiny_face_editor_trains_exports_and_edits_a_photo_at_its_own_size(small_sets, tmp_path):
    run_dir = _tiny_editor(tmp_path / "smile")
    model, settings = runs.load_model(run_dir)
    assert model.work_size == 16 and settings["run"]["domains"] == ["Smile", "-Smile"]
    face = avatars.render(avatars.draw_face(0, 7), 128)
    Image.fromarray(face).save(tmp_path / "face.png")
    assert main(["translate", run_dir, str(tmp_path / "face.png"), "--out", str(tmp_path / "smiling.png")]) == 0
    edited = np.asarray(Image.open(tmp_path / "smiling.png"))
    assert edited.shape == face.shape  # the photo's own size
    assert main(["translate", run_dir, str(tmp_path / "face.png"), "--out", str(tmp_path / "back.png"),
                 "--direction", "b_to_a"]) == 0
    assert main(["export", run_dir, "--out", str(tmp_path / "models"), "--formats", "tflite",
                 "--quantize", "fp16", "--input-size", "64x64"]) == 0
    report = json.loads((tmp_path / "models" / "smile" / "export_report.json").read_text())
    entry = report["versions"]["1"] if "versions" in report else report
    assert "fp16" in json.dumps(entry)
    assert main(["sample", run_dir, "--out", str(tmp_path / "strip.png")]) == 0
    strip = np.asarray(Image.open(tmp_path / "strip.png"))
    assert strip.shape[1] >= 3 * 16  # input | edited | reverse edit


def test_faceapp_bench_scores_editors_with_both_judges(small_sets, tmp_path):
    cyclegan = _tiny_editor(tmp_path / "cyclegan-glasses", domains="Glasses,-Glasses")
    pix2pix = _tiny_editor(tmp_path / "pix2pix-glasses", "pix2pix", "paired:avatars/Glasses", None)
    results = faceapp.run(quick=True, seeds=2, run_dirs=[cyclegan, pix2pix], faces=3, train_faces=40,
                          log=lambda m: None)
    json.dumps(results)
    assert {r["editor"] for r in results["rows"]} == {"cyclegan/tiny", "pix2pix/tiny"}
    for row in results["rows"]:
        assert set(row["latency_ms"]) == {"fp16", "int8"} and row["latency_ms"]["fp16"]["2t"] > 0
        for d in row["directions"]:
            assert d["attribute"] == "Glasses" and set(d["engines"]) == {"keras", "fp16", "int8"}
            for scores in d["engines"].values():
                for judge in ("classifier", "independent", "classifier_seed1"):
                    assert 0.0 <= scores[judge]["success"] <= 1.0
                    assert set(scores[judge]["per_part_kept"]) == set(avatars.IDENTITY)
    cycle = next(r for r in results["rows"] if r["editor"] == "cyclegan/tiny")
    assert [(d["direction"], d["target"]) for d in cycle["directions"]] == [("a_to_b", 0), ("b_to_a", 1)]
    paired = next(r for r in results["rows"] if r["editor"] == "pix2pix/tiny")["directions"][0]["engines"]["keras"]
    assert paired["psnr"] > 0 and paired["baseline_psnr"] > 0
    assert set(results["judge_accuracy"]) == {"classifier", "independent", "classifier_seed1"}
    table = faceapp.format_table(results)
    assert "success / identity" in table and "fp16 2t ms" in table
    with pytest.raises(ValueError, match="scores avatar editors"):
        faceapp.directions({"run": {"data": "colorize:photos"}})


def test_a_judge_reads_real_faces_better_than_chance(small_sets):
    from tfgan_models.metrics.faces import IndependentFaceJudge, edit_scores

    judge = IndependentFaceJudge(train_faces=200, max_iter=200)
    images, labels = avatars.faces(60, 128, "test", seed=0)
    accuracy = judge.accuracy(images, labels)
    assert accuracy["Glasses"] > 0.8 and accuracy["Smile"] > 0.7
    scores = edit_scores(judge, images, images, "Glasses", 1)
    assert scores["identity_kept"] == 1.0  # nothing edited: every part reads the same
    assert scores["success"] == pytest.approx(np.mean(judge.predict_labels(images)["Glasses"] == 1))
    with pytest.raises(ValueError, match="square RGB"):
        judge.predict_labels(np.zeros((2, 32, 16, 3), "uint8"))
