"""An ordered stack of layers with the book's naming of layers and parameters.

Layers are named by type and position (Affine1, Relu1, Affine2, ...) and parameters by their
name and a counter per name (W1, b1, gamma1, ... as in the book's networks). A layer that holds
its own stack (a Residual block) contributes its parameters prefixed with its name
("Residual1.W1").
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from dlscratch.layers.base import Layer


class LayerStack:
    def __init__(self, layers: list[Layer]):
        layers = list(layers)
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layer {i} must be a dlscratch Layer, got {type(layer).__name__}")
        self.layers = layers
        type_count: Counter = Counter()
        for layer in layers:
            type_count[type(layer).__name__] += 1
            layer.name = f"{type(layer).__name__}{type_count[type(layer).__name__]}"
        self.param_refs = self._refs("param_names")
        self.buffer_refs = self._refs("buffer_names")

    def _refs(self, kind: str) -> list[tuple[str, Layer, str]]:
        """(key, layer, attribute) for every parameter (or buffer) of the stack."""
        refs, count = [], Counter()
        for layer in self.layers:
            if hasattr(layer, "stack"):
                inner = layer.stack.param_refs if kind == "param_names" else layer.stack.buffer_refs
                refs += [(f"{layer.name}.{k}", owner, attr) for k, owner, attr in inner]
                continue
            for attr in getattr(layer, kind):
                count[attr] += 1
                refs.append((f"{attr}{count[attr]}", layer, attr))
        return refs

    def forward(self, x, train_flg=True):
        for layer in self.layers:
            x = layer.forward(x, train_flg)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {k: getattr(layer, attr) for k, layer, attr in self.param_refs}

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return {k: getattr(layer, "d" + attr) for k, layer, attr in self.param_refs}

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        return {k: getattr(layer, attr) for k, layer, attr in self.buffer_refs}

    def random_layers(self) -> list[Layer]:
        """Layers that draw random numbers (their `rng` is part of the training state)."""
        found = []
        for layer in self.layers:
            if hasattr(layer, "stack"):
                found += layer.stack.random_layers()
            elif hasattr(layer, "rng"):
                found.append(layer)
        return found


class CompositeLayer(Layer):
    """A layer made of other layers (Residual, Inception): it keeps them in `self.stack`,
    whose parameters, gradients and buffers are its own ("Residual1.W1" in a network)."""

    stack: LayerStack

    @property
    def params(self):
        return self.stack.params

    @property
    def grads(self):
        return self.stack.grads

    @property
    def buffers(self):
        return self.stack.buffers
