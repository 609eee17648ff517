"""Affine (fully connected) and Flatten layers."""

from __future__ import annotations

import numpy as np

from dlscratch import kernels
from dlscratch.init import init_weight
from dlscratch.layers.base import Layer, as_float_array
from dlscratch.layers.registry import register


@register
class Affine(Layer):
    """y = x W + b.

    x: (N, D) or any (N, ...) with prod(...) = D (flattened in C order, restored in backward);
    W: (D, M), b: (M,), y: (N, M).
    dL/dx = dL/dy W^T,  dL/dW = x^T dL/dy,  dL/db = sum_n dL/dy.
    """

    param_names = ("W", "b")

    def __init__(self, W, b):
        super().__init__()
        self.W = as_float_array("Affine W", W)
        self.b = as_float_array("Affine b", b, self.W.dtype)
        if self.W.ndim != 2 or self.b.shape != (self.W.shape[1],):
            raise ValueError(
                f"Affine: W must be (D, M) and b (M,), got W {self.W.shape} and b {self.b.shape}"
            )
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)

    @classmethod
    def create(cls, input_size, output_size, weight_init_std=0.01, rng=None, dtype=np.float32):
        """A new layer with Gaussian W (see `dlscratch.init`) and zero b."""
        W = init_weight((input_size, output_size), weight_init_std, rng, dtype)
        return cls(W, np.zeros(output_size, dtype=dtype))

    def forward(self, x, train_flg=True):
        D = self.W.shape[0]
        if x.ndim < 2 or x[0].size != D:
            raise ValueError(
                f"{self.name}: expected input of shape (N, {D}) or (N, ...) with {D} features "
                f"per sample, got {x.shape}"
            )
        self.original_x_shape = x.shape
        self.x = x.reshape(x.shape[0], D)
        return np.dot(self.x, self.W) + self.b

    def backward(self, dout):
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        if not kernels.input_grad_wanted(self):  # a speed hint: no one reads this dx
            return None
        return np.dot(dout, self.W.T).reshape(self.original_x_shape)


@register
class Flatten(Layer):
    """(N, C, H, W) -> (N, C*H*W) in C order; backward restores the shape."""

    def forward(self, x, train_flg=True):
        self.original_x_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        return dout.reshape(self.original_x_shape)
