"""Checkpoints: everything needed to continue a run exactly, in one `.npz` + JSON, no pickle.

Arrays: the network's parameters and buffers (`net/W1`, ...), the optimizer's state
(`opt/v/W1`, ...) and, with early stopping, the best weights so far (`best/W1`, ...).
JSON (`__checkpoint__`): architecture, optimizer scalars (type, lr, step count), the trainer's
settings, RNG states (batch sampler and dropout layers), the current epoch's sample order,
iteration, history, elapsed time and the early-stopping state. Checkpoints written before the
callbacks existed have the same layout and resume the same. A checkpoint is read as data from
a stranger (`io.npz.SafeNpz`, `checkpoint_check`): a bad one is a CheckpointError naming the
file and the field, and changes nothing.

    Checkpoint("run/checkpoint.npz")          # a callback: saved after every epoch
    trainer.resume("run/checkpoint.npz")      # load_training_state: train() continues
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dlscratch.errors import CheckpointError
from dlscratch.io.atomic import atomic_write
from dlscratch.io.fields import Fields
from dlscratch.io.npz import MAX_BYTES as MODEL_MAX_BYTES
from dlscratch.io.npz import SafeNpz
from dlscratch.io.serialize import (
    architecture,
    check_state_values,
    load_state,
    read_model_file,
    state_arrays,
)
from dlscratch.train.callbacks import Callback, EarlyStopping
from dlscratch.train.checkpoint_check import check_meta

META_KEY = "__checkpoint__"
GROUPS = ("net", "opt", "best")
MAX_BYTES = 4 * MODEL_MAX_BYTES  # the weights, two optimizer moments and the best weights


class Checkpoint(Callback):
    """Save the whole training state to `path` after every evaluation that follows training
    (not the initial one), atomically: an interrupted write leaves the previous file."""

    def __init__(self, path):
        self.path = Path(path)

    def on_epoch_end(self, trainer, logs):
        if trainer.iteration > 0:
            save_training_state(trainer, self.path)


def save_training_state(trainer, path) -> None:
    """Write `trainer`'s state (network, optimizer, RNGs, history, early stopping) to path."""
    opt_scalars, opt_arrays = trainer.optimizer.state_dict()
    stopper = trainer.find_callback(EarlyStopping)
    best = None if stopper is None else stopper.best
    order = trainer.sampler.order
    meta = {"architecture": architecture(trainer.network), "settings": trainer.settings(),
            "optimizer": opt_scalars, "iteration": trainer.iteration,
            "rng": trainer.rng.bit_generator.state,
            "order": None if order is None else order.tolist(),
            "network_rng": trainer.network.get_rng_state(), "history": trainer.history,
            "elapsed_s": trainer.elapsed(), "stopped_early": trainer.stop_training,
            "best": None if best is None else list(best[:2])}
    groups = {"net": state_arrays(trainer.network), "opt": opt_arrays}
    if best is not None:
        groups["best"] = best[2]
    write_checkpoint(path, meta, groups)


def load_training_state(trainer, path) -> None:
    """Restore the state `save_training_state` wrote. CheckpointError (a ValueError) naming the
    file and the field or array if it is another run (other settings or network), or not a
    complete, valid checkpoint: every field is checked (`checkpoint_check`) and every array's
    shape compared with this run's network and optimizer before any array is read; NaN/Inf
    values are refused. A refused checkpoint changes nothing. The run's length (max_iter) may
    differ."""
    with _open(path) as npz:
        meta = _meta(npz)
        state = check_meta(trainer, meta, Fields(npz.path, CheckpointError, "checkpoint"))
        targets = _targets(trainer, state)
        npz.check({key: (arr.shape, "f") for key, arr in targets.items()},
                  "this run's network and optimizer")
        arrays = {key: npz.read(key, arr.dtype) for key, arr in targets.items()}
    groups = _grouped(arrays, npz)
    for group in ("net", "best"):
        if group in groups:
            check_state_values(trainer.network, groups[group], npz.refuse, f"{group}/")
    load_state(trainer.network, groups["net"], str(path))
    trainer.optimizer.load_state_dict(state["optimizer"], groups.get("opt", {}))
    trainer.iteration = state["iteration"]
    trainer.rng.bit_generator.state = state["rng"]
    trainer.sampler.order = state["order"]
    trainer.network.set_rng_state(state["network_rng"])
    trainer.history, trainer.elapsed_s = state["history"], float(state["elapsed_s"])
    trainer.stop_training = state["stopped_early"]
    if (stopper := trainer.find_callback(EarlyStopping)) is not None:
        best = state["best"]
        stopper.best = None if best is None else (*best, groups["best"])


def _targets(trainer, state: dict) -> dict[str, np.ndarray]:
    """The arrays a checkpoint of this run holds, by key, as the network and optimizer now hold
    them (shape and dtype): net/KEY, opt/STATE/KEY once the optimizer has updated, best/KEY
    with early stopping's best weights."""
    arrays = state_arrays(trainer.network)
    targets = {f"net/{k}": v for k, v in arrays.items()}
    if state["optimizer"]["iter"] > 0:
        targets.update({f"opt/{name}/{k}": p for name in trainer.optimizer.state_names
                        for k, p in trainer.network.params.items()})
    if state["best"] is not None:
        targets.update({f"best/{k}": v for k, v in arrays.items()})
    return targets


def write_checkpoint(path, meta: dict, groups: dict[str, dict[str, np.ndarray]]) -> None:
    """Save `groups` ({"net": {...}, "opt": {...}}) as prefixed arrays plus the JSON `meta`."""
    arrays = {f"{group}/{key}": arr for group, table in groups.items()
              for key, arr in table.items()}
    with atomic_write(path) as f:
        np.savez(f, **arrays, **{META_KEY: np.array(json.dumps(meta))})


def read_checkpoint(path) -> tuple[dict, dict[str, dict[str, np.ndarray]]]:
    """(meta, groups) from a checkpoint, read as `load_training_state` reads it but not checked
    against a run; CheckpointError naming the file and field if the file is not one."""
    with _open(path) as npz:
        meta = _meta(npz)
        if not isinstance(meta, dict):
            raise npz.refuse(META_KEY, "the checkpoint record must be a JSON object")
        return meta, _grouped({key: npz.read(key) for key in npz.keys}, npz)


def _open(path) -> SafeNpz:
    return SafeNpz(path, error=CheckpointError, what="checkpoint", record=META_KEY,
                   groups=True, max_bytes=MAX_BYTES)


def _meta(npz: SafeNpz):
    if META_KEY not in npz.headers:
        raise npz.refuse(META_KEY, f"not a dlscratch checkpoint (no {META_KEY} record)")
    return npz.record_value()


def _grouped(arrays: dict[str, np.ndarray], npz: SafeNpz) -> dict[str, dict[str, np.ndarray]]:
    """{"net/W1": a, "opt/v/W1": b} -> {"net": {"W1": a}, "opt": {"v/W1": b}}."""
    groups: dict[str, dict[str, np.ndarray]] = {}
    for name, arr in arrays.items():
        group, _, key = name.partition("/")
        if group not in GROUPS or not key:
            raise npz.refuse(name, f"{name} is not an array of a checkpoint (net/..., opt/..., "
                                   f"best/...)")
        groups.setdefault(group, {})[key] = arr
    groups.setdefault("net", {})
    return groups


__all__ = ["Checkpoint", "load_training_state", "read_checkpoint", "read_model_file",
           "save_training_state", "write_checkpoint"]
