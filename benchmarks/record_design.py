"""The record recipe's design runs, scored on validation (issue 17; benchmarks/NOTES.md).

    python -m benchmarks.record_design "all techniques=RUN" "no elastic=RUN2" ... \
        --out docs/results/record/design.json

Each RUN is a folder of `dlscratch train --recipe record --holdout 10000 ...`: an ensemble run
(ensemble.json) or a single network (model.npz). Its members are scored on the run's own
held-out images (the last N training images, as its config.json says) - never on the test set -
and the JSON gets, per run: its name, what it changed against the record recipe (the fields of
its config.json that differ, but for the member count, seed, recipe name, data folder and
holdout), each member's validation accuracy, the accuracy of its first 1, 2, ... members
together, and each member's training time as the run recorded it: the figures of the design
log in benchmarks/NOTES.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dlscratch.cli.failures import one_line
from dlscratch.cli.model_inputs import load_model, member_probabilities
from dlscratch.cli.train_run import load_data
from dlscratch.errors import DlscratchError
from dlscratch.io.atomic import atomic_write_text
from dlscratch.io.ensemble_file import ENSEMBLE_FILE, read_ensemble
from dlscratch.nets.ensemble import first_k_accuracy, member_accuracy
from dlscratch.train.recipes import recipe_config
from dlscratch.train.run_config import RunConfig

NOT_A_CHANGE = ("members", "seed", "recipe", "data_dir", "holdout")  # not how a member trains


def score_run(name: str, folder: Path) -> dict:
    """One design run's validation figures (see the module's docstring)."""
    config = RunConfig.read(folder / "config.json")
    if not config.holdout:
        raise ValueError(f"{folder}: not a design run (it was trained without --holdout)")
    _, _, (x_val, t_val) = load_data(config)
    probs = member_probabilities(load_model(folder), x_val, batch_size=1000)  # (M, N, K)
    alone, together = member_accuracy(probs, t_val), first_k_accuracy(probs, t_val)
    if (folder / ENSEMBLE_FILE).is_file():
        train_s = [entry.get("train_s") for entry in read_ensemble(folder).get("training", [])]
    else:
        elapsed = json.loads((folder / "history.json").read_text()).get("elapsed_s") or [None]
        train_s = [elapsed[-1]]
    changes = {field: now for field, (now, recipe) in
               config.differences(recipe_config("record")).items() if field not in NOT_A_CHANGE}
    return {"name": name, "folder": str(folder), "changes": changes,
            "holdout": config.holdout, "members": len(alone),
            "member_accuracy": [round(float(a), 4) for a in alone],
            "first_k_together": [round(float(a), 4) for a in together],
            "member_train_s": train_s}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", metavar="NAME=FOLDER")
    parser.add_argument("--out", default="docs/results/record/design.json")
    args = parser.parse_args(argv)
    runs = []
    for item in args.runs:
        name, sep, folder = item.partition("=")
        if not sep or not name or not folder:
            parser.error(f"expected NAME=FOLDER, got {item!r}")
        try:
            run = score_run(name, Path(folder))
        except (OSError, ValueError, DlscratchError) as exc:
            parser.exit(2, f"record_design: error: {one_line(exc)}\n")
        print(f"{name:<24} members {run['member_accuracy']}  together "
              f"{run['first_k_together']}  changes {run['changes']}", flush=True)
        runs.append(run)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, json.dumps({"split": "the last N training images (holdout)",
                                       "runs": runs}, indent=1) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
