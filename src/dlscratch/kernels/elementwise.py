"""Fast elementwise kernels and reductions."""

from __future__ import annotations

import numpy as np

_zeros = {}  # dtype -> a read-only array of zeros, grown as needed


def relu(x: np.ndarray) -> np.ndarray:
    """max(0, x), against an array of zeros laid out like x (numpy's SIMD loop takes two
    arrays; with the scalar 0 it is slower), so the output keeps x's memory order."""
    return np.maximum(x, zeros_like(x))


def zeros_like(x: np.ndarray) -> np.ndarray:
    """A read-only array of zeros of x's shape, dtype and memory order: a view of one shared
    buffer (untouched pages of np.zeros map to the kernel's zero page: no memory is used)."""
    zeros = _zeros.get(x.dtype)
    if zeros is None or zeros.size < x.size:
        zeros = np.zeros(max(x.size, 1 << 16), x.dtype)
        zeros.flags.writeable = False
        _zeros[x.dtype] = zeros
    if x.flags.c_contiguous:
        return zeros[:x.size].reshape(x.shape)
    memory_order = sorted(range(x.ndim), key=lambda axis: -abs(x.strides[axis]))  # outer first
    laid_out = zeros[:x.size].reshape([x.shape[axis] for axis in memory_order])
    return laid_out.transpose(np.argsort(memory_order))


def laid_out_like(a: np.ndarray, like: np.ndarray) -> np.ndarray:
    """a's values in the memory order of `like` (same shape): a itself if already so, else a
    copy. An elementwise product of two arrays laid out alike reads both in order."""
    if a.strides == like.strides and a.dtype == like.dtype:
        return a
    out = np.empty_like(like, dtype=a.dtype)  # like's memory order (order="K")
    np.copyto(out, a)
    return out


def sum_rows(a: np.ndarray) -> np.ndarray:
    """a.sum(axis=0) of a 2-D array as ones @ a: for a tall, narrow array (one row per pixel,
    one column per channel) BLAS is much faster than numpy's reduction along axis 0."""
    return np.ones(len(a), dtype=a.dtype) @ a
