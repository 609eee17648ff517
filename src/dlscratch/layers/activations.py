"""Activation layers (chapter 5): ReLU and Sigmoid with their derivatives."""

from __future__ import annotations

import numpy as np

from dlscratch.functions import sigmoid
from dlscratch.layers.base import Layer


class Relu(Layer):
    """y = max(0, x);  dL/dx = dL/dy where x > 0, else 0."""

    independent_in_training = independent_in_inference = True

    def forward(self, x, train_flg=True):
        # max with an array of zeros, not with the scalar 0: numpy's SIMD loop takes two
        # arrays; with a scalar it is ~3x slower (benchmarks/NOTES.md)
        self.out = np.maximum(x, zeros_like(x))
        return self.out

    def backward(self, dout):
        return np.multiply(dout, self.out > 0)


_zeros = {}  # dtype -> a read-only array of zeros, grown as needed


def zeros_like(x: np.ndarray) -> np.ndarray:
    """A read-only array of zeros of x's shape, dtype and memory order (a channels-last conv
    output viewed as (N, C, H, W) gets zeros laid out the same way, so that max(x, zeros)
    walks both in memory order and keeps x's layout): a view of one shared buffer.
    (np.zeros maps untouched pages to the kernel's zero page: no memory is used by it.)"""
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


class Sigmoid(Layer):
    """y = 1 / (1 + exp(-x));  dL/dx = dL/dy * y * (1 - y)."""

    independent_in_training = independent_in_inference = True

    def forward(self, x, train_flg=True):
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out
