"""The speed table against an older commit, interleaved in one sitting.

    python -m benchmarks.compare --old 1ca43b9 --old-threads 2 -o docs/results/bench-compare.json

Runs the harness (`python -m benchmarks`, breakdown and memory skipped) on this checkout with
no thread setting (what a user gets) and on the old commit (a temporary git worktree, its own
harness and code) with `--threads N`, alternating new, old, new, old, ... `--runs` times each;
each run waits until the load average is under `--max-load` (up to `--wait` seconds, and the
load it started at is recorded). Every figure is the median over the runs; the table shows the
ratios to PyTorch side by side and marks a wrapped-network ratio more than 5% below the old
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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.compare",
                                description=__doc__.splitlines()[0])
    p.add_argument("--old", required=True, help="the commit to compare with")
    p.add_argument("--old-threads", type=int, default=2, help="--threads for the old code")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--max-load", type=float, default=0.3)
    p.add_argument("--wait", type=float, default=600, help="seconds to wait for a quiet machine")
    p.add_argument("--reference", action="store_true", help="also one run on reference kernels")
    p.add_argument("-o", "--output", default="benchmarks/results/bench-compare.json")
    args = p.parse_args(argv)
    old_hash = subprocess.run(["git", "rev-parse", args.old], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    report = {"machine": machine.describe(), "old_commit": old_hash,
              "old_threads": args.old_threads, "new_threads": "default (no setting)",
              "time": time.strftime("%Y-%m-%d %H:%M:%S"), "new": [], "old": []}
    with tempfile.TemporaryDirectory() as tmp:
        old_tree = Path(tmp) / "old"
        subprocess.run(["git", "worktree", "add", "--detach", str(old_tree), old_hash], cwd=ROOT,
                       check=True, capture_output=True)
        try:
            old_env = {"PYTHONPATH": str(old_tree / "src")}
            for i in range(args.runs):
                for side in ("new", "old") if i % 2 == 0 else ("old", "new"):
                    load = wait_for_quiet(args.max_load, args.wait)
                    print(f"--- run {i + 1} {side} (load {load:.2f})", flush=True)
                    out = Path(tmp) / f"{side}{i}.json"
                    if side == "new":
                        run = harness_run(ROOT, [], {}, out)
                    else:
                        run = harness_run(old_tree, ["--threads", str(args.old_threads)],
                                          old_env, out)
                    run["load_at_start"] = load
                    report[side].append(run)
            if args.reference:
                load = wait_for_quiet(args.max_load, args.wait)
                print(f"--- reference kernels (load {load:.2f})", flush=True)
                run = harness_run(ROOT, ["--no-bare"], {"DLSCRATCH_KERNELS": "reference"},
                                  Path(tmp) / "reference.json")
                run["load_at_start"] = load
                report["reference"] = run
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old_tree)], cwd=ROOT,
                           capture_output=True)
    new, old = median_table(report["new"]), median_table(report["old"])
    rows, lines = [], [f"{'network':<15}{'mode':<7}{'new':>7}{'bare':>7}{'old':>7}{'new/old':>9}"]
    for key in new:
        row = {"network": key[0], "mode": key[1], "new": new[key]["ratio"],
               "new_bare": new[key].get("ratio_bare"), "old": old[key]["ratio"]}
        row["new_over_old"] = row["new"] / row["old"]
        row["within_5_percent"] = row["new_over_old"] >= 0.95
        rows.append(row)
        lines.append(f"{key[0]:<15}{key[1]:<7}{row['new']:>7.2f}{row['new_bare'] or 0:>7.2f}"
                     f"{row['old']:>7.2f}{row['new_over_old']:>9.2f}"
                     f"{'' if row['within_5_percent'] else '  more than 5% below'}")
    if "reference" in report:
        for key, value in ratios(report["reference"]).items():
            next(r for r in rows if (r["network"], r["mode"]) == key)["reference"] = \
                value["ratio"]
    report["table"] = rows
    print(f"\nratio to PyTorch, median of {args.runs} runs each (new: no thread setting, "
          f"wrapped as the Trainer runs it; bare: a network without DataParallel; old: "
          f"{old_hash[:7]} at --threads {args.old_threads})")
    print("\n".join(lines))
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
