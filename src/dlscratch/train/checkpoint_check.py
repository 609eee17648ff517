"""The JSON record of a checkpoint, checked field by field against the run that resumes it.

    state = check_meta(trainer, meta, Fields(path, CheckpointError, "checkpoint"))

Every field's type and range is checked before anything is assigned: the iteration lies in
0..max_iter of the checkpoint's run, the history's lists hold finite numbers and have the
lengths the iteration and the evaluations imply, the sample order is a permutation of the
training samples, an RNG state has the structure of the generator it is for, the optimizer's
scalars are finite and in range. A failure is a CheckpointError naming the file and field.
"""

from __future__ import annotations

import json

import numpy as np

from dlscratch.io.fields import Fields, clip, is_int, join, kind, show
from dlscratch.io.serialize import architecture
from dlscratch.train.callbacks import EarlyStopping
from dlscratch.train.history import new_history

META_KEYS = ("architecture", "settings", "optimizer", "iteration", "rng", "order",
             "network_rng", "history", "elapsed_s", "stopped_early", "best")
MAX_ITER = 2**53  # iterations of one run (exact as a float)
FRACTIONS = ("momentum", "decay_rate", "beta1", "beta2")  # hyperparameters in [0, 1)
RNG_LIMITS = {"has_uint32": 1, "uinteger": 2**32 - 1}  # other integers of a state: 128 bits
ACCURACIES = ("train_acc", "test_acc", "val_acc")


def check_meta(trainer, meta, f: Fields) -> dict:
    """The checkpoint's fields, checked against `trainer`, ready to assign:
    {iteration, optimizer, rng, order (int64 array or None), network_rng, history, elapsed_s,
    stopped_early, best ((val_acc, epoch) or None)}."""
    if not isinstance(meta, dict):
        raise f.refuse("checkpoint", f"the checkpoint record must be a JSON object, got "
                                     f"{kind(meta)}")
    saved = meta.get("settings")
    if not isinstance(saved, dict):
        raise f.refuse("settings", "not a training checkpoint (no settings)")
    check_same_run(trainer, saved, meta.get("architecture"), f)
    for key in META_KEYS:
        if key not in meta:
            raise f.refuse(key, f"incomplete checkpoint (missing {key})")
    f.obj(meta, "", META_KEYS)
    max_iter = f.int(saved.get("max_iter"), "settings.max_iter", 1, MAX_ITER)
    iteration = f.int(meta["iteration"], "iteration", 0, max_iter)
    layers = trainer.network.stack.random_layers()
    states = f.list(meta["network_rng"], "network_rng", length=len(layers))
    for i, (state, layer) in enumerate(zip(states, layers, strict=True)):
        check_rng(state, layer.rng.bit_generator, join("network_rng", i), f)
    best = meta["best"]
    if best is not None:
        if trainer.find_callback(EarlyStopping) is None:
            raise f.fail("best", "is set, but this run has no early stopping")
        f.list(best, "best", length=2)
        best = (f.number(best[0], "best[0]", 0, 1), f.number(best[1], "best[1]", 0))
    return {"iteration": iteration, "optimizer": check_optimizer(trainer, meta["optimizer"], f),
            "rng": check_rng(meta["rng"], trainer.rng.bit_generator, "rng", f),
            "order": check_order(trainer, meta["order"], iteration, f),
            "network_rng": states, "history": check_history(meta["history"], iteration, f),
            "elapsed_s": f.number(meta["elapsed_s"], "elapsed_s", 0),
            "stopped_early": f.boolean(meta["stopped_early"], "stopped_early"), "best": best}


def check_same_run(trainer, saved: dict, arch, f: Fields) -> None:
    """CheckpointError if the checkpoint is of another run: other settings (but max_iter) or
    another network."""
    changed = [(k, saved.get(k), v) for k, v in trainer.settings().items()
               if k != "max_iter" and saved.get(k) != v]
    if changed:
        detail = ", ".join(f"{k}: checkpoint {show(a)} vs now {show(b)}" for k, a, b in changed)
        raise f.refuse(changed[0][0], f"cannot resume a different run ({detail})")
    mine = architecture(trainer.network)
    if comparable(mine) != comparable(arch):
        raise f.refuse("architecture", f"cannot resume a different run (the network differs: "
                                       f"checkpoint architecture {describe(arch)} vs now "
                                       f"{describe(mine)})")


def check_optimizer(trainer, scalars, f: Fields) -> dict:
    opt = trainer.optimizer
    f.obj(scalars, "optimizer", ("type", "iter", *opt.hyper_names))
    if scalars["type"] != type(opt).__name__:
        raise f.fail("optimizer.type", f"must be {type(opt).__name__!r} (this run's optimizer), "
                                       f"got {show(scalars['type'])}")
    f.int(scalars["iter"], "optimizer.iter", 0, MAX_ITER)
    for name in opt.hyper_names:
        field = join("optimizer", name)
        if name == "lr":
            f.number(scalars[name], field, 0, lo_open=True)
        elif name in FRACTIONS:
            f.number(scalars[name], field, 0, 1, hi_open=True)
        else:
            f.number(scalars[name], field)
    return scalars


def check_rng(state, bit_generator, field: str, f: Fields) -> dict:
    """`state` must have the structure of bit_generator.state (for PCG64: {"bit_generator":
    "PCG64", "state": {"state": int, "inc": int}, "has_uint32": 0/1, "uinteger": uint32});
    it is then tried on a scratch generator of the same kind."""
    _like(state, bit_generator.state, field, f)
    try:
        type(bit_generator)().state = state
    except (TypeError, ValueError, KeyError, OverflowError) as exc:  # what the setter raises
        raise f.fail(field, f"is not a valid {type(bit_generator).__name__} state "
                            f"({type(exc).__name__})") from None
    return state


def _like(value, model, field: str, f: Fields) -> None:
    if isinstance(model, dict):
        f.obj(value, field, tuple(model))
        for key, sub in model.items():
            _like(value[key], sub, join(field, key), f)
    elif isinstance(model, str):
        if value != model:
            raise f.fail(field, f"must be {model!r}, got {show(value)}")
    elif isinstance(model, (int, np.integer)):
        f.int(value, field, 0, RNG_LIMITS.get(field.rsplit(".", 1)[-1], 2**128 - 1))
    elif isinstance(model, np.ndarray):
        for i, v in enumerate(f.list(value, field, length=model.size)):
            f.int(v, join(field, i), 0, int(np.iinfo(model.dtype).max))
    else:
        raise f.fail(field, "holds a generator state this dlscratch cannot check")


def check_order(trainer, order, iteration: int, f: Fields) -> np.ndarray | None:
    """None, or the epoch's sample order: a permutation of range(train_size), as int64."""
    n = len(trainer.x_train)
    if order is None:
        if trainer.sampling == "shuffle" and iteration % trainer.iter_per_epoch:
            raise f.fail("order", "is missing: the run stopped inside an epoch, which needs "
                                  "that epoch's sample order")
        return None
    f.list(order, "order", length=n)
    if not all(is_int(i) and 0 <= i < n for i in order) or \
            np.bincount(np.array(order, dtype=np.int64), minlength=n).max(initial=1) != 1:
        raise f.fail("order", f"must be a permutation of the {n} training samples 0..{n - 1}")
    return np.array(order, dtype=np.int64)


# evaluation columns of the history: (lowest, highest, may be null)
EVAL_COLUMNS = {"epoch": (0, np.inf, False), "elapsed_s": (0, np.inf, False),
                "train_acc": (0, 1, True), "test_acc": (0, 1, True), "val_acc": (0, 1, True),
                "epoch_loss": (-np.inf, np.inf, True)}


def check_history(history, iteration: int, f: Fields) -> dict:
    """loss and lr: one finite number per iteration; the evaluation columns: one entry each per
    evaluation (iteration: 0..iteration; accuracies in [0, 1]; some may be null)."""
    f.obj(history, "history", tuple(new_history()))
    for key in ("loss", "lr"):
        for i, v in enumerate(f.list(history[key], join("history", key), length=iteration)):
            f.number(v, join(join("history", key), i), 0 if key == "lr" else -np.inf)
    evaluations = len(f.list(history["epoch"], "history.epoch"))
    for i, v in enumerate(f.list(history["iteration"], "history.iteration",
                                 length=evaluations)):
        f.int(v, f"history.iteration[{i}]", 0, iteration)
    for key, (lo, hi, nullable) in EVAL_COLUMNS.items():
        field = join("history", key)
        for i, v in enumerate(f.list(history[key], field, length=evaluations)):
            if v is not None or not nullable:
                f.number(v, join(field, i), lo, hi)
    return history


def comparable(arch):
    """An architecture as JSON gives it back, without the initialisation seed (the weights are
    loaded from the checkpoint, so the seed they were drawn with does not matter)."""
    arch = json.loads(json.dumps(arch))
    if isinstance(arch, dict) and isinstance(arch.get("config"), dict):
        arch["config"].pop("seed", None)
    return arch


def describe(arch) -> str:
    """A short description of an architecture (model, config, layer types) for messages."""
    if not isinstance(arch, dict):
        return f"not an architecture ({kind(arch)})"
    specs = arch.get("layers") if isinstance(arch.get("layers"), list) else []
    layers = "-".join(str(spec.get("type")) if isinstance(spec, dict) else "?" for spec in specs)
    return clip(f"{arch.get('model')}{arch.get('config') or ''} [{layers}]", 300)


__all__ = ["check_meta", "check_rng", "comparable", "describe"]
