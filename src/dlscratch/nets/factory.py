"""Build the course's networks by name, as the command line does."""

from __future__ import annotations

import numpy as np

from dlscratch.nets.conv_nets import DeepConvNet, SimpleConvNet
from dlscratch.nets.multi_layer import MultiLayerNetExtend
from dlscratch.nets.two_layer import TwoLayerNet

MODELS = ("two-layer", "multi-layer", "simple-cnn", "deep-cnn")
CONV_MODELS = ("simple-cnn", "deep-cnn")


def build_model(name: str, activation: str = "relu", dropout: float = 0.0,
                batchnorm: bool = False, weight_decay: float = 0.0, hidden: list[int] | None = None,
                weight_init: str | float | None = None, dtype=np.float32, seed: int | None = 0):
    """A course network for 28x28 single-channel images and 10 classes.

    two-layer: TwoLayerNet 784-hidden(50)-10, weight init std 0.01.
    multi-layer: MultiLayerNetExtend 784-[100]*5-10 (He init for ReLU, Xavier for sigmoid),
      with optional batch norm, dropout and weight decay.
    simple-cnn: SimpleConvNet (std 0.01). deep-cnn: DeepConvNet (He; dropout 0.5 unless given).
    Options a model does not have raise ValueError instead of being silently ignored.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}: use one of {', '.join(MODELS)}")
    unsupported = [flag for flag, used, allowed in (
        ("--batchnorm", batchnorm, ("multi-layer",)),
        ("--dropout", dropout, ("multi-layer", "deep-cnn")),
        ("--weight-decay", weight_decay, ("multi-layer",)),
        ("--activation", activation != "relu", ("two-layer", "multi-layer")),
        ("--hidden", hidden is not None, ("two-layer", "multi-layer", "simple-cnn", "deep-cnn")),
    ) if used and name not in allowed]
    if unsupported:
        raise ValueError(f"{', '.join(unsupported)} cannot be used with --model {name}")
    if hidden is not None and (len(hidden) == 0 or min(hidden) < 1):
        raise ValueError(f"--hidden sizes must be >= 1, got {list(hidden)}")
    if name == "two-layer":
        return TwoLayerNet(784, (hidden or [50])[0], 10, weight_init if weight_init is not None
                           else 0.01, activation, dtype, seed)
    if name == "multi-layer":
        init = weight_init if weight_init is not None else ("he" if activation == "relu"
                                                             else "xavier")
        return MultiLayerNetExtend(784, hidden or [100] * 5, 10, activation, init, weight_decay,
                                   use_dropout=dropout > 0, dropout_ratio=dropout or 0.5,
                                   use_batchnorm=batchnorm, dtype=dtype, seed=seed)
    if name == "simple-cnn":
        return SimpleConvNet(hidden_size=(hidden or [100])[0],
                             weight_init_std=weight_init if weight_init is not None else 0.01,
                             dtype=dtype, seed=seed)
    return DeepConvNet(hidden_size=(hidden or [50])[0], dropout_ratio=dropout or 0.5,
                       dtype=dtype, seed=seed)
