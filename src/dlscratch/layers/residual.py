"""Residual block (the ResNet skip connection of chapter 8)."""

from __future__ import annotations

from dlscratch.layers.registry import build_layer, layer_spec, register
from dlscratch.layers.stack import CompositeLayer, LayerStack


@register
class Residual(CompositeLayer):
    """y = x + F(x), where F is a small stack of layers whose output has x's shape.

    Backward: dL/dx = dL/dy + dF/dx^T dL/dy - the identity path carries the gradient past F
    unchanged, which is why very deep stacks of these blocks still train.
    Parameters are F's, named "Residual1.W1", ... inside a network.
    """

    def __init__(self, layers):
        super().__init__()
        self.stack = LayerStack(layers)

    def config(self):
        return {"layers": [layer_spec(layer) for layer in self.stack.layers]}

    @classmethod
    def from_config(cls, config, arrays, dtype=None):
        return cls([build_layer(spec, dtype) for spec in config["layers"]])

    def forward(self, x, train_flg=True):
        fx = self.stack.forward(x, train_flg)
        if fx.shape != x.shape:
            raise ValueError(
                f"{self.name}: the inner layers must keep the input shape {x.shape}, "
                f"got {fx.shape}"
            )
        return x + fx

    def backward(self, dout):
        return dout + self.stack.backward(dout)

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.stack.layers)
        return f"Residual([{inner}])"
