"""Inception block (GoogLeNet, chapter 8): parallel branches whose outputs are concatenated."""

from __future__ import annotations

import numpy as np

from dlscratch.layers.activations import Relu
from dlscratch.layers.convolution import Convolution
from dlscratch.layers.pooling import Pooling
from dlscratch.layers.registry import build_layer, layer_spec, register
from dlscratch.layers.stack import CompositeLayer, LayerStack


@register
class Inception(CompositeLayer):
    """y = concat over channels of B_1(x), ..., B_K(x): every branch B_k reads the same x.

    x: (N, C, H, W) -> y: (N, C_1 + ... + C_K, H, W); each branch must keep H and W (pad its
    convolutions: a 3x3 with pad 1, a 5x5 with pad 2, a 3x3 pool with stride 1 and pad 1).
    Backward: x feeds every branch, so dL/dx = sum_k dB_k/dx^T dL/dy_k, where dL/dy_k is the
    slice of dL/dy holding branch k's channels.
    Parameters are the branches', in order, named "Inception1.W1", ... inside a network.

        block = Inception.create(in_channels=8, c1=4, c3=8, c5=2, pool_proj=2, rng=rng)
        block.out_channels   # 4 + 8 + 2 + 2 = 16
    """

    def __init__(self, branches):
        super().__init__()
        branches = [list(branch) for branch in branches]
        if not branches or any(not branch for branch in branches):
            raise ValueError(f"Inception: needs at least one branch and a layer in each, got "
                             f"branch sizes {[len(b) for b in branches]}")
        self.branches = branches
        self.stack = LayerStack([layer for branch in branches for layer in branch])
        self.channels = None  # each branch's output channels, from the last forward

    @classmethod
    def create(cls, in_channels, c1, c3, c5, pool_proj, reduce3=0, reduce5=0,
               weight_init_std="he", rng=None, dtype=np.float32):
        """GoogLeNet's four branches: 1x1 conv; [1x1 reduce, ReLU,] 3x3 conv (pad 1);
        [1x1 reduce, ReLU,] 5x5 conv (pad 2); 3x3 max pool (stride 1, pad 1), 1x1 conv.
        reduce3/reduce5 = 0: no 1x1 reduction before the 3x3 / 5x5 convolution."""
        def conv(cin, cout, size):
            return Convolution.create(cin, cout, size, pad=size // 2,
                                      weight_init_std=weight_init_std, rng=rng, dtype=dtype)

        def reduced(reduce, cout, size):
            if reduce == 0:
                return [conv(in_channels, cout, size)]
            return [conv(in_channels, reduce, 1), Relu(), conv(reduce, cout, size)]

        return cls([[conv(in_channels, c1, 1)], reduced(reduce3, c3, 3), reduced(reduce5, c5, 5),
                    [Pooling(3, 3, stride=1, pad=1), conv(in_channels, pool_proj, 1)]])

    @property
    def out_channels(self) -> int:
        """The sum of the branches' output channels (each branch ends in a convolution)."""
        return sum(_last_conv(branch).W.shape[0] for branch in self.branches)

    def config(self):
        return {"branches": [[layer_spec(layer) for layer in branch]
                             for branch in self.branches]}

    @classmethod
    def from_config(cls, config, arrays, dtype=None):
        return cls([[build_layer(spec, dtype) for spec in branch]
                    for branch in config["branches"]])

    def forward(self, x, train_flg=True):
        outs = []
        for branch in self.branches:
            out = x
            for layer in branch:
                out = layer.forward(out, train_flg)
            outs.append(out)
        shapes = [o.shape[:1] + o.shape[2:] for o in outs]
        if len(set(shapes)) != 1:
            raise ValueError(f"{self.name}: every branch must give the same (N, H, W) to be "
                             f"concatenated, got {[o.shape for o in outs]}")
        self.channels = [o.shape[1] for o in outs]
        return np.concatenate(outs, axis=1)

    def backward(self, dout):
        dx = 0
        bounds = np.cumsum([0, *self.channels])
        for branch, start, stop in zip(self.branches, bounds[:-1], bounds[1:], strict=True):
            d = dout[:, start:stop]
            for layer in reversed(branch):
                d = layer.backward(d)
            dx = dx + d  # x went into every branch: the gradients add up
        return dx

    def __repr__(self):
        inner = "; ".join(", ".join(repr(layer) for layer in branch) for branch in self.branches)
        return f"Inception([{inner}])"


def _last_conv(branch):
    convs = [layer for layer in branch if isinstance(layer, Convolution)]
    if not convs:
        raise ValueError("Inception: out_channels needs a convolution in every branch")
    return convs[-1]
