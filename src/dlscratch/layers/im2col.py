"""im2col / col2im: turn convolution into one matrix product.

Two versions of the same idea:
- `im2col` / `col2im` are the book's, in its column order (channel, kernel row, kernel column),
  kept for reading side by side with the book and as the reference in tests.
- `im2col_nhwc` / `col2im_nhwc` are what the layers use: the image is channels-last (N, H, W, C)
  and a column runs (kernel row, kernel column, channel), so every copy moves contiguous runs of
  C values and the product's output is already laid out as (N, OH, OW, FN) - no transposes.
  The layers call them on a few images at a time (`image_chunks`), so col stays in the cache.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from dlscratch.parallel import threads_here


def conv_output_size(input_size: int, filter_size: int, stride: int = 1, pad: int = 0) -> int:
    """OH = (H + 2*pad - FH) // stride + 1 (windows that do not fit are dropped, as in PyTorch)."""
    return (input_size + 2 * pad - filter_size) // stride + 1


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """(N, C, H, W) -> (N*OH*OW, C*FH*FW): one row per output position (the book's layout)."""
    N, C, H, W = input_data.shape
    out_h = conv_output_size(H, filter_h, stride, pad)
    out_w = conv_output_size(W, filter_w, stride, pad)
    img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w), dtype=input_data.dtype)
    for y in range(filter_h):
        for x in range(filter_w):
            col[:, :, y, x] = img[:, :, y:y + stride * out_h:stride, x:x + stride * out_w:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """The adjoint of `im2col`: add each column entry back to the pixel it was copied from."""
    N, C, H, W = input_shape
    out_h = conv_output_size(H, filter_h, stride, pad)
    out_w = conv_output_size(W, filter_w, stride, pad)
    col = col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=col.dtype)
    for y in range(filter_h):
        for x in range(filter_w):
            img[:, :, y:y + stride * out_h:stride, x:x + stride * out_w:stride] += col[:, :, y, x]
    return img[:, :, pad:H + pad, pad:W + pad]


# Layers work through a batch about this many bytes of col at a time (see `image_chunks`).
# Measured on a 2-core machine: 1-2 MB chunks make a DeepConvNet training step ~1.4x faster
# than one whole-batch col (~1.6x for inference at 1000 images); smaller chunks mean more,
# smaller matrix products, which costs more with several BLAS threads.
CHUNK_BYTES = 1 << 21


def image_chunks(n, bytes_per_image, chunk_bytes=None):
    """Slices covering range(n), each of as many images as fit in `chunk_bytes` (at least 1;
    default CHUNK_BYTES). With several dlscratch threads, the number of chunks is a multiple
    of the thread count (and the chunks as equal as can be), so no thread waits for another.

    A convolution's col for a whole batch is tens of MB; one chunk's stays in the CPU cache,
    so copying it and multiplying it is much faster (see Convolution).
    """
    chunk_bytes = CHUNK_BYTES if chunk_bytes is None else chunk_bytes
    step = max(1, chunk_bytes // max(1, bytes_per_image))
    threads = threads_here()
    if threads > 1:
        count = -(-n // step)  # chunks of `step` images (rounded up) ...
        count = min(n, -(-count // threads) * threads)  # ... to a multiple of the threads
        step = -(-n // count)
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


def pad_nhwc(x_nhwc, pad, value=0.0):
    """A C-contiguous copy of (N, H, W, C) with `pad` rows/columns of `value` on each side."""
    if pad == 0:
        return np.ascontiguousarray(x_nhwc)
    N, H, W, C = x_nhwc.shape
    xp = np.full((N, H + 2 * pad, W + 2 * pad, C), value, dtype=x_nhwc.dtype)
    xp[:, pad:pad + H, pad:pad + W, :] = x_nhwc
    return xp


def windows_nhwc(xp, filter_h, filter_w, stride):
    """A read-only strided view (N, OH, OW, FH, FW, C) of every window of xp: no copy."""
    N, Hp, Wp, C = xp.shape
    out_h = (Hp - filter_h) // stride + 1
    out_w = (Wp - filter_w) // stride + 1
    sn, sh, sw, sc = xp.strides
    return as_strided(xp, (N, out_h, out_w, filter_h, filter_w, C),
                      (sn, sh * stride, sw * stride, sh, sw, sc), writeable=False)


def im2col_nhwc(xp, filter_h, filter_w, stride=1):
    """Padded (N, Hp, Wp, C) -> (N*OH*OW, FH*FW*C), columns in (kernel row, column, channel)."""
    win = windows_nhwc(xp, filter_h, filter_w, stride)
    N, out_h, out_w = win.shape[:3]
    if xp.shape[3] == 1:
        # One channel (a network's input): a window row is only FW values, and copying window
        # by window is slow. Copy kernel offset by offset instead - FH*FW copies of whole image
        # rows - into the transposed layout, and return its transpose (a view: matmul takes it
        # as is). About 3x faster for MNIST's first conv.
        col_t = np.empty((filter_h, filter_w, N, out_h, out_w), dtype=xp.dtype)
        for i in range(filter_h):
            for j in range(filter_w):
                col_t[i, j] = win[:, :, :, i, j, 0]
        return col_t.reshape(filter_h * filter_w, -1).T
    return win.reshape(N * out_h * out_w, -1)


def col2im_nhwc(col, padded_shape, filter_h, filter_w, stride=1):
    """The adjoint of `im2col_nhwc`: (N*OH*OW, FH*FW*C) -> padded (N, Hp, Wp, C).

    FH*FW vectorised slice-adds: kernel offset (i, j) of every window lands on the pixels
    (i + stride*oh, j + stride*ow).
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
