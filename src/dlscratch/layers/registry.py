"""Layer types by name, and a layer <-> JSON spec: how a saved architecture names its layers.

    @register
    class Affine(Layer): ...

    spec = layer_spec(layer)          # {"type": "Affine", "config": {...}, "params": {...}}
    layer = build_layer(spec, dtype)  # arrays zero-filled; the caller loads the values
"""

from __future__ import annotations

import numpy as np

from dlscratch.errors import ModelFileError

LAYER_TYPES: dict[str, type] = {}


def register(cls):
    """Class decorator: make the layer type known to saved architectures by its class name."""
    LAYER_TYPES[cls.__name__] = cls
    return cls


def layer_spec(layer) -> dict:
    """JSON-ready description of one layer: type, constructor config, array shapes."""
    return {"type": type(layer).__name__, "config": layer.config(),
            "params": {n: list(getattr(layer, n).shape) for n in layer.param_names},
            "buffers": {n: list(getattr(layer, n).shape) for n in layer.buffer_names}}


def build_layer(spec: dict, dtype):
    """A layer from `layer_spec` output, its arrays zero-filled."""
    try:
        cls = LAYER_TYPES[spec["type"]]
    except KeyError:
        raise ModelFileError(
            f"unknown layer type {spec.get('type')!r} in the architecture") from None
    arrays = {k: np.zeros(shape, dtype) for part in ("params", "buffers")
              for k, shape in spec.get(part, {}).items()}
    return cls.from_config(spec["config"], arrays, dtype)
