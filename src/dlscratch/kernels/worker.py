"""A worker process of `process_pool.ProcessPool`: `main([program, FD])` in a new Python.

It talks to the parent over the socket FD (small messages; the arrays live in shared memory):

    ("init", layer specs, loss spec, dtype, weights path, layout)
                                                           -> ("ready", parameter keys)
    ("arena", "train" or "infer", path, layout, draws per random layer)  -> ("attached",)
    ("step", n, [(part, start, stop), ...])                -> ("done", [loss of each part])
    ("predict", n, [(part, start, stop), ...])             -> ("done", [None, ...])
    ("stop",), or the socket closes                        -> the worker exits

The layers' parameters and buffers are views of the weights arena, which the parent writes
before each call. A step runs `part_gradient` for each of its parts on the batch and the
random layers' draws in the "train" arena and writes the part's gradients to the slot of that
part; a predict writes each part's scores to the "infer" arena. An error becomes
("error", "one line") and the worker goes on.
"""

from __future__ import annotations

import signal
from multiprocessing.connection import Connection

from dlscratch.kernels.allocator import keep_freed_memory
from dlscratch.kernels.replicas import part_gradient
from dlscratch.kernels.shared_arena import SharedArena
from dlscratch.layers import LayerStack
from dlscratch.layers.registry import build_layer


def grad_name(part: int, key: str) -> str:
    return f"g{part}:{key}"


def draw_name(layer: int, call: int) -> str:
    return f"d{layer}.{call}"


class Worker:
    def __init__(self, specs, loss_spec, dtype, weights_path, weights_layout):
        self.stack = LayerStack([build_layer(spec, dtype) for spec in specs])
        self.loss_layer = build_layer(loss_spec, dtype)
        self.weights = SharedArena.attach(weights_path, weights_layout)
        for prefix, refs in (("p:", self.stack.param_refs), ("b:", self.stack.buffer_refs)):
            for key, layer, attr in refs:
                setattr(layer, attr, self.weights.arrays[prefix + key])
        self.arenas, self.draw_counts = {}, []

    def attach(self, kind, path, layout, draw_counts) -> None:
        """Map the new arena of this kind in place of the old one."""
        if kind in self.arenas:
            self.arenas[kind].close()
        self.arenas[kind] = SharedArena.attach(path, layout)
        if kind == "train":
            self.draw_counts = draw_counts

    def step(self, n, parts) -> list:
        arrays = self.arenas["train"].arrays
        x, t = arrays["x"][:n], arrays["t"][:n]
        draws = [[arrays[draw_name(i, j)][:n] for j in range(count)]
                 for i, count in enumerate(self.draw_counts)]
        losses = []
        for part, start, stop in parts:
            loss, grads = part_gradient(self.stack, self.loss_layer, x, t, slice(start, stop),
                                        draws)
            for key, g in grads.items():
                arrays[grad_name(part, key)][...] = g
            losses.append(loss)
        return losses

    def predict(self, n, parts) -> list:
        arrays = self.arenas["infer"].arrays
        for _, start, stop in parts:
            arrays["y"][start:stop] = self.stack.forward(arrays["x"][start:stop], False)
        return [None] * len(parts)


def serve(conn: Connection) -> None:
    _, specs, loss_spec, dtype, weights_path, weights_layout = conn.recv()
    keep_freed_memory()  # this process is dlscratch's own: big blocks are reused, not unmapped
    try:
        worker = Worker(specs, loss_spec, dtype, weights_path, weights_layout)
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
