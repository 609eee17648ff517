"""Fast batch-norm steps over (rows, features) arrays: each step walks the rows in blocks small
enough to stay in the CPU cache, doing all its elementwise work on a block before the next, so
the big arrays cross memory once per step instead of once per NumPy operation. The blocks do
not depend on the thread count, so neither do the results.

    xc, sum_sq = bn_center(x, mu)                       # x - mu,  sum_rows((x - mu)^2)
    xn, y = bn_scale(xc, std, gamma, beta)              # xc / std,  gamma * xn + beta
    dbeta, dgamma = bn_grad_sums(dout, xn)              # sum_rows(dout),  sum_rows(dout * xn)
    dx = bn_input_grad(dout, xn, gamma, std, dbeta, dgamma, n)
       # = gamma / std * (dout - dbeta / n - xn * dgamma / n)
"""

from __future__ import annotations

import numpy as np

BLOCK_VALUES = 1 << 15  # values per block: a few such blocks fit in a core's L2 cache


def _blocks(a: np.ndarray):
    """Row slices of `a` (rows, features) of about BLOCK_VALUES values each."""
    step = max(1, BLOCK_VALUES // max(1, a.shape[1]))
    return [slice(start, start + step) for start in range(0, len(a), step)]


def bn_center(x, mu):
    """(x - mu, the column sums of its squares)."""
    xc = np.empty(x.shape, np.result_type(x, mu))
    sum_sq = np.zeros(x.shape[1], xc.dtype)
    for rows in _blocks(x):
        block = np.subtract(x[rows], mu, out=xc[rows])
        sum_sq += np.ones(len(block), xc.dtype) @ (block * block)
    return xc, sum_sq


def bn_scale(xc, std, gamma, beta):
    """(xn, y) = (xc / std, gamma * xn + beta); xn is written over xc."""
    xn = xc if xc.dtype == np.result_type(xc, std) else np.empty(xc.shape, np.result_type(xc, std))
    y = np.empty(xc.shape, np.result_type(xn, gamma, beta))
    for rows in _blocks(xc):
        np.divide(xc[rows], std, out=xn[rows])
        np.multiply(gamma, xn[rows], out=y[rows])
        y[rows] += beta
    return xn, y


def bn_grad_sums(dout, xn):
    """(sum_rows(dout), sum_rows(dout * xn))."""
    dtype = np.result_type(dout, xn)
    dbeta, dgamma = np.zeros(dout.shape[1], dtype), np.zeros(dout.shape[1], dtype)
    for rows in _blocks(dout):
        ones = np.ones(len(dout[rows]), dtype)
        dbeta += ones @ dout[rows]
        dgamma += ones @ (dout[rows] * xn[rows])
    return dbeta, dgamma


def bn_input_grad(dout, xn, gamma, std, dbeta, dgamma, n):
    """gamma / std * (dout - dbeta / n - xn * (dgamma / n))."""
    mean_dout, mean_dgamma, scale = dbeta / n, dgamma / n, gamma / std
    dx = np.empty(dout.shape, np.result_type(dout, xn, scale))
    for rows in _blocks(dout):
        block = np.subtract(dout[rows], mean_dout, out=dx[rows])
        block -= xn[rows] * mean_dgamma
        block *= scale
    return dx
