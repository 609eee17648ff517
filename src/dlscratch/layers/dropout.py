"""Dropout (chapter 6): randomly silence units in training to fight overfitting."""

from __future__ import annotations

import numpy as np

from dlscratch.layers.base import Layer
from dlscratch.layers.registry import register


@register
class Dropout(Layer):
    """Drop each unit with probability `dropout_ratio` in training.  Any shape.

    As the course teaches (default, `inverted=False`):
        training: y = x * mask            test: y = x * (1 - ratio)
    Inverted dropout, what modern frameworks do (`inverted=True`):
        training: y = x * mask / (1 - ratio)    test: y = x
    Both keep the expected activation the same in training and test. mask ~ Bernoulli(1 - ratio)
    is drawn from the layer's own generator `rng` (seeded by `seed`), so runs are repeatable.
    """

    def __init__(self, dropout_ratio=0.5, inverted=False, seed=None):
        super().__init__()
        if not 0.0 <= float(dropout_ratio) < 1.0:
            raise ValueError(f"Dropout: dropout_ratio must be in [0, 1), got {dropout_ratio!r}")
        self.dropout_ratio = float(dropout_ratio)
        self.inverted = bool(inverted)
        self.rng = np.random.default_rng(seed)

    def config(self):
        return {"dropout_ratio": self.dropout_ratio, "inverted": self.inverted}

    def forward(self, x, train_flg=True):
        keep = 1.0 - self.dropout_ratio
        if train_flg:
            self.mask = self.rng.random(x.shape, dtype=np.float32) >= self.dropout_ratio
            out = x * self.mask
            return out * x.dtype.type(1.0 / keep) if self.inverted else out
        return x if self.inverted else x * x.dtype.type(keep)

    def backward(self, dout):
        dx = dout * self.mask
        return dx * dout.dtype.type(1.0 / (1.0 - self.dropout_ratio)) if self.inverted else dx
