"""Batch normalisation (chapter 6): normalise each feature over the mini-batch."""

from __future__ import annotations

import numpy as np

from dlscratch import kernels
from dlscratch.layers.base import Layer, as_float_array
from dlscratch.layers.registry import register


@register
class BatchNormalization(Layer):
    """y = gamma * xn + beta,  xn = (x - mu) / sqrt(var + eps),  mu, var over the mini-batch.

    Layouts: (N, D) with gamma (D,); on conv maps (N, C, H, W) gamma with C entries normalises
    per channel over N*H*W values (the modern convention, as in PyTorch), and gamma with C*H*W
    entries normalises per activation over N values (what the book's code does).
    At test time the running averages are used: running = momentum * running + (1 - momentum)
    * batch value (the biased batch variance, as in the book).
    Backward, n values per feature:
        dbeta = sum(dout),  dgamma = sum(dout * xn),
        dx = gamma / std * (dout - dbeta / n - xn * (dgamma / n))
    (the book's chain of dxn, dstd, dvar, dmu, collected into one line).
    """

    param_names = ("gamma", "beta")
    buffer_names = ("running_mean", "running_var")

    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None, eps=1e-6):
        super().__init__()
        self.gamma = as_float_array("BatchNormalization gamma", gamma).reshape(-1)
        self.beta = as_float_array("BatchNormalization beta", beta, self.gamma.dtype).reshape(-1)
        if self.beta.shape != self.gamma.shape:
            raise ValueError(
                f"BatchNormalization: gamma and beta must match, got {self.gamma.shape} "
                f"and {self.beta.shape}"
            )
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNormalization: momentum must be in [0, 1], got {momentum!r}")
        self.momentum, self.eps = float(momentum), float(eps)
        d, dtype = self.gamma.size, self.gamma.dtype
        self.running_mean = (np.zeros(d, dtype) if running_mean is None
                             else np.asarray(running_mean, dtype).reshape(d))
        self.running_var = (np.ones(d, dtype) if running_var is None
                            else np.asarray(running_var, dtype).reshape(d))
        self.dgamma = np.zeros_like(self.gamma)
        self.dbeta = np.zeros_like(self.beta)

    @classmethod
    def create(cls, size, momentum=0.9, dtype=np.float32):
        """gamma = 1, beta = 0 for `size` features (C for per-channel, D for (N, D))."""
        return cls(np.ones(size, dtype), np.zeros(size, dtype), momentum)

    def config(self):
        return {"momentum": self.momentum, "eps": self.eps}

    def forward(self, x, train_flg=True):
        self.input_shape = x.shape
        x = self.as_rows(x)
        if train_flg:
            n = len(x)
            mu = kernels.sum_rows(x) / n
            xc = x - mu
            var = kernels.sum_rows(xc * xc) / n
            return self.from_rows(self.normalize(xc, mu, var))
        xn = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
        return self.from_rows(self.gamma * xn + self.beta)

    def normalize(self, xc, mu, var):
        """Training, from the batch's mu and var: gamma * xn + beta with xn = xc / std (xc may
        be overwritten); the running averages move towards mu and var."""
        self.std = np.sqrt(var + self.eps)
        self.xn, y = kernels.bn_scale(xc, self.std, self.gamma, self.beta)
        m = self.momentum
        self.running_mean = m * self.running_mean + (1 - m) * mu
        self.running_var = m * self.running_var + (1 - m) * var
        return y

    def backward(self, dout):
        dout = self.as_rows(dout)
        self.dbeta = kernels.sum_rows(dout)
        self.dgamma = kernels.sum_rows(dout * self.xn)
        return self.from_rows(self.input_grad(dout, self.dbeta, self.dgamma, len(dout)))

    def input_grad(self, dout, dbeta, dgamma, n):
        """dx from the batch's sums dbeta and dgamma over its n values per feature."""
        return kernels.bn_input_grad(dout, self.xn, self.gamma, self.std, dbeta, dgamma, n)

    def as_rows(self, x):
        """x as (rows, features): the values each feature is normalised over are a column."""
        d = self.gamma.size
        if x.ndim == 4 and x.shape[1] == d:  # per channel: rows are the N*H*W positions
            return x.transpose(0, 2, 3, 1).reshape(-1, d)
        if x.ndim >= 2 and x[0].size == d:  # per activation (the book's layout on conv maps)
            return x.reshape(x.shape[0], d)
        raise ValueError(
            f"{self.name}: gamma has {d} entries, so expected input (N, {d}) or (N, {d}, H, W) "
            f"or (N, ...) with {d} values per sample, got {x.shape}"
        )

    def from_rows(self, y):
        """The inverse of as_rows, to the shape of the last forward's input."""
        shape = self.input_shape
        if len(shape) == 4 and shape[1] == self.gamma.size:
            n, c, h, w = shape
            return y.reshape(n, h, w, c).transpose(0, 3, 1, 2)
        return y.reshape(shape)
