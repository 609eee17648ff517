"""Convolution chunks on worker threads: the same numbers as one thread, every path, and clear
errors for a bad thread count."""

from __future__ import annotations

import importlib
import subprocess
import sys

import numpy as np
import pytest

from dlscratch import parallel
from dlscratch.layers import Convolution

from ._helpers import layer_gradient_errors

# the module (dlscratch.layers re-exports a function of the same name)
im2col_module = importlib.import_module("dlscratch.layers.im2col")


@pytest.fixture
def two_threads_small_chunks(monkeypatch):
    """Two worker threads and chunks of a few images, so every layer call has many chunks."""
    monkeypatch.setattr(im2col_module, "CHUNK_BYTES", 1 << 13)
    parallel.set_num_threads(2)
    yield
    parallel.set_num_threads(1)


def conv_results(layer, x, dout):
    out = layer.forward(x)
    dx = layer.backward(dout)
    return out.copy(), dx.copy(), layer.dW.copy(), layer.db.copy()


@pytest.mark.parametrize("size, stride, pad", [(3, 1, 1), (5, 1, 0), (3, 2, 1), (2, 2, 0)])
def test_threaded_convolution_equals_one_thread(two_threads_small_chunks, size, stride, pad):
    # (3, 1, 1) and (5, 1, 0) take the flipped-filter dx, (3, 2, 1) and (2, 2, 0) col2im.
    rng = np.random.default_rng(0)
    layer = Convolution.create(3, 8, size, stride, pad, weight_init_std=0.1, rng=rng)
    x = rng.standard_normal((40, 3, 11, 11)).astype(np.float32)
    dout = rng.standard_normal(layer.output_shape(x.shape)).astype(np.float32)
    assert len(im2col_module.image_chunks(40, 9 * 9 * size * size * 3 * 4)) > 2
    threaded = conv_results(layer, x, dout)
    parallel.set_num_threads(1)
    serial = conv_results(layer, x, dout)
    # Two threads cut the batch into other chunks (balanced over the threads), so products of
    # other sizes may round differently in the last float32 bits (dW: sums of 3,000 terms).
    for name, a, b in zip(("out", "dx", "dW", "db"), threaded, serial, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * np.abs(b).max(), err_msg=name)


@pytest.mark.parametrize("train_flg", [True, False])
def test_threaded_pooling_equals_one_thread(train_flg):
    from dlscratch.layers import Pooling

    rng = np.random.default_rng(4)
    x = rng.integers(0, 3, (9, 4, 9, 8)).astype(np.float32)  # many ties; odd rows are cropped
    dout = rng.standard_normal((9, 4, 4, 4)).astype(np.float32)
    results = []
    for threads in (2, 1):
        parallel.set_num_threads(threads)
        layer = Pooling(2, 2)
        out = layer.forward(x, train_flg)
        results.append((out.copy(), layer.backward(dout).copy()))
    (out2, dx2), (out1, dx1) = results
    np.testing.assert_array_equal(out2, out1)
    np.testing.assert_array_equal(dx2, dx1)
    assert np.count_nonzero(dx1) == dout.size  # one maximum per window gets the gradient


def test_threaded_convolution_gradient_check(two_threads_small_chunks):
    rng = np.random.default_rng(1)
    layer = Convolution.create(2, 4, 3, 1, 1, weight_init_std=0.5, rng=rng, dtype=np.float64)
    x = rng.standard_normal((12, 2, 6, 6))
    errors = layer_gradient_errors(layer, x, rng)
    assert max(errors.values()) < 1e-6, errors


def test_run_chunks_keeps_the_order_and_uses_the_workers(two_threads_small_chunks):
    import threading
    import time

    names = []

    def work(s):
        names.append(threading.current_thread().name)
        time.sleep(0.005)  # releases the GIL, as numpy does: both threads get chunks
        return s.start

    chunks = [slice(i, i + 1) for i in range(20)]
    assert parallel.run_chunks(work, chunks) == list(range(20))
    caller = threading.current_thread().name
    assert caller in names and any(name.startswith("dlscratch") for name in names)
    assert set(names) <= {caller} | {n for n in names if n.startswith("dlscratch")}
    parallel.set_num_threads(1)
    names.clear()
    assert parallel.run_chunks(work, chunks) == list(range(20))
    assert set(names) == {threading.current_thread().name}


def test_run_chunks_raises_an_error_of_any_thread_and_goes_on(two_threads_small_chunks):
    import time

    def work(s):
        time.sleep(0.002)
        if s.start == 7:
            raise ValueError("chunk 7 failed")
        return s.start

    chunks = [slice(i, i + 1) for i in range(12)]
    with pytest.raises(ValueError, match="chunk 7 failed"):
        parallel.run_chunks(work, chunks)
    assert parallel.threads_here() == 2  # the caller is no worker afterwards
    assert parallel.run_chunks(lambda s: s.start, chunks) == list(range(12))


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2", None])
def test_set_num_threads_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="threads must be an integer >= 1"):
        parallel.set_num_threads(bad)
    assert parallel.get_num_threads() == 1


def run_python(code, **env):
    import os

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env})


def test_thread_count_from_the_environment():
    code = "from dlscratch import parallel; print(parallel.get_num_threads())"
    assert run_python(code, DLSCRATCH_NUM_THREADS="2").stdout.strip() == "2"
    assert run_python(code, DLSCRATCH_NUM_THREADS="").stdout.strip() == "1"
    bad = run_python(code, DLSCRATCH_NUM_THREADS="many")
    assert bad.returncode != 0
    assert "DLSCRATCH_NUM_THREADS must be an integer >= 1, got 'many'" in bad.stderr


def blas_threads():
    from threadpoolctl import threadpool_info

    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


def test_blas_is_held_at_one_thread_and_given_back():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(2, user_api="blas"):
        parallel.set_num_threads(2)
        try:
            assert blas_threads() == {1}
        finally:
            parallel.set_num_threads(1)
        assert blas_threads() == {2}


@pytest.mark.parametrize("M, K, N", [(300, 200, 40), (40, 200, 300)])
def test_big_products_get_the_threads_as_blas_threads(two_threads_small_chunks, monkeypatch,
                                                        M, K, N):
    seen = []
    real_limit = parallel._state["blas"].limit

    def spy(limits):
        seen.append((limits, blas_threads()))
        return real_limit(limits=limits)

    monkeypatch.setattr(parallel._state["blas"], "limit", spy)
    rng = np.random.default_rng(2)
    a = rng.standard_normal((M, K)).astype(np.float32)
    b = rng.standard_normal((K, N)).astype(np.float32)
    np.testing.assert_allclose(parallel.matmul(a, b), a @ b, rtol=1e-5, atol=1e-5)
    assert seen == []  # 2.4M multiply-adds: below MIN_PARALLEL_MACS, stays on one thread
    monkeypatch.setattr(parallel, "MIN_PARALLEL_MACS", 1)
    monkeypatch.setitem(parallel._state, "pool_used_at", -np.inf)  # workers idle so far
    np.testing.assert_allclose(parallel.matmul(a, b), a @ b, rtol=1e-5, atol=1e-5)
    assert seen == [(2, {1})]
    assert blas_threads() == {1}  # back to one thread after the product
    # Once the workers have run (a convolution), products stay on one thread for a while.
    parallel.run_chunks(lambda s: None, [slice(0, 1), slice(1, 2)])
    np.testing.assert_allclose(parallel.matmul(a, b), a @ b, rtol=1e-5, atol=1e-5)
    assert seen == [(2, {1})]
    monkeypatch.setattr(parallel, "WORKERS_BUSY_S", 0.0)
    parallel.matmul(a, b)
    assert seen == [(2, {1}), (2, {1})]


def test_network_gradient_with_two_threads(two_threads_small_chunks, monkeypatch):
    # Every threaded path at once: conv chunks, Affine's row and column splits.
    from dlscratch.gradient import gradient_check
    from dlscratch.nets import SimpleConvNet

    monkeypatch.setattr(parallel, "MIN_PARALLEL_MACS", 1)
    net = SimpleConvNet(input_dim=(1, 10, 10), conv_param={"filter_num": 3, "filter_size": 3,
                        "pad": 0, "stride": 1}, hidden_size=6, output_size=4,
                        weight_init_std=0.3, seed=0, dtype=np.float64)
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal((6, 1, 10, 10)), rng.integers(0, 4, 6)
    errors = gradient_check(net, x, t)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("n, per_image, sizes", [
    (100, 57_600, [25, 25, 25, 25]),  # 3 chunks of 36 at one thread: one thread would wait
    (100, 1_000, [50, 50]),           # the whole batch fits one chunk: still one per thread
    (1000, 57_600, [36] * 27 + [28]),  # already a multiple of 2
    (1, 10**7, [1]),
])
def test_image_chunks_are_balanced_over_the_threads(n, per_image, sizes):
    parallel.set_num_threads(2)
    try:
        chunks = im2col_module.image_chunks(n, per_image, chunk_bytes=1 << 21)
    finally:
        parallel.set_num_threads(1)
    assert [s.stop - s.start for s in chunks] == sizes
    assert chunks[0].start == 0 and chunks[-1].stop == n
    assert all(a.stop == b.start for a, b in zip(chunks, chunks[1:], strict=False))
    assert len(im2col_module.image_chunks(100, 57_600, chunk_bytes=1 << 21)) == 3  # 1 thread


def _conv_in_child(queue):
    rng = np.random.default_rng(0)
    layer = Convolution.create(3, 4, 3, 1, 1, rng=rng)
    queue.put(layer.forward(rng.standard_normal((16, 3, 8, 8)).astype(np.float32)).sum())


def test_threads_work_in_a_forked_child(two_threads_small_chunks):
    import multiprocessing

    _conv_in_child(queue := multiprocessing.SimpleQueue())  # starts the pool in the parent
    expected = queue.get()
    context = multiprocessing.get_context("fork")
    queue = context.SimpleQueue()
    child = context.Process(target=_conv_in_child, args=(queue,))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0, "the child hung or failed"
    assert queue.get() == pytest.approx(expected, rel=1e-5)
