"""Fast convolution: channels-last columns built and multiplied a chunk of images at a time.

Same results as the book's im2col -> product -> reshape (`reference.conv2d`): the column order
is (kernel row, kernel column, channel) instead of (channel, kernel row, kernel column), and
the filters are laid out to match. Stride 1 goes kernel row by kernel row (`conv_rows`), which
copies a third as much. The chunks are independent, so dlscratch's threads share them; dW adds
the chunks' parts in chunk order. Backward rebuilds each chunk's columns rather than keeping a
whole batch's columns.
"""

from __future__ import annotations

import numpy as np

from dlscratch.kernels import conv_rows
from dlscratch.kernels.layout import (
    col2im_nhwc,
    im2col_nhwc,
    image_chunks,
    pad_nhwc,
    sum_in_order,
)
from dlscratch.kernels.pool import run_chunks

# Fewer input channels than this: im2col's single product is as fast as kernel rows, and with
# one channel faster (benchmarks/NOTES.md, round 5a).
ROW_MIN_CHANNELS = 8


def conv2d(x, W, b, stride=1, pad=0):
    """(N, C, H, W) * (FN, C, FH, FW) + b -> (N, FN, OH, OW), a view of channels-last memory."""
    FN, C, FH, FW = W.shape
    N, _, H, Wd = x.shape
    out_h, out_w = (H + 2 * pad - FH) // stride + 1, (Wd + 2 * pad - FW) // stride + 1
    out = np.empty((N, out_h, out_w, FN), dtype=np.result_type(x, W))
    if stride == 1 and FH > 1 and C >= ROW_MIN_CHANNELS:
        conv_rows.forward(x.transpose(0, 2, 3, 1), W, b, pad, out)
        return out.transpose(0, 3, 1, 2)
    w_col = W.transpose(0, 2, 3, 1).reshape(FN, -1)  # (FN, FH*FW*C)

    def chunk_forward(s):
        out_s = out[s].reshape(-1, FN)  # a view: out[s] is contiguous
        np.matmul(_col(x, s, FH, FW, stride, pad), w_col.T, out=out_s)
        out_s += b

    run_chunks(chunk_forward, image_chunks(N, out_h * out_w * w_col.shape[1] * x.itemsize))
    return out.transpose(0, 3, 1, 2)


def conv2d_backward(dout, x, W, stride=1, pad=0, need_dx=True):
    """(dx, dW, db) of conv2d; dx is None when need_dx is False.

    Stride 1 with pad < FH: dx as a convolution of dout with the flipped filters
    (`conv_rows.backward`). dW comes from dout's rows there too where dout is at most twice as
    wide as x (FN*H*W <= 2*C*OH*OW per image), else from x's columns; the choice depends on
    the shapes only, so dW has the same bits whether dx is wanted or not.
    """
    FN, C, FH, FW = W.shape
    dout = np.ascontiguousarray(dout.transpose(0, 2, 3, 1))  # (N, OH, OW, FN); usually no copy
    N, out_h, out_w, _ = dout.shape
    H, Wd = x.shape[2:]
    db = np.ones(N * out_h * out_w, dout.dtype) @ dout.reshape(-1, FN)  # sum over N, OH, OW
    flipped = stride == 1 and FH == FW and pad < FH
    dw_from_dout = flipped and FN * H * Wd <= 2 * C * out_h * out_w
    dx = dW = None
    if (flipped and need_dx) or dw_from_dout:
        dx, dW = conv_rows.backward(dout, x, W, pad, need_dx, dw_from_dout)
    if dW is None:
        dW = _weight_grad(dout, x, W, stride, pad)
    if need_dx and dx is None:
        dx = _input_grad(dout, x.shape, W, stride, pad)
    return (None if dx is None else dx.transpose(0, 3, 1, 2)), dW, db


def _col(x, s, FH, FW, stride, pad):
    """Fast im2col of the images s of x (N, C, H, W): padded, channels-last."""
    return im2col_nhwc(pad_nhwc(x[s].transpose(0, 2, 3, 1), pad), FH, FW, stride)


def _weight_grad(dout, x, W, stride, pad):
    """dW = sum over chunks of dout^T @ col(x), from dout (N, OH, OW, FN)."""
    FN, C, FH, FW = W.shape
    N, out_h, out_w, _ = dout.shape
    parts = run_chunks(lambda s: dout[s].reshape(-1, FN).T @ _col(x, s, FH, FW, stride, pad),
                       image_chunks(N, out_h * out_w * FH * FW * C * dout.itemsize))
    return np.ascontiguousarray(sum_in_order(parts).reshape(FN, FH, FW, C).transpose(0, 3, 1, 2))


def _input_grad(dout, x_shape, W, stride, pad):
    """dL/dx, channels-last (N, H, W, C), from dout (N, OH, OW, FN): any stride, the adjoint
    of im2col (FH*FW scatter-adds per chunk), cropped to x."""
    FN, C, FH, FW = W.shape
    N, _, H, Wd = x_shape
    dx = np.empty((N, H, Wd, C), dtype=np.result_type(dout, W))
    w_col = W.transpose(0, 2, 3, 1).reshape(FN, -1)

    def chunk_dx(s):
        n = s.stop - s.start
        dxp = col2im_nhwc(dout[s].reshape(-1, FN) @ w_col, (n, H + 2 * pad, Wd + 2 * pad, C),
                          FH, FW, stride)
        dx[s] = dxp[:, pad:pad + H, pad:pad + Wd, :]

    run_chunks(chunk_dx, image_chunks(N, dout[0].size * w_col.shape[1] * dout.itemsize))
    return dx
