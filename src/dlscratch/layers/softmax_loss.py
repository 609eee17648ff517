"""Softmax followed by the cross-entropy loss: the output layer of every classifier here."""

from __future__ import annotations

import numpy as np

from dlscratch.layers.base import Layer
from dlscratch.layers.registry import register


@register
class SoftmaxWithLoss(Layer):
    """L = -(1/N) sum_n sum_k t_nk log softmax(x)_nk;  dL/dx = (softmax(x) - t) / N.

    x: scores (N, K). t: class indices (N,) (or a column of them, (N, 1), as some of the book's
    scripts pass) or one-hot / soft labels (N, K).
    The loss is computed as log-softmax (x - max - log sum exp), the exact value, so no
    1e-7 guard is needed and the gradient above is exact; `cross_entropy_error` keeps the
    course's guarded formula for probabilities.
    """

    def forward(self, x, t):
        if x.ndim != 2:
            raise ValueError(f"{self.name}: expected scores of shape (N, K), got {x.shape}")
        t = np.asarray(t)
        n, k = x.shape
        if t.shape == (n, 1) and k != 1:  # a column of class indices: the same labels
            t = t.reshape(n)
        # log softmax(x) = shifted - log(sum exp(shifted)), shifted = x - max: no overflow,
        # no log(0); exp is taken once and gives the softmax too.
        shifted = x - x.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        sum_e = e.sum(axis=1, keepdims=True)
        self.y = e / sum_e
        log_sum_e = np.log(sum_e)
        if t.shape == x.shape:
            self.t = t.astype(x.dtype, copy=False)
            self.loss = float(-(self.t * (shifted - log_sum_e)).sum() / n)
        elif t.shape == (n,) and np.issubdtype(t.dtype, np.integer):
            if n and (t.min() < 0 or t.max() >= k):
                raise ValueError(f"{self.name}: labels must lie in [0, {k}), got values in "
                                 f"[{t.min()}, {t.max()}]")
            self.t = t
            self.loss = float(-(shifted[np.arange(n), t] - log_sum_e[:, 0]).sum() / n)
        else:
            raise ValueError(
                f"{self.name}: labels must be integer indices of shape ({n},) or one-hot of "
                f"shape {x.shape}, got shape {t.shape} dtype {t.dtype}"
            )
        return self.loss

    def backward(self, dout=1.0):
        n = self.y.shape[0]
        if self.t.shape == self.y.shape:
            dx = self.y - self.t
        else:
            dx = self.y.copy()
            dx[np.arange(n), self.t] -= 1
        dx *= dout / n
        return dx
