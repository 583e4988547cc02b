"""What a new user runs into first: odd image files, Ctrl-C, wrong output paths, huge sizes, typos in TFDS names."""

import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from PIL import Image

from tfgan_models.cli import main
from tfgan_models.data import pipeline

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tiny_train(out, *extra):
    return ["train", "dcgan", "--preset", "tiny", "--epochs", "1", "--steps-per-epoch", "1", "--out", str(out),
            *extra]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("new_user") / "run"
    assert main(tiny_train(out)) == 0
    return out


def one_line(text):
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


def write_odd_folder(folder):
    """3 good PNGs and 5 files that pass an extension check: which of them TensorFlow decodes varies."""
    folder.mkdir()
    rng = np.random.default_rng(0)

    def picture():
        return Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8))

    for i in range(3):
        picture().save(folder / f"good{i}.png")
    picture().save(folder / "anim.gif")
    picture().convert("P").save(folder / "palette.bmp")
    picture().convert("CMYK").save(folder / "cmyk.jpg")
    picture().save(folder / "webp.png", format="WEBP")
    picture().save(folder / "tiff.png", format="TIFF")


@pytest.mark.parametrize("channels", ["3", "1"])
def test_folder_of_odd_image_files_trains_and_names_the_files_it_skips(tmp_path, capsys, channels):
    folder = tmp_path / "odd"
    write_odd_folder(folder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(tiny_train(tmp_path / "run", "--data", f"folder:{folder}", "--batch-size", "2",
                               "--channels", channels)) == 0
    skipped = [str(w.message) for w in caught if "cannot be decoded" in str(w.message)]
    assert skipped, [str(w.message) for w in caught]
    message = skipped[0]
    assert "skipping 2 files" in message and "tiff.png (TIFF data)" in message
    assert "palette.bmp (8-bit palette" in message
    for fine in ("good0.png", "anim.gif", "cmyk.jpg", "webp.png"):  # TensorFlow reads these right
        assert fine not in message


def test_folder_without_a_usable_image_is_one_line(tmp_path, capsys):
    folder = tmp_path / "bad"
    folder.mkdir()
    Image.new("RGB", (9, 9)).save(folder / "a.png", format="TIFF")
    (folder / "b.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(tiny_train(tmp_path / "run", "--data", f"folder:{folder}")) == 2
    line = one_line(capsys.readouterr().err)
    assert "no readable" in line and "a.png (TIFF data)" in line and "b.jpg (damaged" in line


def interrupt(argv_or_script, tmp_path, wait_for=None, delay=0.4):
    """Runs the CLI (argv) or a script in a child, sends SIGINT after ``delay`` s or once stdout shows
    ``wait_for``; returns (exit code, stderr)."""
    command = ([sys.executable, "-c", argv_or_script] if isinstance(argv_or_script, str)
               else [sys.executable, "-m", "tfgan_models.cli", *argv_or_script])
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": ROOT}
    # SIGINT back to its default in the child: a test run started in the background (CI, `cmd &`) ignores
    # SIGINT, children inherit that, and Python then never raises KeyboardInterrupt.
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            env=env, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        if wait_for is None:
            time.sleep(delay)
        else:
            for line in proc.stdout:
                if wait_for in line:
                    break
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    return proc.returncode, err


def cli_script(patch, argv):
    """A child script: TensorFlow loaded, then ``patch`` (source that replaces a slow step), then ``tfgan argv``."""
    return ("import sys, time\nfrom tfgan_models import cli\ncli._import_tensorflow_quietly()\n"
            f"{patch}sys.exit(cli.main({argv!r}))\n")


def test_ctrl_c_while_tensorflow_loads_is_one_line_and_exit_130(tmp_path):
    code, err = interrupt(tiny_train(tmp_path / "run"), tmp_path)
    assert code == 130, err
    assert one_line(err) == "tfgan: interrupted while starting; nothing was done."
    assert not (tmp_path / "run").exists()


def test_ctrl_c_during_export_says_nothing_was_written(tiny_run, tmp_path):
    code, err = interrupt(["export", str(tiny_run), "--formats", "saved_model", "--out", str(tmp_path / "models")],
                          tmp_path, wait_for="SavedModel of")
    assert code == 130, err
    line = one_line(err)
    assert "nothing was written" in line and "resume" not in line
    assert not os.path.exists(tmp_path / "models" / "run" / "1")


def test_ctrl_c_that_tensorflow_turns_into_another_error_is_still_an_interrupt(tiny_run, tmp_path):
    # Seen in CI: SIGINT landed inside TensorFlow's C++ nest.flatten while a SavedModel traced, and what came
    # out was an AttributeError (a SystemError in the chain), not KeyboardInterrupt.
    script = cli_script("def swallowing(args):\n    print('exporting', flush=True)\n    try:\n        time.sleep(60)\n"
                        "    except KeyboardInterrupt:\n"
                        "        raise AttributeError(\"'SymbolicTensor' object has no attribute '_type_spec'\")\n"
                        "cli._export = swallowing\n", ["export", str(tiny_run), "--out", "models"])
    code, err = interrupt(script, tmp_path, wait_for="exporting")
    assert code == 130, err
    assert "nothing was written" in one_line(err)


def test_ctrl_c_during_sample_does_not_promise_a_resume(tiny_run, tmp_path):
    script = cli_script("from tfgan_models import runs\n"
                        "def slow(*args, **kwargs):\n    print('loading', flush=True)\n    time.sleep(60)\n"
                        "runs.load_model = slow\n", ["sample", str(tiny_run), "--out", "x.png"])
    code, err = interrupt(script, tmp_path, wait_for="loading")
    assert code == 130, err
    assert one_line(err) == "tfgan: interrupted."


def test_output_paths_of_the_wrong_kind_are_one_line_and_exit_2(tiny_run, tmp_path, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    (tmp_path / "folder.png").mkdir()
    cases = [(tiny_train(a_file), "is a file"),
             (tiny_train(a_file / "run"), "a file"),
             (["sample", str(tiny_run), "--out", str(tmp_path)], "is a folder"),
             (["sample", str(tiny_run), "--out", str(tmp_path / "folder.png")], "is a folder"),
             (["sample", str(tiny_run), "--out", str(a_file / "s.png")], "is a file, not a folder")]
    for argv, message in cases:
        assert main(argv) == 2, argv
        assert message in one_line(capsys.readouterr().err)
    assert a_file.read_text() == "x"


@pytest.mark.parametrize("size", [1024, 65536])
def test_image_size_beyond_memory_is_refused_before_building_anything(tmp_path, capsys, size):
    start = time.perf_counter()
    assert main(tiny_train(tmp_path / "run", "--image-size", str(size))) == 2
    line = one_line(capsys.readouterr().err)
    assert f"{size}x{size}" in line and "GiB" in line and "limit" in line and "--image-size" in line
    assert "folder:" in line  # digits lives in memory: streaming data is the way out
    assert time.perf_counter() - start < 10  # nothing resized, no 34 GB of 65536-pixel weights
    assert not (tmp_path / "run").exists()


def test_memory_estimate_and_limit():
    estimate, _ = pipeline.memory_estimate("digits", batch_size=64, image_size=1024)
    assert estimate >= 1797 * 1024 * 1024 * 4 * 2  # the float32 array and its tensor
    assert 0 < pipeline.memory_limit() <= 4 * 2**30
    pipeline.check_memory("digits", 64, 32)  # the default sizes pass
    pipeline.check_memory("mnist", 64, None)
    os.environ["TFGAN_DATA_MEMORY_GB"] = "0.001"
    try:
        with pytest.raises(ValueError, match="folder:PATH"):
            pipeline.check_memory("digits", 64, 64)
    finally:
        del os.environ["TFGAN_DATA_MEMORY_GB"]


def test_unknown_tfds_name_is_one_line_with_close_matches(tmp_path, capsys):
    assert main(tiny_train(tmp_path / "run", "--data", "tfds:no_such_set")) == 2
    assert "unknown TFDS dataset 'no_such_set'" in one_line(capsys.readouterr().err)
    assert main(tiny_train(tmp_path / "run", "--data", "tfds:minst")) == 2
    line = one_line(capsys.readouterr().err)
    assert "unknown TFDS dataset 'minst'" in line and "mnist" in line.split("close matches:")[1]
