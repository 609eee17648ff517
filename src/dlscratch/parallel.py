"""dlscratch's own threads: independent pieces of work, one per core.

    dlscratch.parallel.set_num_threads(2)   # or DLSCRATCH_NUM_THREADS=2, or `--threads 2`
    results = run_chunks(work, chunks)      # [work(s) for s in chunks], on 2 threads
    y = matmul(a, b)                        # a @ b, on 2 BLAS threads if the product is big

numpy's copies and BLAS's products release the GIL, so Python threads run them side by side.
With one thread (the default) `run_chunks` is a plain loop in the caller, as in the book.
With n > 1 threads a network splits a big batch into n parts, each run through the whole
network on a worker (`dlscratch.nets.data_parallel`), when its layers allow it; otherwise a
convolution shares its chunks of images among the n workers, each doing its chunk's im2col
copy and product on its own core, and max pooling splits its batch the same way. A worker
never hands work on (`threads_here` is 1 there): it runs its part's chunks itself. BLAS is
held at one thread meanwhile (threadpoolctl): OpenBLAS's idle threads busy-wait for ~0.1 s
after each call and would take the cores from the workers. Only a dense product
big enough to split well (Affine, `matmul`) is lent n BLAS threads, and only while the workers
have had nothing to do for a second (a network without convolutions). Handing a piece of work to
a thread costs ~0.1 ms here, so small pieces stay in the caller (benchmarks/NOTES.md).
"""

from __future__ import annotations

import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np

# Products with at least this many multiply-adds (~0.25 ms on one core) get n BLAS threads,
# unless the workers ran less than WORKERS_BUSY_S seconds ago.
MIN_PARALLEL_MACS = 1 << 23
WORKERS_BUSY_S = 1.0

# threads: None until first asked; blas: threadpoolctl's handle on BLAS, blas_limit: its limit
_state = {"threads": None, "pool": None, "pool_used_at": -math.inf, "blas": None,
          "blas_limit": None}
_this_thread = threading.local()  # .is_worker: True in the pool's threads


def set_num_threads(n: int) -> None:
    """Use n threads (an integer >= 1); with n > 1, BLAS is held at one thread."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"number of threads must be an integer >= 1, got {n!r}")
    n = int(n)
    if n == _state["threads"]:
        return
    if _state["pool"] is not None:
        _state["pool"].shutdown()
        _state["pool"] = None
    if _state["blas_limit"] is not None:  # give BLAS its own thread count back
        _state["blas_limit"].restore_original_limits()
        _state["blas_limit"] = None
    if n > 1:
        _state["blas_limit"] = _limit_blas_to_one_thread()
    _state["threads"] = n


def get_num_threads() -> int:
    """The thread count: set_num_threads's, else $DLSCRATCH_NUM_THREADS, else 1."""
    if _state["threads"] is None:
        value = os.environ.get("DLSCRATCH_NUM_THREADS", "1").strip() or "1"
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"DLSCRATCH_NUM_THREADS must be an integer >= 1, got {value!r}")
        set_num_threads(int(value))
    return _state["threads"]


def threads_here() -> int:
    """The threads the caller may hand work to: get_num_threads(), but 1 inside a worker (a
    worker that waited for the other workers could wait for itself)."""
    return 1 if getattr(_this_thread, "is_worker", False) else get_num_threads()


def run_chunks(work, chunks) -> list:
    """[work(s) for s in chunks]; with n threads, the caller and n - 1 workers take the chunks
    one after another from a shared queue until none is left.

    The caller works instead of waiting: one hand-over per call rather than one per chunk
    (waking a sleeping thread costs ~0.1 ms on a VM)."""
    threads = threads_here()
    if threads == 1 or len(chunks) < 2:
        return [work(s) for s in chunks]
    if _state["pool"] is None:
        _state["pool"] = ThreadPoolExecutor(threads - 1, thread_name_prefix="dlscratch",
                                            initializer=_mark_worker)
    _state["pool_used_at"] = time.perf_counter()
    results = [None] * len(chunks)
    queue = iter(range(len(chunks)))  # next() on it is atomic: each index goes to one thread

    def take_chunks():
        for i in queue:
            results[i] = work(chunks[i])

    helpers = [_state["pool"].submit(take_chunks) for _ in range(min(threads, len(chunks)) - 1)]
    _this_thread.is_worker = True  # the caller is a worker now: it hands no work on
    try:
        take_chunks()
    finally:
        _this_thread.is_worker = False
        wait(helpers)
    for helper in helpers:
        helper.result()  # a worker's exception is raised here
    return results


def batch_parts(n: int) -> list[slice]:
    """range(n) in one slice per thread (nearly equal), for a whole-batch elementwise layer."""
    parts = max(1, min(threads_here(), n))
    bounds = np.linspace(0, n, parts + 1).astype(int)
    return [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b; with several threads and a big product, on that many BLAS threads - unless the
    workers ran lately (a network with convolutions): after a product OpenBLAS's threads
    busy-wait ~0.1 s, which would slow the workers' next chunks more than the product gains."""
    threads = threads_here()
    if (threads == 1 or a.shape[0] * a.shape[1] * b.shape[1] < MIN_PARALLEL_MACS
            or time.perf_counter() - _state["pool_used_at"] < WORKERS_BUSY_S):
        return a @ b
    with _state["blas"].limit(limits=threads):
        return a @ b


def _mark_worker() -> None:
    _this_thread.is_worker = True


def _forget_pool_in_child() -> None:
    """After fork() the child has the pool object but not its threads: start a new one."""
    _state["pool"] = None


os.register_at_fork(after_in_child=_forget_pool_in_child)


def _limit_blas_to_one_thread():
    from threadpoolctl import ThreadpoolController

    _state["blas"] = ThreadpoolController().select(user_api="blas")
    return _state["blas"].limit(limits=1)
