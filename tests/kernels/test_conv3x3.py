"""Stride-1 convolution by kernel rows (`conv_rows`), forward and backward (dx and dW from dout's
rows): against the reference twin in float32 and float64, against central differences, the
same bits with and without dx and at 1 and 3 threads, and which layers take it."""

from __future__ import annotations

import numpy as np
import pytest

from dlscratch import kernels
from dlscratch.gradient import numerical_gradient
from dlscratch.kernels import conv, conv_rows, fast, layout, reference

from ._helpers import assert_twins

FLOAT32_RTOL = 1e-5  # max |fast - twin| <= FLOAT32_RTOL * max |twin| in float32

CASES = [
    # (N, C, H, W, FN, F, stride, pad)
    pytest.param((3, 16, 8, 8, 16, 3, 1, 1), id="deep-conv2-like"),
    pytest.param((2, 16, 7, 7, 32, 3, 1, 1), id="fn-twice-c-odd"),
    pytest.param((2, 32, 6, 6, 32, 3, 1, 2), id="pad2-grows"),
    pytest.param((1, 5, 7, 5, 3, 3, 1, 0), id="batch1-pad0"),
    pytest.param((3, 4, 5, 9, 2, 5, 1, 2), id="5x5-pad2"),
    pytest.param((2, 3, 5, 4, 6, 1, 1, 0), id="1x1"),
    pytest.param((4, 1, 7, 5, 4, 3, 1, 1), id="c1-x-columns"),
    pytest.param((3, 3, 7, 5, 1, 3, 1, 1), id="one-filter"),
    pytest.param((3, 4, 9, 7, 4, 3, 2, 1), id="stride2-fallback"),
    pytest.param((2, 4, 7, 7, 4, 3, 1, 3), id="pad-ge-filter-fallback"),
    pytest.param((3, 8, 9, 5, 5, 3, 1, 0), id="c8-odd-pad0"),
    pytest.param((1, 9, 6, 7, 4, 5, 1, 2), id="c9-batch1-5x5-pad2"),
    pytest.param((2, 8, 5, 5, 3, 2, 1, 1), id="c8-2x2-pad1"),
    pytest.param((2, 12, 7, 6, 3, 3, 2, 1), id="c12-stride2-fallback"),
]


def _inputs(case, dtype):
    N, C, H, Wd, FN, F, stride, pad = case
    rng = np.random.default_rng(sum(case))
    OH, OW = (H + 2 * pad - F) // stride + 1, (Wd + 2 * pad - F) // stride + 1
    x = rng.standard_normal((N, H, Wd, C)).transpose(0, 3, 1, 2)  # channels-last, as in a net
    W, dout = rng.standard_normal((FN, C, F, F)), rng.standard_normal((N, FN, OH, OW))
    return x.astype(dtype), W.astype(dtype), dout.astype(dtype)


def _by_kernel_rows(case) -> bool:
    N, C, H, Wd, FN, F, stride, pad = case
    return stride == 1 and F > 1 and C >= conv.ROW_MIN_CHANNELS


def _from_dout_columns(case) -> bool:
    N, C, H, Wd, FN, F, stride, pad = case
    OH, OW = (H + 2 * pad - F) // stride + 1, (Wd + 2 * pad - F) // stride + 1
    return stride == 1 and pad < F and FN * H * Wd <= 2 * C * OH * OW


def _assert_near_twin(got, want, dtype, name):
    assert got.dtype == dtype and got.shape == want.shape, name
    if dtype == np.float64:
        assert_twins(got, want, name)
    else:
        err, scale = np.abs(got - want).max(), np.abs(want).max()
        assert err <= FLOAT32_RTOL * scale, f"{name}: {err:.3g} vs scale {scale:.3g}"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES)
def test_forward_equals_the_twin_with_the_same_bits_at_1_and_3_threads(case, dtype,
                                                                      monkeypatch):
    x, W, _ = _inputs(case, dtype)
    b = np.linspace(-1, 1, W.shape[0]).astype(dtype)
    stride, pad = case[-2:]
    monkeypatch.setattr(layout, "CHUNK_BYTES", 1)  # one image per chunk
    calls = []
    real = conv_rows.forward
    monkeypatch.setattr(conv_rows, "forward", lambda *a: calls.append(1) or real(*a))
    with kernels.threads(1):
        out = fast.conv2d(x, W, b, stride, pad)
    with kernels.threads(3):
        assert np.array_equal(fast.conv2d(x, W, b, stride, pad), out)
    assert bool(calls) == _by_kernel_rows(case)
    want = reference.conv2d(x.astype(np.float64), W.astype(np.float64), b.astype(np.float64),
                            stride, pad)
    _assert_near_twin(out, want, dtype, "out")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES)
def test_backward_equals_the_twin(case, dtype):
    x, W, dout = _inputs(case, dtype)
    stride, pad = case[-2:]
    dx, dW, db = fast.conv2d_backward(dout, x, W, stride, pad)
    x64, W64, dout64 = (a.astype(np.float64) for a in (x, W, dout))
    twins = reference.conv2d_backward(dout64, x64, W64, stride, pad)
    for name, got, want in zip(("dx", "dW", "db"), (dx, dW, db), twins, strict=True):
        _assert_near_twin(got, want, dtype, name)


@pytest.mark.parametrize("case", CASES)
def test_dW_has_the_same_bits_with_and_without_dx_at_1_and_3_threads(case, monkeypatch):
    x, W, dout = _inputs(case, np.float32)
    stride, pad = case[-2:]
    monkeypatch.setattr(layout, "CHUNK_BYTES", 1)  # one image per chunk: several dW parts
    calls = []
    real = conv_rows.backward
    monkeypatch.setattr(conv_rows, "backward",
                        lambda *a: calls.append(a[-1]) or real(*a))
    results = []
    for n in (1, 3):
        with kernels.threads(n):
            results.append(fast.conv2d_backward(dout, x, W, stride, pad))
            results.append(fast.conv2d_backward(dout, x, W, stride, pad, need_dx=False))
    assert results[1][0] is None and results[3][0] is None
    for other in results[1:]:
        assert np.array_equal(other[1], results[0][1]) and np.array_equal(other[2], results[0][2])
    assert np.array_equal(results[2][0], results[0][0])
    # dW from dout's columns exactly where the shape rule says so, dx wanted or not
    assert (True in calls) == _from_dout_columns(case)
    if not _from_dout_columns(case):
        assert calls == ([False, False] if stride == 1 and pad < case[5] else [])


def test_deep_conv_net_layers_take_kernel_rows_except_the_first():
    # DeepConvNet's convolutions (C, H, FN, pad): the first has one channel, so im2col is
    # faster forward, and its x columns (9 per pixel) are far narrower than dout's (9 * 16)
    layers = [(1, 28, 16, 1), (16, 28, 16, 1), (16, 14, 32, 1), (32, 14, 32, 2),
              (32, 8, 64, 1), (64, 8, 64, 1)]
    cases = [(2, c, h, h, fn, 3, 1, p) for c, h, fn, p in layers]
    assert [_by_kernel_rows(case) for case in cases] == [False] + [True] * 5
    assert [_from_dout_columns(case) for case in cases] == [False] + [True] * 5


@pytest.mark.parametrize("channels", [3, 8])  # 8: the forward by kernel rows too
@pytest.mark.parametrize("pad", [0, 1, 2])
def test_gradients_equal_central_differences(pad, channels):
    rng = np.random.default_rng(pad)
    x = rng.standard_normal((2, channels, 5, 4))
    W, b = rng.standard_normal((4, channels, 3, 3)), rng.standard_normal(4)
    weights = rng.standard_normal(fast.conv2d(x, W, b, 1, pad).shape)

    def loss(_):
        return float(np.sum(fast.conv2d(x, W, b, 1, pad) * weights))

    dx, dW, db = fast.conv2d_backward(weights, x, W, 1, pad)
    np.testing.assert_allclose(dx, numerical_gradient(loss, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dW, numerical_gradient(loss, W), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(db, numerical_gradient(loss, b), rtol=1e-6, atol=1e-8)
