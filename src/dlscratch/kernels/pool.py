"""dlscratch's threads: one explicit setting, the number of cores by default.

    dlscratch.set_num_threads(2)          # or DLSCRATCH_NUM_THREADS=2, or `--threads 2`
    with dlscratch.threads(1): ...        # for a block, then back
    results = run_chunks(work, chunks)    # [work(c) for c in chunks], shared among the threads

The setting decides only how many threads take the pieces of work; the pieces themselves
(their number and bounds) come from the arrays' shapes, and partial results are added in the
pieces' order, so the result is bit-identical at any thread count. BLAS is held at one thread
for the whole process from the moment dlscratch is imported (a product split over BLAS threads
may round differently): dlscratch's own threads do the parallel work instead. NumPy's copies
and BLAS products release the GIL, so Python threads run them side by side.
"""

from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np

ENV_VAR = "DLSCRATCH_NUM_THREADS"

_state = {"threads": None, "pool": None}
_this_thread = threading.local()  # .is_worker: True while a thread runs a piece of work


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), as PyTorch's default."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no sched_getaffinity (macOS, Windows)
        return os.cpu_count() or 1


def cpu_model() -> str:
    """The processor's name (Linux: /proc/cpuinfo's 'model name')."""
    import platform

    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def set_num_threads(n: int) -> None:
    """Use n threads (an integer >= 1) for dlscratch's kernels and data parallelism."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"number of threads must be an integer >= 1, got {n!r}")
    if int(n) != _state["threads"] and _state["pool"] is not None:
        _state["pool"].shutdown()
        _state["pool"] = None
    _state["threads"] = int(n)


def get_num_threads() -> int:
    """set_num_threads's value, else $DLSCRATCH_NUM_THREADS, else the usable cores."""
    if _state["threads"] is None:
        value = os.environ.get(ENV_VAR, "").strip()
        if value and (not value.isdigit() or int(value) < 1):
            raise ValueError(f"{ENV_VAR} must be an integer >= 1, got {value!r}")
        set_num_threads(int(value) if value else usable_cores())
    return _state["threads"]


@contextlib.contextmanager
def threads(n: int):
    """`with threads(n):` runs the block on n threads, then restores the previous setting."""
    before = get_num_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        set_num_threads(before)


def threads_here() -> int:
    """The threads the caller may hand work to: get_num_threads(), but 1 inside a piece of work
    (a worker that waited for the other workers could wait for itself)."""
    return 1 if getattr(_this_thread, "is_worker", False) else get_num_threads()


@contextlib.contextmanager
def serial_here():
    """Within the block this thread runs its pieces of work alone (other processes have the
    other cores)."""
    before = getattr(_this_thread, "is_worker", False)
    _this_thread.is_worker = True
    try:
        yield
    finally:
        _this_thread.is_worker = before


def run_chunks(work, chunks) -> list:
    """[work(c) for c in chunks], in that order; with n threads the caller and n - 1 workers
    take the chunks one after another until none is left (the caller works instead of
    waiting: one hand-over per call, not one per chunk)."""
    n = min(threads_here(), len(chunks))
    if n <= 1:
        return [work(c) for c in chunks]
    if _state["pool"] is None:
        _state["pool"] = ThreadPoolExecutor(get_num_threads() - 1, thread_name_prefix="dlscratch",
                                            initializer=_mark_worker)
    results = [None] * len(chunks)
    queue = iter(range(len(chunks)))  # next() on it is atomic: each index goes to one thread

    def take_chunks():
        for i in queue:
            results[i] = work(chunks[i])

    helpers = [_state["pool"].submit(take_chunks) for _ in range(n - 1)]
    _this_thread.is_worker = True
    try:
        take_chunks()
    finally:
        _this_thread.is_worker = False
        wait(helpers)
    for helper in helpers:
        helper.result()  # a worker's exception is raised here
    return results


def _mark_worker() -> None:
    _this_thread.is_worker = True


def _forget_pool_in_child() -> None:
    """After fork() the child has the pool object but not its threads: start a new one."""
    _state["pool"] = None


def hold_blas_at_one_thread() -> None:
    """Limit BLAS (OpenBLAS, MKL, ...) to one thread in this process (threadpoolctl)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


os.register_at_fork(after_in_child=_forget_pool_in_child)
