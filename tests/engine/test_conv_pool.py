"""Convolution, pooling and im2col (chapter 7): forward against naive loops and the book's
im2col path, backward against central differences, col2im as the adjoint of im2col."""

from __future__ import annotations

import numpy as np
import pytest

from dlscratch.kernels import col2im, im2col
from dlscratch.kernels.layout import col2im_nhwc, im2col_nhwc, pad_nhwc
from dlscratch.layers import Convolution, Pooling, conv_output_size

from ._helpers import distinct_values, layer_gradient_errors

TOL = 1e-6


# ---------------------------------------------------------------- references


def naive_conv(x, W, b, stride, pad):
    """Cross-correlation by four nested loops over (n, f, i, j)."""
    N, C, H, Wd = x.shape
    FN, _, FH, FW = W.shape
    xp = np.zeros((N, C, H + 2 * pad, Wd + 2 * pad))
    xp[:, :, pad:pad + H, pad:pad + Wd] = x
    OH = (H + 2 * pad - FH) // stride + 1
    OW = (Wd + 2 * pad - FW) // stride + 1
    out = np.zeros((N, FN, OH, OW))
    for n in range(N):
        for f in range(FN):
            for i in range(OH):
                for j in range(OW):
                    window = xp[n, :, i * stride:i * stride + FH, j * stride:j * stride + FW]
                    out[n, f, i, j] = np.sum(window * W[f]) + b[f]
    return out


def book_conv(x, W, b, stride, pad):
    """The book's Convolution.forward: im2col, one matrix product, reshape."""
    FN, _, FH, FW = W.shape
    N, _, H, Wd = x.shape
    OH = 1 + (H + 2 * pad - FH) // stride
    OW = 1 + (Wd + 2 * pad - FW) // stride
    col = im2col(x, FH, FW, stride, pad)
    col_W = W.reshape(FN, -1).T
    return (col @ col_W + b).reshape(N, OH, OW, -1).transpose(0, 3, 1, 2)


def _windows(x, ph, pw, stride, pad):
    """Yield (n, c, i, j, window, top, left) over every pooling window; padding is -inf."""
    N, C, H, W = x.shape
    xp = np.full((N, C, H + 2 * pad, W + 2 * pad), -np.inf)
    xp[:, :, pad:pad + H, pad:pad + W] = x
    OH = (H + 2 * pad - ph) // stride + 1
    OW = (W + 2 * pad - pw) // stride + 1
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    top, left = i * stride, j * stride
                    yield n, c, i, j, xp[n, c, top:top + ph, left:left + pw], top, left


def naive_pool(x, ph, pw, stride, pad):
    N, C, H, W = x.shape
    OH = (H + 2 * pad - ph) // stride + 1
    OW = (W + 2 * pad - pw) // stride + 1
    out = np.empty((N, C, OH, OW))
    for n, c, i, j, window, _, _ in _windows(x, ph, pw, stride, pad):
        out[n, c, i, j] = window.max()
    return out


def naive_pool_backward(x, dout, ph, pw, stride, pad):
    """Each window's gradient goes to its first maximum in row-major order."""
    N, C, H, W = x.shape
    dxp = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    for n, c, i, j, window, top, left in _windows(x, ph, pw, stride, pad):
        r, s = np.unravel_index(np.argmax(window), window.shape)  # argmax: first occurrence
        dxp[n, c, top + r, left + s] += dout[n, c, i, j]
    return dxp[:, :, pad:pad + H, pad:pad + W]


# ---------------------------------------------------------------- Convolution

CONV_CASES = [
    # (N, C, H, W, FN, FH, FW, stride, pad)
    pytest.param((2, 1, 5, 5, 2, 3, 3, 1, 0), id="stride1-pad0"),
    pytest.param((2, 3, 7, 6, 4, 3, 3, 2, 1), id="stride2-pad1"),
    pytest.param((1, 2, 6, 7, 3, 2, 3, 1, 0), id="non-square-filter"),
    pytest.param((2, 3, 5, 6, 2, 3, 2, 2, 2), id="non-square-stride2-pad2"),
    pytest.param((3, 4, 4, 4, 5, 1, 1, 1, 0), id="1x1"),
    pytest.param((1, 2, 8, 8, 2, 3, 3, 3, 0), id="stride3-uncovered-border"),
]


@pytest.mark.parametrize("case", CONV_CASES)
def test_convolution_forward_matches_naive_and_book(case):
    N, C, H, Wd, FN, FH, FW, stride, pad = case
    rng = np.random.default_rng(sum(case))
    x = rng.normal(size=(N, C, H, Wd))
    W = rng.normal(size=(FN, C, FH, FW))
    b = rng.normal(size=FN)
    layer = Convolution(W, b, stride=stride, pad=pad)
    out = layer.forward(x)
    expected = naive_conv(x, W, b, stride, pad)
    assert out.shape == (N, FN, conv_output_size(H, FH, stride, pad),
                         conv_output_size(Wd, FW, stride, pad))
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(book_conv(x, W, b, stride, pad), expected, rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("case", CONV_CASES)
def test_convolution_gradient(case):
    N, C, H, Wd, FN, FH, FW, stride, pad = case
    rng = np.random.default_rng(1000 + sum(case))
    layer = Convolution(rng.normal(size=(FN, C, FH, FW)), rng.normal(size=FN), stride, pad)
    errors = layer_gradient_errors(layer, rng.normal(size=(N, C, H, Wd)), rng)
    assert set(errors) == {"x", "W", "b"}
    assert max(errors.values()) < TOL


def test_convolution_output_feeds_the_next_layer():
    # The output is a view of channels-last memory; a second conv and a pool must read it.
    rng = np.random.default_rng(5)
    c1 = Convolution(rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3), pad=1)
    c2 = Convolution(rng.normal(size=(2, 3, 3, 3)), rng.normal(size=2), stride=2, pad=1)
    x = rng.normal(size=(2, 2, 6, 6))
    y1 = c1.forward(x)
    y2 = c2.forward(y1)
    np.testing.assert_allclose(y2, naive_conv(naive_conv(x, c1.W, c1.b, 1, 1), c2.W, c2.b, 2, 1),
                               rtol=1e-12, atol=1e-12)
    pool = Pooling(2, 2, stride=2)
    np.testing.assert_array_equal(pool.forward(y1), naive_pool(y1, 2, 2, 2, 0))


def test_convolution_keeps_float32():
    rng = np.random.default_rng(6)
    layer = Convolution.create(2, 3, 3, pad=1, rng=rng)
    assert layer.W.dtype == np.float32
    x = rng.normal(size=(2, 2, 5, 5)).astype(np.float32)
    out = layer.forward(x)
    assert out.dtype == np.float32
    dx = layer.backward(np.ones_like(out))
    assert dx.dtype == np.float32 and layer.dW.dtype == np.float32
    assert layer.dW.shape == layer.W.shape


# ---------------------------------------------------------------- Pooling

POOL_CASES = [
    # (N, C, H, W, pool_h, pool_w, stride, pad)
    pytest.param((2, 3, 4, 6, 2, 2, 2, 0), id="tiled-2x2"),
    pytest.param((1, 2, 5, 7, 2, 2, 2, 0), id="tiled-odd-sizes"),
    pytest.param((2, 2, 6, 6, 3, 3, 3, 0), id="tiled-3x3"),
    pytest.param((2, 2, 7, 7, 3, 3, 2, 0), id="pool3-stride2"),
    pytest.param((1, 3, 5, 4, 2, 2, 1, 0), id="pool2-stride1"),
    pytest.param((2, 2, 5, 5, 2, 2, 2, 1), id="pad1-odd"),
    pytest.param((1, 2, 7, 6, 3, 3, 2, 1), id="pool3-stride2-pad1"),
    pytest.param((2, 1, 6, 5, 2, 3, 1, 0), id="non-square-pool"),
]


@pytest.mark.parametrize("case", POOL_CASES)
def test_pooling_forward_matches_naive_max(case):
    N, C, H, W, ph, pw, stride, pad = case
    rng = np.random.default_rng(sum(case))
    x = rng.normal(size=(N, C, H, W))
    out = Pooling(ph, pw, stride=stride, pad=pad).forward(x)
    np.testing.assert_array_equal(out, naive_pool(x, ph, pw, stride, pad))


@pytest.mark.parametrize("case", POOL_CASES)
def test_pooling_gradient(case):
    N, C, H, W, ph, pw, stride, pad = case
    rng = np.random.default_rng(2000 + sum(case))
    x = distinct_values(rng, (N, C, H, W))
    layer = Pooling(ph, pw, stride=stride, pad=pad)
    errors = layer_gradient_errors(layer, x, rng)
    assert errors["x"] < TOL
    dout = rng.normal(size=layer.forward(x).shape)
    np.testing.assert_allclose(layer.backward(dout),
                               naive_pool_backward(x, dout, ph, pw, stride, pad), rtol=1e-14)


@pytest.mark.parametrize("case", POOL_CASES)
def test_pooling_ties_go_to_the_first_maximum(case):
    N, C, H, W, ph, pw, stride, pad = case
    rng = np.random.default_rng(3000 + sum(case))
    x = rng.integers(0, 3, size=(N, C, H, W)).astype(np.float64)  # many ties
    layer = Pooling(ph, pw, stride=stride, pad=pad)
    out = layer.forward(x)
    dout = rng.uniform(1, 2, size=out.shape)
    dx = layer.backward(dout)
    np.testing.assert_allclose(dx, naive_pool_backward(x, dout, ph, pw, stride, pad), rtol=1e-14)
    # Gradient is conserved: every window hands its dout to exactly one input.
    assert dx.sum() == pytest.approx(dout.sum(), rel=1e-12)


def test_pooling_all_equal_window_uses_top_left():
    x = np.ones((1, 1, 4, 4))
    layer = Pooling(2, 2, stride=2)
    layer.forward(x)
    dx = layer.backward(np.full((1, 1, 2, 2), 3.0))
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 3.0
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_pooling_padding_is_never_the_maximum():
    # All inputs negative: the book pads with 0, this package pads with -inf.
    x = -np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    out = Pooling(2, 2, stride=2, pad=1).forward(x)
    np.testing.assert_array_equal(out[0, 0], [[-1.0, -2.0], [-4.0, -5.0]])


def test_pooling_keeps_float32():
    x = np.random.default_rng(7).normal(size=(1, 2, 4, 4)).astype(np.float32)
    for layer in (Pooling(2, 2, 2), Pooling(3, 3, 1, 1)):
        out = layer.forward(x)
        assert out.dtype == np.float32
        assert layer.backward(np.ones_like(out)).dtype == np.float32


# ---------------------------------------------------------------- im2col / col2im

IM2COL_CASES = [
    # (N, C, H, W, FH, FW, stride, pad)
    (2, 3, 5, 5, 3, 3, 1, 0),
    (1, 2, 7, 6, 3, 2, 2, 1),
    (2, 1, 6, 6, 2, 2, 3, 0),
    (1, 3, 4, 5, 1, 3, 1, 2),
]


@pytest.mark.parametrize("case", IM2COL_CASES)
def test_col2im_is_the_adjoint_of_im2col(case):
    N, C, H, W, FH, FW, stride, pad = case
    rng = np.random.default_rng(sum(case))
    x = rng.normal(size=(N, C, H, W))
    col = im2col(x, FH, FW, stride, pad)
    OH, OW = conv_output_size(H, FH, stride, pad), conv_output_size(W, FW, stride, pad)
    assert col.shape == (N * OH * OW, C * FH * FW)
    c = rng.normal(size=col.shape)
    back = col2im(c, x.shape, FH, FW, stride, pad)
    assert back.shape == x.shape
    assert np.sum(col * c) == pytest.approx(np.sum(x * back), rel=1e-12)


@pytest.mark.parametrize("case", IM2COL_CASES)
def test_col2im_nhwc_is_the_adjoint_of_im2col_nhwc(case):
    N, C, H, W, FH, FW, stride, pad = case
    rng = np.random.default_rng(100 + sum(case))
    xp = rng.normal(size=(N, H + 2 * pad, W + 2 * pad, C))
    col = im2col_nhwc(xp, FH, FW, stride)
    OH, OW = conv_output_size(H, FH, stride, pad), conv_output_size(W, FW, stride, pad)
    assert col.shape == (N * OH * OW, FH * FW * C)
    c = rng.normal(size=col.shape)
    back = col2im_nhwc(c, xp.shape, FH, FW, stride)
    assert back.shape == xp.shape
    assert np.sum(col * c) == pytest.approx(np.sum(xp * back), rel=1e-12)


def test_im2col_rows_are_the_windows():
    x = np.arange(2 * 4 * 4, dtype=np.float64).reshape(1, 2, 4, 4)
    col = im2col(x, 3, 3, stride=1, pad=0)
    assert col.shape == (4, 18)
    np.testing.assert_array_equal(col[0], x[0, :, 0:3, 0:3].ravel())  # (channel, row, col)
    np.testing.assert_array_equal(col[3], x[0, :, 1:4, 1:4].ravel())
    col_nhwc = im2col_nhwc(pad_nhwc(x.transpose(0, 2, 3, 1), 0), 3, 3, 1)
    np.testing.assert_array_equal(col_nhwc[3], x[0, :, 1:4, 1:4].transpose(1, 2, 0).ravel())


def test_pad_nhwc():
    x = np.ones((1, 2, 2, 1))
    p = pad_nhwc(x, 1, value=-5.0)
    assert p.shape == (1, 4, 4, 1)
    assert p[0, 0, 0, 0] == -5.0 and p[0, 1, 1, 0] == 1.0
    assert p.sum() == 4 * 1.0 + 12 * -5.0
