"""BigGAN: each mechanism against a NumPy reference or a closed form, then the model, truncation, collapse."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers import check_standard_behaviour, tiny_data, tiny_model
from tfgan_models import registry
from tfgan_models.callbacks import CollapseDetector, TrainingCollapseError
from tfgan_models.layers import ConditionalBatchNorm, OrthogonalRegularizer, Projection, SelfAttention
from tfgan_models.models.biggan import z_chunks


def test_standard(tmp_path):
    check_standard_behaviour("biggan", tmp_path)


# ------------------------------------------------------------------ layers
def _bn_reference(x, mean, var, eps):
    return (x - mean) / np.sqrt(var + eps)


def test_conditional_batch_norm_with_zero_gain_and_bias_is_plain_batch_norm():
    rng = np.random.RandomState(0)
    x, c = rng.randn(6, 4, 4, 5).astype("float32") * 3 + 1, rng.randn(6, 7).astype("float32")
    cbn = ConditionalBatchNorm()
    cbn.build((x.shape, c.shape))
    for w in (cbn.gain.layer.kernel, cbn.bias.layer.kernel):
        w.assign(np.zeros(w.shape, "float32"))
    plain = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, center=False, scale=False)
    np.testing.assert_allclose(cbn([x, c], training=True), plain(x, training=True), atol=1e-5)
    np.testing.assert_allclose(cbn([x, c], training=True),
                               _bn_reference(x, x.mean((0, 1, 2)), x.var((0, 1, 2)), 1e-5), atol=1e-4)


def test_conditional_batch_norm_matches_numpy():
    rng = np.random.RandomState(1)
    x, c = rng.randn(4, 3, 3, 6).astype("float32"), rng.randn(4, 5).astype("float32")
    cbn = ConditionalBatchNorm()
    cbn.build((x.shape, c.shape))
    cbn.norm.moving_mean.assign(rng.randn(6).astype("float32"))
    cbn.norm.moving_variance.assign(rng.rand(6).astype("float32") + 0.5)
    wg, wb = cbn.gain.layer.kernel.numpy(), cbn.bias.layer.kernel.numpy()
    want = (_bn_reference(x, cbn.norm.moving_mean.numpy(), cbn.norm.moving_variance.numpy(), 1e-5)
            * (1 + c @ wg)[:, None, None] + (c @ wb)[:, None, None])
    np.testing.assert_allclose(cbn([x, c], training=False), want, atol=1e-5)  # inference: stored kernels


def test_self_attention_matches_numpy_and_starts_as_identity():
    rng = np.random.RandomState(2)
    x = rng.randn(2, 4, 4, 16).astype("float32")
    layer = SelfAttention()
    np.testing.assert_array_equal(layer(x), x)  # gamma = 0 at initialisation
    layer.gamma.assign(0.7)
    k = {n: getattr(layer, n).layer.kernel.numpy()[0, 0] for n in ("theta", "phi", "g", "o")}  # (C_in, C_out)

    def pool(a):  # 2x2 max pool
        return a.reshape(2, 2, 2, 2, 2, -1).max(axis=(2, 4))

    theta = (x @ k["theta"]).reshape(2, 16, 2)
    phi = pool(x @ k["phi"]).reshape(2, 4, 2)
    g = pool(x @ k["g"]).reshape(2, 4, 8)
    logits = theta @ phi.transpose(0, 2, 1)
    beta = np.exp(logits - logits.max(-1, keepdims=True))
    beta /= beta.sum(-1, keepdims=True)
    want = x + 0.7 * ((beta @ g).reshape(2, 4, 4, 8) @ k["o"])
    np.testing.assert_allclose(layer(x, training=False), want, atol=1e-5)


def test_projection_head_matches_numpy():
    rng = np.random.RandomState(3)
    h, y = rng.randn(5, 6).astype("float32"), np.array([0, 3, 3, 1, 2])
    head = Projection(4)
    out = head([h, y], training=False).numpy()
    w, b = head.linear.layer.kernel.numpy(), head.linear.layer.bias.numpy()
    embed = head.embed.layer.kernel.numpy()  # (K, D)
    np.testing.assert_allclose(out, h @ w + b + np.sum(embed[y] * h, axis=1, keepdims=True), atol=1e-5)


def test_orthogonal_regularizer_value_and_gradient_match_the_closed_form():
    rng = np.random.RandomState(4)
    kernel = rng.randn(3, 3, 4, 5).astype("float32")
    beta = 1e-4
    w = kernel.reshape(-1, 5)
    mask = 1 - np.eye(5)
    assert float(OrthogonalRegularizer(beta)(tf.constant(kernel))) == pytest.approx(
        beta * np.sum(((w.T @ w) * mask) ** 2), rel=1e-5)
    variable = tf.Variable(kernel)
    with tf.GradientTape() as tape:
        loss = OrthogonalRegularizer(beta)(variable)
    closed_form = 4 * beta * w @ ((w.T @ w) * mask)  # d/dW beta ||W^T W (1 - I)||_F^2
    np.testing.assert_allclose(tape.gradient(loss, variable).numpy().reshape(-1, 5), closed_form, rtol=1e-4)


def test_spectral_norm_estimate_is_within_5_percent_of_the_svd_after_warm_up():
    rng = np.random.RandomState(5)
    layer = keras.layers.SpectralNormalization(keras.layers.Conv2D(8, 3))
    layer.build((None, 6, 6, 4))
    layer.kernel.assign(rng.randn(3, 3, 4, 8).astype("float32"))
    w = layer.kernel.numpy().reshape(-1, 8)
    for _ in range(30):  # warm-up: power iterations on u without touching W
        u, _ = layer.normalized_weights()
        layer.vector_u.assign(u)
    u = layer.vector_u.numpy()
    v = u @ w.T
    v /= np.linalg.norm(v)
    sigma = float((v @ w @ u.T).item())
    assert sigma == pytest.approx(np.linalg.svd(w, compute_uv=False)[0], rel=0.05)
    layer(np.zeros((1, 6, 6, 4), "float32"), training=True)  # training stores W / sigma: the kernel exported
    assert np.linalg.svd(layer.kernel.numpy().reshape(-1, 8), compute_uv=False)[0] == pytest.approx(1.0, rel=0.05)


# ------------------------------------------------------------------ model
def test_hierarchical_z_chunks():
    assert z_chunks(120, 5, True) == [20] * 6 and z_chunks(64, 3, False) == [64]
    with pytest.raises(ValueError, match="multiple of 4"):
        z_chunks(65, 3, True)
    model = tiny_model("biggan")  # 16x16: two blocks, z 12 -> 3 chunks of 4, shared embedding 8
    g = model.generator
    assert [g.get_layer(f"z_{i}").output.shape[-1] for i in range(3)] == [4, 4, 4]
    assert [g.get_layer(f"cond_{i}").output.shape[-1] for i in range(2)] == [12, 12]
    z = np.zeros((2, 12), "float32")
    z[1, 8:] = 3.0  # only the chunk of block 1 differs
    a, b = model.generate(z=z, labels=[1, 1])
    assert not np.allclose(a, b)


def test_spectral_norm_on_every_layer_and_ortho_regularises_g_only():
    model = tiny_model("biggan")
    for net in (model.generator, model.discriminator):
        kernels = [w for w in net.trainable_weights if w.path.endswith("kernel")]
        wrapped = {w.path for l in net._flatten_layers() if isinstance(l, keras.layers.SpectralNormalization)
                   for w in l.layer.trainable_weights if w.path.endswith("kernel")}
        assert {w.path for w in kernels} == wrapped, f"{net.name} has kernels without spectral norm"
    assert model.generator.losses and not model.discriminator.losses
    history = model.fit(tiny_data(model), epochs=1, steps_per_epoch=2, verbose=0).history
    assert history["g_reg_loss"][0] > 0 and "d_reg_loss" not in history


def test_optimizers_and_presets_follow_the_paper_and_the_cifar_script():
    model = registry.get("biggan", "paper", compile=False, data_shape=(32, 32, 3), ch=8, num_classes=10,
                         attention=[])
    model.compile()
    assert (model.g_optimizer.beta_1, model.g_optimizer.beta_2) == (0.0, 0.999)
    assert float(model.g_optimizer.learning_rate) == pytest.approx(5e-5)
    assert float(model.d_optimizer.learning_rate) == pytest.approx(2e-4) and model.discriminator_steps == 2
    cifar = registry.preset("biggan", "cifar")
    assert (cifar["discriminator_steps"], cifar["g_lr"], cifar["d_lr"], cifar["batch_size"], cifar["ema_start"],
            cifar["attention"], cifar["ortho_beta"]) == (4, 2e-4, 2e-4, 50, 1000, [], 0.0)


def test_truncation_redraws_only_the_entries_outside():
    model = tiny_model("biggan")
    free = model.generator_arrays(50, seed=3)[0]
    cut = model.generator_arrays(50, seed=3, truncation=0.5)[0]
    assert np.abs(cut).max() <= 0.5
    inside = np.abs(free) <= 0.5
    np.testing.assert_array_equal(cut[inside], free[inside])
    np.testing.assert_array_equal(model.generate(6, seed=3, truncation=100.0), model.generate(6, seed=3))
    assert model.generate(4, labels=3, truncation=0.5, seed=1).shape == (4, 16, 16, 1)
    with pytest.raises(ValueError, match="threshold must be > 0"):
        model.generate(2, truncation=0.0)
    with pytest.raises(ValueError, match="not both"):
        model.generate(z=free[:2], truncation=0.5)


def test_ema_copies_the_generator_until_ema_start():
    model = tiny_model("biggan", ema_start=3, ema_decay=0.5)
    model.fit(tiny_data(model), epochs=1, steps_per_epoch=2, verbose=0)
    for a, b in zip(model.generator_ema.weights, model.generator.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    model.fit(tiny_data(model), epochs=1, steps_per_epoch=3, verbose=0)
    kernel = next(i for i, w in enumerate(model.generator.weights) if w.trainable and w.path.endswith("kernel"))
    assert not np.allclose(model.generator_ema.weights[kernel].numpy(), model.generator.weights[kernel].numpy())


def test_standing_statistics_average_batch_statistics_and_touch_nothing_else():
    model = tiny_model("biggan")
    model.fit(tiny_data(model), epochs=1, steps_per_epoch=2, verbose=0)
    ema = model.generator_ema
    norm = ema.get_layer("out_bn")
    others = {w.path: w.numpy().copy() for w in ema.weights if "moving_" not in w.path}
    assert any("sn_gain" in path for path in others) and any("vector_u" in path for path in others)
    model.standing_statistics(samples=16, batch_size=16, seed=2)
    for w in ema.weights:
        if w.path in others:
            np.testing.assert_array_equal(w.numpy(), others[w.path], err_msg=w.path)
    # one batch: the moving mean becomes that batch's mean of out_bn's input (run in training mode)
    arrays = model.generator_arrays(16, seed=2 * 100003, labels=np.random.RandomState(2).randint(10, size=16))
    ema.trainable = True
    before_bn = keras.Model(ema.inputs, norm.input)(arrays, training=True).numpy()
    ema.trainable = False
    np.testing.assert_allclose(norm.moving_mean.numpy(), before_bn.mean((0, 1, 2)), atol=1e-5)
    np.testing.assert_allclose(norm.moving_variance.numpy(), before_bn.var((0, 1, 2)), rtol=1e-3, atol=1e-5)


def test_labels_condition_the_generator_and_bad_labels_fail_clearly():
    model = tiny_model("biggan")
    z = np.repeat(np.random.RandomState(0).randn(1, 12).astype("float32"), 2, axis=0)
    a, b = model.generate(z=z, labels=[2, 8])
    assert not np.allclose(a, b)
    with pytest.raises(ValueError, match=r"labels.*\[0, 9\]"):
        model.generate(2, labels=[0, 12])


# --------------------------------------------------------------- collapse
def _logs(detector, rows, model=None):
    detector.set_model(model or keras.Model())
    for epoch, (d, g) in enumerate(rows):
        detector.on_epoch_end(epoch, {"d_loss": d, "g_loss": g})


def test_collapse_is_detected_and_the_weights_from_before_it_are_kept(tmp_path):
    for name in CollapseDetector.FILES:
        (tmp_path / name).write_bytes(b"healthy epoch 2")
    detector = CollapseDetector(patience=3, checkpoint_dir=str(tmp_path))
    with pytest.raises(TrainingCollapseError, match=r"collapsed.*epochs 3-5.*before_collapse"):
        _logs(detector, [(1.0, 0.5), (0.9, 0.6), (0.01, 1.0), (0.0, 1.5), (0.0, 2.0)])
    assert detector.collapsed_at == 3
    assert (tmp_path / "before_collapse" / "model.keras").read_bytes() == b"healthy epoch 2"


def test_healthy_training_is_not_called_a_collapse():
    detector = CollapseDetector(patience=2)
    _logs(detector, [(0.9, 1.0), (0.01, 1.2), (0.8, 1.3), (0.01, 1.4), (0.02, 1.1), (0.0, 0.9), (0.5, 2.0)])
    assert detector.collapsed_at is None  # D at 0 alone, or G rising alone, is not a collapse


def test_cli_reports_a_collapse_in_one_line(tmp_path, monkeypatch, capsys):
    from tfgan_models import cli
    from tfgan_models.callbacks import collapse

    def collapsing(self, epoch, logs=None):
        raise TrainingCollapseError("training collapsed: d_loss <= 0.05 with g_loss rising for 3 epochs")

    monkeypatch.setattr(collapse.CollapseDetector, "on_epoch_end", collapsing)
    code = cli.main(["train", "biggan", "--preset", "tiny", "--out", str(tmp_path / "run")])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("tfgan: training collapsed") and "Traceback" not in "".join(err)
    assert not os.path.exists(tmp_path / "run" / "model.keras")  # the collapsed epoch was not saved


# ------------------------------------------------------------ CLI, export
def test_cli_train_sample_truncation_and_export(tmp_path, capsys):
    from tfgan_models import cli

    run = str(tmp_path / "run")
    assert cli.main(["train", "biggan", "--preset", "tiny", "--out", run]) == 0
    assert json.load(open(os.path.join(run, "config.json")))["status"] == "complete"
    npy = str(tmp_path / "three.npy")
    assert cli.main(["sample", run, "--labels", "3", "--truncation", "0.5", "--n", "4", "--out", npy]) == 0
    assert np.load(npy).shape == (4, 16, 16, 1)
    sweep = str(tmp_path / "sweep.npy")
    assert cli.main(["sample", run, "--truncation", "none,2,1,0.5", "--n", "5", "--out", sweep]) == 0
    rows = np.load(sweep)
    assert rows.shape == (20, 16, 16, 1)
    for bad in ("0", "abc", "-1"):
        assert cli.main(["sample", run, "--truncation", bad, "--out", npy]) == 2
    assert cli.main(["export", run, "--out", str(tmp_path / "models"), "--quantize", "none,fp16,dynamic,int8"]) == 0
    report = json.load(open(tmp_path / "models" / "run" / "export_report.json"))["versions"]["1"]
    assert report["saved_model"]["gate"]["passed"]
    assert set(report["tflite"]) == {"none", "fp16", "dynamic", "int8"}
    for flavour in report["tflite"].values():
        assert flavour["gate"]["passed"]
        # builtin ops only; spectral norm folded and batch norm frozen: no norm is computed at run time
        assert not [op for op in flavour["ops"] if op.startswith("Flex") or op in ("SQRT", "RSQRT", "DIV")]
    loaded = tf.saved_model.load(str(tmp_path / "models" / "run" / "1"))
    assert {"serving_default", "seed", "truncated"} <= set(loaded.signatures)
    out = loaded.signatures["truncated"](seed=tf.constant([4, 5], tf.int64), truncation=tf.constant([0.3, 0.3]),
                                         labels=tf.constant([1, 2]))
    assert np.abs(out["z"].numpy()).max() <= 0.3
    with pytest.raises(tf.errors.InvalidArgumentError, match="truncation thresholds must be > 0"):
        loaded.signatures["truncated"](seed=tf.constant([4], tf.int64), truncation=tf.constant([0.0]),
                                       labels=tf.constant([1]))


def test_cross_replica_batch_norm_under_mirrored_strategy():
    """Two logical CPUs: synced batch norm gives each replica its slice of the global-batch output; unsynced
    does not; a full training step runs under the strategy (embedding gradients are IndexedSlices)."""
    import subprocess
    import sys

    script = os.path.join(os.path.dirname(__file__), "distributed_biggan.py")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(os.path.dirname(__file__))] + sys.path))
    out = subprocess.run([sys.executable, script], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    diffs = dict(line.split()[0].split("=")[1:] + [float(line.split("MAXDIFF=")[1])] for line in
                 out.stdout.splitlines() if line.startswith("SYNCED"))
    assert diffs["True"] <= 1e-5 and diffs["False"] > 1e-3, diffs
    fit = dict(item.split("=") for item in next(l for l in out.stdout.splitlines() if l.startswith("FIT")).split()[1:])
    assert all(np.isfinite(float(v)) for v in fit.values())
