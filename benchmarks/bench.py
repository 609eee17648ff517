"""The benchmark run: throughput table, per-layer breakdown, peak memory, JSON.

Method: for each network the contenders are built from the same initial weights, warmed up,
and timed in blocks of at least `--min-time` seconds (each after a short pause, see SETTLE_S).
Each repeat times them back to back (the order alternating between repeats), so drift in the
machine's load hits all; the table shows the median images/s of each and the median of the
per-repeat ratios to PyTorch. dlscratch runs as the Trainer runs it (the network wrapped in
`DataParallel`); the bare network (a learner's own loop) is timed beside it.
Without --threads every contender keeps its defaults (dlscratch: the usable cores; PyTorch:
its own). See NOTES.md for how to read it on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import machine
from benchmarks.breakdown import format_breakdown, layer_breakdown
from benchmarks.workloads import WORKLOADS, load_data
from dlscratch.kernels.allocator import keep_freed_memory
from dlscratch.kernels.data_parallel import DataParallel

HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE / "results" / "bench.json"
# Goals for dlscratch / PyTorch on a 2-core machine (see NOTES.md).
# Ratio to PyTorch each figure should reach; the CNNs' training depends on the CPU: PyTorch's
# convolutions gain far more from AVX-512 than NumPy's products do (issue "Deep CNN speed")
TARGETS = {
    ("TwoLayerNet", "train"): 1.0, ("TwoLayerNet", "infer"): 1.0,
    ("MultiLayerNet", "train"): 1.0, ("MultiLayerNet", "infer"): 1.0,
    ("SimpleConvNet", "train"): 1.5, ("SimpleConvNet", "infer"): 1.0,
    ("DeepConvNet", "train"): 0.9, ("DeepConvNet", "infer"): 1.2,
}
TARGETS_AVX512 = {**TARGETS, ("SimpleConvNet", "train"): 1.0, ("DeepConvNet", "train"): 0.75}


def targets() -> dict:
    return TARGETS_AVX512 if "avx512f" in machine.vector_extensions() else TARGETS
BREAKDOWN_NETS = ("SimpleConvNet", "DeepConvNet")
MEMORY_LIMIT_MIB = 300  # a DeepConvNet training step at batch 100, main process and workers


class DlContender:
    """dlscratch as the Trainer runs it (wrapped: DataParallel) or a bare network."""

    def __init__(self, workload, batches, x_infer, infer_batch, wrapped=True):
        self.name = "dlscratch" if wrapped else "bare"
        net, self.opt = workload.build(), workload.make_optimizer()
        self.net = DataParallel(net) if wrapped else net
        self.batches, self.x_infer, self.infer_batch = batches, x_infer, infer_batch
        self.i = 0

    def train(self, steps):
        for _ in range(steps):
            x, t = self.batches[self.i % len(self.batches)]
            self.i += 1
            self.opt.update(self.net.params, self.net.gradient(x, t))

    def infer(self, passes=1, x=None):
        for _ in range(passes):
            self.net.predict(self.x_infer if x is None else x, batch_size=self.infer_batch)


class TorchContender:
    name = "PyTorch"

    def __init__(self, workload, batches, x_infer, infer_batch):
        import torch

        from benchmarks.torch_reference import TorchRunner

        self.runner = TorchRunner(workload.build(), workload.optimizer, workload.lr)
        self.batches = TorchRunner.batches(batches)
        self.x_infer, self.infer_batch = torch.from_numpy(x_infer), infer_batch
        self.i = 0

    def train(self, steps):
        for _ in range(steps):
            x, t = self.batches[self.i % len(self.batches)]
            self.i += 1
            self.runner.train_step(x, t)

    def infer(self, passes=1, x=None):
        for _ in range(passes):
            self.runner.predict(self.x_infer if x is None else x, self.infer_batch)


# Pause before each timed block: the previous contender's worker threads (OpenBLAS, OpenMP)
# spin for up to ~0.1 s after their last call and would take a core from the next block.
SETTLE_S = 0.25


def timed(fn, *args, settle=0.0) -> float:
    if settle:
        time.sleep(settle)
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def bench_network(workload, data, args, use_torch) -> dict:
    batches = data.train_batches(workload.batch_size, workload.flat)
    x_infer = data.images(data.x_test[:args.infer_images], workload.flat)
    contenders = [DlContender(workload, batches, x_infer, args.infer_batch)]
    if not args.no_bare:
        contenders.append(DlContender(workload, batches, x_infer, args.infer_batch, False))
    if use_torch:
        contenders.append(TorchContender(workload, batches, x_infer, args.infer_batch))
    # Warm up, then size each timed block to last at least min_time seconds.
    plan = {}
    for c in contenders:
        c.train(3)
        step = min(timed(c.train, 1) for _ in range(2))
        chunk = x_infer[:args.infer_batch]
        chunk = c.x_infer[:args.infer_batch] if c.name == "PyTorch" else chunk
        c.infer(1, chunk)
        per_pass = timed(c.infer, 1, chunk) * math.ceil(len(x_infer) / args.infer_batch)
        plan[c.name] = {"train": max(args.min_steps, math.ceil(args.min_time / step)),
                        "infer": max(1, math.ceil(args.min_time / per_pass))}
    rates = {c.name: {"train": [], "infer": []} for c in contenders}
    for r in range(args.repeats):
        order = contenders if r % 2 == 0 else contenders[::-1]
        for mode in ("train", "infer"):
            for c in order:
                n = plan[c.name][mode]
                if mode == "train":
                    seconds = timed(c.train, n, settle=SETTLE_S)
                    rates[c.name][mode].append(n * workload.batch_size / seconds)
                else:
                    seconds = timed(c.infer, n, settle=SETTLE_S)
                    rates[c.name][mode].append(n * len(x_infer) / seconds)
    result = {"batch_size": workload.batch_size, "optimizer": workload.optimizer,
              "lr": workload.lr, "infer_images": len(x_infer), "infer_batch": args.infer_batch,
              "blocks": plan}
    for mode in ("train", "infer"):
        entry = {}
        for c in contenders:
            entry[c.name] = {"images_per_s": float(np.median(rates[c.name][mode])),
                             "repeats": [round(v, 1) for v in rates[c.name][mode]]}
        if use_torch:
            for name, key in (("dlscratch", "ratio"), ("bare", "ratio_bare")):
                if name in rates:
                    pairs = np.divide(rates[name][mode], rates["PyTorch"][mode])
                    entry[key] = float(np.median(pairs))
                    entry[key + "_repeats"] = [round(float(v), 3) for v in pairs]
            entry["target"] = targets().get((workload.name, mode))
        result[mode] = entry
    return result


def format_table(results: dict, args, use_torch: bool) -> str:
    bare = not args.no_bare
    head = f"{'network':<15}{'mode':<13}{'batch':>6}{'dlscratch img/s':>17}"
    head += f"{'bare img/s':>12}" if bare else ""
    if use_torch:
        head += f"{'PyTorch img/s':>15}{'ratio':>8}{'target':>8}"
        head += f"{'bare ratio':>12}" if bare else ""
    lines = [head, "-" * len(head)]
    for name, r in results.items():
        for mode in ("train", "infer"):
            e = r[mode]
            label = "train" if mode == "train" else f"infer/{r['infer_images']}"
            batch = r["batch_size"] if mode == "train" else r["infer_batch"]
            line = f"{name:<15}{label:<13}{batch:>6}{e['dlscratch']['images_per_s']:>17,.0f}"
            line += f"{e['bare']['images_per_s']:>12,.0f}" if bare else ""
            if use_torch:
                target = e["target"]
                mark = "   " if target is None else (" ok" if e["ratio"] >= target else " --")
                line += (f"{e['PyTorch']['images_per_s']:>15,.0f}{e['ratio']:>8.2f}"
                         f"{'' if target is None else f'{target:>5.1f}'}{mark}")
                line += f"{e['ratio_bare']:>12.2f}" if bare else ""
            lines.append(line)
    return "\n".join(lines)


def measure_memory(args, threads) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.memory", "--net", "DeepConvNet", "--batch", "100",
           "--steps", str(args.memory_steps)]
    if threads:
        cmd += ["--threads", str(threads)]
    out = subprocess.run(cmd, cwd=HERE.parent, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    result["limit_mib"] = MEMORY_LIMIT_MIB
    return result


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 2 repeats, short blocks, 2000 test images")
    p.add_argument("--nets", default=",".join(WORKLOADS),
                   help=f"comma-separated subset of {','.join(WORKLOADS)}")
    p.add_argument("--repeats", type=int, default=None, help="timed repeats (default 5)")
    p.add_argument("--min-time", type=float, default=None,
                   help="seconds per timed block (default 1.0)")
    p.add_argument("--min-steps", type=int, default=3, help="training steps per block, at least")
    p.add_argument("--infer-images", type=int, default=None,
                   help="test images per inference pass (default 10000)")
    p.add_argument("--infer-batch", type=int, default=1000, help="inference chunk size")
    p.add_argument("--threads", default=None,
                   help="threads of each contender (dlscratch.set_num_threads, "
                        "torch.set_num_threads); a list (1,2) runs the table for each; "
                        "default: no setting (each contender's own default)")
    p.add_argument("--no-bare", action="store_true",
                   help="skip the bare-network contender (a learner's own loop)")
    p.add_argument("--no-torch", action="store_true", help="dlscratch only")
    p.add_argument("--no-breakdown", action="store_true", help="skip the per-layer breakdown")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocess")
    p.add_argument("--memory-steps", type=int, default=3)
    p.add_argument("--keep-freed-memory", action="store_true",
                   help="call dlscratch.allocator.keep_freed_memory() first (glibc reuses big "
                        "freed blocks; it speeds up PyTorch as much or more, see NOTES.md)")
    p.add_argument("--recipes", default="",
                   help="also train these time-to-accuracy recipes (fast,accurate; see "
                        "benchmarks/recipes.py) on seeds 0 1 2 and print accuracy and wall time "
                        "(each on its own thread count)")
    p.add_argument("--output", "-o", default=str(DEFAULT_OUTPUT), help="JSON output path")
    args = p.parse_args(argv)
    quick = args.quick
    args.repeats = args.repeats or (2 if quick else 5)
    args.min_time = args.min_time or (0.15 if quick else 1.0)
    args.infer_images = args.infer_images or (2000 if quick else 10_000)
    args.nets = [n.strip() for n in args.nets.split(",") if n.strip()]
    args.recipes = [n.strip() for n in args.recipes.split(",") if n.strip()]
    from benchmarks.recipes import GOALS

    if any(n not in GOALS for n in args.recipes):
        p.error(f"--recipes: choose from {sorted(GOALS)}, got {args.recipes}")
    try:
        args.threads = [int(v) for v in args.threads.split(",")] if args.threads else None
    except ValueError:
        p.error(f"--threads: expected numbers like 2 or 1,2, got {args.threads!r}")
    unknown = [n for n in args.nets if n not in WORKLOADS]
    if unknown:
        p.error(f"unknown network(s) {unknown}: choose from {list(WORKLOADS)}")
    return args


def run_table(args, data, use_torch, threads) -> dict:
    """The throughput table at one BLAS/torch thread count."""
    torch = None
    if use_torch:
        import torch
    with machine.thread_count(threads, torch):
        networks = {}
        for name in args.nets:
            start = time.perf_counter()
            networks[name] = bench_network(WORKLOADS[name], data, args, use_torch)
            print(f"  {name} (threads: {threads or 'default'}): "
                  f"{time.perf_counter() - start:.0f} s", file=sys.stderr)
    return {"threads": threads, "loadavg_after": os.getloadavg(), "networks": networks}


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.keep_freed_memory:  # process-wide: PyTorch's CPU tensors come from the same malloc
        print(f"keep_freed_memory(): {'on' if keep_freed_memory() else 'not available'}")
    thread_counts = args.threads or [None]
    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("torch is not importable: dlscratch-only table")
    use_torch = torch is not None
    data = load_data(max(args.infer_images, 1))
    desc = machine.describe(torch)
    print(f"{desc['cpu_model']} ({', '.join(desc['vector_extensions'])}), "
          f"{desc['usable_cores']} cores; numpy {desc['numpy']}, BLAS "
          + ", ".join(f"{b['internal_api']} {b['version']} {b['architecture']} kernel "
                      f"(x{b['num_threads']})" for b in desc["blas"])
          + f"; dlscratch {desc['dlscratch_commit']}, {desc['dlscratch_threads']} threads, "
          f"{desc['dlscratch_kernels']} kernels"
          + (f"; torch {desc['torch']}" if use_torch else "")
          + f"; data: {data.source}")
    load = desc["loadavg_start"][0]
    print(f"repeats {args.repeats}, blocks >= {args.min_time:g} s; ratio = median of "
          f"per-repeat dlscratch/PyTorch ratios; load average {load:.2f}")
    if load > 0.5:
        print(f"note: load average {load:.2f} on {desc['usable_cores']} cores - other processes "
              "are running; multi-threaded timings suffer most (see benchmarks/NOTES.md)")

    report = {"machine": desc, "settings": dict(vars(args)), "data": data.source,
              "time": time.strftime("%Y-%m-%d %H:%M:%S"), "runs": []}
    for threads in thread_counts:
        run = run_table(args, data, use_torch, threads)
        report["runs"].append(run)
        setting = ("each contender's default" if threads is None
                   else f"{threads} (dlscratch{' and torch' if use_torch else ''})")
        print(f"\nthreads: {setting}; dlscratch's BLAS calls run on 1 thread each "
              f"(load average after: {run['loadavg_after'][0]:.2f})")
        print(format_table(run["networks"], args, use_torch))

    if not args.no_breakdown:
        report["breakdown"] = {"threads": thread_counts[0]}
        with machine.thread_count(thread_counts[0]):
            for name in (n for n in BREAKDOWN_NETS if n in args.nets):
                w = WORKLOADS[name]
                batches = data.train_batches(w.batch_size, w.flat)
                x_chunk = data.images(data.x_test[:args.infer_batch], w.flat)
                steps = 3 if args.quick else 10
                b = layer_breakdown(w, batches, x_chunk, steps, 2 if args.quick else 5)
                report["breakdown"][name] = b
                print(f"\n{format_breakdown(name, b)}  [threads: {thread_counts[0] or 'default'}]")

    if not args.no_memory:
        mem = measure_memory(args, thread_counts[0])
        report["memory"] = mem
        ok = "ok" if mem["total_peak_mib"] < MEMORY_LIMIT_MIB else "OVER"
        workers = " + ".join(f"{w:.0f}" for w in mem["workers_peak_mib"]) or "none"
        print(f"\nPeak RSS, DeepConvNet training at batch {mem['batch_size']} "
              f"({mem['steps']} steps, fresh process, {mem['parts']} parts): "
              f"{mem['total_peak_mib']:.0f} MiB = main {mem['peak_rss_mib']:.0f} + workers "
              f"{workers} (main after imports {mem['baseline_mib']:.0f} MiB; limit "
              f"{MEMORY_LIMIT_MIB} MiB: {ok})")

    if args.recipes:
        from benchmarks.recipes import run_recipes

        print()
        report["recipes"] = run_recipes(args.recipes, [0, 1, 2])

    report["machine"]["loadavg_end"] = os.getloadavg()
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str))
    print(f"\nwrote {out}")
    return 0
