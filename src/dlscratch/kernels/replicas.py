"""One part of a batch through a replica of the layers: what a thread or a worker process runs.

    stack = replica(net.stack)                       # parameters shared, caches not
    stack = replica(net.stack, fuse=True)            # ... each Relu -> Pooling pair as one
    loss, grads = part_gradient(stack, loss_layer, x, t, part, draws)

Random layers (dropout) draw their numbers for the whole batch before the parts run, from the
layer's own generator with the same call as the serial forward (`draw_for_batch`); a part's
replica then reads its rows of those draws (`GivenDraws`). So the masks, and the generators'
states afterwards, are those of the serial run whatever the parts and whoever runs them.
"""

from __future__ import annotations

import copy

import numpy as np

from dlscratch.kernels.elementwise import laid_out_like
from dlscratch.kernels.hints import input_grad_unused
from dlscratch.layers import Affine, Convolution, LayerStack, Pooling, Relu, Residual
from dlscratch.layers.base import Layer

SKIPS_INPUT_GRAD = (Affine, Convolution)  # first layers that can skip dL/dx


def replica(stack: LayerStack, fuse=False) -> LayerStack:
    """The stack's layers copied for another thread: parameter arrays shared, caches not;
    with `fuse`, each top-level Relu followed by a Pooling becomes one `PooledRelu`."""
    layers = []
    for layer in stack.layers:
        twin = copy.copy(layer)
        if isinstance(layer, Residual):
            twin.stack = replica(layer.stack)
        if fuse and type(twin) is Pooling and layers and type(layers[-1]) is Relu:
            twin = PooledRelu(layers.pop(), twin)
        layers.append(twin)
    names = [layer.name for layer in layers]
    fused = LayerStack(layers)
    for layer, name in zip(layers, names, strict=True):
        layer.name = name  # the original layers' names, in messages
    return fused


class PooledRelu(Layer):
    """Relu then max Pooling, run as Pooling then Relu: the same outputs and gradients, with
    the ReLU on the pooled values (pool_h * pool_w times fewer).

    max(0, max_w x) = max_w max(0, x); going back, a window's gradient reaches its first
    maximum when that maximum is > 0 and is 0 otherwise, in both orders.
    """

    def __init__(self, relu: Relu, pool: Pooling):
        super().__init__()
        self.relu, self.pool = relu, pool
        self.name = f"{relu.name}+{pool.name}"

    def forward(self, x, train_flg=True):
        return self.relu.forward(self.pool.forward(x, train_flg), train_flg)

    def backward(self, dout):
        # dout (from the next layer, often channels-first) in the pooled values' memory order
        # (channels-last): the ReLU's mask product and the pooling's backward then read in order
        return self.pool.backward(self.relu.backward(laid_out_like(dout, self.relu.out)))


def first_skipping(stack: LayerStack):
    """The first layer if it can skip dL/dx (its dx would be the gradient of the images)."""
    first = stack.layers[0] if stack.layers else None
    return first if type(first) in SKIPS_INPUT_GRAD else None


def part_gradient(stack, loss_layer, x, t, part: slice, draws):
    """(N_p / N * L_p, grads) of the samples `part` of the batch (x, t), N = len(x).

    The backward starts from dL/dL_p = N_p / N, so the parts' gradients add up to the
    batch's; draws: for each random layer of the stack, its draws for the whole batch."""
    weight = (part.stop - part.start) / len(x)
    for layer, arrays in zip(stack.random_layers(), draws, strict=True):
        layer.rng = GivenDraws(arrays, part)
    loss = loss_layer.forward(stack.forward(x[part], True), t[part])
    with input_grad_unused(first_skipping(stack)):
        stack.backward(loss_layer.backward(weight))
    return loss * weight, stack.grads


class GivenDraws:
    """Stands for a layer's generator in one part: `random(shape, dtype)` hands out the part's
    rows of the next array drawn for the whole batch."""

    def __init__(self, arrays, part: slice):
        self._arrays = iter(arrays)
        self._part = part

    def random(self, shape, dtype=np.float64):
        rows = next(self._arrays)[self._part]
        if rows.shape != tuple(shape) or rows.dtype != np.dtype(dtype):
            raise RuntimeError(f"a random layer drew {tuple(shape)} {np.dtype(dtype)} where "
                               f"{rows.shape} {rows.dtype} was drawn for its part")
        return rows


class _DrawRecorder:
    """Stands for a layer's generator in a dry run: records the (per-sample shape, dtype) of
    each `random` call."""

    def __init__(self):
        self.calls = []

    def random(self, shape, dtype=np.float64):
        self.calls.append((tuple(shape[1:]), np.dtype(dtype).name))
        return np.ones(shape, dtype)


def draw_shapes(stack: LayerStack, sample_shape, dtype) -> list[list[tuple]]:
    """For each random layer, the (per-sample shape, dtype) of its draws in a training forward."""
    dry = replica(stack)
    recorders = []
    for layer in dry.random_layers():
        layer.rng = _DrawRecorder()
        recorders.append(layer.rng)
    dry.forward(np.zeros((1, *sample_shape), dtype), True)
    return [recorder.calls for recorder in recorders]


def draw_for_batch(stack: LayerStack, shapes, n: int, out=None) -> list[list[np.ndarray]]:
    """Each random layer's draws for a batch of n, from its own generator, as the serial
    forward makes them; into `out` (arrays of at least n rows, same layout) if given."""
    draws = []
    for i, (layer, calls) in enumerate(zip(stack.random_layers(), shapes, strict=True)):
        arrays = []
        for j, (shape, dtype) in enumerate(calls):
            a = layer.rng.random((n, *shape), dtype=np.dtype(dtype))
            if out is not None:
                out[i][j][:n] = a
                a = out[i][j][:n]
            arrays.append(a)
        draws.append(arrays)
    return draws
