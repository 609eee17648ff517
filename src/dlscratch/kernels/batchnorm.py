"""Fast batch-norm steps over (rows, features) arrays: the elementwise work walks the rows in
blocks small enough to stay in the CPU cache, doing every operation on a block before the next,
so the big arrays cross memory once per step instead of once per NumPy operation. Every value
is computed by the same operations in the same order as the plain NumPy lines, so the results
are theirs bit for bit (the blocks do not depend on the thread count either).

    xn, y = bn_scale(xc, std, gamma, beta)              # xc / std,  gamma * xn + beta
    dx = bn_input_grad(dout, xn, gamma, std, dbeta, dgamma, n)
       # = gamma / std * (dout - dbeta / n - xn * (dgamma / n))
"""

from __future__ import annotations

import numpy as np

from dlscratch.kernels.layout import image_chunks

BLOCK_BYTES = 1 << 17  # a block of rows: a few such blocks fit in a core's L2 cache


def _blocks(a: np.ndarray) -> list[slice]:
    """Row slices of `a` (rows, features) of about BLOCK_BYTES each."""
    return image_chunks(len(a), a.shape[1] * a.itemsize, BLOCK_BYTES)


def bn_scale(xc, std, gamma, beta):
    """(xn, y) = (xc / std, gamma * xn + beta); xn is written over xc."""
    xn = xc if xc.dtype == np.result_type(xc, std) else np.empty(xc.shape, np.result_type(xc, std))
    y = np.empty(xc.shape, np.result_type(xn, gamma, beta))
    for rows in _blocks(xc):
        np.divide(xc[rows], std, out=xn[rows])
        np.multiply(gamma, xn[rows], out=y[rows])
        y[rows] += beta
    return xn, y


def bn_input_grad(dout, xn, gamma, std, dbeta, dgamma, n):
    """gamma / std * (dout - dbeta / n - xn * (dgamma / n))."""
    mean_dout, mean_dgamma, scale = dbeta / n, dgamma / n, gamma / std
    dx = None
    for rows in _blocks(dout):
        block = dout[rows] - mean_dout - xn[rows] * mean_dgamma  # the plain line's dtypes
        if dx is None:
            dx = np.empty(dout.shape, np.result_type(scale, block))
        np.multiply(scale, block, out=dx[rows])
    return dx if dx is not None else scale * (dout - mean_dout - xn * mean_dgamma)
