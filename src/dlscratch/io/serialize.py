"""Saving and loading networks: one `.npz` with the arrays and a JSON architecture.

The file holds every parameter and buffer (batch-norm running statistics) under the network's
keys (W1, b1, running_mean1, ...) and, under `__architecture__`, a JSON text: the course
network's class and constructor arguments, or for a plain Sequential the list of layer specs.
It is read with `allow_pickle=False`: loading a model file never runs code.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from dlscratch.errors import ModelFileError
from dlscratch.io.atomic import atomic_write
from dlscratch.layers import LAYER_TYPES, build_layer, layer_spec
from dlscratch.nets import COURSE_NETS, Sequential

FORMAT = "dlscratch-model"
VERSION = 1
ARCH_KEY = "__architecture__"

__all__ = ["ModelFileError", "architecture", "build_network", "layer_spec", "load",
           "load_state", "read_model_file", "save", "state_arrays"]


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
    """(architecture, arrays) from a model file; ModelFileError if it is not a valid one."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as exc:
        raise ModelFileError(
            f"{path}: not a readable dlscratch model file (truncated or corrupted?): {exc}"
        ) from None
    if ARCH_KEY not in arrays:
        raise ModelFileError(f"{path}: no architecture record; not a dlscratch model file")
    try:
        arch = json.loads(str(arrays.pop(ARCH_KEY)))
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path}: the architecture record is not valid JSON: {exc}") from None
    if arch.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a dlscratch model file (format {arch.get('format')!r})")
    if arch.get("version") != VERSION:
        raise ModelFileError(f"{path}: model format version {arch.get('version')!r} is not "
                             f"supported (this dlscratch reads version {VERSION})")
    return arch, arrays


def build_network(arch: dict):
    """A network with the architecture `arch`, parameters not yet loaded."""
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
    """Read a network saved with `save`; its predictions are bit-identical to the saved one."""
    arch, arrays = read_model_file(path)
    try:
        net = build_network(arch)
    except (TypeError, ValueError, KeyError) as exc:
        raise ModelFileError(f"{path}: cannot rebuild the architecture: {exc}") from None
    if [layer_spec(layer) for layer in net.stack.layers] != arch["layers"]:
        raise ModelFileError(f"{path}: the layers recorded in the file do not match "
                             f"{arch['model']}{arch.get('config')}")
    load_state(net, arrays, str(path))
    return net
