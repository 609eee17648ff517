"""Convolution layer (chapter 7) as im2col + one matrix product."""

from __future__ import annotations

import numpy as np

from dlscratch.init import init_weight
from dlscratch.layers.base import Layer, as_float_array
from dlscratch.layers.im2col import col2im_nhwc, conv_output_size, im2col_nhwc, pad_nhwc


class Convolution(Layer):
    """out[n, f] = sum_c W[f, c] * x[n, c] (cross-correlation) + b[f], with stride and padding.

    x: (N, C, H, W), W: (FN, C, FH, FW), b: (FN,), out: (N, FN, OH, OW) with
    OH = (H + 2*pad - FH) // stride + 1.
    Computed as col @ Wcol^T + b, col = im2col(x) of shape (N*OH*OW, FH*FW*C).
    Backward: dWcol = dout^T col, db = sum dout, dx = col2im(dout Wcol).

    Layout: the work is done channels-last (see im2col.py); the output is an (N, FN, OH, OW)
    view of channels-last memory, which the next conv or pooling layer reads without a copy.
    """

    param_names = ("W", "b")

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
        self.x_shape = x.shape
        xp = pad_nhwc(x.transpose(0, 2, 3, 1), self.pad)
        self.xp_shape = xp.shape
        self.col = im2col_nhwc(xp, self.W.shape[2], self.W.shape[3], self.stride)
        self.w_col = self.W.transpose(0, 2, 3, 1).reshape(FN, -1)
        out = self.col @ self.w_col.T
        out += self.b
        return out.reshape(N, out_h, out_w, FN).transpose(0, 3, 1, 2)

    def backward(self, dout):
        FN, C, FH, FW = self.W.shape
        dout2 = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.db = dout2.sum(axis=0)
        self.dW = np.ascontiguousarray(
            (dout2.T @ self.col).reshape(FN, FH, FW, C).transpose(0, 3, 1, 2))
        dxp = col2im_nhwc(dout2 @ self.w_col, self.xp_shape, FH, FW, self.stride)
        _, _, H, W = self.x_shape
        p = self.pad
        return dxp[:, p:p + H, p:p + W, :].transpose(0, 3, 1, 2)
