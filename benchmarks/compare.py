"""The speed table against older commits, interleaved in one sitting.

    python -m benchmarks.compare --old 1ca43b9:2 --old 9c1d232 -o docs/results/bench-compare.json

Runs the harness (`python -m benchmarks`, breakdown and memory skipped) on this checkout with
no thread setting (what a user gets) and on each old commit (a temporary git worktree, its own
harness and code; `COMMIT:N` runs it with `--threads N`, a bare COMMIT with no setting), in
turn: new, old 1, old 2, ..., `--runs` rounds, the order reversed every other round; each run
waits until the load average is under `--max-load` (up to `--wait` seconds, and the load it
started at is recorded). Every figure is the median over the runs; a table per old commit shows
the ratios to PyTorch side by side and marks a wrapped-network ratio more than 5% below the old
one. With --reference it also records one run on the reference kernels
(DLSCRATCH_KERNELS=reference): what the plain code costs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks import machine

ROOT = Path(__file__).resolve().parents[1]
MODES = ("train", "infer")


def wait_for_quiet(max_load: float, wait_s: float) -> float:
    """Sleep until the 1-minute load average is under max_load (or wait_s passed); its value."""
    deadline = time.monotonic() + wait_s
    while os.getloadavg()[0] >= max_load and time.monotonic() < deadline:
        time.sleep(5)
    return os.getloadavg()[0]


def harness_run(cwd: Path, extra: list[str], env_extra: dict, out: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DLSCRATCH_NUM_THREADS"}
    env.update(env_extra)
    cmd = [sys.executable, "-m", "benchmarks", "--no-breakdown", "--no-memory", "-o", str(out),
           *extra]
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"harness failed in {cwd}: {r.stderr[-2000:]}")
    print(r.stdout.split("\n\n", 1)[-1].rsplit("\nwrote", 1)[0], flush=True)
    return json.loads(out.read_text())


def ratios(report: dict) -> dict:
    """{(network, mode): {"ratio": ..., "ratio_bare": ...}} of a harness report's first table."""
    found = {}
    for name, result in report["runs"][0]["networks"].items():
        for mode in MODES:
            entry = result[mode]
            found[(name, mode)] = {k: entry[k] for k in ("ratio", "ratio_bare") if k in entry}
    return found


def median_table(reports: list[dict]) -> dict:
    per = [ratios(r) for r in reports]
    table = {}
    for key in per[0]:
        table[key] = {k: float(np.median([p[key][k] for p in per])) for k in per[0][key]}
    return table


def images_per_s(report: dict) -> dict:
    """{(network, mode): dlscratch's images/s} of a harness report's first table."""
    return {(name, mode): result[mode]["dlscratch"]["images_per_s"]
            for name, result in report["runs"][0]["networks"].items() for mode in MODES}


def compare_table(new_runs: list[dict], old: dict, reference: dict | None) -> list[dict]:
    """Rows of medians: the ratios to PyTorch of new and old, and dlscratch's images/s."""
    new, before = median_table(new_runs), median_table(old["runs"])
    new_ips = {k: float(np.median([images_per_s(r)[k] for r in new_runs])) for k in new}
    old_ips = {k: float(np.median([images_per_s(r)[k] for r in old["runs"]])) for k in new}
    rows = []
    for key in new:
        row = {"network": key[0], "mode": key[1], "new": new[key]["ratio"],
               "new_bare": new[key].get("ratio_bare"), "old": before[key]["ratio"],
               "new_images_per_s": new_ips[key], "old_images_per_s": old_ips[key]}
        row["new_over_old"] = row["new"] / row["old"]
        row["within_5_percent"] = row["new_over_old"] >= 0.95
        if reference is not None:
            row["reference"] = ratios(reference)[key]["ratio"]
        rows.append(row)
    return rows


def format_table(rows: list[dict]) -> str:
    lines = [f"{'network':<15}{'mode':<7}{'new':>7}{'bare':>7}{'old':>7}{'new/old':>9}"
             f"{'new img/s':>12}{'old img/s':>12}"]
    for r in rows:
        lines.append(f"{r['network']:<15}{r['mode']:<7}{r['new']:>7.2f}{r['new_bare'] or 0:>7.2f}"
                     f"{r['old']:>7.2f}{r['new_over_old']:>9.2f}{r['new_images_per_s']:>12,.0f}"
                     f"{r['old_images_per_s']:>12,.0f}"
                     f"{'' if r['within_5_percent'] else '  more than 5% below'}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.compare",
                                description=__doc__.splitlines()[0])
    p.add_argument("--old", required=True, action="append",
                   help="COMMIT or COMMIT:THREADS (repeat for several commits)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--max-load", type=float, default=0.3)
    p.add_argument("--wait", type=float, default=600, help="seconds to wait for a quiet machine")
    p.add_argument("--reference", action="store_true", help="also one run on reference kernels")
    p.add_argument("-o", "--output", default="benchmarks/results/bench-compare.json")
    args = p.parse_args(argv)
    olds = []
    for spec in args.old:
        commit, _, threads = spec.partition(":")
        full = subprocess.run(["git", "rev-parse", commit], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        olds.append({"commit": full, "threads": int(threads) if threads else None, "runs": []})
    report = {"machine": machine.describe(), "new_threads": "default (no setting)",
              "time": time.strftime("%Y-%m-%d %H:%M:%S"), "new": [], "olds": olds}
    with tempfile.TemporaryDirectory() as tmp:
        trees = []
        for i, old in enumerate(olds):
            trees.append(Path(tmp) / f"old{i}")
            subprocess.run(["git", "worktree", "add", "--detach", str(trees[-1]), old["commit"]],
                           cwd=ROOT, check=True, capture_output=True)
        try:
            sides = ["new", *range(len(olds))]
            for i in range(args.runs):
                for side in sides if i % 2 == 0 else sides[::-1]:
                    load = wait_for_quiet(args.max_load, args.wait)
                    name = "new" if side == "new" else olds[side]["commit"][:7]
                    print(f"--- run {i + 1} {name} (load {load:.2f})", flush=True)
                    out = Path(tmp) / f"{side}{i}.json"
                    if side == "new":
                        run = harness_run(ROOT, [], {}, out)
                    else:
                        threads = olds[side]["threads"]
                        run = harness_run(trees[side],
                                          [] if threads is None else ["--threads", str(threads)],
                                          {"PYTHONPATH": str(trees[side] / "src")}, out)
                    run["load_at_start"] = load
                    (report["new"] if side == "new" else olds[side]["runs"]).append(run)
            if args.reference:
                load = wait_for_quiet(args.max_load, args.wait)
                print(f"--- reference kernels (load {load:.2f})", flush=True)
                run = harness_run(ROOT, ["--no-bare"], {"DLSCRATCH_KERNELS": "reference"},
                                  Path(tmp) / "reference.json")
                run["load_at_start"] = load
                report["reference"] = run
        finally:
            for tree in trees:
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT,
                               capture_output=True)
    for old in olds:
        old["table"] = compare_table(report["new"], old, report.get("reference"))
        setting = "no thread setting" if old["threads"] is None else f"--threads {old['threads']}"
        print(f"\nratio to PyTorch, median of {args.runs} runs each (new: no thread setting, "
              f"wrapped as the Trainer runs it; bare: a network without DataParallel; old: "
              f"{old['commit'][:7]} at {setting})")
        print(format_table(old["table"]))
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
