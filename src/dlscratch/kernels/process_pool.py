"""Worker processes for data parallelism: the parts of a batch on other cores, free of the GIL.

    pool = ProcessPool(net, workers=1)      # started once, kept for the run
    results = pool.train(x, t, parts, draw_shapes, own_part)   # [(loss, grads)] in part order
    scores = pool.predict(x, parts, out_shape, own_part)       # the parts' scores, in order
    pool.close()                            # also at exit, or when the pool is collected

The workers (`worker.main`) build the same layers from their specs. Everything they read lives
in shared memory (`SharedArena`): the parameters and buffers in one arena, mapped at start and
written by the parent before each call; the batch, the random layers' draws and the gradient
slots (training) or the scores (inference) in one arena per kind of call, made again only when
a bigger batch or another shape comes. Each worker writes its parts' results to the arena and
sends back only the losses; the parent runs the first share of the parts itself. So a call
costs one small message each way per worker; no array is pickled.

Faults: a worker that dies makes the call fail at once with a RunError naming it (its socket
closes), and the pool shuts down; the next call starts a new one. Workers ignore Ctrl-C (the
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
from dlscratch.kernels.lockstep import local_exchange
from dlscratch.kernels.pool import serial_here
from dlscratch.kernels.replicas import draw_for_batch
from dlscratch.kernels.shared_arena import SharedArena
from dlscratch.kernels.worker import draw_name, grad_name
from dlscratch.layers.registry import layer_spec

SLOTS = 8  # gradient slots in the arena: a training batch has at most 8 parts
STOP_WAIT_S = 5.0  # a worker that has not exited this long after "stop" is killed
WORKER_MAIN = "import sys; from dlscratch.kernels.worker import main; sys.exit(main(sys.argv))"


class ProcessPool:
    """`workers` worker processes with the layers of `net` (see the module docstring)."""

    def __init__(self, net, workers: int):
        self.net = net
        self.keys = [key for key, _, _ in net.stack.param_refs]
        self._workers: list[tuple[subprocess.Popen, Connection]] = []
        self._arenas: dict = {}  # kind ("weights", "train", "infer") -> (SharedArena, key)
        self._last_layout = (None, None)  # (shapes, (layout, exchanges)): `_train_layout`
        self._finalizer = weakref.finalize(self, _shut_down, self._workers, self._arenas)
        weights = {"p:" + k: (p.shape, p.dtype.name) for k, p in net.params.items()}
        weights.update({"b:" + k: (b.shape, b.dtype.name) for k, b in net.buffers.items()})
        try:
            arena = self._arena("weights", weights, None)
            init = ("init", [layer_spec(layer) for layer in net.stack.layers],
                    layer_spec(net.last_layer), np.dtype(net.dtype).name, arena.path, weights)
            for _ in range(workers):
                self._workers.append(_start_worker())
            for worker in self._workers:
                _send(worker, init)
            for worker in self._workers:
                keys = _receive(worker, "ready")[1]
                if keys != self.keys:
                    raise RunError(f"worker process {worker[0].pid} built parameters {keys}, "
                                   f"not the network's {self.keys}")
            arena.unlink()
        except BaseException:
            self.close()
            raise

    @property
    def workers(self) -> int:
        return len(self._workers)

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc, _ in self._workers]

    def train(self, x, t, parts: list[slice], draw_shapes, own, lockstep=()) -> list:
        """[(loss, grads)] of each part of (x, t), in part order. The parent runs the first
        share of the parts, the workers the others; draws are made for the whole batch from
        the net's random layers (draw_shapes: `replicas.draw_shapes`). Without `lockstep` the
        parent calls own(part, draws) for each of its parts; with it (the indices of the
        net's batch-norm layers) own(indices, draws, exchange) once, and the parts exchange
        their sums through the arena (`lockstep`)."""
        if len(parts) > SLOTS:
            raise ValueError(f"at most {SLOTS} parts per step, got {len(parts)}")
        n = len(x)
        layout, exchanges = self._train_layout(x, t, draw_shapes, lockstep)
        with self._guard():
            arrays = self._load("train", layout, ([len(c) for c in draw_shapes], exchanges), x)
            arrays["t"][:n] = t
            out = [[arrays[draw_name(i, j)] for j in range(len(calls))]
                   for i, calls in enumerate(draw_shapes)]
            draws = draw_for_batch(self.net.stack, draw_shapes, n, out)
            if lockstep:
                def run_own(indices, busy):
                    return own(indices, draws, self._exchange(arrays, exchanges, indices, busy,
                                                              len(parts)))
            else:
                def run_own(indices, busy):
                    return [own(parts[i], draws) for i in indices]
            results = self._share(parts, "step", n, run_own)
            for i, result in enumerate(results):
                if not isinstance(result, tuple):  # a worker's: its loss
                    results[i] = (result, {k: arrays[grad_name(i, k)] for k in self.keys})
            return results

    def _train_layout(self, x, t, draw_shapes, lockstep) -> tuple[dict, list[list[str]]]:
        """The "train" arena's layout and the lockstep exchanges for this batch's shapes; the
        last one is kept (a run's steps ask for the same, and it takes a few hundred
        microseconds of Python to build)."""
        key = (x.shape, x.dtype.str, t.shape, t.dtype.str, repr(draw_shapes), tuple(lockstep))
        if self._last_layout[0] != key:
            n = len(x)
            layout = {"x": (x.shape, x.dtype.name), "t": (t.shape, t.dtype.name)}
            for i, calls in enumerate(draw_shapes):
                for j, (shape, dtype) in enumerate(calls):
                    layout[draw_name(i, j)] = ((n, *shape), dtype)
            for slot in range(SLOTS):
                for k, p in self.net.params.items():
                    layout[grad_name(slot, k)] = (p.shape, p.dtype.name)
            self._last_layout = (key, (layout, self._exchanges(lockstep, layout)))
        return self._last_layout[1]

    def _exchanges(self, lockstep, layout) -> list[list[str]]:
        """The arena's arrays of each sum exchange of a lockstep step, in the order the parts
        make them (each batch-norm layer's mean and variance going forward, then its dbeta and
        dgamma coming back); their rows are the parts' partial sums, the last the total."""
        forward, backward = [], []
        for j, i in enumerate(lockstep):
            gamma = self.net.stack.layers[i].gamma
            for what in ("mean", "var", "dbeta", "dgamma"):
                layout[f"s{j}.{what}"] = ((SLOTS + 1, gamma.size), gamma.dtype.name)
            forward += [[f"s{j}.mean"], [f"s{j}.var"]]
            backward.insert(0, [f"s{j}.dbeta", f"s{j}.dgamma"])
        return forward + backward

    def _exchange(self, arrays, exchanges, own_indices, busy, count):
        """The parent's exchange(partials) for `lockstep`: its parts' partial sums and the
        busy workers' are added in part order; the totals go back to the workers."""
        order = iter(exchanges)

        def exchange(partials):
            names = next(order)
            for i, sums in zip(own_indices, partials, strict=True):
                for name, a in zip(names, sums, strict=True):
                    arrays[name][i] = a
            for worker in busy:
                _receive(worker, "sums")
            totals = local_exchange([[arrays[name][i] for name in names] for i in range(count)])
            for name, total in zip(names, totals, strict=True):
                arrays[name][SLOTS] = total
            for worker in busy:
                _send(worker, ("totals",))
            return totals

        return exchange

    def predict(self, x, parts: list[slice], out_shape, own_part) -> np.ndarray:
        """The scores of x (len(x), *out_shape): each part's from own_part(part) (the parent's
        share) or a worker's forward in inference mode."""
        n = len(x)
        layout = {"x": (x.shape, x.dtype.name), "y": ((n, *out_shape), x.dtype.name)}
        with self._guard():
            arrays = self._load("infer", layout, None, x)
            results = self._share(parts, "predict", n,
                                  lambda indices, busy: [own_part(parts[i]) for i in indices])
            for part, result in zip(parts, results, strict=True):
                if result is not None:
                    arrays["y"][part] = result
            return arrays["y"][:n].copy()

    @contextlib.contextmanager
    def _guard(self):
        """Any failure shuts the pool down: a worker may be mid-call, and its reply would
        answer the next one."""
        try:
            yield
        except BaseException:
            self.close()
            raise

    def _load(self, kind: str, layout: dict, extra, x) -> dict:
        """The data arena of this kind (made anew if it cannot hold `layout`), with the
        parameters, buffers and x written."""
        arena = self._arena(kind, layout, extra)
        weights = self._arenas["weights"][0].arrays
        for prefix, arrays in (("p:", self.net.params), ("b:", self.net.buffers)):
            for key, value in arrays.items():
                weights[prefix + key][...] = value
        arena.arrays["x"][:len(x)] = x
        return arena.arrays

    def _arena(self, kind: str, layout: dict, extra) -> SharedArena:
        """The arena of this kind; a new one if the old cannot hold `layout` (its arrays'
        trailing shapes and dtypes must match, its first dimension be as long)."""
        old = self._arenas.get(kind)
        if old is not None and _holds(old[0].layout, layout):
            return old[0]
        arena = SharedArena.create(layout)
        try:
            if kind != "weights":
                for worker in self._workers:
                    _send(worker, ("arena", kind, arena.path, layout, extra))
                for worker in self._workers:
                    _receive(worker, "attached")
        finally:
            if kind != "weights":  # the workers map "weights" at start
                arena.unlink()
        self._arenas[kind] = (arena, layout)
        if old is not None:
            old[0].close()
        return arena

    def _share(self, parts, action: str, n: int, run_own) -> list:
        """[result of each part]: the parent's run_own(its part indices, busy workers) for the
        first share, a worker's reply (its loss, or None) for the others."""
        shares = _shares(len(parts), self.workers + 1)
        busy = [w for w, share in zip(self._workers, shares[1:], strict=True) if share]
        for worker, share in zip(self._workers, shares[1:], strict=True):
            if share:
                _send(worker, (action, n, [(i, parts[i].start, parts[i].stop) for i in share]))
        results = [None] * len(parts)
        with serial_here():  # the workers have the other cores
            for i, result in zip(shares[0], run_own(shares[0], busy), strict=True):
                results[i] = result
        for worker, share in zip(self._workers, shares[1:], strict=True):
            if share:
                for i, reply in zip(share, _receive(worker, "done")[1], strict=True):
                    results[i] = reply
        return results

    def close(self) -> None:
        """Stop the workers and drop the arenas (also done at exit)."""
        self._finalizer()


def _holds(old: dict, new: dict) -> bool:
    """Whether an arena of layout `old` can take `new`: the same arrays, dtypes and trailing
    shapes, and a first dimension at least as long."""
    if old.keys() != new.keys():
        return False
    for key, (shape, dtype) in new.items():
        old_shape, old_dtype = tuple(old[key][0]), old[key][1]
        shape = tuple(shape)
        if old_dtype != dtype or old_shape[1:] != shape[1:] or old_shape[:1] < shape[:1]:
            return False
    return True


def _send(worker, message) -> None:
    try:
        worker[1].send(message)
    except OSError:
        raise _stopped(worker[0]) from None


def _receive(worker, expected: str):
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


def _stopped(proc: subprocess.Popen) -> RunError:
    return RunError(f"worker process {proc.pid} stopped ({_exit_reason(proc)}); "
                    f"the call was not completed")


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


def _shut_down(workers: list, arenas: dict) -> None:
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
    for arena, _ in arenas.values():
        arena.unlink()
        arena.close()
    arenas.clear()
