"""Stride-1 convolution kernel row by kernel row: a third of im2col's copying.

im2col copies every input pixel FH*FW times. Here each chunk of images is copied FW times
instead: rows = row_windows(x padded) (n, Hp, OW, FW*C) holds, for every image row, the FW
pixels each output column sees, and kernel row i multiplies a view of it, the image rows
i .. i+OH-1, with W's row i laid out (FW*C, FN):

    out[n] = sum_i rows[n, i:i+OH] @ W_i          (FH products per image, one matmul call)

The backward runs the same way on dout (dx is a convolution of dout with the flipped filters),
and the rows of dout can give dW too, so x's columns need not be built. Chunk bounds depend on the
shapes only and dW's parts are added in chunk order (the same bits at any thread count).
"""

from __future__ import annotations

import numpy as np

from dlscratch.kernels.layout import (
    image_chunks,
    kernel_row_views,
    pad_nhwc,
    row_windows_nhwc,
    sum_in_order,
)
from dlscratch.kernels.pool import run_chunks


def forward(x_nhwc, W, b, pad, out):
    """out (N, OH, OW, FN) = x (N, H, W, C) (*) W (FN, C, FH, FW) + b, stride 1."""
    FN, C, FH, FW = W.shape
    N, H, _, _ = x_nhwc.shape
    _, out_h, out_w, _ = out.shape
    w_rows = _kernel_rows(W)
    per_image = ((H + 2 * pad) * FW * C + FH * out_h * FN) * out_w * out.itemsize  # rows, parts

    def chunk(s):
        views = kernel_row_views(row_windows_nhwc(pad_nhwc(x_nhwc[s], pad), FW), FH)
        out_s = out[s].reshape(views.shape[1], -1, FN)
        np.sum(np.matmul(views, w_rows), axis=0, out=out_s)
        out_s += b

    run_chunks(chunk, image_chunks(N, per_image))


def backward(dout_nhwc, x, W, pad, need_dx, need_dW):
    """(dx (N, H, W, C) channels-last or None, dW or None) from dout (N, OH, OW, FN);
    FH == FW and pad < FH.

    x[y, x] met W[i, j] in output (y - i, x - j), so dx is the forward of dout padded by
    P = FH-1-pad with the flipped filters W'[c, f, i, j] = W[f, c, FH-1-i, FW-1-j]. With
    views_i (n, H*W, FW*FN) those products' left operands, sum_n views_i[n]^T @ x[n]
    (FW*FN, C) holds dW[f, c, FH-1-i, FW-1-j] in row (j, f).
    """
    FN, C, FH, FW = W.shape
    N, _, H, Wd = x.shape
    w_rows = _kernel_rows(W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))  # (FH, 1, FW*FN, C)
    dx = np.empty((N, H, Wd, C), dtype=np.result_type(dout_nhwc, W)) if need_dx else None
    x_nhwc = x.transpose(0, 2, 3, 1)
    per_image = ((H + FH - 1) * FW * FN + FH * H * C) * Wd * dout_nhwc.itemsize  # rows, parts

    def chunk(s):
        views = kernel_row_views(row_windows_nhwc(pad_nhwc(dout_nhwc[s], FH - 1 - pad), FW), FH)
        if need_dx:
            np.sum(np.matmul(views, w_rows), axis=0, out=dx[s].reshape(views.shape[1], -1, C))
        if need_dW:
            x_s = x_nhwc[s].reshape(views.shape[1], -1, C)  # (n, H*W, C); a view if channels-last
            return np.matmul(views.transpose(0, 1, 3, 2), x_s).sum(axis=1)  # (FH, FW*FN, C)
        return None

    parts = run_chunks(chunk, image_chunks(N, per_image))
    if not need_dW:
        return dx, None
    dw_flip = sum_in_order(parts).reshape(FH, FW, FN, C)[::-1, ::-1]
    return dx, np.ascontiguousarray(dw_flip.transpose(2, 3, 0, 1))


def _kernel_rows(W):
    """(FN, C, FH, FW) -> (FH, 1, FW*C, FN): row i of every filter as a (FW*C, FN) matrix."""
    FN, C, FH, FW = W.shape
    return W.transpose(2, 3, 1, 0).reshape(FH, 1, FW * C, FN)

