"""Activation layers (chapter 5): ReLU and Sigmoid with their derivatives."""

from __future__ import annotations

import numpy as np

from dlscratch.functions import sigmoid
from dlscratch.layers.base import Layer


class Relu(Layer):
    """y = max(0, x);  dL/dx = dL/dy where x > 0, else 0."""

    def forward(self, x, train_flg=True):
        self.out = np.maximum(x, 0)
        return self.out

    def backward(self, dout):
        return np.multiply(dout, self.out > 0)


class Sigmoid(Layer):
    """y = 1 / (1 + exp(-x));  dL/dx = dL/dy * y * (1 - y)."""

    def forward(self, x, train_flg=True):
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out
