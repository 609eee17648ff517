"""What a search shows: its finished trials as table rows, and at the end (or with
`dlscratch search --report DIR`) the course's figures and the next step.

Files written into the report folder (atomically):
    curves.png     the best trials' validation (solid) and training (dashed) accuracy curves,
                   best first
    scatter.png    the first two parameters (lr against weight decay in the course), one point
                   per trial, coloured by validation accuracy
    trials.csv     one row per index: its values, seed and validation accuracy
    narrowed.json  step 3: the ranges the best trials span, beside the ranges searched
    best.json      the best trial as a RunConfig on the full training set (no validation split,
                   no --limit): `dlscratch train --config best.json` trains it and reports the
                   test accuracy
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from dlscratch.search.settings import SearchSettings
from dlscratch.search.space import narrowed

NARROW_TOP = 5  # as the course: the ranges of the best 5 trials


def finished(study, n: int | None = None) -> list[dict]:
    """One record per index (its COMPLETE trial), ranked best first (ties: lower index)."""
    from optuna.trial import TrialState

    from dlscratch.search.study import trials_of

    by_index = {}
    for t in trials_of(study):
        k = t.user_attrs["index"]
        if t.state == TrialState.COMPLETE and (n is None or k < n) and k not in by_index:
            by_index[k] = {"index": k, "number": t.number, "value": float(t.value),
                           "params": dict(t.params), "seed": t.user_attrs.get("seed"),
                           "val_acc": t.user_attrs.get("val_acc", []),
                           "train_acc": t.user_attrs.get("train_acc", []),
                           "worker": f"{t.user_attrs.get('host')}:{t.user_attrs.get('pid')}",
                           "diverged": t.user_attrs.get("diverged")}
    return sorted(by_index.values(), key=lambda r: (-r["value"], r["index"]))


def row(record: dict, done: int, total: int) -> str:
    """One line of the live table."""
    values = "  ".join(f"{name} {_show(value)}" for name, value in record["params"].items())
    flag = "  (diverged)" if record["diverged"] else ""
    return (f"{done:>5}/{total}  index {record['index']:<4} val acc {record['value']:.4f}  "
            f"{values}{flag}")


def _show(value) -> str:
    return f"{value:.2e}" if isinstance(value, float) else str(value)


def next_ranges(settings: SearchSettings, ranked: list[dict]):
    """Step 3: the searched ranges cut to the best NARROW_TOP trials' values."""
    return narrowed(settings.space, [r["params"] for r in ranked[:NARROW_TOP]])


def write_report(study, settings: SearchSettings, folder: Path, n: int | None = None) -> dict:
    """Write the files above into `folder`; what was written and the lines to print."""
    from dlscratch.io.atomic import atomic_write_text
    from dlscratch.plots import save_figure
    from dlscratch.search.figures import curves_figure, scatter_figure

    ranked = finished(study, n)
    folder.mkdir(parents=True, exist_ok=True)
    if not ranked:
        return {"lines": [f"study {study.study_name}: no finished trial yet"], "files": []}
    epochs, iterations = settings.base.epochs, settings.base.iterations
    length = (f"{epochs:g} epoch{'' if epochs == 1 else 's'}" if epochs is not None
              else f"{iterations} iteration{'' if iterations == 1 else 's'}")
    fig = curves_figure(ranked, [f"Best-{i + 1}: " + ", ".join(
        f"{k} {v:.1e}" if isinstance(v, float) else f"{k} {v}" for k, v in r["params"].items())
        for i, r in enumerate(ranked)],
        f"{study.study_name}: best {min(len(ranked), 20)} of {len(ranked)} trials "
        f"(solid: validation, dashed: train), {length}")
    save_figure(fig, folder / "curves.png")
    files = ["curves.png"]
    numeric = [p for p in settings.space if p.choices is None]
    if len(numeric) >= 2:
        a, b = _scatter_pair(numeric)
        fig = scatter_figure([r["params"][a.name] for r in ranked],
                             [r["params"][b.name] for r in ranked],
                             [r["value"] for r in ranked], (a.name, b.name), (a.log, b.log),
                             f"{study.study_name}: {len(ranked)} trials")
        save_figure(fig, folder / "scatter.png")
        files.append("scatter.png")
    ranges = next_ranges(settings, ranked)
    top = ranked[:NARROW_TOP]
    atomic_write_text(folder / "narrowed.json", json.dumps({
        "study": study.study_name, "from_best": len(top),
        "searched": [p.spec() for p in settings.space], "narrowed": [p.spec() for p in ranges],
        "best": [{"index": r["index"], "val_acc": r["value"], **r["params"]} for r in top]},
        indent=1) + "\n")
    best = ranked[0]
    config = settings.trial_config(best["params"], best["seed"]).replace(
        val_fraction=0.0, limit=None, patience=None)
    atomic_write_text(folder / "best.json", config.to_json())
    atomic_write_text(folder / "trials.csv", _csv(ranked, settings))
    files += ["narrowed.json", "best.json", "trials.csv"]
    lines = [f"best {len(top)} of {len(ranked)} trials:"]
    lines += [f"  Best-{i + 1}: val acc {r['value']:.4f}  index {r['index']}  " + "  ".join(
        f"{k} {_show(v)}" for k, v in r["params"].items()) for i, r in enumerate(top)]
    lines.append("narrowed ranges (best {}): {}".format(
        len(top), " ".join(f"--param {p.spec()}" for p in ranges)))
    lines.append(f"searched ranges: {' '.join(f'--param {p.spec()}' for p in settings.space)}")
    return {"lines": lines, "files": files, "best": best, "narrowed": ranges}


def _scatter_pair(numeric):
    names = [p.name for p in numeric]
    if "lr" in names and "weight_decay" in names:
        return numeric[names.index("lr")], numeric[names.index("weight_decay")]
    return numeric[0], numeric[1]


def _csv(ranked: list[dict], settings: SearchSettings) -> str:
    names = [p.name for p in settings.space]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["rank", "index", "val_acc", *names, "seed", "trial_number", "diverged"])
    for rank, r in enumerate(ranked, 1):
        writer.writerow([rank, r["index"], r["value"], *(r["params"].get(n) for n in names),
                         r["seed"], r["number"], bool(r["diverged"])])
    return out.getvalue()


__all__ = ["NARROW_TOP", "finished", "next_ranges", "row", "write_report"]
