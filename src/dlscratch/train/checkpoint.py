"""Checkpoints: everything needed to continue a run exactly, in one `.npz` + JSON, no pickle.

Arrays: the network's parameters and buffers (`net/W1`, ...), the optimizer's state
(`opt/v/W1`, ...) and, with early stopping, the best weights so far (`best/W1`, ...).
JSON (`__checkpoint__`): architecture, optimizer scalars (type, lr, step count), the trainer's
settings, RNG states (batch sampler and dropout layers), the current epoch's sample order,
iteration, history, elapsed time and the early-stopping state. Checkpoints written before the
callbacks existed have the same layout and resume the same.

    Checkpoint("run/checkpoint.npz")          # a callback: saved after every epoch
    trainer.resume("run/checkpoint.npz")      # load_training_state: train() continues
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dlscratch.errors import ModelFileError
from dlscratch.io.atomic import atomic_write
from dlscratch.io.serialize import architecture, load_state, read_model_file, state_arrays
from dlscratch.train.callbacks import Callback, EarlyStopping

META_KEY = "__checkpoint__"


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
    """Restore the state `save_training_state` wrote; ValueError if it is another run (other
    settings or network), ModelFileError if the file is not a complete checkpoint. A refused or
    broken checkpoint changes nothing. The run's length (max_iter) may differ."""
    meta, groups = read_checkpoint(path)
    try:
        saved, mine = meta["settings"], trainer.settings()
    except (KeyError, TypeError):
        raise ModelFileError(f"{path}: not a training checkpoint (no settings)") from None
    changed = {k: (saved.get(k), v) for k, v in mine.items()
               if k != "max_iter" and saved.get(k) != v}
    if changed:
        detail = ", ".join(f"{k}: checkpoint {a!r} vs now {b!r}" for k, (a, b) in changed.items())
        raise ValueError(f"{path}: cannot resume a different run ({detail})")
    if _comparable(architecture(trainer.network)) != _comparable(meta.get("architecture")):
        raise ValueError(f"{path}: cannot resume a different run (the network differs: "
                         f"checkpoint {_describe(meta.get('architecture'))} vs now "
                         f"{_describe(architecture(trainer.network))})")
    try:  # read everything first: a checkpoint that fails half-way changes nothing
        opt_scalars, iteration = meta["optimizer"], int(meta["iteration"])
        rng_state, order, network_rng = meta["rng"], meta["order"], meta["network_rng"]
        history, elapsed = meta["history"], float(meta["elapsed_s"])
        stopped_early = bool(meta["stopped_early"])
        best = (None if meta["best"] is None
                else (meta["best"][0], meta["best"][1], groups["best"]))
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        raise ModelFileError(f"{path}: incomplete checkpoint (missing or bad {exc})") from None
    load_state(trainer.network, groups.get("net", {}), str(path))
    trainer.optimizer.load_state_dict(opt_scalars, groups.get("opt", {}))
    trainer.iteration = iteration
    trainer.rng.bit_generator.state = rng_state
    trainer.sampler.order = None if order is None else np.array(order, dtype=np.int64)
    trainer.network.set_rng_state(network_rng)
    trainer.history, trainer.elapsed_s = history, elapsed
    trainer.stop_training = stopped_early
    if (stopper := trainer.find_callback(EarlyStopping)) is not None:
        stopper.best = best


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


def _comparable(arch):
    """An architecture as JSON gives it back, without the initialisation seed (the weights are
    loaded from the checkpoint, so the seed they were drawn with does not matter)."""
    arch = json.loads(json.dumps(arch))
    if isinstance(arch, dict) and isinstance(arch.get("config"), dict):
        arch["config"].pop("seed", None)
    return arch


def _describe(arch) -> str:
    if not isinstance(arch, dict):
        return "unknown"
    layers = "-".join(str(spec.get("type")) for spec in arch.get("layers", []))
    return f"{arch.get('model')}{arch.get('config') or ''} [{layers}]"


__all__ = ["Checkpoint", "load_training_state", "read_checkpoint", "read_model_file",
           "save_training_state", "write_checkpoint"]
