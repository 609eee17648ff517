"""When does splitting a batch among the threads pay? The measurements behind
dlscratch.kernels.data_parallel.MIN_SPLIT_WORK.

    python -m benchmarks.split_calibration              # 2 threads, the default cases
    python -m benchmarks.split_calibration --rounds 7 -o /tmp/split.json

For each case (network, training step or predict, batch size) it times the call with the batch
split and not split (MIN_SPLIT_WORK set to 0 or to infinity), alternating in each round, and
prints the estimated work (values read and written, see data_parallel) next to the median
speed-up split/serial. Random data; writes JSON (-o).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import dlscratch
from benchmarks.workloads import WORKLOADS
from dlscratch.kernels import data_parallel

# (network, "train" or "infer", samples, predict's batch_size)
CASES = [
    ("TwoLayerNet", "train", 100, None), ("TwoLayerNet", "train", 300, None),
    ("TwoLayerNet", "train", 1000, None), ("TwoLayerNet", "infer", 1000, None),
    ("TwoLayerNet", "infer", 2000, None), ("TwoLayerNet", "infer", 10000, 1000),
    ("MultiLayerNet", "train", 128, None), ("MultiLayerNet", "train", 256, None),
    ("MultiLayerNet", "train", 1000, None), ("MultiLayerNet", "infer", 300, None),
    ("MultiLayerNet", "infer", 1000, None), ("MultiLayerNet", "infer", 10000, 1000),
    ("SimpleConvNet", "train", 8, None), ("SimpleConvNet", "train", 20, None),
    ("SimpleConvNet", "train", 100, None), ("SimpleConvNet", "infer", 10, None),
]


def calls_per_s(fn, seconds) -> float:
    fn()  # warm-up
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / (time.perf_counter() - start)


def measure(case, rounds, block, rng) -> dict:
    name, mode, n, chunk = case
    w = WORKLOADS[name]
    net, opt = data_parallel.DataParallel(w.build()), w.make_optimizer()
    x = rng.random((n, *((784,) if w.flat else (1, 28, 28))), dtype=np.float32)
    t = rng.integers(0, 10, n)
    if mode == "train":
        def call():
            opt.update(net.params, net.gradient(x, t))
    else:
        def call():
            net.predict(x, batch_size=chunk)
    work = n * (x[0].size + net._values(x.shape[1:])) * (3 if mode == "train" else 1)
    rates = {"serial": [], "split": []}
    for r in range(rounds):
        for how in ("split", "serial") if r % 2 == 0 else ("serial", "split"):
            data_parallel.MIN_SPLIT_WORK = 0 if how == "split" else float("inf")
            rates[how].append(calls_per_s(call, block))
            time.sleep(0.1)
    gains = np.array(rates["split"]) / np.array(rates["serial"])
    return {"network": name, "mode": mode, "samples": n, "batch_size": chunk, "work": work,
            "serial_ms": 1e3 / float(np.median(rates["serial"])),
            "split_ms": 1e3 / float(np.median(rates["split"])), "gain": float(np.median(gains)),
            "gain_range": [float(gains.min()), float(gains.max())]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.split_calibration",
                                description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--block", type=float, default=0.3, help="seconds per timed block")
    p.add_argument("-o", "--output", default="benchmarks/results/split_calibration.json")
    args = p.parse_args(argv)
    dlscratch.set_num_threads(args.threads)
    threshold = data_parallel.MIN_SPLIT_WORK
    rng = np.random.default_rng(0)
    rows = []
    print(f"{args.threads} threads; split if work >= {threshold / 1e6:.2f}M")
    try:
        for case in CASES:
            row = measure(case, args.rounds, args.block, rng)
            rows.append(row)
            chunk = f" in chunks of {row['batch_size']}" if row["batch_size"] else ""
            print(f"{row['network']:<14} {row['mode']:<5} {row['samples']:>6}{chunk:<17} work "
                  f"{row['work'] / 1e6:6.2f}M  serial {row['serial_ms']:7.2f} ms  split "
                  f"{row['split_ms']:7.2f} ms  gain {row['gain']:.2f} "
                  f"[{row['gain_range'][0]:.2f}-{row['gain_range'][1]:.2f}]  "
                  f"{'split' if row['work'] >= threshold else 'not split'} by default",
                  flush=True)
    finally:
        data_parallel.MIN_SPLIT_WORK = threshold
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"settings": vars(args), "threshold": threshold, "cases": rows},
                              indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
