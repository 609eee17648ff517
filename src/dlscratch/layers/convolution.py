"""Convolution layer (chapter 7) as im2col + one matrix product."""

from __future__ import annotations

import numpy as np

from dlscratch.init import init_weight
from dlscratch.layers.base import Layer, as_float_array, column_sum
from dlscratch.layers.im2col import (
    col2im_nhwc,
    conv_output_size,
    im2col_nhwc,
    image_chunks,
    pad_nhwc,
)
from dlscratch.parallel import run_chunks


class Convolution(Layer):
    """out[n, f] = sum_c W[f, c] * x[n, c] (cross-correlation) + b[f], with stride and padding.

    x: (N, C, H, W), W: (FN, C, FH, FW), b: (FN,), out: (N, FN, OH, OW) with
    OH = (H + 2*pad - FH) // stride + 1.
    Computed as col @ Wcol^T + b, col = im2col(x) of shape (N*OH*OW, FH*FW*C).
    Backward: dWcol = dout^T col, db = sum dout, dx = col2im(dout Wcol) - or, for stride 1,
    the same dx as a "full" convolution of dout with the flipped filters (see `_input_grad`).

    Speed: the work is done channels-last (see im2col.py); the output is an (N, FN, OH, OW)
    view of channels-last memory, which the next conv or pooling layer reads without a copy.
    The batch is processed a few images at a time (`image_chunks`): a whole batch's col is
    tens of MB (45 MB for DeepConvNet's second conv), a chunk's stays in the CPU cache, which
    makes the copy and the product much faster. Backward rebuilds each chunk's col from the
    input (kept by reference) rather than keeping the big col: less memory, and no slower.
    The chunks are independent: with several dlscratch threads (`dlscratch.parallel`) they are
    shared among worker threads, and dW sums the chunks' parts in chunk order.
    """

    param_names = ("W", "b")
    independent_in_training = independent_in_inference = True

    def __init__(self, W, b, stride=1, pad=0):
        super().__init__()
        self.W = as_float_array("Convolution W", W)
        self.b = as_float_array("Convolution b", b, self.W.dtype)
        if self.W.ndim != 4 or self.b.shape != (self.W.shape[0],):
            raise ValueError(
                "Convolution: W must be (FN, C, FH, FW) and b (FN,), "
                f"got W {self.W.shape} and b {self.b.shape}"
            )
        if int(stride) != stride or stride < 1:
            raise ValueError(f"Convolution: stride must be an integer >= 1, got {stride!r}")
        if int(pad) != pad or pad < 0:
            raise ValueError(f"Convolution: pad must be an integer >= 0, got {pad!r}")
        self.stride, self.pad = int(stride), int(pad)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)

    @classmethod
    def create(cls, in_channels, filter_num, filter_size, stride=1, pad=0,
               weight_init_std=0.01, rng=None, dtype=np.float32):
        """A new layer with Gaussian W (fan-in C*FH*FW, see `dlscratch.init`) and zero b."""
        shape = (filter_num, in_channels, filter_size, filter_size)
        W = init_weight(shape, weight_init_std, rng, dtype)
        return cls(W, np.zeros(filter_num, dtype=dtype), stride, pad)

    def config(self):
        return {"stride": self.stride, "pad": self.pad}

    def output_shape(self, input_shape):
        """(N, C, H, W) -> (N, FN, OH, OW); ValueError if the input does not fit."""
        FN, C, FH, FW = self.W.shape
        if len(input_shape) != 4 or input_shape[1] != C:
            raise ValueError(
                f"{self.name}: expected input of shape (N, {C}, H, W), got {tuple(input_shape)}"
            )
        N, _, H, W = input_shape
        out_h = conv_output_size(H, FH, self.stride, self.pad)
        out_w = conv_output_size(W, FW, self.stride, self.pad)
        if out_h < 1 or out_w < 1:
            raise ValueError(
                f"{self.name}: a {FH}x{FW} filter with pad {self.pad} does not fit an input of "
                f"shape {tuple(input_shape)}"
            )
        return N, FN, out_h, out_w

    def forward(self, x, train_flg=True):
        N, FN, out_h, out_w = self.output_shape(x.shape)
        self.x = x  # for backward (a reference: nothing is copied)
        w_col = self.W.transpose(0, 2, 3, 1).reshape(FN, -1)  # (FN, FH*FW*C)
        out = np.empty((N, out_h, out_w, FN), dtype=np.result_type(x, self.W))

        def chunk_forward(s):
            out_s = out[s].reshape(-1, FN)  # a view: out[s] is contiguous
            np.matmul(self._col(s), w_col.T, out=out_s)
            out_s += self.b

        run_chunks(chunk_forward, image_chunks(N, out_h * out_w * w_col.shape[1] * x.itemsize))
        return out.transpose(0, 3, 1, 2)

    def _col(self, s):
        """im2col of the images s of the input: padded, channels-last, one chunk at a time."""
        xp = pad_nhwc(self.x[s].transpose(0, 2, 3, 1), self.pad)
        return im2col_nhwc(xp, self.W.shape[2], self.W.shape[3], self.stride)

    can_skip_dx = True  # backward(dout, need_dx=False) computes only dW and db

    def backward(self, dout, need_dx=True):
        FN, C, FH, FW = self.W.shape
        # (N, OH, OW, FN); no copy when dout is channels-last, as the layers here make it
        dout = np.ascontiguousarray(dout.transpose(0, 2, 3, 1))
        N, out_h, out_w, _ = dout.shape
        chunks = image_chunks(N, out_h * out_w * FH * FW * C * dout.itemsize)
        dw_col = sum(run_chunks(lambda s: dout[s].reshape(-1, FN).T @ self._col(s), chunks))
        self.dW = np.ascontiguousarray(dw_col.reshape(FN, FH, FW, C).transpose(0, 3, 1, 2))
        self.db = column_sum(dout.reshape(-1, FN))  # = sum over (N, OH, OW), but faster
        if not need_dx:
            return None
        return self._input_grad(dout).transpose(0, 3, 1, 2)

    def _input_grad(self, dout):
        """dL/dx, channels-last (N, H, W, C), from dout (N, OH, OW, FN)."""
        FN, C, FH, FW = self.W.shape
        N, _, H, W = self.x.shape
        dx = np.empty((N, H, W, C), dtype=np.result_type(dout, self.W))
        if self.stride == 1 and FH == FW and self.pad < FH:
            # With stride 1, x[y, x] met W[i, j] in output (y - i, x - j), so
            #   dx[n, y, x, c] = sum_{i, j, f} doutp[n, y + i, x + j, f] * W[f, c, FH-1-i, FW-1-j]
            # with doutp = dout padded by FH-1-pad: a convolution of dout with the flipped
            # filters, i.e. one im2col and one product instead of FH*FW scatter-adds (col2im).
            w_flip = self.W[:, :, ::-1, ::-1].transpose(2, 3, 0, 1).reshape(-1, C)  # (i, j, f)

            def chunk_dx(s):
                dcol = im2col_nhwc(pad_nhwc(dout[s], FH - 1 - self.pad), FH, FW)
                np.matmul(dcol, w_flip, out=dx[s].reshape(-1, C))

            run_chunks(chunk_dx, image_chunks(N, H * W * w_flip.shape[0] * dout.itemsize))
            return dx
        # Any stride: the adjoint of im2col, dxp = col2im(dout Wcol), cropped to x.
        w_col = self.W.transpose(0, 2, 3, 1).reshape(FN, -1)
        p = self.pad

        def chunk_dx(s):
            n = s.stop - s.start
            dxp = col2im_nhwc(dout[s].reshape(-1, FN) @ w_col, (n, H + 2 * p, W + 2 * p, C),
                              FH, FW, self.stride)
            dx[s] = dxp[:, p:p + H, p:p + W, :]

        run_chunks(chunk_dx, image_chunks(N, dout[0].size * w_col.shape[1] * dout.itemsize))
        return dx
