"""`tfgan bench stacked_mnist`: mode counting, KL and the suite's plumbing (quality figures: README)."""

import numpy as np
import pytest

from tfgan_models.benchmarks import stacked_mnist


def test_mode_scores_closed_form():
    every = np.array([[i // 100, i // 10 % 10, i % 10] for i in range(1000)])
    assert stacked_mnist.mode_scores(every) == {"modes": 1000, "kl": pytest.approx(0.0, abs=1e-12)}
    one = np.tile([[3, 1, 4]], (50, 1))
    assert stacked_mnist.mode_scores(one) == {"modes": 1, "kl": pytest.approx(np.log(1000))}
    half = np.concatenate([one, np.tile([[2, 7, 1]], (50, 1))])
    assert stacked_mnist.mode_scores(half)["kl"] == pytest.approx(np.log(500))


def test_channels_are_read_separately():
    """Each channel goes to the reader as its own grey image; the mode is the triple R, G, B."""
    images = np.full((4, 32, 32, 3), -1.0, "float32")
    for i, (r, g, b) in enumerate([(1, 2, 3), (0, 0, 9), (5, 5, 5), (9, 8, 7)]):
        images[i, ..., 0], images[i, ..., 1], images[i, ..., 2] = r / 9 - 1, g / 9 - 1, b / 9 - 1
    read = lambda x: np.rint((x.reshape(len(x), -1).mean(axis=1) + 1) * 9).astype(int)  # noqa: E731
    np.testing.assert_array_equal(stacked_mnist.channel_digits(images, read),
                                  [[1, 2, 3], [0, 0, 9], [5, 5, 5], [9, 8, 7]])
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\)"):
        stacked_mnist.channel_digits(images[..., :1], read)


def test_suite_runs_packed(monkeypatch):
    read = lambda x: (np.asarray(x).reshape(len(x), -1).mean(axis=1) > -0.8).astype(int)  # noqa: E731
    monkeypatch.setattr(stacked_mnist, "judges", lambda: {"cnn": read, "knn": read})
    results = stacked_mnist.run(quick=True, steps=2, packings=(2,), num_samples=64, log=lambda *_: None)
    (row,) = results["rows"]
    assert row["variant"] == "pacdcgan2" and row["packing"] == 2 and row["steps"] == 2
    assert 1 <= row["modes_cnn"] <= 8 and np.isfinite(row["kl_cnn"])
    assert results["real_floor"]["modes_knn"] >= 1
    assert "pacdcgan2" in stacked_mnist.format_table(results)
    with pytest.raises(ValueError, match=">= 1"):
        stacked_mnist.run(quick=True, packings=(0,))
