"""`dlscratch train --resume`: every changed setting is refused, naming it, before anything is
read or written; only the run's length may change (and --out, --threads, --quiet, --debug,
which are not settings of the run)."""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import pytest

from dlscratch.train import RunConfig

SAVED = RunConfig(model="simple-cnn", optimizer="momentum", momentum=0.9, epochs=2, limit=300,
                  batch_size=50, eval_limit=100)


@pytest.fixture
def saved_run(tmp_path, monkeypatch):
    """A run folder holding only a config.json (the refusals come before anything else), with
    the data pointing at an empty folder: nothing may be loaded."""
    empty = tmp_path / "no-data"
    empty.mkdir()
    monkeypatch.setenv("DLSCRATCH_DATA", str(empty))
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(SAVED.to_json())
    return run


def snapshot(folder) -> dict:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.mark.parametrize("change, message", [
    (("--dataset", "fashion-mnist"), "--dataset: saved mnist vs now fashion-mnist"),
    (("--augment",), "--augment: saved False vs now True"),
    (("--momentum", "0.5"), "--momentum: saved 0.9 vs now 0.5"),
    (("--lr", "0.01"), "--lr: saved 0.001 vs now 0.01"),
    (("--batch-size", "60"), "--batch-size: saved 50 vs now 60"),
    (("--model", "deep-cnn"), "--model: saved simple-cnn vs now deep-cnn"),
    (("--seed", "3"), "--seed: saved 0 vs now 3"),
    (("--eval-limit", "50"), "--eval-limit: saved 100 vs now 50"),
    (("--limit", "200"), "--limit: saved 300 vs now 200"),
    (("--sampling", "replacement"), "--sampling: saved shuffle vs now replacement"),
    (("--dtype", "float64"), "--dtype: saved float32 vs now float64"),
    (("--data-dir", "/elsewhere"), "--data-dir: saved unset vs now /elsewhere"),
    (("--hidden", "64"), "--hidden: saved unset vs now 64"),
    (("--schedule", "step"), "--schedule: saved constant vs now step"),
    (("--val-fraction", "0.1"), "--val-fraction: saved 0.0 vs now 0.1"),
    (("--optimizer", "nesterov"), "--optimizer: saved momentum vs now nesterov"),
    # refused as a change, not as a combination the saved momentum would not allow
    (("--optimizer", "adam"), "--optimizer: saved momentum vs now adam"),
    (("--seed", "3", "--augment", "--epochs", "5"),
     "--augment: saved False vs now True; --seed: saved 0 vs now 3"),
])
def test_every_changed_setting_is_refused_by_name(cli, saved_run, change, message):
    before = snapshot(saved_run)
    r = cli("train", "--resume", *change, "--out", saved_run)
    assert r.code == 1 and r.out == ""
    assert r.err == (f"dlscratch: error: {saved_run / 'config.json'}: cannot resume a "
                     f"different run ({message})\n")
    assert snapshot(saved_run) == before


def resume_args(out, **flags) -> SimpleNamespace:
    from dlscratch.cli.train_flags import FIELDS

    values = {name: None for name in FIELDS} | flags
    return SimpleNamespace(**values, resume=True, out=str(out), quiet=True)


@pytest.mark.parametrize("flags, expected", [
    ({"epochs": 5.0}, SAVED.replace(epochs=5.0)),
    ({"iterations": 7}, SAVED.replace(iterations=7)),
    ({}, SAVED),
])
def test_the_length_may_change(saved_run, flags, expected):
    from dlscratch.cli.train_flags import run_config

    assert run_config(resume_args(saved_run, **flags)) == expected


def test_resume_without_a_checkpoint_says_start_again(cli, saved_run):
    r = cli("train", "--resume", "--threads", "2", "--out", saved_run)  # --threads: not a setting
    assert r.code == 1
    assert r.err == (f"dlscratch: error: --resume: {saved_run} has no checkpoint.npz (the run "
                     "stopped before its first epoch ended): start it again without --resume\n")
    assert sorted(p.name for p in saved_run.iterdir()) == ["config.json"]  # no lock file left


@pytest.mark.parametrize("settings, message", [
    ({"batch_size": "50"}, "batch_size must be an integer >= 1, got '50'"),
    ({"model": ["simple-cnn"]}, "model must be one of 'two-layer', 'multi-layer', 'simple-cnn', "
                                "'deep-cnn', 'fast-cnn', 'bn-cnn', 'record-cnn', got "
                                "['simple-cnn']"),
    ({"hidden": {"a": 1}}, "hidden must be a non-empty list of integers or None, got {'a': 1}"),
    ({"epochs": None, "iterations": 10**9}, "iterations must be at most 10,000,000"),
    ({"augment": "yes"}, "augment must be True or False, got 'yes'"),
])
def test_a_run_config_with_wrong_types_is_one_line(cli, saved_run, settings, message):
    path = saved_run / "config.json"
    record = json.loads(path.read_text())
    record["settings"].update(settings)
    path.write_text(json.dumps(record))
    r = cli("train", "--resume", "--out", saved_run)
    assert r.code == 1 and r.err.count("\n") == 1
    assert r.err.startswith(f"dlscratch: error: {path}: {message}")


def test_a_config_json_that_is_not_text_or_far_too_large(cli, saved_run):
    path = saved_run / "config.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    r = cli("train", "--resume", "--out", saved_run)
    assert r.code == 1 and r.err.startswith(f"dlscratch: error: {path}: ")
    assert "codec can't decode" in r.err and r.err.count("\n") == 1
    path.write_text(" " * 2_000_000)
    r = cli("train", "--resume", "--out", saved_run)
    assert r.err == (f"dlscratch: error: {path}: 2,000,000 bytes is far too large for a run "
                     "config\n")


def test_a_run_cannot_be_shortened_to_before_its_checkpoint(cli, trained_run, tmp_path):
    run = shutil.copytree(trained_run.out, tmp_path / "copy")
    before = snapshot(run)
    r = cli("train", "--resume", "--iterations", "40", "--out", run)
    assert r.code == 1
    assert r.err == (f"dlscratch: error: {run / 'checkpoint.npz'}: the run is at iteration 50 "
                     "already; the --iterations 40 given would end it at 40\n")
    assert snapshot(run) == before
