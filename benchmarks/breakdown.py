"""Per-layer timing: wrap each layer's forward/backward with a timer for a few steps."""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np


class LayerTimer:
    """Installs timing wrappers on a network's layers (instance attributes shadowing the
    methods); `remove()` restores the layers exactly."""

    def __init__(self, net):
        self.net = net
        self.layers = [*net.stack.layers, net.last_layer]
        self.times = defaultdict(list)  # (layer name, "forward"/"backward") -> seconds per call
        for layer in self.layers:
            for method in ("forward", "backward"):
                setattr(layer, method, self._wrap(layer.name, method, getattr(layer, method)))

    def _wrap(self, name, method, fn):
        times = self.times[(name, method)]

        def timed(*args, **kwargs):
            start = time.perf_counter()
            out = fn(*args, **kwargs)
            times.append(time.perf_counter() - start)
            return out

        return timed

    def remove(self):
        for layer in self.layers:
            for method in ("forward", "backward"):
                vars(layer).pop(method, None)

    def reset(self):
        for v in self.times.values():
            v.clear()


def layer_breakdown(workload, batches, x_infer, steps: int, infer_passes: int) -> dict:
    """Median ms per call of every layer's training forward/backward, of the optimizer update
    and of the inference forward (one chunk of x_infer), plus whole-step medians."""
    net, opt = workload.build(), workload.make_optimizer()
    timer = LayerTimer(net)
    step_times, update_times = [], []
    for i in range(steps + 2):  # two warm-up steps, then timed ones
        if i == 2:
            timer.reset()
            step_times.clear()
            update_times.clear()
        x, t = batches[i % len(batches)]
        start = time.perf_counter()
        grads = net.gradient(x, t)
        mid = time.perf_counter()
        opt.update(net.params, grads)
        end = time.perf_counter()
        step_times.append(end - start)
        update_times.append(end - mid)
    train = {key: float(np.median(v)) * 1e3 for key, v in timer.times.items()}
    timer.reset()
    infer_times = []
    for i in range(infer_passes + 1):
        start = time.perf_counter()
        net.predict(x_infer)
        if i:
            infer_times.append(time.perf_counter() - start)
    infer = {key: float(np.median(v)) * 1e3 for key, v in timer.times.items() if v}
    timer.remove()
    rows = []
    for layer in timer.layers:
        rows.append({"layer": layer.name,
                     "forward_ms": train.get((layer.name, "forward"), 0.0),
                     "backward_ms": train.get((layer.name, "backward"), 0.0),
                     "infer_forward_ms": infer.get((layer.name, "forward"), 0.0)})
    return {"batch_size": len(batches[0][0]), "infer_batch_size": len(x_infer),
            "steps": steps, "layers": rows,
            "optimizer_update_ms": float(np.median(update_times)) * 1e3,
            "train_step_ms": float(np.median(step_times)) * 1e3,
            "infer_chunk_ms": float(np.median(infer_times)) * 1e3}


def format_breakdown(name: str, b: dict) -> str:
    lines = [f"{name}: per-layer median ms (training batch {b['batch_size']}, "
             f"inference chunk {b['infer_batch_size']})",
             f"  {'layer':<18}{'forward':>10}{'backward':>10}{'fwd+bwd':>10}{'%step':>7}"
             f"{'infer fwd':>11}"]
    step = b["train_step_ms"]
    for r in b["layers"]:
        both = r["forward_ms"] + r["backward_ms"]
        lines.append(f"  {r['layer']:<18}{r['forward_ms']:>10.2f}{r['backward_ms']:>10.2f}"
                     f"{both:>10.2f}{100 * both / step:>6.1f}%{r['infer_forward_ms']:>11.2f}")
    upd = b["optimizer_update_ms"]
    lines.append(f"  {'optimizer update':<18}{'':>10}{'':>10}{upd:>10.2f}{100 * upd / step:>6.1f}%")
    lines.append(f"  {'whole step':<18}{'':>10}{'':>10}{step:>10.2f}{'':>7}"
                 f"{b['infer_chunk_ms']:>11.2f}")
    return "\n".join(lines)
