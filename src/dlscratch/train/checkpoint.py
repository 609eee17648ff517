"""Checkpoints: everything needed to continue a run exactly, in one `.npz` + JSON, no pickle.

Arrays: the network's parameters and buffers (`net/W1`, ...), the optimizer's state
(`opt/v/W1`, ...) and, with early stopping, the best weights so far (`best/W1`, ...).
JSON (`__checkpoint__`): architecture, optimizer scalars (type, lr, step count), the trainer's
settings, RNG states (batch sampler and dropout layers), epoch, iteration and history.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dlscratch.io.atomic import atomic_write
from dlscratch.io.serialize import ModelFileError, read_model_file

META_KEY = "__checkpoint__"


def write_checkpoint(path, meta: dict, groups: dict[str, dict[str, np.ndarray]]) -> None:
    """Save `groups` ({"net": {...}, "opt": {...}}) as prefixed arrays plus the JSON `meta`."""
    arrays = {f"{group}/{key}": arr for group, table in groups.items()
              for key, arr in table.items()}
    with atomic_write(path) as f:
        np.savez(f, **arrays, **{META_KEY: np.array(json.dumps(meta))})


def read_checkpoint(path) -> tuple[dict, dict[str, dict[str, np.ndarray]]]:
    """(meta, groups) from a checkpoint; ModelFileError if the file is not one."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"checkpoint not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(str(arrays.pop(META_KEY)))
    except KeyError:
        raise ModelFileError(f"{path}: not a dlscratch checkpoint (no {META_KEY} record)") from None
    except Exception as exc:  # zip, OS and JSON errors all mean an unreadable file
        raise ModelFileError(f"{path}: unreadable checkpoint (truncated or corrupted?): {exc}") \
            from None
    groups: dict[str, dict[str, np.ndarray]] = {}
    for name, arr in arrays.items():
        group, key = name.split("/", 1)
        groups.setdefault(group, {})[key] = arr
    return meta, groups


__all__ = ["read_checkpoint", "read_model_file", "write_checkpoint"]
