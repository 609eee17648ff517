"""The layer contract shared by every layer of the package.

    out = layer.forward(x, train_flg=True)   # caches what backward needs
    dx = layer.backward(dout)                # stores parameter gradients, returns dL/dx
    layer.params / layer.grads               # name -> array, e.g. {"W": ..., "b": ...}

As in the book, a parameter `W` has its gradient in the attribute `dW` (b -> db, gamma ->
dgamma, ...). Backward never updates a parameter: that is the optimizer's job.
"""

from __future__ import annotations

import copy

import numpy as np


class Layer:
    param_names: tuple[str, ...] = ()  # attributes holding trainable arrays
    buffer_names: tuple[str, ...] = ()  # non-trainable state saved with the model
    # True if backward accepts need_dx=False: parameter gradients only, dL/dx skipped (None).
    # A network asks it of its first layer, whose dL/dx (w.r.t. the images) no one uses.
    can_skip_dx: bool = False
    # True if, in training (inference) mode, each sample's output depends on that sample alone
    # and forward updates no state in place (no batch statistics, no random draws): a batch may
    # then be split into parts that run through replicas of the layer on separate threads
    # (`dlscratch.nets.data_parallel`). A loss layer says True if its loss is a mean over samples.
    independent_in_training: bool = False
    independent_in_inference: bool = False

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

    def replica(self) -> Layer:
        """A copy for another thread: it shares the parameter arrays but keeps its own cache
        of forward values (and its own gradients, which backward assigns anew)."""
        return copy.copy(self)

    def config(self) -> dict:
        """Constructor arguments other than arrays, JSON-ready (for saving the architecture)."""
        return {}

    @classmethod
    def from_config(cls, config: dict, arrays: dict[str, np.ndarray]) -> Layer:
        """Rebuild a layer from `config()` and its params/buffers (the inverse of saving)."""
        return cls(**arrays, **config)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}={v.shape}" for k, v in self.params.items())
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({', '.join(s for s in (shapes, args) if s)})"


def check_ndim(layer: Layer, x: np.ndarray, expected: str, ndims: tuple[int, ...]) -> None:
    """Raise ValueError naming the layer, the expected layout and the received shape."""
    if x.ndim not in ndims:
        raise ValueError(f"{layer.name}: expected input of shape {expected}, got {x.shape}")


def as_float_array(name: str, value, dtype=None) -> np.ndarray:
    """A float ndarray (a new array only when needed); ints and lists are accepted."""
    arr = np.asarray(value, dtype=dtype)
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if dtype is None and arr.dtype not in (np.float16, np.float32, np.float64):
        raise ValueError(f"{name}: unsupported dtype {arr.dtype}")
    return arr


def column_sum(a: np.ndarray) -> np.ndarray:
    """a.sum(axis=0) of a 2-D array, as a product with a vector of ones.

    For a tall, narrow array (N*H*W rows, one column per channel) BLAS does this ~9x faster
    than numpy's axis-0 reduction, which walks the array one short row at a time.
    """
    return np.ones(len(a), dtype=a.dtype) @ a
