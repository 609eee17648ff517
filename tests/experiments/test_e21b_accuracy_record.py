"""Experiment 21's record variant reads the committed record run (docs/results/record/) and
trains nothing: its figures agree with the member files and design.json beside them."""

import json

import numpy as np
import pytest

import dlscratch
from dlscratch.data import load_mnist
from dlscratch.errors import ModelFileError
from dlscratch.experiments.e21b_accuracy_record import RECORD_DIR, read_design
from dlscratch.experiments.runner import run_experiment


def test_quick_run_scores_the_committed_members(run_quick, needs_mnist, monkeypatch):
    monkeypatch.delenv("DLSCRATCH_RECORD", raising=False)
    record = run_quick("accuracy-record")
    numbers, params = record["numbers"], record["params"]
    ensemble = json.loads((RECORD_DIR / "ensemble.json").read_text())
    design = json.loads((RECORD_DIR / "design.json").read_text())["runs"]
    members = len(ensemble["members"])
    assert params["members"] == members and params["test_size"] == 2000
    assert len(numbers["test_error_pct_first_k"]) == len(numbers["test_error_pct_member_alone"]) \
        == members
    # one member "together" is that member alone
    assert numbers["test_error_pct_first_k"][0] == numbers["test_error_pct_member_alone"][0]
    assert numbers["errors"] == round(numbers["test_error_pct_first_k"][-1] * 2000 / 100)
    hours = np.cumsum([member["train_s"] for member in ensemble["training"]]) / 3600
    assert numbers["training_hours_first_k"] == pytest.approx(hours)
    assert numbers["design_validation_error_pct"] == pytest.approx(
        {run["name"]: 100 * (1 - run["member_accuracy"][0]) for run in design})

    # the last member alone, scored here by its own model file on the same 2,000 images
    _, (x_test, t_test) = load_mnist(flatten=False)
    net = dlscratch.load(RECORD_DIR / ensemble["members"][-1])
    wrong = np.mean(net.predict(x_test[:2000], batch_size=500).argmax(axis=1) != t_test[:2000])
    assert numbers["test_error_pct_member_alone"][-1] == pytest.approx(100 * wrong)


def test_a_folder_without_a_record_is_named(tmp_path, quick_ctx, monkeypatch):
    monkeypatch.setenv("DLSCRATCH_RECORD", str(tmp_path))
    with pytest.raises(ModelFileError, match=r"ensemble\.json: missing - no record run in"):
        run_experiment("accuracy-record", quick_ctx(tmp_path / "out"))


@pytest.mark.parametrize(("text", "message"), [
    ("[1, 2]", "runs must be a non-empty list"),
    ('{"runs": []}', "runs must be a non-empty list"),
    ("{", "not JSON"),
    ('{"runs": [3]}', r"runs\[0\] must be an object"),
    ('{"runs": [{"name": "x", "holdout": 100, "members": 1, "member_accuracy": [],'
     ' "first_k_together": [0.9]}]}',
     r"runs\[0\] member_accuracy must be a non-empty list of accuracies in \[0, 1\]"),
    ('{"runs": [{"name": "x", "holdout": 0, "members": 1, "member_accuracy": [0.9],'
     ' "first_k_together": [0.9]}]}', r"runs\[0\] holdout must be an integer > 0"),
    ('{"runs": [{"name": "x", "holdout": 10, "members": 1, "member_accuracy": [1.5],'
     ' "first_k_together": [0.9]}]}', r"runs\[0\] member_accuracy must be"),
    ('{"runs": [{"name": "x", "holdout": 10, "members": 2, "member_accuracy": [0.9],'
     ' "first_k_together": [0.9]}]}', r"runs\[0\] members must be the length of"),
])
def test_a_bad_design_json_is_one_line_naming_the_field(tmp_path, text, message):
    (tmp_path / "design.json").write_text(text)
    with pytest.raises(ModelFileError, match=r"design\.json: " + message):
        read_design(tmp_path)


def test_a_missing_design_json_says_how_to_write_it(tmp_path):
    with pytest.raises(ModelFileError, match=r"design\.json: missing \(write it with python -m "
                                             r"benchmarks\.record_design\)"):
        read_design(tmp_path)


def test_the_committed_design_json_is_valid():
    runs = read_design(RECORD_DIR)
    assert [run["members"] for run in runs] == [len(run["member_accuracy"]) for run in runs]
