"""User errors: one line on stderr starting 'dlscratch: error:', a non-zero exit, nothing written.

Exit code 2: the command line itself is wrong (argparse). Exit code 1: a value, a file or the
data is wrong.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dlscratch.data import write_idx


def one_line_error(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("dlscratch: error: "), err
    return err


@pytest.fixture
def no_data(tmp_path, monkeypatch) -> Path:
    """DLSCRATCH_DATA pointing at an empty folder (and the cache already isolated)."""
    empty = tmp_path / "empty-data"
    empty.mkdir()
    monkeypatch.setenv("DLSCRATCH_DATA", str(empty))
    return empty


# -- the command line itself -----------------------------------------------------------------


@pytest.mark.parametrize("argv, message", [
    ([], "the following arguments are required: command"),
    (["fly"], "invalid choice: 'fly'"),
    (["train", "--bogus"], "unrecognized arguments: --bogus"),
    (["train", "--model", "resnet"], "invalid choice: 'resnet'"),
    (["train", "--lr", "abc"], "argument --lr: invalid float value: 'abc'"),
    (["train", "--epochs", "1", "--iterations", "5"], "not allowed with argument"),
    (["train", "--dataset", "cifar10"], "invalid choice: 'cifar10'"),
    (["evaluate"], "the following arguments are required: model"),
    (["predict", "model.npz"], "the following arguments are required: images"),
    (["train", "--threads", "0"], "argument --threads: expected an integer >= 1, got '0'"),
    (["evaluate", "m.npz", "--threads", "two"], "expected an integer >= 1, got 'two'"),
    (["train", "--threads", "100000"], "argument --threads: expected at most 1024 threads, "
                                       "got '100000'"),
])
def test_wrong_command_lines_exit_2(cli, argv, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = cli(*argv)
    assert r.code == 2 and r.out == ""
    assert message in one_line_error(r.err)
    assert "--help" in r.err
    assert list(tmp_path.iterdir()) == []


def dlscratch_command() -> list[str]:
    script = Path(sys.executable).with_name("dlscratch")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dlscratch.cli.main"]


def test_the_installed_command_exits_2_on_a_wrong_flag(tmp_path):
    r = subprocess.run([*dlscratch_command(), "train", "--bogus"], capture_output=True,
                       text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 2 and r.stdout == ""
    assert "unrecognized arguments: --bogus" in one_line_error(r.stderr)
    r = subprocess.run([*dlscratch_command(), "--version"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("dlscratch ")


# -- wrong values: refused before any data is read -------------------------------------------
# RunConfig checks every setting and names the field (`batch_size must be an integer >= 1`);
# the command line says the flag instead (`--batch-size must be ...`).


@pytest.mark.parametrize("flags, message", [
    (["--lr", "-1"], "--lr must be a finite number > 0, got -1.0"),
    (["--lr", "0"], "--lr must be a finite number > 0, got 0.0"),
    (["--lr", "nan"], "--lr must be a finite number > 0, got nan"),
    (["--lr", "inf"], "--lr must be a finite number > 0, got inf"),
    (["--model", "multi-layer", "--dropout", "1.5"], "--dropout must be in [0, 1), got 1.5"),
    (["--model", "multi-layer", "--dropout", "-0.1"], "--dropout must be in [0, 1), got -0.1"),
    (["--patience", "3"], "--patience needs a validation set: add --val-fraction (e.g. 0.1)"),
    (["--patience", "0", "--val-fraction", "0.1"], "--patience must be an integer >= 1, got 0"),
    (["--val-fraction", "1"], "--val-fraction must be in [0, 1), got 1.0"),
    (["--batch-size", "0"], "--batch-size must be an integer >= 1, got 0"),
    (["--limit", "0"], "--limit must be an integer >= 1, got 0"),
    (["--epochs", "0"], "--epochs must be a finite number > 0, got 0.0"),
    (["--epochs", "inf"], "--epochs must be a finite number > 0, got inf"),
    (["--epochs", "nan"], "--epochs must be a finite number > 0, got nan"),
    (["--iterations", "0"], "--iterations must be an integer >= 1, got 0"),
    (["--iterations", "-5"], "--iterations must be an integer >= 1, got -5"),
    (["--weight-decay", "-1"], "--weight-decay must be a finite number >= 0, got -1.0"),
    (["--eval-limit", "0"], "--eval-limit must be an integer >= 1, got 0"),
    (["--seed", "-1"], "--seed must be an integer >= 0, got -1"),
    (["--momentum", "0.5"], "--momentum is for --optimizer momentum or nesterov, not sgd"),
    (["--optimizer", "momentum", "--momentum", "1.5"], "--momentum must be in [0, 1), got 1.5"),
    (["--warmup", "1"], "--warmup is for --schedule cosine, not constant"),
    (["--schedule", "cosine", "--gamma", "0.5"], "--gamma is for --schedule step, not cosine"),
    (["--step-size", "2"], "--step-size is for --schedule step, not constant"),
    (["--schedule", "step", "--gamma", "2"], "--gamma must be in (0, 1], got 2.0"),
    (["--batchnorm"], "--batchnorm cannot be used with --model two-layer"),
    (["--dropout", "0.5"], "--dropout 0.5 cannot be used with --model two-layer"),
    (["--model", "simple-cnn", "--weight-decay", "0.1"],
     "--weight-decay 0.1 cannot be used with --model simple-cnn"),
    (["--model", "deep-cnn", "--activation", "sigmoid"],
     "--activation sigmoid cannot be used with --model deep-cnn"),
    (["--batchnorm", "--dropout", "0.3"],
     "--batchnorm, --dropout 0.3 cannot be used with --model two-layer"),
    (["--augment"], "--augment works on images: use it with simple-cnn, deep-cnn, fast-cnn, "
                    "bn-cnn, record-cnn, not --model two-layer"),
    (["--augment-scale", "0.1", "--model", "simple-cnn"],
     "--augment-scale sets the augmentation: it needs --augment"),
    (["--members", "2", "--val-fraction", "0.1", "--patience", "2"],
     "--patience stops one network early; it cannot be used with --members > 1"),
    (["--hidden", "0"], "--hidden sizes must be >= 1, got [0]"),
    (["--model", "multi-layer", "--hidden", "5", "-3"], "--hidden sizes must be >= 1, got [5, -3]"),
    # upper bounds: a typo must not become a run that exhausts memory or never ends
    (["--hidden", "100000000"], "--hidden sizes must be at most 65536, got [100000000]"),
    (["--model", "multi-layer", "--hidden", "65536", "65536"],
     "--hidden 65536 65536 gives --model multi-layer 4,347,002,880 weights in its fully "
     "connected layers; at most 100,000,000 are allowed"),
    (["--model", "simple-cnn", "--hidden", "65536"],
     "--hidden 65536 gives --model simple-cnn 283,770,880 weights in its fully connected "
     "layers; at most 100,000,000 are allowed"),
    (["--hidden", "20", "30"], "--hidden takes one size with --model two-layer (its one hidden "
                               "layer), got 20 30"),
    (["--iterations", "20000000"], "--iterations must be at most 10,000,000, got 20000000"),
    (["--epochs", "1e6"], "--epochs must be at most 100,000, got 1000000.0"),
    (["--batch-size", "100000", "--limit", "600"],
     "--batch-size 100000 is larger than the training set (--limit 600 images)"),
])
def test_invalid_values_are_refused_before_loading_data(cli, no_data, tmp_path, flags, message):
    out = tmp_path / "run"
    r = cli("train", *flags, "--out", out)
    assert r.code == 1 and r.out == ""
    assert one_line_error(r.err) == f"dlscratch: error: {message}\n"
    assert not out.exists()


# -- wrong values found once the data is there -------------------------------------------------


@pytest.mark.parametrize("flags, message", [
    (["--schedule", "cosine", "--warmup", "5"],  # the run is 1 epoch (20 images, 2 steps)
     "--warmup 5 must be shorter than the run (--iterations 2: 1 epoch) with --schedule "
     "cosine"),
    # a batch larger than the training set is an error, not quietly made smaller
    (["--batch-size", "30"], "--batch-size 30 is larger than the training set (20 images)"),
    (["--val-fraction", "0.6"],
     "--batch-size 10 is larger than the training set (8 images, after --val-fraction 0.6)"),
    (["--limit", "21"], "--limit 21 is more than the 20 training images of mnist"),
    (["--val-fraction", "0.01"], "--val-fraction 0.01 of 20 samples gives 0 validation samples"),
])
def test_invalid_combinations_are_refused(cli, tmp_path, flags, message):
    fake = tmp_path / "data"  # a tiny dataset: these errors come after loading it
    rng = np.random.default_rng(0)
    for name, shape in (("train-images-idx3-ubyte", (20, 28, 28)), ("t10k-images-idx3-ubyte",
                                                                    (10, 28, 28))):
        write_idx(fake / "mnist" / f"{name}.gz", rng.integers(0, 256, shape, dtype=np.uint8))
    for name, n in (("train-labels-idx1-ubyte", 20), ("t10k-labels-idx1-ubyte", 10)):
        write_idx(fake / "mnist" / f"{name}.gz", (np.arange(n) % 10).astype(np.uint8))
    out = tmp_path / "run"
    r = cli("train", "--data-dir", fake, "--iterations", "2", "--batch-size", "10", "--quiet",
            *flags, "--out", out)
    assert r.code == 1 and r.out == ""
    assert message in one_line_error(r.err)
    assert not out.exists()


# -- missing and unreadable files ------------------------------------------------------------


def test_missing_model_file(cli, tmp_path):
    for argv in (["evaluate", tmp_path / "nope.npz"],
                 ["predict", tmp_path / "nope.npz", tmp_path / "x.png"]):
        r = cli(*argv)
        assert r.code == 1 and r.out == ""
        assert f"model file not found: {tmp_path / 'nope.npz'}" in one_line_error(r.err)


def test_a_file_that_is_not_a_model(cli, tmp_path):
    bad = tmp_path / "model.npz"
    bad.write_text("hello")
    r = cli("evaluate", bad)
    assert r.code == 1 and f"{bad}: not a dlscratch model file (it is not an .npz archive" in \
        one_line_error(r.err)
    np.savez(bad, W1=np.zeros(3))
    r = cli("evaluate", bad)
    assert r.code == 1 and "no architecture record" in one_line_error(r.err)


@pytest.fixture
def model_file(tmp_path) -> Path:
    from dlscratch.io.serialize import save
    from dlscratch.nets.factory import build_model

    return save(build_model("two-layer", seed=0), tmp_path / "model.npz")


def test_unreadable_images(cli, model_file, tmp_path):
    text = tmp_path / "x.png"
    text.write_text("this is not a PNG\n")
    r = cli("predict", model_file, text)
    assert r.code == 1 and r.out == ""
    assert f"{text}: not a readable image" in one_line_error(r.err)

    r = cli("predict", model_file, tmp_path / "missing.png")
    assert r.code == 1 and f"image not found: {tmp_path / 'missing.png'}" in one_line_error(r.err)

    truncated = tmp_path / "cut.png"
    Image.new("L", (64, 64), 255).save(tmp_path / "full.png")
    truncated.write_bytes((tmp_path / "full.png").read_bytes()[:40])
    r = cli("predict", model_file, truncated)
    assert r.code == 1 and "cut.png: not a readable image" in one_line_error(r.err)

    blank = tmp_path / "blank.jpg"
    Image.new("RGB", (50, 50), (255, 255, 255)).save(blank)
    r = cli("predict", model_file, blank)
    assert r.code == 1 and "blank.jpg: the image is blank" in one_line_error(r.err)

    r = cli("predict", model_file, tmp_path)  # a folder
    assert r.code == 1 and f"{tmp_path}: not a regular file" in one_line_error(r.err)


def test_a_bad_image_among_good_ones_gets_its_own_line(cli, model_file, tmp_path):
    """One line per image in the order given; the bad one's says why, the others are still
    classified, and the exit status says that one failed."""
    good = tmp_path / "good.png"
    image = Image.new("L", (40, 40), 255)
    image.paste(0, (15, 5, 25, 35))
    image.save(good)
    bad = tmp_path / "bad.png"
    bad.write_text("nope")
    r = cli("predict", model_file, good, bad, good, tmp_path / "missing.png")
    assert r.code == 1
    assert [line.split(":")[0] for line in r.out.splitlines()] == [str(good), str(good)]
    errors = r.err.splitlines()
    assert len(errors) == 2 and all(e.startswith("dlscratch: error: ") for e in errors)
    assert f"{bad}: not a readable image" in errors[0]
    assert f"image not found: {tmp_path / 'missing.png'}" in errors[1]


# -- missing or broken data ------------------------------------------------------------------


def test_missing_data_names_the_files_and_never_reaches_the_network(cli, no_data, no_network,
                                                                     tmp_path):
    r = cli("train", "--iterations", "2", "--quiet", "--out", tmp_path / "run")
    assert r.code == 1 and r.out == ""
    assert r.err.startswith("dlscratch: error: MNIST data not found: missing files")
    for name in ("train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        assert name in r.err
    assert str(no_data / "mnist") in r.err and "DLSCRATCH_DATA" in r.err
    assert "--data-dir" in r.err and "dlscratch info" in r.err  # the command line's words,
    assert "data_dir=" not in r.err and "download=True" not in r.err  # not Python's
    assert len(r.err.strip().splitlines()) == 1
    assert "network access is disabled in the tests" in r.err  # the download was tried, offline
    assert no_network  # ... and refused by the fixture, not by a real network
    assert not (tmp_path / "run").exists()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []  # no partial downloads

    r = cli("evaluate", tmp_path / "nope.npz")  # the model is checked before the data
    assert r.code == 1 and "model file not found" in r.err


def test_missing_data_for_evaluate(cli, no_data, model_file):
    r = cli("evaluate", model_file, "--dataset", "fashion-mnist")
    assert r.code == 1 and "Fashion-MNIST data not found" in r.err


def test_corrupted_data_files_are_named(cli, tmp_path):
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (folder / f"{name}.gz").write_bytes(b"\x1f\x8b garbage, not gzip")
    r = cli("train", "--data-dir", tmp_path / "data", "--iterations", "2", "--out",
            tmp_path / "run")
    assert r.code == 1 and r.out == ""
    assert "train-images-idx3-ubyte" in one_line_error(r.err)
    assert not (tmp_path / "run").exists()


def test_out_is_a_file(cli, tmp_path):
    data = tmp_path / "data"
    rng = np.random.default_rng(0)
    write_idx(data / "mnist" / "train-images-idx3-ubyte", rng.integers(0, 256, (20, 28, 28),
                                                                        dtype=np.uint8))
    write_idx(data / "mnist" / "train-labels-idx1-ubyte", np.arange(20, dtype=np.uint8) % 10)
    write_idx(data / "mnist" / "t10k-images-idx3-ubyte", rng.integers(0, 256, (10, 28, 28),
                                                                       dtype=np.uint8))
    write_idx(data / "mnist" / "t10k-labels-idx1-ubyte", np.arange(10, dtype=np.uint8))
    out = tmp_path / "taken"
    out.write_text("a file")
    r = cli("train", "--data-dir", data, "--iterations", "2", "--quiet", "--out", out)
    assert r.code == 1 and str(out) in one_line_error(r.err)
    assert out.read_text() == "a file"

