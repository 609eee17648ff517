"""Peak resident memory of a few training steps, measured in a fresh process.

    python -m benchmarks.memory --net DeepConvNet --batch 100 --steps 3

Prints one JSON object. The parent benchmark runs this as a subprocess so that its own data,
torch and earlier networks do not count. Random inputs of the network's shape are used (no
dataset in memory); `baseline_mib` is the peak after imports, before the network exists.

The peak is the kernel's high-water mark of this process's resident set: VmHWM in
/proc/self/status; with worker processes (the training steps split among them) their VmHWM
is read before they stop, and `total_peak_mib` is the sum of all of them.
`resource.getrusage(...).ru_maxrss` is reported too, but on Linux it is inherited across
fork+exec, so in a child of a big parent it shows the parent's size.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys


def maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def peak_mib(pid="self") -> float:
    """VmHWM (peak resident set of the process image), else this process's ru_maxrss."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return maxrss_mib()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--net", default="DeepConvNet")
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args(argv)

    import numpy as np

    import dlscratch
    from benchmarks.workloads import WORKLOADS

    if args.threads:
        dlscratch.set_num_threads(args.threads)
    w = WORKLOADS[args.net]
    batch = args.batch or w.batch_size
    baseline = peak_mib()
    rng = np.random.default_rng(0)
    shape = (batch, 784) if w.flat else (batch, 1, 28, 28)
    x = rng.random(shape, dtype=np.float32)
    t = rng.integers(0, 10, batch)
    net, opt = dlscratch.DataParallel(w.build()), w.make_optimizer()  # as the Trainer runs it
    for _ in range(args.steps):
        opt.update(net.params, net.gradient(x, t))
    workers = [] if net._pool is None else [peak_mib(pid) for pid in net._pool.pids]
    net.close()
    main_peak = peak_mib()
    json.dump({"net": args.net, "batch_size": batch, "steps": args.steps,
               "threads": dlscratch.get_num_threads(), "parts": net.last_parts,
               "baseline_mib": round(baseline, 1), "peak_rss_mib": round(main_peak, 1),
               "workers_peak_mib": [round(w, 1) for w in workers],
               "total_peak_mib": round(main_peak + sum(workers), 1),
               "ru_maxrss_mib": round(maxrss_mib(), 1)},
              sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
