"""history.json (everything) and history.csv (one row per evaluation) from save_history."""

from __future__ import annotations

import csv
import json

import pytest

from dlscratch.train import save_history
from dlscratch.train.history import EPOCH_COLUMNS, new_history


def read_csv(path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_json_and_csv_from_a_trained_history(make_trainer, data, tmp_path):
    x_val, t_val = data["val"]
    _, trainer = make_trainer(iterations=17, x_val=x_val, t_val=t_val,
                              schedule={"name": "step", "step": 1, "gamma": 0.5})
    h = trainer.train()
    json_path, csv_path = save_history(h, tmp_path)
    assert (json_path, csv_path) == (tmp_path / "history.json", tmp_path / "history.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.csv", "history.json"]

    saved = json.loads(json_path.read_text())
    assert saved == h
    assert len(saved["loss"]) == len(saved["lr"]) == 17  # per iteration
    assert saved["iteration"] == [0, 7, 14, 17]  # per evaluation

    with open(csv_path, newline="") as f:
        header = next(csv.reader(f))
    assert tuple(header) == EPOCH_COLUMNS
    rows = read_csv(csv_path)
    assert len(rows) == len(h["epoch"]) == 4
    for i, row in enumerate(rows):
        assert int(row["iteration"]) == h["iteration"][i]
        assert float(row["epoch"]) == h["epoch"][i]
        for name in ("train", "test", "val"):
            assert float(row[f"{name}_acc"]) == h[f"{name}_acc"][i]
        assert float(row["elapsed_s"]) == h["elapsed_s"][i]
    assert rows[0]["loss"] == "" and rows[0]["lr"] == ""  # before any update
    assert [float(r["loss"]) for r in rows[1:]] == h["epoch_loss"][1:]
    # lr of the evaluation: the learning rate of the last update before it (not lr[row])
    assert [float(r["lr"]) for r in rows[1:]] == [h["lr"][6], h["lr"][13], h["lr"][16]]
    assert [float(r["lr"]) for r in rows[1:]] == pytest.approx([0.1, 0.05, 0.025])


def test_csv_leaves_missing_values_empty(make_trainer, tmp_path):
    _, trainer = make_trainer(epochs=1, x_test=None, t_test=None)
    _, csv_path = save_history(trainer.train(), tmp_path)
    rows = read_csv(csv_path)
    assert len(rows) == 2
    assert all(r["test_acc"] == "" and r["val_acc"] == "" for r in rows)
    assert all(r["train_acc"] != "" for r in rows)


def test_empty_history_writes_a_header_only(tmp_path):
    _, csv_path = save_history(new_history(), tmp_path)
    assert csv_path.read_text().splitlines() == [",".join(EPOCH_COLUMNS)]


def test_save_history_replaces_old_files_without_leftovers(make_trainer, tmp_path):
    (tmp_path / "history.json").write_text("old")
    (tmp_path / "history.csv").write_text("old")
    _, trainer = make_trainer(epochs=1)
    save_history(trainer.train(), tmp_path)
    assert json.loads((tmp_path / "history.json").read_text())["epoch"] == [0.0, 1.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.csv", "history.json"]
