"""Channels-last helpers for the fast kernels: padding, window views, im2col/col2im, chunks.

A fast column runs (kernel row, kernel column, channel) over a channels-last image (N, H, W, C),
so every copy moves contiguous runs of C values and a product's output is already laid out as
(N, OH, OW, FN). The kernels work through a batch a few images at a time (`image_chunks`), so
a chunk's columns stay in the CPU cache.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

# Bytes of columns per chunk (benchmarks/NOTES.md: chunk size).
CHUNK_BYTES = 1 << 21


def output_size(input_size: int, filter_size: int, stride: int = 1, pad: int = 0) -> int:
    """OH = (H + 2*pad - FH) // stride + 1 (windows that do not fit are dropped)."""
    return (input_size + 2 * pad - filter_size) // stride + 1


def image_chunks(n: int, bytes_per_image: int, chunk_bytes: int | None = None) -> list[slice]:
    """Slices covering range(n), each of as many images as fit in `chunk_bytes` (at least 1).

    The bounds depend on the sizes only, never on the thread count; more than one chunk is
    rounded up to an even count of near-equal chunks (so two threads share them evenly),
    unless that would exceed n (an odd n of one image per chunk stays odd).
    """
    chunk_bytes = CHUNK_BYTES if chunk_bytes is None else chunk_bytes
    count = -(-n // max(1, chunk_bytes // max(1, bytes_per_image)))
    if count > 1:
        count = min(n, count + count % 2)
    bounds = [n * i // max(count, 1) for i in range(count + 1)]
    return [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True) if hi > lo]


def sum_in_order(parts: list):
    """parts[0] + parts[1] + ... in list order, into parts[0] (chunk order: the same bits at
    any thread count)."""
    total = parts[0]
    for part in parts[1:]:
        total += part
    return total


def pad_nhwc(x_nhwc: np.ndarray, pad: int, value: float = 0.0) -> np.ndarray:
    """A C-contiguous copy of (N, H, W, C) with `pad` rows/columns of `value` on each side."""
    if pad == 0:
        return np.ascontiguousarray(x_nhwc)
    N, H, W, C = x_nhwc.shape
    xp = np.full((N, H + 2 * pad, W + 2 * pad, C), value, dtype=x_nhwc.dtype)
    xp[:, pad:pad + H, pad:pad + W, :] = x_nhwc
    return xp


def windows_nhwc(xp: np.ndarray, filter_h: int, filter_w: int, stride: int) -> np.ndarray:
    """A read-only strided view (N, OH, OW, FH, FW, C) of every window of xp: no copy."""
    N, Hp, Wp, C = xp.shape
    out_h = (Hp - filter_h) // stride + 1
    out_w = (Wp - filter_w) // stride + 1
    sn, sh, sw, sc = xp.strides
    return as_strided(xp, (N, out_h, out_w, filter_h, filter_w, C),
                      (sn, sh * stride, sw * stride, sh, sw, sc), writeable=False)


def im2col_nhwc(xp: np.ndarray, filter_h: int, filter_w: int, stride: int = 1) -> np.ndarray:
    """Padded (N, Hp, Wp, C) -> (N*OH*OW, FH*FW*C), columns in (kernel row, column, channel)."""
    win = windows_nhwc(xp, filter_h, filter_w, stride)
    N, out_h, out_w = win.shape[:3]
    if xp.shape[3] == 1:
        # One channel: a window row is only FW values and copying window by window is slow.
        # Copy kernel offset by offset (FH*FW copies of whole image rows) into the transposed
        # layout and return its transpose (a view that matmul takes as it is).
        col_t = np.empty((filter_h, filter_w, N, out_h, out_w), dtype=xp.dtype)
        for i in range(filter_h):
            for j in range(filter_w):
                col_t[i, j] = win[:, :, :, i, j, 0]
        return col_t.reshape(filter_h * filter_w, -1).T
    return win.reshape(N * out_h * out_w, -1)


def row_windows_nhwc(xp: np.ndarray, filter_w: int) -> np.ndarray:
    """Padded (N, Hp, Wp, C) -> a copy (N, Hp, OW, FW*C): in every image row, the FW pixels
    each output column sees (stride 1). A third of im2col's copy for a 3x3 filter."""
    N, Hp, Wp, C = xp.shape
    out_w = Wp - filter_w + 1
    sn, sh, sw, sc = xp.strides
    win = as_strided(xp, (N, Hp, out_w, filter_w, C), (sn, sh, sw, sw, sc), writeable=False)
    return np.ascontiguousarray(win).reshape(N, Hp, out_w, filter_w * C)


def kernel_row_views(rows: np.ndarray, filter_h: int) -> np.ndarray:
    """(N, Hp, OW, K) from `row_windows_nhwc` -> a read-only view (FH, N, OH*OW, K): for kernel
    row i, the rows i .. i+OH-1 of each image, one (OH*OW, K) matrix per image (no copy)."""
    N, Hp, out_w, K = rows.shape
    out_h = Hp - filter_h + 1
    sn, sh, sw, sk = rows.strides
    return as_strided(rows, (filter_h, N, out_h * out_w, K), (sh, sn, sw, sk), writeable=False)


def col2im_nhwc(col: np.ndarray, padded_shape: tuple, filter_h: int, filter_w: int,
                stride: int = 1) -> np.ndarray:
    """The adjoint of `im2col_nhwc`: (N*OH*OW, FH*FW*C) -> padded (N, Hp, Wp, C).

    Kernel offset (i, j) of every window lands on the pixels (i + stride*oh, j + stride*ow):
    FH*FW vectorised slice-adds.
    """
    N, Hp, Wp, C = padded_shape
    out_h = (Hp - filter_h) // stride + 1
    out_w = (Wp - filter_w) // stride + 1
    col6 = col.reshape(N, out_h, out_w, filter_h, filter_w, C)
    img = np.zeros(padded_shape, dtype=col.dtype)
    for i in range(filter_h):
        for j in range(filter_w):
            rows, cols = slice(i, i + stride * out_h, stride), slice(j, j + stride * out_w, stride)
            img[:, rows, cols, :] += col6[:, :, :, i, j, :]
    return img
