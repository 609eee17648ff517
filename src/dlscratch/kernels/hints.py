"""Speed-only hints: facts a caller knows that let a kernel skip work.

The data-parallel wrapper knows that no one reads dL/dx of a network's first layer (x is the
batch of images) and says so; Affine and Convolution then skip that product, which costs as
much as their dW.
"""

from __future__ import annotations

import threading

_hint = threading.local()  # .no_input_grad: the layer whose dL/dx is not needed, or None


class input_grad_unused:  # noqa: N801 - used like a function: `with input_grad_unused(layer):`
    """Within the block, `input_grad_wanted(layer)` is False for this layer (this thread)."""

    def __init__(self, layer):
        self.layer = layer

    def __enter__(self):
        self.before = getattr(_hint, "no_input_grad", None)
        _hint.no_input_grad = self.layer

    def __exit__(self, *exc):
        _hint.no_input_grad = self.before


def input_grad_wanted(layer) -> bool:
    """False only inside `input_grad_unused(layer)` for this very layer."""
    return getattr(_hint, "no_input_grad", None) is not layer
