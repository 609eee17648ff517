"""`dlscratch train --members K` / `--recipe`: an ensemble run folder (member by member,
resumable inside a member), `ensemble.json` checked like a model file, and `evaluate` /
`predict` taking an ensemble folder as one model."""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest

from dlscratch.functions import softmax
from dlscratch.io.serialize import load

# the record recipe made tiny: two members, 240 training images (the last 60 of the first 300
# held out), batches of 60 (4 iterations per epoch), 2 epochs; its network, schedule and every
# augmentation (shifts, rotations, zooms, elastic distortions) as they are
ENSEMBLE = ("train", "--recipe", "record", "--members", "2", "--limit", "300", "--holdout", "60",
            "--batch-size", "60", "--epochs", "2", "--eval-limit", "60", "--seed", "5", "--quiet")


def arrays(path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


@pytest.fixture(scope="module")
def ensemble_run(tmp_path_factory):
    from tests.cli.conftest import DATA_ROOT, run_quietly

    if DATA_ROOT is None:
        pytest.skip("set DLSCRATCH_DATA to a folder holding mnist/")
    out = tmp_path_factory.mktemp("ensemble") / "run"
    result = run_quietly(*ENSEMBLE, "--out", out)
    assert result.code == 0, result.err
    return out, result.out


def test_members_are_run_folders_listed_in_training_order(ensemble_run):
    out, stdout = ensemble_run
    record = json.loads((out / "ensemble.json").read_text())
    assert record["format"] == "dlscratch-ensemble" and record["version"] == 1
    assert record["members"] == ["member-1/model.npz", "member-2/model.npz"]
    assert [t["seed"] for t in record["training"]] == [5, 6]
    assert all(t["train_s"] > 0 and t["cpu"] for t in record["training"])
    for k, seed in ((1, 5), (2, 6)):
        settings = json.loads((out / f"member-{k}" / "config.json").read_text())["settings"]
        assert settings["seed"] == seed and settings["members"] == 1
        assert settings["recipe"] == "record" and settings["model"] == "record-cnn"
        assert settings["elastic_alpha"] > 0 and settings["holdout"] == 60
        # no test image is scored while training: train and validation accuracies only
        history = json.loads((out / f"member-{k}" / "history.json").read_text())
        assert history["val_acc"] and history["train_acc"]
        assert set(history["test_acc"]) == {None}
    assert json.loads((out / "config.json").read_text())["settings"]["members"] == 2
    assert (out / "augmentations.png").read_bytes().startswith(b"\x89PNG")
    # a design run (a validation split): the ensemble scored on validation, never on test
    assert re.fullmatch(r"first k members together: \d\.\d{4} \d\.\d{4}",
                        stdout.splitlines()[-2])
    assert re.fullmatch(r"validation accuracy: \d\.\d{4}", stdout.splitlines()[-1])
    assert "test" not in stdout


def test_a_design_run_scores_the_held_out_images(ensemble_run, mnist_root):
    from dlscratch.data import load_mnist

    out, stdout = ensemble_run
    (x, t), _ = load_mnist(flatten=False, data_dir=mnist_root)
    x_val, t_val = x[240:300], t[240:300]  # --limit 300 --holdout 60: the last 60
    probs = [softmax(load(out / f"member-{k}" / "model.npz").predict(x_val)) for k in (1, 2)]
    first = np.mean(probs[0].argmax(axis=1) == t_val)
    both = np.mean(np.mean(probs, axis=0).argmax(axis=1) == t_val)
    assert stdout.splitlines()[-2:] == [f"first k members together: {first:.4f} {both:.4f}",
                                        f"validation accuracy: {both:.4f}"]


def test_evaluate_averages_the_members_softmax(cli, ensemble_run, mnist_root, tmp_path,
                                               monkeypatch):
    import dlscratch.data
    from dlscratch.data import load_mnist

    load_dataset = dlscratch.data.load_dataset

    def first_1000_test_images(*args, **kwargs):  # 10,000 through record-cnn: too long here
        train, (x_test, t_test) = load_dataset(*args, **kwargs)
        return train, (x_test[:1000], t_test[:1000])

    monkeypatch.setattr(dlscratch.data, "load_dataset", first_1000_test_images)
    out, _ = ensemble_run
    r = cli("evaluate", out, "--out", tmp_path)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0] == "mnist test set, 1000 images"
    # independently: each member loaded on its own, the mean of their softmax outputs
    _, (x_test, t_test) = load_mnist(flatten=False, data_dir=mnist_root)
    x_test, t_test = x_test[:1000], t_test[:1000]
    probs = [softmax(load(out / f"member-{k}" / "model.npz").predict(x_test, batch_size=1000))
             for k in (1, 2)]
    alone = [np.mean(p.argmax(axis=1) == t_test) for p in probs]
    together = np.mean(np.mean(probs, axis=0).argmax(axis=1) == t_test)
    assert lines[1] == f"accuracy: {together:.4f}"
    errors = int(round((1 - together) * len(t_test)))
    assert lines[2] == f"errors: {errors} (test error {100 * errors / len(t_test):.2f}%)"
    table = lines[lines.index("members   first k together   member k alone") + 1:][:2]
    assert [line.split() for line in table] == [
        ["1", f"{alone[0]:.4f}", f"{alone[0]:.4f}"], ["2", f"{together:.4f}", f"{alone[1]:.4f}"]]
    for name in ("confusion.png", "misclassified.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG")


def test_predict_takes_an_ensemble_folder(cli, ensemble_run, tmp_path, mnist_root):
    from PIL import Image

    from dlscratch.data import load_mnist

    out, _ = ensemble_run
    _, (x_test, t_test) = load_mnist(flatten=False, data_dir=mnist_root)
    path = tmp_path / "digit.png"
    Image.fromarray((255 - 255 * x_test[0, 0]).astype(np.uint8)).save(path)
    r = cli("predict", out, path)
    assert r.code == 0, r.err
    assert r.out.startswith(f"{path}: ")


def test_resume_inside_a_member_gives_the_uninterrupted_ensemble(cli, ensemble_run, tmp_path,
                                                                 monkeypatch):
    from dlscratch.train.trainer import Trainer

    straight, straight_stdout = ensemble_run
    step = Trainer.train_step

    def ctrl_c_in_member_2_epoch_2(self):
        if self.seed == 6 and self.iteration == 6:
            raise KeyboardInterrupt
        step(self)

    monkeypatch.setattr(Trainer, "train_step", ctrl_c_in_member_2_epoch_2)
    run = tmp_path / "run"
    r = cli(*ENSEMBLE, "--out", run)
    assert r.code == 130
    assert r.err == (f"dlscratch: interrupted by Ctrl-C (SIGINT) at iteration 6 of 8 of member "
                     f"2 of 2; the last checkpoint is {run / 'member-2' / 'checkpoint.npz'}: "
                     f"continue with 'dlscratch train --resume --out {run}'\n")
    assert json.loads((run / "ensemble.json").read_text())["members"] == ["member-1/model.npz"]
    monkeypatch.undo()

    assert cli(*ENSEMBLE, "--out", run).code == 1  # not over it without --resume
    r = cli("train", "--resume", "--out", run)
    assert r.code == 0, r.err
    assert "resuming at iteration 4 of 8" in r.out
    for k in (1, 2):
        a, b = (arrays(folder / f"member-{k}" / "model.npz") for folder in (run, straight))
        assert a.keys() == b.keys() and all(np.array_equal(a[key], b[key]) for key in a)
    assert r.out.splitlines()[-1] == straight_stdout.splitlines()[-1]  # the same accuracy


def test_recipe_fills_in_the_settings_and_flags_override(cli, tmp_path, mnist_root):
    r = cli("train", "--recipe", "fast", "--epochs", "1", "--limit", "200", "--batch-size", "50",
            "--eval-limit", "50", "--quiet", "--out", tmp_path / "run")
    assert r.code == 0, r.err
    settings = json.loads((tmp_path / "run" / "config.json").read_text())["settings"]
    assert settings["recipe"] == "fast" and settings["model"] == "fast-cnn"
    assert settings["epochs"] == 1 and settings["lr"] == 0.002 and settings["warmup"] == 0.2

    r = cli("train", "--list-recipes")
    assert r.code == 0 and [line.split(":")[0] for line in r.out.splitlines()
                            if not line.startswith(" ")] == ["fast", "accurate", "record"]


@pytest.mark.parametrize("args, message", [
    (("--recipe", "fast", "--resume"), "--recipe cannot be used with --resume"),
    (("--recipe", "fast", "--config", "x.json"), "give --config or --recipe, not both"),
    (("--recipe", "best"), "argument --recipe: invalid choice: 'best'"),
    (("--members", "0"), "--members must be an integer >= 1, got 0"),
    (("--holdout", "10", "--val-fraction", "0.1"), "give --val-fraction or --holdout, not both"),
    (("--elastic-alpha", "20", "--model", "simple-cnn"),
     "--elastic-alpha sets the augmentation: it needs --augment"),
])
def test_bad_recipe_and_ensemble_flags_are_one_line(cli, tmp_path, args, message):
    r = cli("train", *args, "--out", tmp_path / "run")
    assert r.code in (1, 2)
    assert message in r.err and "Traceback" not in r.err


# -- ensemble.json, checked like every model file -----------------------------------------------


def write(folder, record) -> None:
    (folder / "ensemble.json").write_text(record if isinstance(record, str)
                                          else json.dumps(record))


GOOD = {"format": "dlscratch-ensemble", "version": 1,
        "members": ["member-1/model.npz", "member-2/model.npz"]}


@pytest.mark.parametrize("record, message", [
    ("{not json", "not JSON"),
    ([1], "the file must hold a JSON object"),
    ({**GOOD, "extra": 1}, "extra is not a field of an ensemble file"),
    ({k: v for k, v in GOOD.items() if k != "members"}, "members is missing"),
    ({**GOOD, "format": "other"}, "format must be 'dlscratch-ensemble' version 1"),
    ({**GOOD, "members": []}, "members must be a list of 1 to 100 model files"),
    ({**GOOD, "members": ["../elsewhere/model.npz"]}, "members[0] must be an .npz path inside"),
    ({**GOOD, "members": ["/abs/model.npz"]}, "members[0] must be an .npz path inside"),
    ({**GOOD, "members": ["member-1/model.pkl"]}, "members[0] must be an .npz path inside"),
    ({**GOOD, "members": ["member-1/model.npz"] * 2}, "members lists a model file twice"),
    ({**GOOD, "members": ["member-9/model.npz"]}, "member-9/model.npz"),
    ({**GOOD, "training": [{"seed": 0}]}, "training must be a list with one record per member"),
    ({**GOOD, "training": [{"seed": -1}, {"seed": 1}]},
     "training[0].seed must be an integer >= 0, got -1"),
])
def test_a_bad_ensemble_file_is_one_line_naming_the_field(cli, ensemble_run, tmp_path, record,
                                                          message):
    import shutil

    out, _ = ensemble_run
    copy = shutil.copytree(out, tmp_path / "copy")
    write(copy, record)
    r = cli("evaluate", copy)
    assert r.code == 1
    assert r.err.count("\n") == 1 and message in r.err, r.err
    assert "Traceback" not in r.err


def test_a_member_linked_out_of_the_folder_is_refused(cli, ensemble_run, tmp_path):
    import shutil

    out, _ = ensemble_run
    copy = shutil.copytree(out, tmp_path / "copy")
    outside = shutil.copytree(out / "member-2", tmp_path / "outside")
    shutil.rmtree(copy / "member-2")
    os.symlink(outside, copy / "member-2")
    r = cli("evaluate", copy)
    assert r.code == 1 and "members[1] leads out of the ensemble folder" in r.err, r.err


def test_a_final_run_scores_the_test_set_once_at_the_end(cli, mnist_root, tmp_path):
    """No validation split: the members train on every image given; the ensemble's test
    accuracy is the last line, the number `evaluate` gives for the folder."""
    args = ("train", "--model", "fast-cnn", "--members", "2", "--limit", "120", "--batch-size",
            "60", "--epochs", "1", "--eval-limit", "60", "--quiet", "--out", tmp_path / "run")
    r = cli(*args)
    assert r.code == 0, r.err
    last = r.out.splitlines()[-1]
    assert re.fullmatch(r"test accuracy: \d\.\d{4}", last)
    for k in (1, 2):
        history = json.loads((tmp_path / "run" / f"member-{k}" / "history.json").read_text())
        assert set(history["test_acc"]) == {None} and set(history["val_acc"]) == {None}
    e = cli("evaluate", tmp_path / "run")
    assert e.code == 0, e.err
    assert e.out.splitlines()[1] == last.replace("test accuracy", "accuracy")


def test_a_holdout_that_leaves_nothing_to_train_on_is_one_line(cli, mnist_root, tmp_path):
    r = cli("train", "--model", "fast-cnn", "--limit", "100", "--holdout", "100", "--batch-size",
            "50", "--out", tmp_path / "run")
    assert r.code == 1 and r.err.count("\n") == 1
    assert "--holdout 100 leaves no training image of the 100" in r.err


def test_a_folder_without_a_model_is_one_line(cli, tmp_path):
    (tmp_path / "empty").mkdir()
    r = cli("evaluate", tmp_path / "empty")
    assert r.code == 1 and r.err.count("\n") == 1
    assert "a folder without model.npz or ensemble.json" in r.err


def test_a_single_network_design_run_never_scores_the_test_set(cli, mnist_root, tmp_path):
    from dlscratch.data import load_mnist

    out = tmp_path / "run"
    r = cli("train", "--model", "fast-cnn", "--limit", "300", "--holdout", "60", "--batch-size",
            "60", "--epochs", "1", "--eval-limit", "60", "--quiet", "--out", out)
    assert r.code == 0, r.err
    history = json.loads((out / "history.json").read_text())
    assert history["val_acc"][-1] is not None and set(history["test_acc"]) == {None}
    (x, t), _ = load_mnist(flatten=False, data_dir=mnist_root)
    accuracy = load(out / "model.npz").accuracy(x[240:300], t[240:300])
    assert r.out.splitlines()[-1] == f"validation accuracy: {accuracy:.4f}"
    assert "test" not in r.out
