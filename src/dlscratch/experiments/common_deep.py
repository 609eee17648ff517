"""Helpers shared by the "deeper networks" experiments (23-25): counting what a network holds
and does, from the layers the library builds.

    rows = layer_table(net, (1, 28, 28))   # per layer: name, output shape, params, mult-adds
    receptive_field([conv3, conv3])        # 5: the input window one output value sees
"""

from __future__ import annotations

import numpy as np

from dlscratch.layers import Affine, Convolution, Pooling


def param_count(layer) -> int:
    """Trained values (weights and biases) of a layer, a composite layer's inner ones too."""
    return sum(p.size for p in layer.params.values())


def receptive_field(layers) -> int:
    """The side of the input window that one output value depends on, for a stack of
    convolutions and poolings (other layers do not widen it):
    r = 1 + sum_i (k_i - 1) * (s_1 * ... * s_{i-1}), k the window, s the stride."""
    field, jump = 1, 1
    for layer in layers:
        if isinstance(layer, Convolution):
            size, stride = layer.W.shape[2], layer.stride
        elif isinstance(layer, Pooling):
            size, stride = layer.pool_h, layer.stride
        else:
            continue
        field += (size - 1) * jump
        jump *= stride
    return field


def multiply_adds(layer, out_shape) -> int:
    """Multiply-adds of one sample through a Convolution (each output value: C*FH*FW) or an
    Affine (in x out); 0 for layers without weights."""
    if isinstance(layer, Convolution):
        return layer.W.size * int(np.prod(out_shape[2:]))  # FN*C*FH*FW per output position
    if isinstance(layer, Affine):
        return layer.W.size
    return 0


def layer_table(net, input_shape) -> list[dict]:
    """One row per layer of `net`: its name, its output shape for one input of `input_shape`,
    its parameter count and its multiply-adds (a composite layer's: the sum of its inner
    layers', each measured on the shape it really gets)."""
    rows, x = [], np.zeros((1, *input_shape), dtype=net.dtype)
    for layer in net.stack.layers:
        out, macs = _forward_counting(layer, x)
        rows.append({"layer": layer.name, "output": list(out.shape[1:]),
                     "params": param_count(layer), "multiply_adds": macs})
        x = out
    return rows


def _forward_counting(layer, x):
    """(output, multiply-adds) of one layer on x, walking into composite layers."""
    if hasattr(layer, "branches"):  # Inception: every branch reads x
        outs, total = [], 0
        for branch in layer.branches:
            out = x
            for inner in branch:
                out, macs = _forward_counting(inner, out)
                total += macs
            outs.append(out)
        return np.concatenate(outs, axis=1), total
    if hasattr(layer, "stack"):  # Residual: y = x + F(x)
        out, total = x, 0
        for inner in layer.stack.layers:
            out, macs = _forward_counting(inner, out)
            total += macs
        return x + out, total
    out = layer.forward(x, train_flg=False)
    return out, multiply_adds(layer, out.shape)
