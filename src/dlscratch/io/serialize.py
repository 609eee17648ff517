"""Saving and loading networks: one `.npz` with the arrays and a JSON architecture.

The file holds every parameter and buffer (batch-norm running statistics) under the network's
keys (W1, b1, running_mean1, ...) and, under `__architecture__`, a JSON text: the course
network's class and constructor arguments, or for a plain Sequential the list of layer specs.
It is read with `allow_pickle=False`: loading a model file never runs code; and it is read as
data from a stranger, checked before anything is allocated (see `load`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from dlscratch.errors import ModelFileError
from dlscratch.io.arch_check import (
    CHECKED_LAYERS,
    COMPOSITE_LAYERS,
    FORMAT,
    VERSION,
    check_architecture,
    declared_arrays,
    inner_specs,
)
from dlscratch.io.atomic import atomic_write
from dlscratch.io.fields import Fields, one_line, show
from dlscratch.io.npz import SafeNpz
from dlscratch.layers import LAYER_TYPES, build_layer, layer_spec
from dlscratch.nets import COURSE_NETS, Sequential

ARCH_KEY = "__architecture__"

__all__ = ["ModelFileError", "architecture", "build_network", "check_state_values", "layer_spec",
           "load", "load_state", "read_model_file", "save", "state_arrays"]


def architecture(net) -> dict:
    """The JSON architecture of a network (see the module docstring)."""
    arch = {"format": FORMAT, "version": VERSION, "model": type(net).__name__,
            "dtype": np.dtype(net.dtype).name, "weight_decay_lambda": net.weight_decay_lambda,
            "loss": type(net.last_layer).__name__,
            "layers": [layer_spec(layer) for layer in net.stack.layers]}
    if net.config is not None:
        arch["config"] = net.config
    return arch


def state_arrays(net) -> dict[str, np.ndarray]:
    """Every parameter and buffer of the network, by key."""
    return {**net.params, **net.buffers}


def save(net, path: str | os.PathLike) -> Path:
    """Write `net` to `path` (.npz appended if missing), atomically."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    arrays = state_arrays(net)
    with atomic_write(path) as f:
        np.savez(f, **arrays, **{ARCH_KEY: np.array(json.dumps(architecture(net)))})
    return path


def read_model_file(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """(architecture, arrays) of a model file, both checked as `load` checks them but no
    network built; ModelFileError naming the file and the field or array if it is not valid."""
    with SafeNpz(path, record=ARCH_KEY) as npz:
        arch = _checked_architecture(npz)
        return arch, {key: npz.read(key) for key in npz.keys}


def _checked_architecture(npz: SafeNpz) -> dict:
    """The architecture record, checked; the arrays' keys and shapes checked against it."""
    if ARCH_KEY not in npz.headers:
        raise npz.refuse(ARCH_KEY, f"no architecture record ({ARCH_KEY}); not a dlscratch "
                                   f"model file")
    arch = npz.record_value()
    check_architecture(arch, Fields(npz.path, ModelFileError, "architecture"))
    npz.check({k: (shape, "f") for k, shape in declared_arrays(arch["layers"]).items()},
              f"the architecture ({arch['model']})")
    return arch


def build_network(arch: dict):
    """A network with the architecture `arch` (checked by `check_architecture`), parameters
    not yet loaded."""
    if arch.get("config") is not None and arch.get("model") in COURSE_NETS:
        return COURSE_NETS[arch["model"]](**arch["config"])
    dtype = np.dtype(arch.get("dtype", "float32"))
    layers = [build_layer(spec, dtype) for spec in arch["layers"]]
    loss = LAYER_TYPES[arch.get("loss", "SoftmaxWithLoss")]()
    return Sequential(layers, loss=loss, weight_decay_lambda=arch.get("weight_decay_lambda", 0.0))


def load_state(net, arrays: dict[str, np.ndarray], source: str = "state") -> None:
    """Copy arrays into the network's parameters and buffers in place, checking keys and shapes."""
    targets = state_arrays(net)
    missing = sorted(set(targets) - set(arrays))
    extra = sorted(set(arrays) - set(targets))
    if missing or extra:
        raise ModelFileError(
            f"{source}: arrays do not match the network {type(net).__name__}: "
            f"missing {missing or 'none'}, unexpected {extra or 'none'}"
        )
    for key, target in targets.items():
        if arrays[key].shape != target.shape:
            raise ModelFileError(
                f"{source}: {key} has shape {arrays[key].shape}, the network expects "
                f"{target.shape}"
            )
    for key, target in targets.items():
        np.copyto(target, arrays[key], casting="same_kind")


def load(path: str | os.PathLike):
    """Read a network saved with `save`; its predictions are bit-identical to the saved one.

    The file is read as data from a stranger (`io.npz.SafeNpz`): the architecture is checked
    (`io.arch_check`: types, ranges, at most MAX_VALUES values) and every array's key, shape
    and dtype compared with it before any array is allocated; only then is the network built
    and are the arrays read. NaN/Inf weights and negative variances are refused, naming the
    array. Every refusal is a ModelFileError naming the file and the field or array.
    """
    with SafeNpz(path, record=ARCH_KEY) as npz:
        arch = _checked_architecture(npz)
        net = _build(arch, npz)
        if [layer_spec(layer) for layer in net.stack.layers] != arch["layers"]:
            raise npz.refuse("layers", f"the layers recorded in the file do not match "
                                       f"{arch['model']}{show(arch.get('config'), 200)}")
        arrays = {key: npz.read(key, target.dtype) for key, target in state_arrays(net).items()}
    check_state_values(net, arrays, npz.refuse)
    load_state(net, arrays, str(path))
    return net


def check_state_values(net, arrays: dict[str, np.ndarray], refuse, prefix: str = "") -> None:
    """Values a finite array may still not hold: a negative batch-norm running variance.
    refuse(name, message) builds the error; names are prefix + key ("best/running_var1")."""
    for key, _, attr in net.stack.buffer_refs:
        negative = int((arrays[key] < 0).sum()) if attr == "running_var" else 0
        if negative:
            name = f"{prefix}{key}"
            raise refuse(name, f"{name} holds {negative} negative values (a variance is >= 0)")


def _build(arch: dict, npz: SafeNpz):
    """build_network; a layer type registered outside dlscratch checks its own config."""
    if all(name in CHECKED_LAYERS for name in _layer_types(arch["layers"])):
        return build_network(arch)  # every config checked: nothing here can raise
    try:
        return build_network(arch)
    except (TypeError, ValueError, KeyError) as exc:
        raise npz.refuse("layers", f"the layers cannot be rebuilt: {one_line(exc)}") from None


def _layer_types(specs: list):
    for spec in specs:
        yield spec["type"]
        if spec["type"] in COMPOSITE_LAYERS:
            yield from _layer_types(inner_specs(spec))
