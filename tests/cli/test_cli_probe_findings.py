"""What `python -m benchmarks.bad_inputs` found, fixed: each ends in a clear line naming the
thing at fault (or, for a model of other classes, in an answer)."""

from __future__ import annotations

import os

from PIL import Image

from dlscratch.io.serialize import save
from dlscratch.nets import TwoLayerNet


def digit(tmp_path):
    path = tmp_path / "one.png"
    image = Image.new("L", (40, 40), 255)
    image.paste(0, (17, 5, 23, 35))
    image.save(path)
    return path


def test_a_seed_beyond_what_a_model_file_keeps_is_refused(cli, tmp_path):
    r = cli("train", "--seed", str(2**200), "--iterations", "1", "--out", tmp_path / "run")
    assert r.code == 1
    assert r.err.startswith("dlscratch: error: --seed must be at most 9,223,372,036,854,775,807")
    assert not (tmp_path / "run" / "model.npz").exists()


def test_a_fifo_given_as_an_image_is_refused_at_once(cli, tmp_path):
    model = save(TwoLayerNet(784, 20, 10, seed=0), tmp_path / "m.npz")
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    r = cli("predict", model, fifo)
    assert r.code == 1 and r.err == f"dlscratch: error: {fifo}: not a regular file\n"


def test_a_model_of_other_classes_predicts_with_class_numbers(cli, tmp_path):
    model = save(TwoLayerNet(784, 20, 784, seed=0), tmp_path / "m.npz")
    r = cli("predict", model, digit(tmp_path))
    assert r.code == 0 and r.err == ""
    line = r.out.strip()
    top = line.split(": ")[1].split()[0]
    assert 0 <= int(top) < 784 and "(top 3: " in line


def test_evaluate_names_a_model_whose_outputs_are_not_the_classes(cli, tmp_path, mnist_root):
    model = save(TwoLayerNet(784, 20, 784, seed=0), tmp_path / "m.npz")
    r = cli("evaluate", model, "--data-dir", mnist_root)
    assert r.code == 1
    assert r.err == (f"dlscratch: error: {model}: the network has 784 outputs, mnist has 10 "
                     "classes\n")


def test_a_model_for_other_inputs_is_named(cli, tmp_path):
    model = save(TwoLayerNet(100, 20, 10, seed=0), tmp_path / "m.npz")
    r = cli("predict", model, digit(tmp_path))
    assert r.code == 1
    assert r.err.startswith(f"dlscratch: error: {model}: the network does not take 28x28 "
                            "images (Affine1: expected input of shape (N, 100)")


def test_control_characters_in_a_record_are_shown_not_written():
    from dlscratch.experiments.report import _text

    assert _text("a\x00b<\x1f>") == "a\\x00b&lt;\\x1f&gt;"
    assert _text("tab\tand\nnewline") == "tab\tand\nnewline"  # ordinary whitespace stays


def test_a_warmup_as_long_as_a_cosine_run_names_the_flag(cli, tmp_path):
    r = cli("train", "--schedule", "cosine", "--warmup", "100", "--epochs", "2.5", "--limit",
            "200", "--quiet", "--out", tmp_path / "run")
    assert r.code == 1
    assert r.err == ("dlscratch: error: --warmup 100 must be shorter than the run (--epochs 2.5: "
                     "2.5 epochs) with --schedule cosine\n")


def test_a_learning_rate_that_blows_up_names_the_flag(cli, tmp_path):
    r = cli("train", "--lr", "1e308", "--iterations", "5", "--limit", "200", "--quiet",
            "--out", tmp_path / "run")
    assert r.code == 1
    assert r.err.startswith("dlscratch: error: loss became nan at iteration ")
    assert r.err.endswith("Try a smaller --lr (now 1e+308).\n")
