"""Worker processes for data parallelism: the parts of a training batch on other cores, free
of the GIL.

    pool = ProcessPool(net, workers=1)      # started once, kept for the run
    results = pool.run(x, t, parts, draw_shapes, own_part)   # [(loss, grads)] in part order
    pool.close()                            # also at exit, or when the pool is collected

The workers (`worker.main`) build the same layers from their specs
and read the parameters, the batch and the random layers' draws from one shared arena
(`SharedArena`) that the parent writes before each step; each writes its parts' gradients to
the arena and sends back only the losses. The parent takes the first share of the parts
itself. So a step costs one small message each way per worker; no array is pickled.

Faults: a worker that dies makes the step fail at once with a RunError naming it (its socket
closes), and the pool shuts down; the next step starts a new one. Workers ignore Ctrl-C (the
parent stops them) and exit when the parent's socket closes, also after a kill -9 of the
parent. Every arena is unlinked as soon as the workers have mapped it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import weakref
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from dlscratch.errors import RunError
from dlscratch.kernels.allocator import freed_memory_kept
from dlscratch.kernels.pool import serial_here
from dlscratch.kernels.replicas import draw_for_batch
from dlscratch.kernels.shared_arena import SharedArena
from dlscratch.kernels.worker import draw_name, grad_name
from dlscratch.layers.registry import layer_spec

SLOTS = 8  # gradient slots in the arena: a training batch has at most 8 parts
WORKER_MAIN = "import sys; from dlscratch.kernels.worker import main; sys.exit(main(sys.argv))"
STOP_WAIT_S = 5.0  # a worker that has not exited this long after "stop" is killed


class ProcessPool:
    """`workers` worker processes with the layers of `net` (see the module docstring)."""

    def __init__(self, net, workers: int):
        self.net = net
        self.keys = [key for key, _, _ in net.stack.param_refs]
        self._workers: list[tuple[subprocess.Popen, Connection]] = []
        self._arena: list = [None, None]  # [SharedArena, its key]
        self._finalizer = weakref.finalize(self, _shut_down, self._workers, self._arena)
        init = ("init", [layer_spec(layer) for layer in net.stack.layers],
                layer_spec(net.last_layer), np.dtype(net.dtype).name, freed_memory_kept())
        try:
            for _ in range(workers):
                self._workers.append(_start_worker())
            for worker in self._workers:
                _send(worker, init)
            for worker in self._workers:
                keys = self._receive(worker, "ready")[1]
                if keys != self.keys:
                    raise RunError(f"worker process {worker[0].pid} built parameters {keys}, "
                                   f"not the network's {self.keys}")
        except BaseException:
            self.close()
            raise

    @property
    def workers(self) -> int:
        return len(self._workers)

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc, _ in self._workers]

    def run(self, x, t, parts: list[slice], draw_shapes, own_part) -> list:
        """[(loss, grads)] of each part of (x, t), in part order. The parent runs the first
        share with own_part(part, draws), the workers the others; draws are made for the whole
        batch from the net's random layers (draw_shapes: `replicas.draw_shapes`)."""
        if len(parts) > SLOTS:
            raise ValueError(f"at most {SLOTS} parts per step, got {len(parts)}")
        try:
            draws = self._load(x, t, draw_shapes)
            shares = _shares(len(parts), self.workers + 1)
            for worker, share in zip(self._workers, shares[1:], strict=True):
                if share:
                    _send(worker, ("step", len(x),
                                   [(i, parts[i].start, parts[i].stop) for i in share]))
            results = [None] * len(parts)
            with serial_here():  # the workers have the other cores
                for i in shares[0]:
                    results[i] = own_part(parts[i], draws)
            arrays = self._arena[0].arrays
            for worker, share in zip(self._workers, shares[1:], strict=True):
                if share:
                    losses = self._receive(worker, "done")[1]
                    for i, loss in zip(share, losses, strict=True):
                        results[i] = (loss, {key: arrays[grad_name(i, key)] for key in self.keys})
            return results
        except BaseException:
            self.close()  # a worker may be mid-step: its reply would answer the next step
            raise

    def _load(self, x, t, draw_shapes) -> list:
        """Write the parameters and the batch to the arena, draw the random layers' numbers
        into it; the draws (views of the arena) by layer."""
        n = len(x)
        key = (x.shape[1:], x.dtype.str, t.shape[1:], t.dtype.str, repr(draw_shapes))
        arena, arena_key = self._arena
        if arena is None or arena_key != key or len(arena.arrays["x"]) < n:
            self._new_arena(x, t, draw_shapes, key)
        arrays = self._arena[0].arrays
        for key_, p in self.net.params.items():
            arrays["p:" + key_][...] = p
        arrays["x"][:n], arrays["t"][:n] = x, t
        out = [[arrays[draw_name(i, j)] for j in range(len(calls))]
               for i, calls in enumerate(draw_shapes)]
        return draw_for_batch(self.net.stack, draw_shapes, n, out)

    def _new_arena(self, x, t, draw_shapes, key) -> None:
        n = len(x)
        layout = {"p:" + k: (p.shape, p.dtype.name) for k, p in self.net.params.items()}
        layout["x"] = ((n, *x.shape[1:]), x.dtype.name)
        layout["t"] = ((n, *t.shape[1:]), t.dtype.name)
        for i, calls in enumerate(draw_shapes):
            for j, (shape, dtype) in enumerate(calls):
                layout[draw_name(i, j)] = ((n, *shape), dtype)
        for slot in range(SLOTS):
            for k, p in self.net.params.items():
                layout[grad_name(slot, k)] = (p.shape, p.dtype.name)
        old = self._arena[0]
        arena = SharedArena.create(layout)
        try:
            for worker in self._workers:
                _send(worker, ("arena", arena.path, layout, [len(c) for c in draw_shapes]))
            for worker in self._workers:
                self._receive(worker, "attached")
        finally:
            arena.unlink()  # mapped by everyone who needs it: the name can go
        self._arena[:] = [arena, key]
        if old is not None:
            old.close()

    def _receive(self, worker, expected: str):
        proc, conn = worker
        try:
            message = conn.recv()
        except (EOFError, OSError):
            raise _stopped(proc) from None
        if message[0] == "error":
            raise RunError(f"worker process {proc.pid}: {message[1]}")
        if message[0] != expected:
            raise RunError(f"worker process {proc.pid} answered {message[0]!r}, "
                           f"expected {expected!r}")
        return message

    def close(self) -> None:
        """Stop the workers and drop the arena (also done at exit)."""
        self._finalizer()


def _send(worker, message) -> None:
    try:
        worker[1].send(message)
    except OSError:
        raise _stopped(worker[0]) from None


def _stopped(proc: subprocess.Popen) -> RunError:
    return RunError(f"worker process {proc.pid} stopped ({_exit_reason(proc)}); "
                    f"the training step was not applied")


def _shares(parts: int, executors: int) -> list[list[int]]:
    """Part indices for each executor, contiguous, the first ones taking more."""
    bounds = [(i * parts + executors - 1) // executors for i in range(executors + 1)]
    bounds[-1] = parts
    return [list(range(lo, hi)) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


def _start_worker() -> tuple[subprocess.Popen, Connection]:
    ours, theirs = socket.socketpair()
    env = dict(os.environ, DLSCRATCH_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", DLSCRATCH_KERNELS=_kernels_in_use())
    package_root = str(Path(__file__).resolve().parents[2])  # the folder holding dlscratch/
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", WORKER_MAIN, str(theirs.fileno())],
            pass_fds=(theirs.fileno(),), env=env, stdin=subprocess.DEVNULL,
            start_new_session=True)  # no terminal signals: the parent stops its workers
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    return proc, Connection(ours.detach())


def _kernels_in_use() -> str:
    from dlscratch.kernels import in_use  # the package imports this module's importers

    return in_use()


def _exit_reason(proc: subprocess.Popen) -> str:
    try:
        code = proc.wait(timeout=STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        return "its connection closed"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def _shut_down(workers: list, arena_box: list) -> None:
    for _, conn in workers:
        with contextlib.suppress(OSError):
            conn.send(("stop",))
        conn.close()
    for proc, _ in workers:
        try:
            proc.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    workers.clear()
    if arena_box[0] is not None:
        arena_box[0].unlink()
        arena_box[0].close()
        arena_box[:] = [None, None]
