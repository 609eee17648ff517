"""A worker process of `process_pool.ProcessPool`: `main([program, FD])` in a new Python.

It talks to the parent over the socket FD (small messages; the arrays live in shared memory):

    parent: ("init", layer specs, loss spec, dtype, keep freed memory)  -> ("ready", pid, keys)
    parent: ("arena", path, layout, draws per random layer)             -> ("attached",)
    parent: ("step", n, [(slot, start, stop), ...])                     -> ("done", [losses])
    parent: ("stop",), or the socket closes                             -> the worker exits

For a step it reads the batch, the draws of the random layers and the parameters from the
arena, runs `part_gradient` for each of its parts and writes each part's gradients to the
arena slot the parent named. An error becomes ("error", "one line") and the worker goes on.
"""

from __future__ import annotations

import signal
from multiprocessing.connection import Connection

from dlscratch.kernels.allocator import keep_freed_memory
from dlscratch.kernels.replicas import part_gradient
from dlscratch.kernels.shared_arena import SharedArena
from dlscratch.layers import LayerStack
from dlscratch.layers.registry import build_layer


def grad_name(slot: int, key: str) -> str:
    return f"g{slot}:{key}"


def draw_name(layer: int, call: int) -> str:
    return f"d{layer}.{call}"


class Worker:
    def __init__(self, specs, loss_spec, dtype):
        self.stack = LayerStack([build_layer(spec, dtype) for spec in specs])
        self.loss_layer = build_layer(loss_spec, dtype)
        self.arena, self.draw_counts = None, []

    def attach(self, path, layout, draw_counts) -> None:
        """Map the new arena and point the layers' parameters at its arrays."""
        if self.arena is not None:
            self.arena.close()
        self.arena, self.draw_counts = SharedArena.attach(path, layout), draw_counts
        for key, layer, attr in self.stack.param_refs:
            setattr(layer, attr, self.arena.arrays["p:" + key])

    def step(self, n, parts) -> list:
        arrays = self.arena.arrays
        x, t = arrays["x"][:n], arrays["t"][:n]
        draws = [[arrays[draw_name(i, j)][:n] for j in range(count)]
                 for i, count in enumerate(self.draw_counts)]
        losses = []
        for slot, start, stop in parts:
            loss, grads = part_gradient(self.stack, self.loss_layer, x, t, slice(start, stop),
                                        draws)
            for key, g in grads.items():
                arrays[grad_name(slot, key)][...] = g
            losses.append(loss)
        return losses


def serve(conn: Connection) -> None:
    _, specs, loss_spec, dtype, keep_freed = conn.recv()
    try:
        if keep_freed:
            keep_freed_memory()
        worker = Worker(specs, loss_spec, dtype)
    except Exception as error:  # noqa: BLE001 - reported to the parent, which raises it
        conn.send(("error", f"{type(error).__name__}: {error}"))
        return
    conn.send(("ready", [key for key, _, _ in worker.stack.param_refs]))
    actions = {"arena": lambda *a: ("attached", worker.attach(*a)),
               "step": lambda *a: ("done", worker.step(*a))}
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

