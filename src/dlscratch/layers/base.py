"""The layer contract shared by every layer of the package.

    out = layer.forward(x, train_flg=True)   # caches what backward needs
    dx = layer.backward(dout)                # stores parameter gradients, returns dL/dx
    layer.params / layer.grads               # name -> array, e.g. {"W": ..., "b": ...}
    layer.config()                           # constructor arguments, for saving

As in the book, a parameter `W` has its gradient in the attribute `dW` (b -> db, gamma ->
dgamma, ...). Backward never updates a parameter: that is the optimizer's job.
"""

from __future__ import annotations

import numpy as np


class Layer:
    param_names: tuple[str, ...] = ()  # attributes holding trainable arrays
    buffer_names: tuple[str, ...] = ()  # non-trainable state saved with the model

    def __init__(self) -> None:
        self.name = type(self).__name__

    def forward(self, x: np.ndarray, train_flg: bool = True) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {n: getattr(self, n) for n in self.param_names}

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return {n: getattr(self, "d" + n) for n in self.param_names}

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        return {n: getattr(self, n) for n in self.buffer_names}

    def config(self) -> dict:
        """Constructor arguments other than arrays, JSON-ready (for saving the architecture)."""
        return {}

    @classmethod
    def from_config(cls, config: dict, arrays: dict[str, np.ndarray], dtype=None) -> Layer:
        """Rebuild a layer from `config()` and its params/buffers (the inverse of saving)."""
        return cls(**arrays, **config)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}={v.shape}" for k, v in self.params.items())
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({', '.join(s for s in (shapes, args) if s)})"


def as_float_array(name: str, value, dtype=None) -> np.ndarray:
    """A float ndarray (a new array only when needed); ints and lists are accepted."""
    arr = np.asarray(value, dtype=dtype)
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if dtype is None and arr.dtype not in (np.float16, np.float32, np.float64):
        raise ValueError(f"{name}: unsupported dtype {arr.dtype}")
    return arr
