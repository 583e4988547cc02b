"""Rendered faces (`tfgan_models.data.avatars`): determinism, exact pairs, labels, held-out identities,
the cache, the translation / pipeline specs and the missing-extra error."""

import sys

import numpy as np
import pytest

from tfgan_models.data import avatars, load, translation
from tfgan_models.data.info import spec_info


@pytest.fixture
def small_sets(monkeypatch, tmp_path):
    """A private render cache and a few faces per split, so spec-level tests render in seconds."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(avatars, "FACES_PER_SPLIT", {"train": 24, "test": 8})
    return tmp_path


def test_rendering_is_deterministic_and_labelled():
    faces = avatars.draw_faces(6, "train", seed=3)
    assert faces == avatars.draw_faces(6, "train", seed=3)
    assert faces != avatars.draw_faces(6, "train", seed=4)
    first, again = avatars.render(faces[0], 64), avatars.render(faces[0], 64)
    assert first.shape == (64, 64, 3) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, again)
    # a fixed background in the corners, whatever the face
    for face in faces:
        corner = avatars.render(face, 64)[0, 0]
        np.testing.assert_array_equal(corner, [0xE4, 0xEA, 0xF0])
    labels = avatars.labels(faces[0])
    assert set(labels) == set(avatars.ATTRIBUTES)
    for name, value in labels.items():
        assert 0 <= value < len(avatars.classes(name))


@pytest.mark.parametrize("attribute, rows", [("Glasses", (0.30, 0.62)), ("Smile", (0.45, 0.80)),
                                             ("Beard", (0.35, 0.95)), ("GreyHair", (0.0, 1.0))])
def test_a_pair_differs_only_where_the_attribute_is(attribute, rows):
    size = 128
    for face in avatars.draw_faces(4, "train", seed=0):
        without = avatars.render(avatars.with_attribute(face, attribute, 0), size).astype(int)
        with_ = avatars.render(avatars.with_attribute(face, attribute, 1), size).astype(int)
        changed = np.abs(without - with_).max(axis=-1) > 8
        assert changed.any(), f"{attribute} changed nothing"
        ys = np.nonzero(changed.any(axis=1))[0] / size
        assert rows[0] <= ys.min() and ys.max() <= rows[1], (attribute, ys.min(), ys.max())
        if attribute == "GreyHair":  # hair (and beard) colour only: between the eyes stays skin
            assert not changed[int(0.40 * size):int(0.48 * size), int(0.45 * size):int(0.55 * size)].any()
        other = {k: v for k, v in avatars.labels(avatars.with_attribute(face, attribute, 1)).items() if k != attribute}
        assert other == {k: v for k, v in avatars.labels(face).items() if k != attribute}


def test_held_out_identities_never_appear_in_training():
    train = avatars.draw_faces(400, "train", seed=0)
    test = avatars.draw_faces(100, "test", seed=0)
    train_ids = {avatars._identity_key(f) for f in train}
    assert not train_ids & {avatars._identity_key(f) for f in test}
    assert all(avatars.split_of(f) == "test" for f in test)
    # the split depends on the identity alone: switching edits never moves a face across it
    for face in test[:20]:
        for attribute in avatars.EDITS:
            assert avatars.split_of(avatars.with_attribute(face, attribute, 1 - face[attribute])) == "test"


def test_the_cache_serves_a_second_call_and_survives_a_damaged_file(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    images, labels = avatars.faces(5, 64, "test", seed=0)
    files = list((tmp_path / "tfgan_models" / "avatars").glob("*.npz"))
    assert len(files) == 1 and not list(files[0].parent.glob("*.partial"))

    def no_render(*args, **kwargs):
        raise AssertionError("rendered again despite the cache")

    monkeypatch.setattr(avatars, "render", no_render)
    again, again_labels = avatars.faces(5, 64, "test", seed=0)
    np.testing.assert_array_equal(images, again)
    assert all(np.array_equal(labels[k], again_labels[k]) for k in labels)
    monkeypatch.undo()
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    files[0].write_bytes(b"not an npz file")
    np.testing.assert_array_equal(avatars.faces(5, 64, "test", seed=0)[0], images)


def test_bad_requests_get_clear_errors():
    with pytest.raises(ValueError, match="unknown avatar attribute 'Hat'.*Smile"):
        avatars.pairs("Hat", 2, 64)
    with pytest.raises(ValueError, match="render at 64, 128, 256"):
        avatars.faces(2, 100)
    with pytest.raises(ValueError, match="splits 'train' and 'test'"):
        avatars.draw_faces(2, "valid")
    with pytest.raises(ValueError, match="needs two attribute domains"):
        translation.load_unpaired("avatars", size=32)
    with pytest.raises(ValueError, match="unknown avatar attribute 'Hat'"):
        translation.spec_kind("paired:avatars/Hat")
    with pytest.raises(ValueError, match="unknown avatar attribute"):
        translation.load_unpaired("avatars", size=32, domains="Hat,-Hat")


def test_a_missing_extra_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "cairosvg", None)  # makes `import cairosvg` fail
    with pytest.raises(avatars.MissingFacesExtra, match=r'pip install "tfgan_models\[faces\]"'):
        avatars.render(avatars.draw_face(0, 0), 64)
    from tfgan_models.cli import main

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))  # no cached renders to fall back on
    out = tmp_path / "run"
    assert main(["train", "cyclegan", "--preset", "tiny", "--data", "avatars", "--domains", "Smile,-Smile",
                 "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert 'pip install "tfgan_models[faces]"' in error and "Traceback" not in error
    assert not out.exists()  # nothing half-written


def test_attribute_domains_and_paired_edits(small_sets):
    ds, steps = translation.load_unpaired("avatars", size=32, batch_size=2, seed=0, domains="Glasses,-Glasses")
    a, b = next(iter(ds))
    assert a.shape == b.shape == (2, 32, 32, 3) and steps >= 1
    with_glasses = avatars.domain_images([("Glasses", True)], "train", 64)
    without = avatars.domain_images([("Glasses", False)], "train", 64)
    assert len(with_glasses) + len(without) == 24
    _, labels = avatars.faces(24, 64, "train")
    assert len(with_glasses) == int(labels["Glasses"].sum())
    x, y = translation.held_out("paired:avatars/Smile", 64, 3)
    assert x.shape == y.shape == (3, 64, 64, 3) and not np.array_equal(x, y)
    without, with_ = avatars.pair_images("Smile", "test", 64)
    np.testing.assert_array_equal(x, without[:3])  # held-out pairs are the test renders, centre-cropped as-is
    np.testing.assert_array_equal(y, with_[:3])


def test_pipeline_spec_labels_a_chosen_attribute(small_sets):
    assert spec_info("avatars/skin") == {"channels": 3, "num_classes": 7, "labelled": True}
    assert spec_info("avatars")["labelled"] is False
    images, labels = next(iter(load("avatars/Glasses:test", batch_size=8, with_labels=True, shuffle=False)))
    assert images.shape == (8, 64, 64, 3)
    np.testing.assert_array_equal(labels.numpy(), avatars.faces(8, 64, "test")[1]["Glasses"])
    with pytest.raises(ValueError, match="unknown avatar attribute"):
        load("avatars/Hat")
