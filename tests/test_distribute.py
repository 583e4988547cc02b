"""Distributed training: two workers of ``tfgan train --distribute multi_worker`` against one process,
synchronised batch norm and the CycleGAN image history over two replicas.

Each check runs in fresh processes: ``MultiWorkerMirroredStrategy`` must exist
before any other TensorFlow op, and logical CPU devices before TensorFlow starts.
"""

import glob
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from tfgan_models import execution

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT] + sys.path), TF_CPP_MIN_LOG_LEVEL="2")
ENV.pop("TF_CONFIG", None)
TIMEOUT = 240


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _finish(procs):
    """Waits for every ``(name, Popen)``; a failure or timeout fails the test with their stderr."""
    outputs, failed = {}, []
    for name, proc in procs:
        try:
            out, err = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            for _, other in procs:
                other.kill()
            out, err = proc.communicate()
            failed.append(f"{name} timed out after {TIMEOUT} s")
        if proc.returncode != 0:
            failed.append(f"{name} exited with {proc.returncode}")
        outputs[name] = (out, err)
    if failed:
        report = "\n".join(f"----- {name} stderr -----\n{err[-3000:]}" for name, (_, err) in outputs.items())
        pytest.fail("; ".join(failed) + "\n" + report)
    return outputs


def _weights(run_dir):
    import keras

    from tfgan_models import registry

    registry._ensure_loaded()
    return keras.models.load_model(os.path.join(run_dir, "model.keras")).get_weights()


def _maxdiff(a, b):
    assert [x.shape for x in a] == [y.shape for y in b]
    return max(float(np.abs(np.asarray(x, "float64") - np.asarray(y, "float64")).max()) for x, y in zip(a, b))


def test_two_workers_train_as_one_process(tmp_path):
    """``tfgan train --distribute multi_worker`` on two local workers (the same command and --out, as on a
    shared file system) ends with the weights of one process training the same global batch."""
    run, alone = str(tmp_path / "run"), str(tmp_path / "alone")
    command = [sys.executable, "-m", "tfgan_models.cli", "train", "dcgan", "--preset", "tiny", "--batch-size", "8",
               "--steps-per-epoch", "3", "--epochs", "1", "--set", "sync_batch_norm=true"]
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    procs = []
    for index in range(2):
        env = dict(ENV, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
        procs.append((f"worker {index}", subprocess.Popen(
            command + ["--distribute", "multi_worker", "--out", run], env=env, cwd=str(tmp_path),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    procs.append(("one process", subprocess.Popen(command + ["--out", alone], env=ENV, cwd=str(tmp_path),
                                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    pids = {name: proc.pid for name, proc in procs}
    _finish(procs)

    worker_dir = os.path.join(run, ".worker_1")
    chief, other, single = _weights(run), _weights(worker_dir), _weights(alone)
    assert _maxdiff(chief, other) <= 1e-5, "the workers' weights differ"
    # A difference here with equal workers means other batches or other noise: e.g. fit reading one batch
    # through an iterator of its own first (one reshuffle of the seeded data spent), or a data split by files.
    assert _maxdiff(chief, single) <= 1e-5, "two workers did not train as one process on the global batch"
    config = json.load(open(os.path.join(run, "config.json")))
    assert _maxdiff(single, _initial_weights(config["settings"])) > 1e-4, "training did not move the weights"
    assert config["status"] == "complete"
    assert config["settings"]["execution"]["distribute"] == "multi_worker"
    assert config["settings"]["model"]["sync_batch_norm"] is True
    # The chief's files are the chief's: worker 1 wrote only under .worker_1 (TensorBoard names its
    # event files after the writing process).
    def writers(folder):
        return {int(os.path.basename(f).split(".")[-3]) for f in glob.glob(os.path.join(folder, "**", "events.*"),
                                                                           recursive=True)}
    assert writers(os.path.join(run, "logs")) == {pids["worker 0"]}
    assert writers(os.path.join(worker_dir, "logs")) == {pids["worker 1"]}
    assert sorted(os.listdir(run)) == sorted(os.listdir(alone) + [".worker_1"])


def _initial_weights(settings):
    """The weights a run of ``settings`` starts from (``runs.train`` seeds, then builds)."""
    import keras

    from tfgan_models import runs

    keras.utils.set_random_seed(int(settings["model"]["seed"]))
    return runs.build_model({**settings, "execution": {}}).get_weights()


def test_multi_worker_strategy_is_created_before_the_data_is_checked(tmp_path):
    """``MultiWorkerMirroredStrategy`` must exist before any TensorFlow op: the CLI creates it before
    checking a folder of images (which decodes them). A cluster of one worker shows it in one process."""
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.RandomState(0)
    for i in range(8):
        Image.fromarray((rng.rand(8, 8, 3) * 255).astype("uint8")).save(folder / f"{i}.png")
    tf_config = {"cluster": {"worker": [f"127.0.0.1:{_free_ports(1)[0]}"]}, "task": {"type": "worker", "index": 0}}
    proc = subprocess.Popen([sys.executable, "-m", "tfgan_models.cli", "train", "dcgan", "--preset", "tiny",
                             "--data", f"folder:{folder}", "--steps-per-epoch", "1", "--distribute", "multi_worker",
                             "--out", str(tmp_path / "run")], env=dict(ENV, TF_CONFIG=json.dumps(tf_config)),
                            cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    (out, _), = _finish([("worker", proc)]).values()
    assert "trained dcgan/tiny" in out
    assert json.load(open(tmp_path / "run" / "config.json"))["settings"]["model"]["data_shape"] == [8, 8, 3]


def test_replicas_keep_single_device_statistics_and_image_history():
    """Two replicas (logical CPUs) after the same steps as one device: batch-norm statistics with
    ``sync_batch_norm`` (and not without), and CycleGAN's image history; XLA off over CPU replicas."""
    script = os.path.join(ROOT, "tests", "multi_worker_mirrored.py")
    out = subprocess.run([sys.executable, script], capture_output=True, text=True, env=ENV, timeout=TIMEOUT)
    assert out.returncode == 0, out.stderr[-3000:]
    checks = {}
    for line in out.stdout.splitlines():
        if line.startswith("CHECK "):
            name, *items = line.split()[1:]
            checks[name] = {k: float(v) for k, v in (item.split("=") for item in items)}
    assert set(checks) == {"jit", "bn_sync", "bn_local", "pool"}, out.stdout
    assert checks["jit"] == {"auto_off": 1, "refused": 1, "one_device_on": 1}, checks["jit"]
    assert checks["bn_sync"]["stats_moved"] > 1e-3, "the step did not update the moving statistics"
    assert checks["bn_sync"]["stats"] <= 1e-6 and checks["bn_sync"]["weights"] <= 1e-5, checks["bn_sync"]
    # Without synchronisation each replica normalises its half of the batch: another result.
    assert checks["bn_local"]["stats"] > 1e-5 and checks["bn_local"]["weights"] > 1e-4, checks["bn_local"]
    pool = checks["pool"]
    assert pool["moved"] > 1e-3 and pool["filled"] == 2 and pool["copies"] == 2, pool
    assert pool["replicas"] == 0.0, "the replicas' copies of the image history differ"
    # Before the history was queried on the global batch: history 1.39, weights 0.018.
    assert pool["history"] <= 5e-5 and pool["weights"] <= 5e-5, pool


def test_worker_directory_and_sharding(monkeypatch):
    import tensorflow as tf

    one = tf.distribute.get_strategy()
    assert execution.is_chief(one) and execution.worker_directory("runs/x", one) == "runs/x"
    dataset = execution.shard_by_examples(tf.data.Dataset.range(4))
    assert dataset.options().experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.DATA
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        execution.strategy("multi_worker")
