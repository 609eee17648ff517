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
    """loss / lr: one entry per iteration; the EPOCH_COLUMNS: one entry per evaluation."""
    return {"loss": [], "lr": [], **{c: [] for c in EPOCH_COLUMNS if c != "loss"},
            "epoch_loss": []}


def save_history(history: dict, out_dir: str | Path) -> tuple[Path, Path]:
    """Write history.json and history.csv into out_dir (atomically); return both paths."""
    out_dir = Path(out_dir)
    json_path, csv_path = out_dir / "history.json", out_dir / "history.csv"
    atomic_write_text(json_path, json.dumps(history, indent=1))
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(EPOCH_COLUMNS)
    for i in range(len(history["epoch"])):
        row = [history["epoch_loss" if c == "loss" else c][i] for c in EPOCH_COLUMNS]
        writer.writerow(["" if v is None else v for v in row])
    atomic_write_text(csv_path, buf.getvalue())
    return json_path, csv_path
