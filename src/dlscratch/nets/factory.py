"""Build the course's networks by name, as the command line does.

Errors name this module's Python arguments (`batchnorm=True cannot be used with
model='simple-cnn'`); the command line says its own flags instead (`--batchnorm ...`).
"""

from __future__ import annotations

import numpy as np

from dlscratch.nets.conv_nets import DeepConvNet, SimpleConvNet
from dlscratch.nets.multi_layer import MultiLayerNetExtend
from dlscratch.nets.recipe_nets import bn_cnn, fast_cnn, record_cnn
from dlscratch.nets.two_layer import TwoLayerNet

MODELS = ("two-layer", "multi-layer", "simple-cnn", "deep-cnn", "fast-cnn", "bn-cnn",
          "record-cnn")
CONV_MODELS = ("simple-cnn", "deep-cnn", "fast-cnn", "bn-cnn", "record-cnn")
# option -> the models that have it (every model has `hidden`: its hidden layer sizes)
MODEL_OPTIONS = {"batchnorm": ("multi-layer",),
                 "dropout": ("multi-layer", "deep-cnn", "bn-cnn", "record-cnn"),
                 "weight_decay": ("multi-layer",), "activation": ("two-layer", "multi-layer")}


def check_model_options(model: str, activation: str = "relu", dropout: float = 0.0,
                        batchnorm: bool = False, weight_decay: float = 0.0,
                        hidden: list[int] | None = None) -> None:
    """ValueError naming the arguments if `model` is unknown, lacks an option that is set
    (anything but its default), or `hidden` holds a size < 1."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(map(repr, MODELS))}, got {model!r}")
    used = {"batchnorm": batchnorm, "dropout": dropout, "weight_decay": weight_decay,
            "activation": activation if activation != "relu" else None}
    unsupported = [f"{option}={value!r}" for option, value in used.items()
                   if value and model not in MODEL_OPTIONS[option]]
    if unsupported:
        raise ValueError(f"{', '.join(unsupported)} cannot be used with model={model!r}")
    if hidden is not None and (len(hidden) == 0 or min(hidden) < 1):
        raise ValueError(f"hidden sizes must be >= 1, got {list(hidden)}")


def build_model(model: str, activation: str = "relu", dropout: float = 0.0,
                batchnorm: bool = False, weight_decay: float = 0.0, hidden: list[int] | None = None,
                weight_init: str | float | None = None, dtype=np.float32, seed: int | None = 0):
    """A course network for 28x28 single-channel images and 10 classes.

    two-layer: TwoLayerNet 784-hidden(50)-10, weight init std 0.01.
    multi-layer: MultiLayerNetExtend 784-[100]*5-10 (He init for ReLU, Xavier for sigmoid),
      with optional batch norm, dropout and weight decay.
    simple-cnn: SimpleConvNet (std 0.01). deep-cnn: DeepConvNet (He; dropout 0.5 unless given).
    fast-cnn, bn-cnn (dropout 0.25 unless given), record-cnn (dropout 0.4 unless given): the
    training recipes' networks (nets.recipe_nets).
    Options a model does not have raise ValueError instead of being silently ignored
    (see `check_model_options`).

        net = build_model("multi-layer", batchnorm=True, hidden=[50, 50])
    """
    check_model_options(model, activation, dropout, batchnorm, weight_decay, hidden)
    if model == "two-layer":
        return TwoLayerNet(784, (hidden or [50])[0], 10, weight_init if weight_init is not None
                           else 0.01, activation, dtype, seed)
    if model == "multi-layer":
        init = weight_init if weight_init is not None else ("he" if activation == "relu"
                                                             else "xavier")
        return MultiLayerNetExtend(784, hidden or [100] * 5, 10, activation, init, weight_decay,
                                   use_dropout=dropout > 0, dropout_ratio=dropout or 0.5,
                                   use_batchnorm=batchnorm, dtype=dtype, seed=seed)
    if model == "simple-cnn":
        return SimpleConvNet(hidden_size=(hidden or [100])[0],
                             weight_init_std=weight_init if weight_init is not None else 0.01,
                             dtype=dtype, seed=seed)
    if model == "deep-cnn":
        return DeepConvNet(hidden_size=(hidden or [50])[0], dropout_ratio=dropout or 0.5,
                           dtype=dtype, seed=seed)
    if model == "fast-cnn":
        return fast_cnn(*(hidden or [128])[:1], dtype=dtype, seed=seed)
    if model == "bn-cnn":
        return bn_cnn((hidden or [128])[0], dropout or 0.25, dtype=dtype, seed=seed)
    return record_cnn((hidden or [256])[0], dropout or 0.4, dtype=dtype, seed=seed)
