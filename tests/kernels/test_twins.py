"""Every fast kernel against its reference twin (the book's NumPy) in float64, forward and
backward, on odd sizes, strides, paddings and chunkings; bit-identical at 1 and 3 threads.
The twins themselves against naive loops."""

from __future__ import annotations

import numpy as np
import pytest

from dlscratch import kernels
from dlscratch.kernels import adam, conv, elementwise, fast, layout, pooling, reference

from ._helpers import (
    assert_twins,
    naive_conv,
    naive_conv_backward,
    naive_max_pool,
    record_chunks,
)


@pytest.fixture(params=["whole", "chunked"])
def chunking(request, monkeypatch):
    """'chunked': one image per chunk in every kernel that splits a batch into chunks."""
    if request.param == "chunked":
        monkeypatch.setattr(layout, "CHUNK_BYTES", 1)
        monkeypatch.setattr(pooling, "image_chunks",
                            lambda n, per_image, _=None: layout.image_chunks(n, per_image, 1))
    return request.param


def on_1_and_3_threads(run):
    """run() at one thread and at three; its arrays must be bit-identical. Returns them."""
    with kernels.threads(1):
        one = run()
    with kernels.threads(3):
        three = run()
    for i, (a, b) in enumerate(zip(one, three, strict=True)):
        if a is None:
            assert b is None, i
        else:
            assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True), \
                f"result {i} differs between 1 and 3 threads"
    return one


def nchw(rng, shape, layout_name):
    """Random (N, C, H, W) float64, C-contiguous or a channels-last view (as a conv outputs)."""
    if layout_name == "nchw":
        return rng.standard_normal(shape)
    n, c, h, w = shape
    return rng.standard_normal((n, h, w, c)).transpose(0, 3, 1, 2)


# ---------------------------------------------------------------- convolution

CONV_CASES = [
    # (N, C, H, W, FN, FH, FW, stride, pad)
    pytest.param((5, 1, 7, 5, 3, 3, 3, 1, 0), id="1ch-3x3-s1-p0"),
    pytest.param((4, 3, 7, 5, 4, 3, 3, 1, 1), id="3ch-3x3-s1-p1"),
    pytest.param((3, 3, 7, 5, 1, 3, 3, 1, 1), id="one-filter-s1-p1"),
    pytest.param((5, 3, 7, 5, 2, 3, 3, 2, 1), id="3x3-s2-p1"),
    pytest.param((1, 3, 7, 5, 2, 5, 5, 1, 2), id="batch1-5x5-s1-p2"),
    pytest.param((3, 1, 7, 5, 2, 5, 5, 3, 2), id="5x5-s3-p2"),
    pytest.param((3, 3, 9, 7, 2, 3, 3, 3, 0), id="3x3-s3-uncovered-border"),
    pytest.param((4, 3, 7, 5, 3, 1, 1, 1, 0), id="1x1"),
    pytest.param((2, 3, 7, 5, 3, 1, 1, 2, 1), id="1x1-s2-p1"),
    pytest.param((3, 3, 7, 6, 2, 3, 2, 1, 1), id="3x2-s1-p1"),
    pytest.param((2, 1, 7, 5, 2, 2, 3, 2, 0), id="2x3-s2"),
    pytest.param((2, 3, 5, 7, 2, 1, 5, 3, 2), id="1x5-s3-p2"),
]


@pytest.mark.parametrize("x_layout", ["nchw", "nhwc-view"])
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_forward_and_backward_equal_the_twin(case, x_layout, chunking, monkeypatch):
    N, C, H, Wd, FN, FH, FW, stride, pad = case
    rng = np.random.default_rng(sum(case))
    x = nchw(rng, (N, C, H, Wd), x_layout)
    W, b = rng.standard_normal((FN, C, FH, FW)), rng.standard_normal(FN)
    OH, OW = (H + 2 * pad - FH) // stride + 1, (Wd + 2 * pad - FW) // stride + 1
    dout = rng.standard_normal((N, FN, OH, OW))
    dout_view = np.ascontiguousarray(dout.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    chunks = record_chunks(monkeypatch, conv)

    def run():
        out = fast.conv2d(x, W, b, stride, pad)
        dx, dW, db = fast.conv2d_backward(dout, x, W, stride, pad)
        no_dx, dW2, db2 = fast.conv2d_backward(dout, x, W, stride, pad, need_dx=False)
        assert no_dx is None
        assert np.array_equal(dW2, dW) and np.array_equal(db2, db)
        dx_view, _, _ = fast.conv2d_backward(dout_view, x, W, stride, pad)
        assert np.array_equal(dx_view, dx)  # a channels-last dout gives the same numbers
        return out, dx, dW, db

    out, dx, dW, db = on_1_and_3_threads(run)
    ref_dx, ref_dW, ref_db = reference.conv2d_backward(dout, x, W, stride, pad)
    assert_twins(out, reference.conv2d(x, W, b, stride, pad), "out")
    assert_twins(dx, ref_dx, "dx")
    assert_twins(dW, ref_dW, "dW")
    assert_twins(db, ref_db, "db")
    assert out.shape == (N, FN, OH, OW) and dx.shape == x.shape and dW.shape == W.shape
    if chunking == "chunked" and N > 1:
        assert max(chunks) == N  # the batch really went through one image at a time


def test_reference_conv2d_backward_without_dx():
    rng = np.random.default_rng(1)
    x, W = rng.standard_normal((2, 3, 7, 5)), rng.standard_normal((4, 3, 3, 3))
    dout = rng.standard_normal((2, 4, 4, 3))
    dx, dW, db = reference.conv2d_backward(dout, x, W, 2, 1)
    no_dx, dW2, db2 = reference.conv2d_backward(dout, x, W, 2, 1, need_dx=False)
    assert dx is not None and no_dx is None
    np.testing.assert_array_equal(dW2, dW)
    np.testing.assert_array_equal(db2, db)


# ---------------------------------------------------------------- max pooling

POOL_CASES = [
    # (N, C, H, W, pool_h, pool_w, stride, pad)
    pytest.param((5, 3, 7, 5, 2, 2, 2, 0), id="tiled-2x2-odd-sizes"),
    pytest.param((1, 1, 6, 6, 3, 3, 3, 0), id="tiled-3x3-batch1"),
    pytest.param((3, 3, 7, 5, 1, 1, 1, 0), id="tiled-1x1"),
    pytest.param((3, 3, 7, 5, 2, 2, 2, 1), id="stride-eq-pool-pad1"),
    pytest.param((3, 1, 7, 5, 2, 2, 1, 0), id="2x2-s1"),
    pytest.param((3, 3, 7, 5, 3, 3, 2, 1), id="3x3-s2-p1"),
    pytest.param((2, 3, 7, 5, 2, 3, 2, 1), id="2x3-s2-p1"),
    pytest.param((2, 3, 9, 7, 4, 4, 3, 2), id="4x4-s3-p2"),
    pytest.param((2, 1, 7, 5, 3, 2, 3, 0), id="3x2-s3"),
]


@pytest.mark.parametrize("train_flg", [True, False])
@pytest.mark.parametrize("values", ["ties", "normal"])
@pytest.mark.parametrize("case", POOL_CASES)
def test_max_pool2d_forward_and_backward_equal_the_twin(case, values, train_flg, chunking,
                                                        monkeypatch):
    # "ties": few distinct values, negative ones too, so the first-maximum rule and the -inf
    # padding decide the gradient's route.
    N, C, H, W, ph, pw, stride, pad = case
    rng = np.random.default_rng(sum(case))
    if values == "ties":
        x = rng.integers(-2, 2, size=(N, H, W, C)).astype(np.float64).transpose(0, 3, 1, 2)
    else:
        x = nchw(rng, (N, C, H, W), "nchw")
    OH, OW = (H + 2 * pad - ph) // stride + 1, (W + 2 * pad - pw) // stride + 1
    dout = rng.standard_normal((N, C, OH, OW))
    chunks = record_chunks(monkeypatch, pooling)

    def run():
        out, cache = fast.max_pool2d(x, ph, pw, stride, pad, train_flg)
        return out, fast.max_pool2d_backward(dout, cache)

    out, dx = on_1_and_3_threads(run)
    ref_out, ref_cache = reference.max_pool2d(x, ph, pw, stride, pad, train_flg)
    np.testing.assert_array_equal(out, ref_out)  # a maximum is exact
    assert_twins(out, ref_out, "out")
    assert_twins(dx, reference.max_pool2d_backward(dout, ref_cache), "dx")
    tiled = stride == ph == pw and pad == 0
    if tiled and chunking == "chunked" and N > 1:
        assert max(chunks) == N


def test_max_pool2d_ties_route_to_the_first_maximum():
    # All-equal windows: the top-left input of each window gets the whole gradient.
    x = np.ones((2, 3, 4, 6))
    dout = np.arange(1.0, 1 + 2 * 3 * 2 * 3).reshape(2, 3, 2, 3)
    for impl in (fast, reference):
        for stride, pad in ((2, 0), (2, 1), (1, 0)):
            out, cache = impl.max_pool2d(x, 2, 2, stride, pad)
            _, dx_naive = naive_max_pool(x, 2, 2, stride, pad, np.ones(out.shape))
            dx = impl.max_pool2d_backward(np.ones(out.shape), cache)
            np.testing.assert_array_equal(dx, dx_naive, err_msg=f"{impl.__name__} {stride} {pad}")
        _, cache = impl.max_pool2d(x, 2, 2, 2, 0)
        expected = np.zeros_like(x)
        expected[:, :, ::2, ::2] = dout
        np.testing.assert_array_equal(impl.max_pool2d_backward(dout, cache), expected)


# ---------------------------------------------------------------- relu and sum_rows


@pytest.mark.parametrize("shape", [(1,), (3, 5), (2, 3, 7, 5), (70_001,), (0, 4)])
def test_relu_equals_the_twin(shape):
    x = np.random.default_rng(len(shape)).standard_normal(shape)
    x.flat[::7] = 0.0
    out = fast.relu(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    np.testing.assert_array_equal(out, reference.relu(x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_zeros_buffer_any_size_layout_and_nan(dtype):
    # relu takes the max with a shared buffer of zeros: grown past its first 65,536 values,
    # for a strided input, per dtype, and NaN still propagates (divergence is detected).
    rng = np.random.default_rng(7)
    for shape in [(3, 5), (2, 300, 200), (4, 4)]:
        x = rng.standard_normal(shape).astype(dtype)
        out = elementwise.relu(x)
        assert out.dtype == dtype and out.shape == shape
        np.testing.assert_array_equal(out, np.maximum(x, 0))
    strided = rng.standard_normal((6, 8)).astype(dtype)[::2, ::3]
    np.testing.assert_array_equal(elementwise.relu(strided), np.maximum(strided, 0))
    # a channels-last conv output seen as (N, C, H, W) keeps its layout (the next layer reads
    # it channels-last without a copy)
    nchw_view = rng.standard_normal((2, 5, 4, 3)).astype(dtype).transpose(0, 3, 1, 2)
    out = elementwise.relu(nchw_view)
    assert out.strides == nchw_view.strides
    np.testing.assert_array_equal(out, np.maximum(nchw_view, 0))
    x = np.array([np.nan, -1.0, 2.0], dtype)
    np.testing.assert_array_equal(elementwise.relu(x), [np.nan, 0.0, 2.0])
    for y in (x, strided, nchw_view, rng.standard_normal((2, 300, 201)).astype(dtype)):
        zeros = elementwise.zeros_like(y)
        assert zeros.shape == y.shape and zeros.dtype == y.dtype
        assert not zeros.flags.writeable and not zeros.any()
    assert elementwise.zeros_like(nchw_view).strides == nchw_view.strides


def test_laid_out_like_copies_only_when_the_memory_order_differs():
    rng = np.random.default_rng(8)
    nhwc = rng.standard_normal((2, 4, 3, 5)).astype(np.float32)
    like = nhwc.transpose(0, 3, 1, 2)  # (N, C, H, W) over channels-last memory
    nchw = np.ascontiguousarray(like) * 2  # the same shape, channels-first memory
    moved = elementwise.laid_out_like(nchw, like)
    assert moved.strides == like.strides and moved.dtype == nchw.dtype
    np.testing.assert_array_equal(moved, nchw)
    assert elementwise.laid_out_like(moved, like) is moved  # already in order: no copy
    same_order = np.ascontiguousarray(nchw)
    assert elementwise.laid_out_like(same_order, nchw) is same_order
    wider = elementwise.laid_out_like(nchw.astype(np.float64), like)  # keeps a's dtype
    assert wider.dtype == np.float64 and wider.strides == tuple(2 * s for s in like.strides)


@pytest.mark.parametrize("shape", [(1, 3), (1000, 7), (5, 1), (0, 4), (37, 64)])
def test_sum_rows_equals_the_twin(shape):
    a = np.random.default_rng(shape[0]).standard_normal(shape)
    assert_twins(fast.sum_rows(a), reference.sum_rows(a), "sum_rows")
    assert_twins(fast.sum_rows(a.T.copy().T), reference.sum_rows(a), "sum_rows, F order")


# ---------------------------------------------------------------- batch norm's steps


def plain_batchnorm_steps(xc, std, gamma, beta, dout, n):
    """The layer's lines before the steps were kernels: xn, y and dx."""
    xn = xc / std
    dbeta, dgamma = dout.sum(axis=0), (dout * xn).sum(axis=0)
    return xn, gamma * xn + beta, gamma / std * (dout - dbeta / n - xn * (dgamma / n))


@pytest.mark.parametrize("shape", [(5, 3), (20_000, 32), (3000, 64), (7, 40_000), (0, 4)])
@pytest.mark.parametrize("data_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("param_dtype", [np.float32, np.float64])
def test_batchnorm_steps_are_the_plain_lines_bit_for_bit(shape, data_dtype, param_dtype):
    # (20,000, 32) and (3000, 64) span several row blocks; (7, 40,000) has blocks of one row;
    # float32 activations with float64 gamma, beta and std (a layer built from Python floats)
    # too. Bit for bit, so that a run trained before the steps were kernels resumes exactly.
    rng = np.random.default_rng(shape[1])
    xc = (rng.standard_normal(shape) + 3.0).astype(data_dtype)
    dout = rng.standard_normal(shape).astype(data_dtype)
    gamma, beta, std = (rng.uniform(0.5, 2, shape[1]).astype(param_dtype) for _ in range(3))
    n = max(1, shape[0])
    want_xn, want_y, want_dx = plain_batchnorm_steps(xc, std, gamma, beta, dout, n)
    dbeta, dgamma = dout.sum(axis=0), (dout * want_xn).sum(axis=0)
    for impl in (fast, reference):
        xn, y = impl.bn_scale(xc.copy(), std, gamma, beta)
        dx = impl.bn_input_grad(dout, xn, gamma, std, dbeta, dgamma, n)
        for got, want in ((xn, want_xn), (y, want_y), (dx, want_dx)):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)


def test_batchnorm_steps_read_strided_rows():
    # every other row of an array and a column-major array, as the blocks slice them
    rng = np.random.default_rng(3)
    rows = np.zeros((90_000, 5))
    for order in ("every other row", "column-major"):
        if order == "every other row":
            xc = rows[::2]
            xc[...] = rng.standard_normal(xc.shape)
        else:
            xc = np.asfortranarray(rng.standard_normal((50, 7)))
        assert not xc.flags.c_contiguous
        std, gamma, beta = xc.std(axis=0) + 0.5, np.full(xc.shape[1], 2.0), np.ones(xc.shape[1])
        want_xn, want_y, want_dx = plain_batchnorm_steps(xc, std, gamma, beta, xc, len(xc))
        dbeta, dgamma = xc.sum(axis=0), (xc * want_xn).sum(axis=0)
        np.testing.assert_array_equal(
            fast.bn_input_grad(xc, want_xn, gamma, std, dbeta, dgamma, len(xc)), want_dx)
        xn, y = fast.bn_scale(xc, std, gamma, beta)  # last: it may write xn over xc
        np.testing.assert_array_equal(xn, want_xn)
        np.testing.assert_array_equal(y, want_y)


# ---------------------------------------------------------------- the twins against loops


@pytest.mark.parametrize("case", [
    (2, 3, 7, 5, 2, 3, 3, 1, 1),
    (1, 1, 7, 5, 3, 5, 5, 2, 2),
    (2, 2, 6, 7, 2, 2, 3, 3, 0),
])
def test_reference_conv2d_equals_naive_loops(case):
    N, C, H, Wd, FN, FH, FW, stride, pad = case
    rng = np.random.default_rng(100 + sum(case))
    x, W, b = (rng.standard_normal((N, C, H, Wd)), rng.standard_normal((FN, C, FH, FW)),
               rng.standard_normal(FN))
    out = reference.conv2d(x, W, b, stride, pad)
    np.testing.assert_allclose(out, naive_conv(x, W, b, stride, pad), rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    for got, want in zip(reference.conv2d_backward(dout, x, W, stride, pad),
                         naive_conv_backward(dout, x, W, stride, pad), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", [
    (2, 3, 7, 5, 2, 2, 2, 0),
    (2, 2, 7, 5, 3, 3, 2, 1),
    (1, 2, 6, 7, 2, 3, 1, 1),
])
def test_reference_max_pool2d_equals_naive_loops(case):
    N, C, H, W, ph, pw, stride, pad = case
    rng = np.random.default_rng(200 + sum(case))
    x = rng.integers(-2, 2, size=(N, C, H, W)).astype(np.float64)
    out, cache = reference.max_pool2d(x, ph, pw, stride, pad)
    dout = rng.standard_normal(out.shape)
    naive_out, naive_dx = naive_max_pool(x, ph, pw, stride, pad, dout)
    np.testing.assert_array_equal(out, naive_out)
    np.testing.assert_allclose(reference.max_pool2d_backward(dout, cache), naive_dx, rtol=1e-14)


@pytest.mark.parametrize("case", [
    # (N, C, H, W, FH, FW, stride, pad)
    (2, 3, 7, 5, 3, 3, 1, 0),
    (1, 2, 7, 5, 3, 2, 2, 1),
    (2, 1, 7, 5, 2, 2, 3, 2),
    (1, 3, 5, 7, 1, 5, 1, 2),
])
def test_col2im_is_the_adjoint_of_im2col(case):
    # <im2col(x), c> == <x, col2im(c)> for every x and c
    N, C, H, W, FH, FW, stride, pad = case
    rng = np.random.default_rng(300 + sum(case))
    x = rng.standard_normal((N, C, H, W))
    col = kernels.im2col(x, FH, FW, stride, pad)
    OH, OW = (H + 2 * pad - FH) // stride + 1, (W + 2 * pad - FW) // stride + 1
    assert col.shape == (N * OH * OW, C * FH * FW)
    c = rng.standard_normal(col.shape)
    back = kernels.col2im(c, x.shape, FH, FW, stride, pad)
    assert back.shape == x.shape
    assert np.sum(col * c) == pytest.approx(np.sum(x * back), rel=1e-12)


# ---------------------------------------------------------------- adam_update

ADAM_SIZES = [(7,), (3, 5), (2 * adam.PIECE - 1,), (2 * adam.PIECE,), (3, 4320, 50),
              (2 * adam.PIECE + 123,)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", ADAM_SIZES)
def test_adam_update_equals_the_twin_bit_for_bit(shape, dtype):
    # several steps, so m and v are no longer zero; lr_t as Adam computes it, a Python float
    rng = np.random.default_rng(sum(shape))
    state = [rng.standard_normal(shape).astype(dtype) for _ in range(2)] + \
        [np.zeros(shape, dtype), np.zeros(shape, dtype)]
    fast_state = [a.copy() for a in state]
    for step in range(1, 4):
        grad = rng.standard_normal(shape).astype(dtype) * 10.0 ** -step
        lr_t = float(0.01 * np.sqrt(1 - 0.999 ** step) / (1 - 0.9 ** step))
        reference.adam_update(state[0], grad, state[2], state[3], lr_t, 0.9, 0.999)
        fast.adam_update(fast_state[0], grad, fast_state[2], fast_state[3], lr_t, 0.9, 0.999)
        for want, got in zip(state, fast_state, strict=True):
            assert got.dtype == dtype and got.shape == shape
            np.testing.assert_array_equal(got, want)
    assert not np.array_equal(state[0], state[1])  # the parameter moved


def test_adam_update_on_strided_or_mixed_arrays_takes_the_three_lines():
    rng = np.random.default_rng(1)
    n = 2 * adam.PIECE + 10
    base = rng.standard_normal(2 * n)
    param, expected = base[::2], base[::2].copy()  # a strided view, updated in place
    grad = rng.standard_normal(n)
    m, v = np.zeros(n), np.zeros(n)
    fast.adam_update(param, grad, m, v, 0.01, 0.9, 0.999)
    reference.adam_update(expected, grad, np.zeros(n), np.zeros(n), 0.01, 0.9, 0.999)
    np.testing.assert_array_equal(param, expected)
    np.testing.assert_array_equal(base[::2], expected)
    p32 = rng.standard_normal(n).astype(np.float32)  # a float64 gradient on float32 state
    want = p32.copy()
    m32, v32 = np.zeros(n, np.float32), np.zeros(n, np.float32)
    fast.adam_update(p32, grad, m32, v32, 0.01, 0.9, 0.999)
    reference.adam_update(want, grad, np.zeros(n, np.float32), np.zeros(n, np.float32), 0.01,
                          0.9, 0.999)
    np.testing.assert_array_equal(p32, want)


def test_adam_optimizer_runs_on_the_chosen_kernel(monkeypatch):
    from dlscratch.optim import Adam

    seen = []
    for label, module in (("fast", fast), ("reference", reference)):
        real = module.adam_update

        def spy(*args, _real=real, _label=label):
            seen.append(_label)
            return _real(*args)

        monkeypatch.setattr(module, "adam_update", spy)
    rng = np.random.default_rng(2)
    w0, g = rng.standard_normal((300, 300)), rng.standard_normal((300, 300))
    results = {}
    for name in ("fast", "reference"):
        w = {"W": w0.copy()}
        opt = Adam(lr=0.01)
        with kernels.use(name):
            for _ in range(3):
                opt.update(w, {"W": g})
        results[name] = w["W"]
    assert seen == ["fast"] * 3 + ["reference"] * 3
    np.testing.assert_array_equal(results["fast"], results["reference"])
