"""Training history: a dict of lists, saved as JSON (everything) and CSV (one row per epoch)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from dlscratch.io.atomic import atomic_write_text

EPOCH_COLUMNS = ("epoch", "iteration", "loss", "train_acc", "test_acc", "val_acc", "lr",
                 "elapsed_s")


def new_history() -> dict[str, list]:
    """loss / lr: one entry per iteration; the other EPOCH_COLUMNS and epoch_loss: one entry per
    evaluation (the CSV's lr column is looked up by iteration, see `epoch_value`)."""
    return {"loss": [], "lr": [], **{c: [] for c in EPOCH_COLUMNS if c != "loss"},
            "epoch_loss": []}


def epoch_value(history: dict, column: str, i: int):
    """Column `column` of evaluation `i`. `loss` is the epoch's mean loss; `lr` (recorded per
    iteration) is the learning rate of the last update before the evaluation (None before any)."""
    if column == "loss":
        return history["epoch_loss"][i]
    if column == "lr":
        it = history["iteration"][i]
        return history["lr"][it - 1] if 0 < it <= len(history["lr"]) else None
    return history[column][i]


def save_history(history: dict, out_dir: str | Path) -> tuple[Path, Path]:
    """Write history.json and history.csv into out_dir (atomically); return both paths.

    The CSV has one row per evaluation (EPOCH_COLUMNS); the JSON everything, including the
    loss and learning rate of every iteration."""
    out_dir = Path(out_dir)
    json_path, csv_path = out_dir / "history.json", out_dir / "history.csv"
    atomic_write_text(json_path, json.dumps(history, indent=1))
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(EPOCH_COLUMNS)
    for i in range(len(history["epoch"])):
        row = [epoch_value(history, c, i) for c in EPOCH_COLUMNS]
        writer.writerow(["" if v is None else v for v in row])
    atomic_write_text(csv_path, buf.getvalue())
    return json_path, csv_path
