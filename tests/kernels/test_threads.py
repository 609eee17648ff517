"""dlscratch's threads: the setting (default, environment, errors, `threads(n)`), run_chunks
(order, real workers, errors, no hand-over from a worker, fork), BLAS held at one thread, the
deprecated `dlscratch.parallel` alias, and image_chunks' thread-independent bounds."""

from __future__ import annotations

import importlib
import multiprocessing
import os
import re
import subprocess
import sys
import threading

import numpy as np
import pytest

from dlscratch import SimpleConvNet, gradient_check, kernels
from dlscratch.kernels import layout
from dlscratch.kernels.layout import image_chunks
from dlscratch.kernels.pool import get_num_threads, run_chunks, set_num_threads, threads_here

# the module (the package's `threads` is the context manager of the same name)
threads_module = importlib.import_module("dlscratch.kernels.pool")

BARRIER_TIMEOUT_S = 30  # a missing worker breaks the barrier instead of hanging the test


@pytest.fixture(autouse=True)
def restore_threads():
    before = get_num_threads()
    yield
    set_num_threads(before)


def python(code, env_changes, timeout=120):
    """Run `python -c code` with the environment changed (None: the variable removed)."""
    env = {k: v for k, v in os.environ.items() if env_changes.get(k, "") is not None}
    env.update({k: v for k, v in env_changes.items() if v is not None})
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=timeout)


def meeting_work(parties):
    """work(s) for run_chunks whose first `parties` chunks wait for each other: it returns
    (s.start, thread id), and succeeds only if `parties` threads run chunks at once."""
    barrier = threading.Barrier(parties, timeout=BARRIER_TIMEOUT_S)

    def work(s):
        if s.start < parties:
            barrier.wait()
        return s.start, threading.get_ident()

    return work


# ---------------------------------------------------------------- the setting


def test_default_is_the_usable_cores_in_a_fresh_process():
    code = ("import os, dlscratch; print(dlscratch.get_num_threads(), "
            "len(os.sched_getaffinity(0)))")
    done = python(code, {"DLSCRATCH_NUM_THREADS": None})
    assert done.returncode == 0, done.stderr
    threads_n, cores = map(int, done.stdout.split())
    assert threads_n == cores == len(os.sched_getaffinity(0))
    # the affinity, not the machine's core count
    one_core = ("import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
                "import dlscratch; print(dlscratch.get_num_threads())")
    done = python(one_core, {"DLSCRATCH_NUM_THREADS": None})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"


@pytest.mark.parametrize("value, expected", [("3", 3), (" 2 ", 2), ("1", 1), ("", None)])
def test_environment_variable_is_honoured(monkeypatch, value, expected):
    monkeypatch.setenv("DLSCRATCH_NUM_THREADS", value)
    monkeypatch.setitem(threads_module._state, "threads", None)  # as in a fresh process
    assert get_num_threads() == (expected or threads_module.usable_cores())


def test_environment_variable_in_a_fresh_process():
    code = "import dlscratch; print(dlscratch.get_num_threads())"
    done = python(code, {"DLSCRATCH_NUM_THREADS": "5"})
    assert done.stdout.strip() == "5", done.stderr


@pytest.mark.parametrize("value", ["many", "0", "-1", "1.5", "2 threads"])
def test_bad_environment_values_name_the_value(monkeypatch, value):
    monkeypatch.setenv("DLSCRATCH_NUM_THREADS", value)
    monkeypatch.setitem(threads_module._state, "threads", None)
    with pytest.raises(ValueError, match=rf"DLSCRATCH_NUM_THREADS must be an integer >= 1, "
                                         rf"got {re.escape(repr(value.strip()))}"):
        get_num_threads()


@pytest.mark.parametrize("bad", [0, -1, 1.5, 2.0, True, "2", None])
def test_set_num_threads_rejects_bad_values(bad):
    before = get_num_threads()
    with pytest.raises(ValueError, match=rf"number of threads must be an integer >= 1, "
                                         rf"got {re.escape(repr(bad))}"):
        set_num_threads(bad)
    assert get_num_threads() == before


def test_set_num_threads_takes_numpy_integers():
    set_num_threads(np.int64(3))
    assert get_num_threads() == 3 and type(get_num_threads()) is int


def test_threads_restores_also_after_an_error():
    set_num_threads(2)
    with kernels.threads(3):
        assert get_num_threads() == threads_here() == 3
        with kernels.threads(1):
            assert get_num_threads() == 1
        assert get_num_threads() == 3
    assert get_num_threads() == 2
    with pytest.raises(KeyError), kernels.threads(3):
        raise KeyError("inside")
    assert get_num_threads() == 2
    with pytest.raises(ValueError), kernels.threads(0):
        pass
    assert get_num_threads() == 2


# ---------------------------------------------------------------- run_chunks


def test_run_chunks_keeps_the_order_and_uses_the_threads():
    chunks = [slice(i, i + 1) for i in range(20)]
    with kernels.threads(3):
        results = run_chunks(meeting_work(3), chunks)
    assert [start for start, _ in results] == list(range(20))
    assert len({ident for _, ident in results}) == 3
    assert threading.get_ident() in {ident for _, ident in results}  # the caller works too
    with kernels.threads(1):
        results = run_chunks(lambda s: (s.start, threading.get_ident()), chunks)
    assert results == [(i, threading.get_ident()) for i in range(20)]
    assert run_chunks(lambda s: s, []) == []


@pytest.mark.parametrize("where", ["worker", "caller"])
def test_run_chunks_raises_an_error_of_any_thread_and_goes_on(where):
    caller = threading.get_ident()
    meet = meeting_work(3)

    def work(s):
        _, ident = meet(s)
        if (ident == caller) == (where == "caller"):
            raise ArithmeticError(f"chunk {s.start} failed")
        return s.start

    chunks = [slice(i, i + 1) for i in range(12)]
    with kernels.threads(3):
        with pytest.raises(ArithmeticError, match=r"chunk \d+ failed"):
            run_chunks(work, chunks)
        assert threads_here() == 3  # the caller is no worker afterwards
        results = run_chunks(meeting_work(3), chunks)  # the pool still has its workers
    assert [start for start, _ in results] == list(range(12))
    assert len({ident for _, ident in results}) == 3


NESTED = """
import threading
from dlscratch import kernels
from dlscratch.kernels.pool import run_chunks, threads_here

meet = threading.Barrier(3, timeout=30)  # the first three chunks on three threads at once


def work(s):
    if s.start < 3:
        meet.wait()
    inner = run_chunks(lambda c: (threads_here(), threading.get_ident()),
                       [slice(0, 1), slice(1, 2), slice(2, 3)])
    return (threads_here(), sorted({n for n, _ in inner}),
            {ident for _, ident in inner} == {threading.get_ident()})


with kernels.threads(3):
    print(run_chunks(work, [slice(i, i + 1) for i in range(6)]), threads_here())
"""


def test_a_worker_does_not_hand_work_on():
    # A worker that handed its chunks on could wait for itself: run where a hang fails.
    done = python(NESTED, {}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{[(1, [1], True)] * 6} 3"


def _threads_in_child(queue):
    try:
        results = run_chunks(meeting_work(3), [slice(i, i + 1) for i in range(9)])
        queue.put(("ok", [s for s, _ in results], len({ident for _, ident in results})))
    except BaseException as error:  # reported to the parent
        queue.put(("error", repr(error), 0))


def test_a_forked_child_can_run_chunks_on_threads():
    with kernels.threads(3):
        assert len({i for _, i in run_chunks(meeting_work(3), [slice(0, 1)] * 3)}) == 3
        context = multiprocessing.get_context("fork")
        queue = context.SimpleQueue()
        child = context.Process(target=_threads_in_child, args=(queue,))
        child.start()
        child.join(timeout=60)
        if child.is_alive():  # pragma: no cover - the failure this test is about
            child.kill()
            child.join()
            pytest.fail("the forked child hung in run_chunks")
    assert child.exitcode == 0
    assert queue.get() == ("ok", list(range(9)), 3)


def test_network_gradient_check_on_three_threads_in_small_chunks(monkeypatch):
    # every kernel's chunks shared among the threads, checked against central differences
    monkeypatch.setattr(layout, "CHUNK_BYTES", 1)
    net = SimpleConvNet(input_dim=(2, 9, 7), hidden_size=6, output_size=3, weight_init_std=0.4,
                        conv_param={"filter_num": 3, "filter_size": 3, "pad": 1, "stride": 1},
                        dtype=np.float64, seed=1)
    rng = np.random.default_rng(1)
    x, t = rng.standard_normal((6, 2, 9, 7)), rng.integers(0, 3, 6)
    with kernels.threads(3):
        errors = gradient_check(net, x, t, max_entries=40)
    assert max(errors.values()) < 1e-6, errors


# ---------------------------------------------------------------- BLAS, the old module


def test_blas_is_held_at_one_thread_after_import():
    code = """
from threadpoolctl import threadpool_info
import numpy  # BLAS loaded, at its own default


def blas():
    return sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})


before = blas()
import dlscratch  # noqa: E402
print(blas(), before)
"""
    done = python(code, {"OPENBLAS_NUM_THREADS": None, "OMP_NUM_THREADS": None,
                         "MKL_NUM_THREADS": None, "DLSCRATCH_NUM_THREADS": None})
    assert done.returncode == 0, done.stderr
    after, before = done.stdout.strip().split("] [")
    assert after == "[1", f"BLAS threads after import dlscratch: {after}], before: [{before}"


def test_deprecated_parallel_module_warns_and_still_works(monkeypatch):
    monkeypatch.delitem(sys.modules, "dlscratch.parallel", raising=False)
    with pytest.warns(DeprecationWarning, match="dlscratch.parallel moved"):
        parallel = importlib.import_module("dlscratch.parallel")
    assert parallel.set_num_threads is set_num_threads
    parallel.set_num_threads(3)
    assert parallel.get_num_threads() == get_num_threads() == 3
    assert parallel.run_chunks(lambda s: s.start, [slice(0, 1), slice(1, 2)]) == [0, 1]


# ---------------------------------------------------------------- image_chunks


@pytest.mark.parametrize("n, per_image, chunk_bytes", [
    (100, 57_600, 1 << 21), (100, 1_000, 1 << 21), (1000, 57_600, 1 << 21), (1, 10**7, 1 << 21),
    (7, 10, 30), (7, 10, 20), (64, 3, 1), (3, 10**9, 1), (9, 5, 12), (0, 10, 100),
    (13, 8, 0), (2, 1, 1),
])
def test_image_chunks_depend_on_sizes_only_and_cover_the_batch(n, per_image, chunk_bytes):
    found = []
    for count in (1, 2, 3):
        with kernels.threads(count):
            found.append(image_chunks(n, per_image, chunk_bytes))
    assert found[0] == found[1] == found[2]
    chunks = found[0]
    covered = [i for s in chunks for i in range(s.start, s.stop)]
    assert covered == list(range(n))
    assert all(s.stop > s.start and s.step is None for s in chunks)
    most = max(1, chunk_bytes // per_image)  # images that fit one chunk
    sizes = [s.stop - s.start for s in chunks]
    assert all(size <= most for size in sizes)
    if sizes:
        assert max(sizes) - min(sizes) <= 1  # near-equal
    # An even count when more than one, unless every chunk is already a single image.
    assert len(chunks) <= 1 or len(chunks) % 2 == 0 or len(chunks) == n


def test_image_chunks_known_bounds(monkeypatch):
    assert [s.stop - s.start for s in image_chunks(100, 57_600, 1 << 21)] == [25] * 4
    assert image_chunks(100, 1_000, 1 << 21) == [slice(0, 100)]
    assert [s.stop - s.start for s in image_chunks(7, 10, 20)] == [1, 2, 2, 2]
    monkeypatch.setattr(layout, "CHUNK_BYTES", 50)  # the default chunk size is read per call
    assert len(image_chunks(10, 10)) == 2
