"""Run folders written before RunConfig and the callbacks still resume, and their models load.

tests/train/data/old-run-*/ were written by `dlscratch train` at commit 8f79fdd (before the
change): config.json in the old `{"settings": {...}}` form, checkpoint.npz, model.npz and
history.json. reference-longer.json holds the losses of the same run trained straight to the
longer length by that code.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from dlscratch.cli.main import main
from dlscratch.io.serialize import load
from dlscratch.train import RunConfig
from dlscratch.train.checkpoint import read_checkpoint

OLD = Path(__file__).parent / "data"
# name -> (the flags it was written with, its iterations, the longer length, its iterations)
RUNS = {
    "two-layer": (["--model", "two-layer", "--hidden", "10", "--limit", "500",
                   "--eval-limit", "200"], ["--iterations", "30"], 30,
                  ["--iterations", "60"], 60),
    "multi-layer": (["--model", "multi-layer", "--hidden", "10", "10", "--dropout", "0.2",
                     "--batchnorm", "--optimizer", "momentum", "--lr", "0.05",
                     "--val-fraction", "0.2", "--patience", "5", "--limit", "300",
                     "--batch-size", "50", "--eval-limit", "100"], ["--epochs", "2"], 8,
                    ["--epochs", "4"], 16),
}


@pytest.fixture
def mnist():
    root = os.environ.get("DLSCRATCH_DATA")
    if not root or not (Path(root) / "mnist").is_dir():
        pytest.skip("set DLSCRATCH_DATA to a folder holding mnist/")


def model_arrays(path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files if k != "__architecture__"}


@pytest.mark.parametrize("name", list(RUNS))
def test_an_old_run_resumes_to_a_longer_run(name, mnist, tmp_path, capsys):
    flags, _, done, longer, total = RUNS[name]
    run = shutil.copytree(OLD / f"old-run-{name}", tmp_path / "run")
    old_config = RunConfig.read(run / "config.json")

    assert main(["train", "--resume", *longer, "--quiet", "--out", str(run)]) == 0
    out = capsys.readouterr().out
    assert f"resuming at iteration {done} of {total}" in out
    assert main(["train", *flags, *longer, "--quiet", "--out", str(tmp_path / "straight")]) == 0
    capsys.readouterr()

    # The first iterations ran on the old code, whose layers may round the last bits of a
    # float32 differently: the same run up to rounding (a lost RNG state or sample order
    # would change the losses in the first digits).
    straight = tmp_path / "straight"
    a, b = model_arrays(run / "model.npz"), model_arrays(straight / "model.npz")
    assert a.keys() == b.keys()
    assert all(np.allclose(a[k], b[k], rtol=1e-4, atol=1e-6) for k in a)
    resumed = json.loads((run / "history.json").read_text())
    expected = json.loads((straight / "history.json").read_text())
    for key in ("epoch", "iteration", "lr"):
        assert resumed[key] == expected[key]
    assert resumed["loss"] == pytest.approx(expected["loss"], rel=1e-4)
    # ... and it is the run the old code trained straight
    reference = json.loads((run / "reference-longer.json").read_text())
    assert resumed["iteration"] == reference["iteration"]
    assert resumed["loss"] == pytest.approx(reference["loss"], rel=1e-4)
    assert read_checkpoint(run / "checkpoint.npz")[0]["iteration"] == total

    record = json.loads((run / "config.json").read_text())  # rewritten in the new form
    assert record["format"] == "dlscratch-run-config"
    length = {"--epochs": ("epochs", float), "--iterations": ("iterations", int)}[longer[0]]
    assert RunConfig.read(run / "config.json") == old_config.replace(
        **{length[0]: length[1](longer[1])})


@pytest.mark.parametrize("name", list(RUNS))
def test_an_old_run_refuses_other_settings(name, mnist, tmp_path, capsys):
    run = shutil.copytree(OLD / f"old-run-{name}", tmp_path / "run")
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    assert main(["train", "--resume", "--seed", "5", "--quiet", "--out", str(run)]) == 1
    err = capsys.readouterr().err
    assert "cannot resume a different run (--seed: saved 0 vs now 5)" in err
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


@pytest.mark.parametrize("name", list(RUNS))
def test_an_old_model_file_loads_and_evaluates(name, mnist, tmp_path, capsys):
    folder = OLD / f"old-run-{name}"
    net = load(folder / "model.npz")
    _, groups = read_checkpoint(folder / "checkpoint.npz")
    assert all(np.array_equal(groups["net"][k], v)
               for k, v in {**net.params, **net.buffers}.items())
    assert main(["evaluate", str(folder / "model.npz"), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "mnist test set, 10000 images" in out and "accuracy: 0." in out
    assert (tmp_path / "confusion.png").exists()
