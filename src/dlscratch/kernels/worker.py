"""A worker process of `process_pool.ProcessPool`: `main([program, FD])` in a new Python.

It talks to the parent over the socket FD (small messages; the arrays live in shared memory):

    ("init", layer specs, loss spec, dtype, weights path, layout)
                                                           -> ("ready", parameter keys)
    ("arena", "train", path, layout, (draws per random layer, sum exchanges)) -> ("attached",)
    ("arena", "infer", path, layout, None)                 -> ("attached",)
    ("step", n, [(part, start, stop), ...])                -> ("done", [loss of each part])
        with batch norm (`lockstep`), at each exchange:      ("sums",) and then <- ("totals",)
    ("predict", n, [(part, start, stop), ...])             -> ("done", [None, ...])
    ("stop",), or the socket closes                        -> the worker exits

The layers' parameters and buffers are views of the weights arena, which the parent writes
before each call. A step runs `part_gradient` for each of its parts on the batch and the
random layers' draws in the "train" arena and writes the part's gradients to the slot of that
part; a predict writes each part's scores to the "infer" arena. An error becomes
("error", "one line") and the worker goes on.
"""

from __future__ import annotations

import copy
import signal
from multiprocessing.connection import Connection

from dlscratch.kernels.allocator import keep_freed_memory
from dlscratch.kernels.lockstep import lockstep_gradient
from dlscratch.kernels.replicas import part_gradient, replica
from dlscratch.kernels.shared_arena import SharedArena
from dlscratch.layers import LayerStack
from dlscratch.layers.registry import build_layer


def grad_name(part: int, key: str) -> str:
    return f"g{part}:{key}"


def draw_name(layer: int, call: int) -> str:
    return f"d{layer}.{call}"


class Worker:
    def __init__(self, conn, specs, loss_spec, dtype, weights_path, weights_layout):
        self.conn = conn
        self.stack = LayerStack([build_layer(spec, dtype) for spec in specs])
        self.loss_layer = build_layer(loss_spec, dtype)
        self.weights = SharedArena.attach(weights_path, weights_layout)
        for prefix, refs in (("p:", self.stack.param_refs), ("b:", self.stack.buffer_refs)):
            for key, layer, attr in refs:
                setattr(layer, attr, self.weights.arrays[prefix + key])
        self.fused = replica(self.stack, fuse=True)  # parts without batch norm run on this
        self.arenas, self.draw_counts, self.exchanges = {}, [], []

    def attach(self, kind, path, layout, extra) -> None:
        """Map the new arena of this kind in place of the old one."""
        if kind in self.arenas:
            self.arenas[kind].close()
        self.arenas[kind] = SharedArena.attach(path, layout)
        if kind == "train":
            self.draw_counts, self.exchanges = extra

    def step(self, n, parts) -> list:
        arrays = self.arenas["train"].arrays
        x, t = arrays["x"][:n], arrays["t"][:n]
        draws = [[arrays[draw_name(i, j)][:n] for j in range(count)]
                 for i, count in enumerate(self.draw_counts)]
        if self.exchanges:
            stacks = [replica(self.stack) for _ in parts]
            losses = [copy.copy(self.loss_layer) for _ in parts]
            results = lockstep_gradient(stacks, losses, x, t, [slice(a, b) for _, a, b in parts],
                                        draws, self.exchange_for(parts))
        else:
            results = [part_gradient(self.fused, self.loss_layer, x, t, slice(start, stop),
                                     draws) for _, start, stop in parts]
        for (part, _, _), (_, grads) in zip(parts, results, strict=True):
            for key, g in grads.items():
                arrays[grad_name(part, key)][...] = g
        return [loss for loss, _ in results]

    def exchange_for(self, parts):
        """exchange(partials) for `lockstep`: this worker's partial sums to the arena, the
        totals of all parts back from it once the parent has added them."""
        arrays, order = self.arenas["train"].arrays, iter(self.exchanges)

        def exchange(partials):
            names = next(order)
            for (part, _, _), sums in zip(parts, partials, strict=True):
                for name, a in zip(names, sums, strict=True):
                    arrays[name][part] = a
            self.conn.send(("sums",))
            if self.conn.recv()[0] != "totals":
                raise RuntimeError("the parent broke off the step")
            return [arrays[name][-1].copy() for name in names]

        return exchange

    def predict(self, n, parts) -> list:
        arrays = self.arenas["infer"].arrays
        for _, start, stop in parts:
            arrays["y"][start:stop] = self.fused.forward(arrays["x"][start:stop], False)
        return [None] * len(parts)


def serve(conn: Connection) -> None:
    _, specs, loss_spec, dtype, weights_path, weights_layout = conn.recv()
    keep_freed_memory()  # this process is dlscratch's own: big blocks are reused, not unmapped
    try:
        worker = Worker(conn, specs, loss_spec, dtype, weights_path, weights_layout)
    except Exception as error:  # noqa: BLE001 - reported to the parent, which raises it
        conn.send(("error", f"{type(error).__name__}: {error}"))
        return
    conn.send(("ready", [key for key, _, _ in worker.stack.param_refs]))
    actions = {"arena": lambda *a: ("attached", worker.attach(*a)),
               "step": lambda *a: ("done", worker.step(*a)),
               "predict": lambda *a: ("done", worker.predict(*a))}
    while True:
        message = conn.recv()
        if message[0] == "stop":
            return
        try:
            reply = actions[message[0]](*message[1:])
        except Exception as error:  # noqa: BLE001 - reported to the parent, which raises it
            reply = ("error", f"{type(error).__name__}: {error}")
        conn.send(reply)


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    conn = Connection(int(argv[1]))
    try:
        serve(conn)
    except (EOFError, ConnectionError):  # the parent has gone: nothing left to do
        pass
    return 0
