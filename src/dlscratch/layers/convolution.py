"""Convolution layer (chapter 7): im2col turns the convolution into one matrix product."""

from __future__ import annotations

import numpy as np

from dlscratch import kernels
from dlscratch.init import init_weight
from dlscratch.layers.base import Layer, as_float_array
from dlscratch.layers.registry import register


def conv_output_size(input_size: int, filter_size: int, stride: int = 1, pad: int = 0) -> int:
    """OH = (H + 2*pad - FH) // stride + 1 (windows that do not fit are dropped, as in PyTorch)."""
    return (input_size + 2 * pad - filter_size) // stride + 1


@register
class Convolution(Layer):
    """out[n, f] = sum_c W[f, c] (*) x[n, c] + b[f] (cross-correlation), with stride and padding.

    x: (N, C, H, W), W: (FN, C, FH, FW), b: (FN,) (a scalar is one bias for every filter, as
    the book's `ch07/apply_filter.py` passes `b = 0`), out: (N, FN, OH, OW),
    OH = (H + 2*pad - FH) // stride + 1.
    As the book computes it: col = im2col(x) (N*OH*OW, C*FH*FW), out = col @ W.reshape(FN, -1).T
    + b, reshaped; backward: db = sum of dout, dW = col^T dout, dx = col2im(dout W).
    Both steps are one call into the kernel wing (`kernels.conv2d`, `kernels.conv2d_backward`),
    whose reference twin is exactly those lines.
    """

    param_names = ("W", "b")

    def __init__(self, W, b, stride=1, pad=0):
        super().__init__()
        self.W = as_float_array("Convolution W", W)
        self.b = as_float_array("Convolution b", b, self.W.dtype)
        if self.b.ndim == 0 and self.W.ndim == 4:  # one bias shared by every filter
            self.b = np.full(self.W.shape[0], self.b, dtype=self.W.dtype)
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
        self.output_shape(x.shape)
        self.x = x
        return kernels.conv2d(x, self.W, self.b, self.stride, self.pad)

    def backward(self, dout):
        dx, self.dW, self.db = kernels.conv2d_backward(
            dout, self.x, self.W, self.stride, self.pad,
            need_dx=kernels.input_grad_wanted(self))  # a speed hint: is dx read by anyone?
        return dx
