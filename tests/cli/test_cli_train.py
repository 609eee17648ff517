"""`dlscratch train`: output files, the final accuracy line, resume, and the run's options."""

from __future__ import annotations

import csv
import json
import re
import warnings

import numpy as np
import pytest

from dlscratch.io.serialize import load
from dlscratch.train.checkpoint import read_checkpoint

ACCURACY_LINE = re.compile(r"^test accuracy: (\d\.\d{4})$")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
OUTPUTS = ["checkpoint.npz", "config.json", "curves.png", "history.csv", "history.json",
           "model.npz"]
# The same as conftest.SMALL: 300 images, batches of 50 (6 iterations per epoch), no progress bar
SMALL = ("--limit", "300", "--batch-size", "50", "--eval-limit", "100", "--quiet")


def final_accuracy(stdout: str) -> float:
    lines = stdout.splitlines()
    match = ACCURACY_LINE.match(lines[-1])
    assert match, f"last line is not 'test accuracy: 0.1234': {lines[-1]!r}"
    return float(match.group(1))


def model_arrays(path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files if k != "__architecture__"}


def same_arrays(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_train_writes_every_file_and_ends_with_the_accuracy(trained_run, mnist_root):
    out = trained_run.out
    assert trained_run.stdout.splitlines() == [trained_run.stdout.splitlines()[-1]]  # --quiet
    assert trained_run.stderr == ""
    accuracy = final_accuracy(trained_run.stdout)
    assert sorted(p.name for p in out.iterdir()) == OUTPUTS  # no temporary files left over
    assert (out / "curves.png").read_bytes()[:8] == PNG_MAGIC

    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == len(history["lr"]) == 50
    assert history["lr"] == [0.1] * 50  # the two-layer preset: SGD, lr 0.1
    assert history["iteration"] == [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50]  # 500 / 100
    with open(out / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 11 and rows[-1]["iteration"] == "50"

    config = json.loads((out / "config.json").read_text())["settings"]
    assert config["model"] == "two-layer" and config["optimizer"] == "sgd"
    assert config["iterations"] == 50 and config["limit"] == 500
    from dlscratch.train import RunConfig  # config.json is the run's RunConfig written out

    run_config = RunConfig.read(out / "config.json")
    assert (out / "config.json").read_text() == run_config.to_json()
    assert run_config == RunConfig(iterations=50, limit=500, eval_limit=200)

    meta, groups = read_checkpoint(out / "checkpoint.npz")
    assert meta["iteration"] == 50 and meta["optimizer"]["type"] == "SGD"
    net = load(out / "model.npz")
    assert same_arrays(groups["net"], {**net.params, **net.buffers})

    from dlscratch.data import load_mnist

    _, (x_test, t_test) = load_mnist(data_dir=mnist_root)
    assert len(t_test) == 10000
    assert f"{net.accuracy(x_test, t_test):.4f}" == f"{accuracy:.4f}"
    assert accuracy > 0.2  # 50 SGD steps from a 0.01-std start: better than chance


def test_simple_cnn_with_progress_bar_and_augmentation(cli, mnist_root, tmp_path, monkeypatch):
    from dlscratch.cli import train_run

    load_data = train_run.load_data

    def small_test_set(s):  # a convolution over all 10,000 test images takes too long here
        train, (x_test, t_test), val = load_data(s)
        assert x_test.shape == (10000, 1, 28, 28)
        return train, (x_test[:500], t_test[:500]), val

    monkeypatch.setattr(train_run, "load_data", small_test_set)
    r = cli("train", "--model", "simple-cnn", "--limit", "200", "--iterations", "4",
            "--batch-size", "50", "--eval-limit", "50", "--augment", "--out", tmp_path / "cnn")
    assert r.code == 0, r.err
    final_accuracy(r.out)
    assert "loss=" in r.err and "4/4" in r.err  # tqdm's live bar on stderr
    assert r.out.splitlines()[-2] == (f"wrote {tmp_path / 'cnn'}/: model.npz checkpoint.npz "
                                      "config.json history.json history.csv curves.png")
    net = load(tmp_path / "cnn" / "model.npz")
    assert type(net).__name__ == "SimpleConvNet"
    assert sorted(p.name for p in (tmp_path / "cnn").iterdir()) == OUTPUTS


def test_options_reach_the_network_and_the_trainer(cli, mnist_root, tmp_path):
    r = cli("train", "--model", "multi-layer", "--hidden", "20", "20", "--batchnorm",
            "--dropout", "0.2", "--activation", "sigmoid", "--weight-decay", "0.001",
            "--optimizer", "momentum", "--momentum", "0.8", "--lr", "0.05", "--epochs", "2",
            "--schedule", "step", "--step-size", "1", "--gamma", "0.5", "--sampling",
            "replacement", "--val-fraction", "0.2", "--seed", "3", "--dtype", "float64", *SMALL,
            "--out", tmp_path / "run")
    assert r.code == 0, r.err
    final_accuracy(r.out)
    net = load(tmp_path / "run" / "model.npz")
    assert net.config["hidden_size_list"] == [20, 20] and net.config["use_batchnorm"]
    assert net.config["dropout_ratio"] == 0.2 and net.config["activation"] == "sigmoid"
    assert net.weight_decay_lambda == 0.001 and net.dtype == np.float64
    meta, _ = read_checkpoint(tmp_path / "run" / "checkpoint.npz")
    assert meta["optimizer"]["type"] == "Momentum" and meta["optimizer"]["momentum"] == 0.8
    s = meta["settings"]
    assert (s["sampling"], s["seed"], s["train_size"], s["batch_size"]) == (
        "replacement", 3, 240, 50)  # 300 images minus the 20% validation split
    history = meta["history"]
    assert history["val_acc"][-1] is not None
    assert history["lr"][0] == 0.05 and history["lr"][-1] == pytest.approx(0.025)


def test_early_stopping_from_the_command_line(cli, mnist_root, tmp_path):
    r = cli("train", "--val-fraction", "0.2", "--patience", "1", "--epochs", "30",
            "--lr", "1e-9", *SMALL, "--out", tmp_path / "run")  # lr ~0: no improvement
    assert r.code == 0, r.err
    meta, _ = read_checkpoint(tmp_path / "run" / "checkpoint.npz")
    assert meta["stopped_early"] and meta["iteration"] < 30 * 4


# -- resume ----------------------------------------------------------------------------------


def test_resume_to_more_epochs_equals_a_longer_run(cli, mnist_root, tmp_path):
    base = ("train", "--optimizer", "adam", "--lr", "0.005", *SMALL)
    assert cli(*base, "--epochs", "3", "--out", tmp_path / "straight").code == 0
    assert cli(*base, "--epochs", "2", "--out", tmp_path / "run").code == 0

    r = cli("train", "--resume", "--epochs", "3", "--out", tmp_path / "run")  # saved settings
    assert r.code == 0, r.err
    assert "resuming at iteration 12 of 18" in r.out
    straight = tmp_path / "straight"
    assert same_arrays(model_arrays(tmp_path / "run" / "model.npz"),
                       model_arrays(straight / "model.npz"))
    resumed = json.loads((tmp_path / "run" / "history.json").read_text())
    expected = json.loads((straight / "history.json").read_text())
    assert resumed["loss"] == expected["loss"]
    assert {k: v for k, v in resumed.items() if k != "elapsed_s"} == {
        k: v for k, v in expected.items() if k != "elapsed_s"}
    config = json.loads((tmp_path / "run" / "config.json").read_text())["settings"]
    assert config["epochs"] == 3 and config["optimizer"] == "adam" and config["lr"] == 0.005


def test_resuming_a_finished_run_is_a_no_op(cli, trained_run, tmp_path):
    import shutil

    run = shutil.copytree(trained_run.out, tmp_path / "copy")
    before = model_arrays(run / "model.npz")
    r = cli("train", "--resume", "--out", run)
    assert r.code == 0, r.err
    assert "resuming at iteration 50 of 50" in r.out
    assert final_accuracy(r.out) == final_accuracy(trained_run.stdout)
    assert same_arrays(model_arrays(run / "model.npz"), before)
    assert read_checkpoint(run / "checkpoint.npz")[0]["iteration"] == 50


def test_interrupted_run_resumes_exactly(cli, mnist_root, tmp_path, monkeypatch):
    from dlscratch.train.trainer import Trainer

    args = ("train", "--model", "multi-layer", "--hidden", "20", "20", "--dropout", "0.2",
            "--batchnorm", "--schedule", "cosine", "--warmup", "0.5", "--epochs", "3", *SMALL)
    assert cli(*args, "--out", tmp_path / "straight").code == 0

    step = Trainer.train_step

    def ctrl_c_in_epoch_3(self):
        if self.iteration == 14:
            raise KeyboardInterrupt
        step(self)

    monkeypatch.setattr(Trainer, "train_step", ctrl_c_in_epoch_3)
    r = cli(*args, "--out", tmp_path / "run")
    assert r.code == 130
    assert r.err == (f"dlscratch: interrupted by Ctrl-C (SIGINT) at iteration 14 of 18; the last "
                     f"checkpoint is {tmp_path / 'run' / 'checkpoint.npz'}: continue with "
                     f"'dlscratch train --resume --out {tmp_path / 'run'}'\n")
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["checkpoint.npz",
                                                                    "config.json"]
    assert read_checkpoint(tmp_path / "run" / "checkpoint.npz")[0]["iteration"] == 12
    monkeypatch.undo()

    r = cli("train", "--resume", "--out", tmp_path / "run")
    assert r.code == 0, r.err
    assert "resuming at iteration 12 of 18" in r.out
    assert same_arrays(model_arrays(tmp_path / "run" / "model.npz"),
                       model_arrays(tmp_path / "straight" / "model.npz"))


def test_existing_run_is_not_overwritten_without_resume(cli, trained_run):
    before = {p.name: p.read_bytes() for p in trained_run.out.iterdir()}
    r = cli("train", "--iterations", "50", "--limit", "500", "--quiet", "--out", trained_run.out)
    assert r.code == 1
    assert r.err.count("\n") == 1 and "already holds a run: add --resume" in r.err
    assert {p.name: p.read_bytes() for p in trained_run.out.iterdir()} == before


@pytest.mark.parametrize("change, message", [
    (("--batch-size", "60"), "(--batch-size: saved 50 vs now 60)"),
    (("--lr", "0.5"), "(--lr: saved 0.1 vs now 0.5)"),
    (("--seed", "9"), "(--seed: saved 0 vs now 9)"),
    (("--limit", "240"), "(--limit: saved 300 vs now 240)"),
    (("--hidden", "30"), "(--hidden: saved unset vs now 30)"),
    (("--optimizer", "adam"), "(--optimizer: saved sgd vs now adam)"),
    (("--dataset", "fashion-mnist"), "(--dataset: saved mnist vs now fashion-mnist)"),
    (("--seed", "9", "--lr", "0.5"), "(--lr: saved 0.1 vs now 0.5; --seed: saved 0 vs now 9)"),
    # a cosine schedule spans the whole run: a longer run is a different run
    (("--epochs", "2"), "(--epochs: saved 1.0 vs now 2.0 (--schedule cosine spans the whole run))"),
])
def test_resume_with_different_settings_is_refused_and_changes_nothing(
        cli, cosine_run, tmp_path, change, message):
    import shutil

    run = shutil.copytree(cosine_run, tmp_path / "run")
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    r = cli("train", "--resume", *change, "--out", run)
    assert r.code == 1
    assert f"{run / 'config.json'}: cannot resume a different run {message}" in r.err
    assert r.err.count("\n") == 1
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before  # config.json too


def test_resume_without_a_run_is_an_error(cli, tmp_path):
    r = cli("train", "--resume", "--out", tmp_path / "nothing")
    assert r.code == 1 and "nothing to resume" in r.err
    assert not (tmp_path / "nothing").exists()


def test_divergence_is_one_clear_line(cli, mnist_root, tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = cli("train", "--lr", "1e30", "--iterations", "20", *SMALL, "--out", tmp_path / "run")
    assert r.code == 1
    assert r.err.count("\n") == 1, r.err
    assert re.search(r"non-finite values first appear in (Affine|Relu)\d", r.err)
    assert "Try a smaller --lr (now" in r.err
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]  # no numpy noise


def test_library_errors_are_told_in_flags():
    from dlscratch.cli.train_cmd import flag_message

    assert flag_message("batchnorm=True cannot be used with model='simple-cnn'") == \
        "--batchnorm cannot be used with --model simple-cnn"
    assert flag_message("batch_size must be an integer >= 1, got 0") == \
        "--batch-size must be an integer >= 1, got 0"
    assert flag_message("hidden=[20, 30], dropout=0.5 cannot be used with model='x'") == \
        "--hidden 20 30, --dropout 0.5 cannot be used with --model x"
    # words that are not whole argument names stay as they are
    assert flag_message("dropout_ratio and 'model' and models stay") == \
        "dropout_ratio and model and models stay"


def test_the_old_settings_names_still_work_with_a_warning():
    from dlscratch.cli import train_cmd

    with pytest.warns(DeprecationWarning, match="train_cmd.DEFAULTS is deprecated"):
        defaults = train_cmd.DEFAULTS
    assert defaults["batch_size"] == 100 and defaults["schedule"] == "constant"
    with pytest.warns(DeprecationWarning, match="use Trainer.from_config"):
        assert callable(train_cmd.make_trainer)
    with pytest.raises(AttributeError):
        train_cmd.no_such_name  # noqa: B018
