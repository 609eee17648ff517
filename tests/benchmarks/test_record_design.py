"""benchmarks.record_design scores a design run on its own held-out images: the figures the
training command printed at its end, what the run changed against the record recipe, and a
run trained without --holdout refused (its validation would be the test set)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.components import missing

from dlscratch.train.run_config import RunConfig

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--recipe", "record", "--limit", "500", "--holdout", "100", "--epochs", "1",
        "--warmup", "0.2", "--elastic-alpha", "0", "--quiet"]


def dlscratch(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlscratch.cli.main", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, **kwargs)


@pytest.fixture(scope="module")
def design_run(tmp_path_factory) -> tuple[Path, str]:
    """A tiny two-member design run and its stdout."""
    if not os.environ.get("DLSCRATCH_DATA"):
        missing("set DLSCRATCH_DATA to a folder holding mnist/")
    run = tmp_path_factory.mktemp("design") / "d"
    trained = dlscratch("train", *TINY, "--members", "2", "--out", str(run))
    assert trained.returncode == 0, trained.stderr
    return run, trained.stdout


def record_design(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "benchmarks.record_design", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def test_design_json_holds_the_runs_own_validation_figures(tmp_path, design_run):
    run, stdout = design_run
    printed = re.search(r"first k members together: ([\d. ]+)", stdout).group(1).split()
    out = tmp_path / "design.json"
    scored = record_design(f"tiny={run}", "--out", str(out))
    assert scored.returncode == 0, scored.stderr
    (entry,) = json.loads(out.read_text())["runs"]
    assert entry["name"] == "tiny" and entry["members"] == 2 and entry["holdout"] == 100
    assert [f"{a:.4f}" for a in entry["first_k_together"]] == printed
    assert entry["member_accuracy"][0] == entry["first_k_together"][0]
    assert entry["changes"] == {"epochs": 1.0, "warmup": 0.2, "elastic_alpha": 0.0,
                                "limit": 500}
    record = json.loads((run / "ensemble.json").read_text())
    assert entry["member_train_s"] == [m["train_s"] for m in record["training"]]


def test_a_single_network_design_run(tmp_path, design_run):
    # --members 1: a plain run folder (model.npz, history.json), scored the same way
    run = tmp_path / "single"
    trained = dlscratch("train", *TINY, "--members", "1", "--out", str(run))
    assert trained.returncode == 0, trained.stderr
    out = tmp_path / "design.json"
    assert record_design(f"one={run}", "--out", str(out)).returncode == 0
    (entry,) = json.loads(out.read_text())["runs"]
    history = json.loads((run / "history.json").read_text())
    assert entry["members"] == 1 and entry["first_k_together"] == entry["member_accuracy"]
    assert entry["member_accuracy"] == [round(history["val_acc"][-1], 4)]
    assert entry["member_train_s"] == [history["elapsed_s"][-1]]
    # the run itself printed the same validation figure and scored no test image
    assert trained.stdout.splitlines()[-1] == \
        f"validation accuracy: {entry['member_accuracy'][0]:.4f}"
    assert "test" not in trained.stdout and set(history["test_acc"]) == {None}


def test_a_run_without_holdout_is_refused(tmp_path, design_run):
    run = tmp_path / "plain"
    shutil.copytree(design_run[0], run)
    config = RunConfig.read(run / "config.json").replace(holdout=0)
    (run / "config.json").write_text(config.to_json())
    scored = record_design(f"x={run}", "--out", str(tmp_path / "d.json"))
    assert scored.returncode == 2 and scored.stderr.count("\n") == 1, scored.stderr
    assert "not a design run" in scored.stderr
    missing_run = record_design(f"x={tmp_path / 'none'}", "--out", str(tmp_path / "d.json"))
    assert missing_run.returncode == 2 and "config.json" in missing_run.stderr
    assert "Traceback" not in missing_run.stderr
    assert not (tmp_path / "d.json").exists()
