"""Activation layers (chapter 5): ReLU and Sigmoid with their derivatives."""

from __future__ import annotations

from dlscratch import kernels
from dlscratch.functions import sigmoid
from dlscratch.layers.base import Layer
from dlscratch.layers.registry import register


@register
class Relu(Layer):
    """y = max(0, x);  dL/dx = dL/dy where x > 0, else 0.  Any shape."""

    def forward(self, x, train_flg=True):
        self.out = kernels.relu(x)
        return self.out

    def backward(self, dout):
        return dout * (self.out > 0)


@register
class Sigmoid(Layer):
    """y = 1 / (1 + exp(-x));  dL/dx = dL/dy * y * (1 - y).  Any shape."""

    def forward(self, x, train_flg=True):
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out
