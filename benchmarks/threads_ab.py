"""A/B of dlscratch's thread settings (no PyTorch): the numbers behind NOTES.md, round 2.

    python -m benchmarks.threads_ab --nets SimpleConvNet,DeepConvNet --modes blas1,blas2,ours2
    python -m benchmarks.threads_ab --keep-freed-memory --min-parallel-macs 1e12

Modes: blas1 = one thread everywhere; blas2 = dlscratch single-threaded, BLAS 2 threads;
ours2 = dlscratch.parallel with 2 threads (BLAS held at one thread, see dlscratch.parallel),
batches split among the threads where the network allows (dlscratch.nets.data_parallel);
layers2 = the same without splitting batches (each convolution / pooling splits its chunks).
Each round times every mode (alternating the order between rounds) for --block seconds of
training steps (random data) and of 1000-image inference chunks, in one process; the table
shows the median images/s and the range over rounds. It also times the hand-over of two empty
tasks to the worker threads. Writes JSON (-o).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks.workloads import WORKLOADS
from dlscratch import parallel
from dlscratch.allocator import keep_freed_memory
from dlscratch.nets import data_parallel

# (BLAS threads, dlscratch threads, batches split among the threads)
MODES = {"blas1": (1, 1, False), "blas2": (2, 1, False), "ours2": (1, 2, True),
         "layers2": (1, 2, False)}


def images_per_s(fn, images, seconds) -> float:
    fn()  # warm-up
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return images * count / (time.perf_counter() - start)


def handover_us(repeats=200) -> float:
    parallel.set_num_threads(2)
    chunks = [slice(0, 1), slice(1, 2)]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        parallel.run_chunks(lambda s: None, chunks)
        times.append(time.perf_counter() - start)
    parallel.set_num_threads(1)
    return float(np.median(times)) * 1e6


def measure(name, modes, rounds, block) -> dict:
    w = WORKLOADS[name]
    rng = np.random.default_rng(0)
    shape = (784,) if w.flat else (1, 28, 28)
    x = rng.random((w.batch_size, *shape), dtype=np.float32)
    t = rng.integers(0, 10, w.batch_size)
    x_infer = rng.random((1000, *shape), dtype=np.float32)
    net, opt = w.build(), w.make_optimizer()
    rates = {m: {"train": [], "infer": []} for m in modes}
    batch_split = data_parallel.batch_split
    for r in range(rounds):
        for mode in modes if r % 2 == 0 else modes[::-1]:
            blas, ours, split = MODES[mode]
            data_parallel.batch_split = batch_split if split else lambda *args: None
            with threadpool_limits(blas, user_api="blas"):
                parallel.set_num_threads(ours)
                rates[mode]["train"].append(images_per_s(
                    lambda: opt.update(net.params, net.gradient(x, t)), w.batch_size, block))
                rates[mode]["infer"].append(images_per_s(
                    lambda: net.predict(x_infer), len(x_infer), block))
                parallel.set_num_threads(1)
            time.sleep(0.25)  # let BLAS's idle threads stop spinning before the next block
    data_parallel.batch_split = batch_split
    return rates


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.threads_ab",
                                description=__doc__.splitlines()[0])
    p.add_argument("--nets", default="TwoLayerNet,MultiLayerNet,SimpleConvNet,DeepConvNet")
    p.add_argument("--modes", default="blas1,blas2,ours2,layers2")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--block", type=float, default=0.8, help="seconds per timed block")
    p.add_argument("--keep-freed-memory", action="store_true")
    p.add_argument("--min-parallel-macs", type=float, default=None,
                   help="override dlscratch.parallel.MIN_PARALLEL_MACS (1e12: never lend BLAS "
                        "threads)")
    p.add_argument("-o", "--output", default="benchmarks/results/threads_ab.json")
    args = p.parse_args(argv)
    nets, modes = args.nets.split(","), args.modes.split(",")
    bad = [n for n in nets if n not in WORKLOADS] + [m for m in modes if m not in MODES]
    if bad:
        p.error(f"unknown network or mode {bad}: networks {list(WORKLOADS)}, modes {list(MODES)}")
    if args.keep_freed_memory:
        keep_freed_memory()
    if args.min_parallel_macs is not None:
        parallel.MIN_PARALLEL_MACS = int(args.min_parallel_macs)
    report = {"settings": vars(args), "handover_us": handover_us(), "networks": {}}
    print(f"hand-over of 2 empty tasks to the worker threads: {report['handover_us']:.0f} us")
    for name in nets:
        rates = measure(name, modes, args.rounds, args.block)
        report["networks"][name] = rates
        for mode in modes:
            tr, inf = rates[mode]["train"], rates[mode]["infer"]
            print(f"{name:<14} {mode:<6} train {np.median(tr):>9,.0f} [{min(tr):,.0f}-"
                  f"{max(tr):,.0f}]  infer {np.median(inf):>10,.0f} [{min(inf):,.0f}-"
                  f"{max(inf):,.0f}]", flush=True)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
