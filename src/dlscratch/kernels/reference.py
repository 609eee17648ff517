"""The reference twins: the book's plain NumPy for every fast kernel.

`DLSCRATCH_KERNELS=reference` (or `dlscratch.kernels.use("reference")`) runs the whole library
on these, so a learner can step through chapter 7 as the book writes it. The tests compare
every fast kernel with its twin here.
"""

from __future__ import annotations

import numpy as np


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """(N, C, H, W) -> (N*OH*OW, C*FH*FW): one row per output position, columns in (channel,
    kernel row, kernel column) order, as in the book."""
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w), dtype=input_data.dtype)
    for y in range(filter_h):
        for x in range(filter_w):
            col[:, :, y, x] = img[:, :, y:y + stride * out_h:stride, x:x + stride * out_w:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """The adjoint of `im2col`: each column entry is added back to the pixel it came from."""
    N, C, H, W = input_shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    col = col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=col.dtype)
    for y in range(filter_h):
        for x in range(filter_w):
            img[:, :, y:y + stride * out_h:stride, x:x + stride * out_w:stride] += col[:, :, y, x]
    return img[:, :, pad:H + pad, pad:W + pad]


def conv2d(x, W, b, stride=1, pad=0):
    """out = im2col(x) @ W.reshape(FN, -1).T + b, reshaped to (N, FN, OH, OW)."""
    FN, C, FH, FW = W.shape
    N, _, H, Wd = x.shape
    out_h, out_w = (H + 2 * pad - FH) // stride + 1, (Wd + 2 * pad - FW) // stride + 1
    col = im2col(x, FH, FW, stride, pad)
    col_W = W.reshape(FN, -1).T
    out = col @ col_W + b
    return out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)


def conv2d_backward(dout, x, W, stride=1, pad=0, need_dx=True):
    """dW = col^T dout, db = sum of dout, dx = col2im(dout W): returns (dx, dW, db)."""
    FN, C, FH, FW = W.shape
    dout = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
    col = im2col(x, FH, FW, stride, pad)
    db = np.sum(dout, axis=0)
    dW = (col.T @ dout).transpose(1, 0).reshape(FN, C, FH, FW)
    if not need_dx:
        return None, dW, db
    dcol = dout @ W.reshape(FN, -1)
    return col2im(dcol, x.shape, FH, FW, stride, pad), dW, db


def max_pool2d(x, pool_h, pool_w, stride, pad, train_flg=True):
    """Each window's maximum: im2col, one row per (position, channel), max of the row.
    Padding is -inf (never the maximum; the book pads with 0)."""
    N, C, H, W = x.shape
    xp = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], constant_values=-np.inf)
    out_h, out_w = (H + 2 * pad - pool_h) // stride + 1, (W + 2 * pad - pool_w) // stride + 1
    col = im2col(xp, pool_h, pool_w, stride, 0).reshape(-1, pool_h * pool_w)
    arg_max = np.argmax(col, axis=1)
    out = np.max(col, axis=1).reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)
    return out, PoolCache(arg_max, xp.shape, pool_h, pool_w, stride, pad)


def max_pool2d_backward(dout, cache):
    return cache.backward(dout)


class PoolCache:
    """What the book's Pooling.backward needs: each window's argmax and the input's shape."""

    def __init__(self, arg_max, padded_shape, pool_h, pool_w, stride, pad):
        self.arg_max, self.padded_shape = arg_max, padded_shape
        self.pool_h, self.pool_w, self.stride, self.pad = pool_h, pool_w, stride, pad

    def backward(self, dout):
        dout = dout.transpose(0, 2, 3, 1)
        pool_size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, pool_size), dtype=dout.dtype)
        dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()
        dcol = dmax.reshape(dout.shape[0] * dout.shape[1] * dout.shape[2], -1)
        dxp = col2im(dcol, self.padded_shape, self.pool_h, self.pool_w, self.stride, 0)
        p, (_, _, Hp, Wp) = self.pad, self.padded_shape
        return dxp[:, :, p:Hp - p, p:Wp - p]


def relu(x):
    """max(0, x)."""
    return np.maximum(x, 0)


def sum_rows(a):
    """a.sum(axis=0)."""
    return np.sum(a, axis=0)


def bn_scale(xc, std, gamma, beta):
    """(xn, y) = (xc / std, gamma * xn + beta)."""
    xn = xc / std
    return xn, gamma * xn + beta


def bn_input_grad(dout, xn, gamma, std, dbeta, dgamma, n):
    """gamma / std * (dout - dbeta / n - xn * (dgamma / n)): the book's chain of dxn, dstd, dvar
    and dmu collected into one line."""
    return gamma / std * (dout - dbeta / n - xn * (dgamma / n))


def adam_update(param, grad, m, v, lr_t, beta1, beta2):
    """Adam's step in place, the book's three lines."""
    m += (1 - beta1) * (grad - m)
    v += (1 - beta2) * (grad ** 2 - v)
    param -= lr_t * m / (np.sqrt(v) + 1e-7)
