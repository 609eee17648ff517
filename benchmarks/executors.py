"""Threads or worker processes for the parts of a batch: both timed on each course network.

    python -m benchmarks.executors -o docs/results/executors.json

For each workload of `workloads.py`, a split training step (the workload's batch) and a split
predict (the 10,000 test images in chunks of 1,000) are timed three ways in one process, at
the default thread count: the parts on dlscratch's threads, on worker processes, and at one
thread (the same parts one after the other: the baseline for the speed-ups). The dense nets'
training batches are under DataParallel's split threshold, so they are also timed at 1,000
samples with the split forced, to see what a split would cost them. The ways alternate, each
block after a pause; the table shows medians of images/s. The results are identical in every
way (tests/kernels/test_process_pool.py); only the speed differs.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

import dlscratch
from benchmarks import machine
from benchmarks.bench import SETTLE_S
from benchmarks.workloads import WORKLOADS, load_data
from dlscratch.kernels import data_parallel

WAYS = ("threads", "processes", "one thread")


def configure(way: str, threads: int) -> None:
    dlscratch.set_num_threads(1 if way == "one thread" else threads)
    data_parallel.PROCESSES_IN_TRAINING = way == "processes"
    data_parallel.PROCESS_INFERENCE_RATIO = 0 if way == "processes" else float("inf")


def time_case(workload, data, mode, batch, force_split, blocks, min_time, threads) -> dict:
    saved = (data_parallel.MIN_SPLIT_WORK, data_parallel.PROCESSES_IN_TRAINING,
             data_parallel.PROCESS_INFERENCE_RATIO)
    if force_split:
        data_parallel.MIN_SPLIT_WORK = 0
    models = {way: dlscratch.DataParallel(workload.build()) for way in WAYS}
    optimizers = {way: workload.make_optimizer() for way in WAYS}
    batches = data.train_batches(batch, workload.flat)
    x_infer = data.images(data.x_test, workload.flat)

    def run(way, count):
        model = models[way]
        if mode == "train":
            for i in range(count):
                x, t = batches[i % len(batches)]
                optimizers[way].update(model.params, model.gradient(x, t))
            return count * batch
        for _ in range(count):
            model.predict(x_infer, batch_size=1000)
        return count * len(x_infer)

    found = {way: [] for way in WAYS}
    try:
        counts = {}
        for way in WAYS:  # warm up (starts the workers); steps per block of about min_time
            configure(way, threads)
            run(way, 1)
            start = time.perf_counter()
            run(way, 1)
            counts[way] = max(1, int(min_time / max(time.perf_counter() - start, 1e-6)))
        for block in range(blocks):
            order = WAYS if block % 2 == 0 else WAYS[::-1]
            for way in order:
                configure(way, threads)
                time.sleep(SETTLE_S)
                start = time.perf_counter()
                images = run(way, counts[way])
                found[way].append(images / (time.perf_counter() - start))
        parts = models["threads"].last_parts if mode == "train" else None
    finally:
        for model in models.values():
            model.close()
        (data_parallel.MIN_SPLIT_WORK, data_parallel.PROCESSES_IN_TRAINING,
         data_parallel.PROCESS_INFERENCE_RATIO) = saved
        dlscratch.set_num_threads(threads)
    medians = {way: float(np.median(v)) for way, v in found.items()}
    return {"network": workload.name, "mode": mode, "batch": batch, "forced_split": force_split,
            "parts": parts, "images_per_s": medians, "blocks": found,
            "processes_over_threads": medians["processes"] / medians["threads"]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.executors",
                                description=__doc__.splitlines()[0])
    p.add_argument("--nets", default=",".join(WORKLOADS))
    p.add_argument("--blocks", type=int, default=5)
    p.add_argument("--min-time", type=float, default=1.0)
    p.add_argument("-o", "--output", default="benchmarks/results/executors.json")
    args = p.parse_args(argv)
    threads = dlscratch.get_num_threads()
    data = load_data()
    report = {"machine": machine.describe(), "threads": threads, "load_before": os.getloadavg(),
              "time": time.strftime("%Y-%m-%d %H:%M:%S"), "cases": []}
    print(f"{'network':<15}{'call':<28}{'parts':>6}{'1 thread':>11}{'threads':>11}"
          f"{'processes':>11}{'proc/thr':>10}")
    for name in args.nets.split(","):
        w = WORKLOADS[name]
        cases = [("train", w.batch_size, False), ("infer", 1000, False)]
        if w.flat:
            cases.insert(1, ("train", 1000, True))
        for mode, batch, forced in cases:
            r = time_case(w, data, mode, batch, forced, args.blocks, args.min_time, threads)
            report["cases"].append(r)
            call = (f"train, batch {batch}{' (forced)' if forced else ''}" if mode == "train"
                    else "predict 10k / 1000")
            ips = r["images_per_s"]
            print(f"{name:<15}{call:<28}{r['parts'] or '':>6}{ips['one thread']:>11,.0f}"
                  f"{ips['threads']:>11,.0f}{ips['processes']:>11,.0f}"
                  f"{r['processes_over_threads']:>10.2f}", flush=True)
    report["load_after"] = os.getloadavg()
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    print(f"load {report['load_before'][0]:.2f} -> {report['load_after'][0]:.2f}; wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
