"""Trainer.resume checks every field of a checkpoint before it changes anything: each refusal,
with its message naming the file and the field (train.checkpoint, train.checkpoint_check)."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from dlscratch import MultiLayerNetExtend, TwoLayerNet
from dlscratch.errors import CheckpointError
from dlscratch.io.fields import Fields
from dlscratch.train import Trainer
from dlscratch.train.checkpoint import read_checkpoint, write_checkpoint
from dlscratch.train.checkpoint_check import check_rng

RNG = np.random.default_rng(0)
DATA = [(RNG.normal(size=(n, 8)).astype(np.float32), RNG.integers(0, 3, n)) for n in (60, 20)]


def make(kind: str, length: dict, **more) -> Trainer:
    """adam: a TwoLayerNet with Adam; early: batch norm, dropout, Momentum, early stopping."""
    if kind == "adam":
        net, options = TwoLayerNet(8, 6, 3, seed=0), dict(optimizer="Adam")
    else:
        net = MultiLayerNetExtend(8, [6], 3, use_dropout=True, use_batchnorm=True, seed=0)
        options = dict(optimizer="Momentum", early_stopping_patience=3, x_val=DATA[1][0],
                       t_val=DATA[1][1])
    return Trainer(net, *DATA[0], *DATA[1], mini_batch_size=8, **options, **length, **more)


LENGTHS = {"adam": ({"iterations": 10}, {"iterations": 14}),
           "early": ({"epochs": 2}, {"epochs": 3})}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """kind -> (meta, groups) of a checkpoint that kind of run wrote (adam: at iteration 10,
    inside its second epoch; early: at 14)."""
    found = {}
    for kind in LENGTHS:
        path = tmp_path_factory.mktemp(kind) / "ck.npz"
        make(kind, LENGTHS[kind][0], checkpoint_path=path).train()
        found[kind] = read_checkpoint(path)
    return found


def refused(tmp_path, written, kind, change, text, field):
    meta, groups = copy.deepcopy(written[kind])
    new = change(meta, groups)  # a new record, or None: changed in place
    meta = meta if new is None else new
    path = tmp_path / "ck.npz"
    write_checkpoint(path, meta, groups)
    trainer = make(kind, LENGTHS[kind][1])
    before = {k: v.copy() for k, v in trainer.network.params.items()}
    with pytest.raises(CheckpointError) as info:
        trainer.resume(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and text in message, message
    assert info.value.field == field and field in message and "\n" not in message
    assert trainer.iteration == 0 and trainer.history["loss"] == []  # nothing changed
    assert all(np.array_equal(v, before[k]) for k, v in trainer.network.params.items())


def setting(key, value):
    def change(meta, groups):
        *parents, last = [int(p) if p.isdigit() else p for p in key.split(".")]
        node = meta
        for p in parents:
            node = node[p]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return change


def in_place(fn):
    """A change made in place: whatever `fn` returns is not a new record."""
    def change(meta, groups):
        fn(meta, groups)
    return change


POP_LOSS = in_place(lambda m, g: m["history"]["loss"].pop())
POP_EPOCH_LOSS = in_place(lambda m, g: m["history"]["epoch_loss"].pop())
POP_MOMENT = in_place(lambda m, g: g["opt"].pop("m/W1"))


DELETE = object()
MAX = 2**53
CASES = [
    ("adam", lambda m, g: [m], "the checkpoint record must be a JSON object, got a list",
     "checkpoint"),
    ("adam", setting("settings", DELETE), "not a training checkpoint (no settings)", "settings"),
    ("adam", setting("settings.batch_size", 10), "cannot resume a different run (batch_size: "
                                                 "checkpoint 10 vs now 8)", "batch_size"),
    ("adam", setting("architecture.config.hidden_size", 7), "cannot resume a different run (the"
                                                            " network differs: checkpoint "
                                                            "architecture TwoLayerNet",
     "architecture"),
    ("adam", setting("architecture", [1]), "the network differs: checkpoint architecture not an "
                                           "architecture (a list)", "architecture"),
    ("adam", setting("rng", DELETE), "incomplete checkpoint (missing rng)", "rng"),
    ("adam", setting("extra", 1), "the checkpoint record has unknown key 'extra'", "checkpoint"),
    ("adam", setting("settings.max_iter", 0), "checkpoint field settings.max_iter must be an "
                                              f"integer in [1, {MAX}], got 0",
     "settings.max_iter"),
    ("adam", setting("iteration", -5), "checkpoint field iteration must be an integer in [0, 10],"
                                       " got -5", "iteration"),
    ("adam", setting("iteration", 11), "iteration must be an integer in [0, 10], got 11",
     "iteration"),
    ("adam", setting("iteration", 7.0), "iteration must be an integer in [0, 10], got 7.0",
     "iteration"),
    ("early", setting("network_rng", []), "checkpoint field network_rng must hold 1 entries, "
                                          "got 0", "network_rng"),
    ("early", setting("network_rng.0.state", 3), "checkpoint field network_rng[0].state must be "
                                                 "an object, got an integer",
     "network_rng[0].state"),
    ("adam", setting("rng", 5), "checkpoint field rng must be an object, got an integer", "rng"),
    ("adam", setting("rng.bit_generator", "MT19937"), "checkpoint field rng.bit_generator must be"
                                                      " 'PCG64', got 'MT19937'",
     "rng.bit_generator"),
    ("adam", setting("rng.state.inc", "x"), "checkpoint field rng.state.inc must be an integer in"
                                            f" [0, {2**128 - 1}], got 'x'", "rng.state.inc"),
    ("adam", setting("rng.has_uint32", 2), "rng.has_uint32 must be an integer in [0, 1], got 2",
     "rng.has_uint32"),
    ("adam", setting("rng.uinteger", 2**32), "rng.uinteger must be an integer in [0, 4294967295]",
     "rng.uinteger"),
    ("adam", setting("best", [0.5, 1.0]), "checkpoint field best is set, but this run has no "
                                          "early stopping", "best"),
    ("early", setting("best", [0.5]), "checkpoint field best must hold 2 entries, got 1", "best"),
    ("early", setting("best.0", 2), "checkpoint field best[0] must be a finite number in [0, 1], "
                                    "got 2", "best[0]"),
    ("adam", setting("optimizer.type", "SGD"), "checkpoint field optimizer.type must be 'Adam' "
                                               "(this run's optimizer), got 'SGD'",
     "optimizer.type"),
    ("adam", setting("optimizer.iter", -1), f"optimizer.iter must be an integer in [0, {MAX}], "
                                            "got -1", "optimizer.iter"),
    ("adam", setting("optimizer.lr", 0), "checkpoint field optimizer.lr must be a finite number "
                                         "in (0, inf], got 0", "optimizer.lr"),
    ("adam", setting("optimizer.beta1", 1.0), "optimizer.beta1 must be a finite number in [0, 1)"
                                              ", got 1.0", "optimizer.beta1"),
    ("adam", setting("optimizer.beta2", DELETE), "checkpoint field optimizer.beta2 is missing",
     "optimizer.beta2"),
    ("adam", setting("order", None), "checkpoint field order is missing: the run stopped inside "
                                     "an epoch", "order"),
    ("adam", setting("order", list(range(59))), "checkpoint field order must hold 60 entries, got"
                                                " 59", "order"),
    ("adam", setting("order", [0] * 60), "checkpoint field order must be a permutation of the 60 "
                                         "training samples 0..59", "order"),
    ("adam", setting("order", [float(i) for i in range(60)]), "must be a permutation", "order"),
    ("adam", setting("history.x", []), "checkpoint field history has unknown key 'x'",
     "history"),
    ("adam", POP_LOSS, "checkpoint field history.loss must hold "
                                                      "10 entries, got 9", "history.loss"),
    ("adam", setting("history.loss.3", math.nan), "checkpoint field history.loss[3] must be a "
                                                  "finite number in [-inf, inf], got nan",
     "history.loss[3]"),
    ("adam", setting("history.lr.0", -1), "history.lr[0] must be a finite number in [0, inf], "
                                          "got -1", "history.lr[0]"),
    ("adam", setting("history.iteration.1", 99), "checkpoint field history.iteration[1] must be "
                                                 "an integer in [0, 10], got 99",
     "history.iteration[1]"),
    ("adam", setting("history.test_acc.0", 1.5), "history.test_acc[0] must be a finite number in"
                                                 " [0, 1], got 1.5", "history.test_acc[0]"),
    ("adam", setting("history.elapsed_s.0", None), "history.elapsed_s[0] must be a finite number"
                                                   " in [0, inf], got None",
     "history.elapsed_s[0]"),
    ("adam", POP_EPOCH_LOSS, "history.epoch_loss must hold 3 "
                                                            "entries, got 2",
     "history.epoch_loss"),
    ("adam", setting("elapsed_s", -1), "checkpoint field elapsed_s must be a finite number in "
                                       "[0, inf], got -1", "elapsed_s"),
    ("adam", setting("stopped_early", "no"), "checkpoint field stopped_early must be true or "
                                             "false, got 'no'", "stopped_early"),
    # arrays: keys and shapes against this run before reading, values after
    ("adam", POP_MOMENT, "arrays do not match this run's network and "
                                                "optimizer: missing ['opt/m/W1'], unexpected []",
     "opt/m/W1"),
    ("adam", lambda m, g: g.update(foo={"x": np.zeros(2)}), "missing [], unexpected ['foo/x']",
     "foo/x"),
    ("adam", lambda m, g: g["net"].update(W1=g["net"]["W1"].T.copy()),
     "net/W1 has shape (6, 8), this run's network and optimizer expects (8, 6)", "net/W1"),
    ("adam", setting("optimizer.iter", 0), "missing [], unexpected ['opt/m/W1'", "opt/m/W1"),
    ("adam", lambda m, g: g["opt"]["v/W2"].__setitem__((0, 0), np.nan),
     "opt/v/W2 holds 1 NaN values", "opt/v/W2"),
    ("early", lambda m, g: g["net"]["running_var1"].__setitem__(0, -2.0),
     "net/running_var1 holds 1 negative values (a variance is >= 0)", "net/running_var1"),
    ("early", lambda m, g: g["best"]["W1"].__setitem__((0, 0), np.inf),
     "best/W1 holds 1 infinite values", "best/W1"),
]


@pytest.mark.parametrize("kind, change, text, field", CASES)
def test_checkpoint_refusals(tmp_path, written, kind, change, text, field):
    refused(tmp_path, written, kind, change, text, field)


def test_a_valid_checkpoint_resumes(tmp_path, written):
    for kind in LENGTHS:
        path = tmp_path / f"{kind}.npz"
        write_checkpoint(path, *written[kind])
        trainer = make(kind, LENGTHS[kind][1])
        trainer.resume(path)
        assert trainer.iteration == written[kind][0]["iteration"]
        trainer.train()
        assert trainer.iteration == trainer.max_iter or trainer.stop_training


@pytest.mark.parametrize("meta, arrays, text, field", [
    ([1], {}, "the checkpoint record must be a JSON object", "__checkpoint__"),
    ({}, {"foo/x": np.zeros(2)}, "foo/x is not an array of a checkpoint (net/..., opt/..., "
                                 "best/...)", "foo/x"),
    ({}, {"W1": np.zeros(2)}, "W1 is not an array of a checkpoint", "W1"),
])
def test_read_checkpoint_refusals(tmp_path, meta, arrays, text, field):
    path = tmp_path / "ck.npz"
    np.savez(path, **arrays, __checkpoint__=np.array(json.dumps(meta)))
    with pytest.raises(CheckpointError) as info:
        read_checkpoint(path)
    assert text in str(info.value) and info.value.field == field
    assert str(info.value).startswith(f"{path}: ")


class _Stub:
    """A bit generator whose state cannot be set (or holds what no check knows)."""

    def __init__(self, state=None):
        self._state = {"bit_generator": "_Stub", "n": 1} if state is None else state

    @property
    def state(self):
        return self._state

    @state.setter
    def state(self, value):
        raise ValueError("no")


def test_rng_states_of_other_generators(tmp_path):
    fields = Fields(tmp_path / "ck.npz", CheckpointError, "checkpoint")
    mt = np.random.MT19937(0)
    state = mt.state
    state["state"]["key"] = [1, 2, 3]
    with pytest.raises(CheckpointError, match=r"checkpoint field rng.state.key must hold 624 "
                                              r"entries, got 3"):
        check_rng(state, mt, "rng", fields)
    good = mt.state
    good["state"]["key"] = good["state"]["key"].tolist()
    assert check_rng(good, mt, "rng", fields) is good
    with pytest.raises(CheckpointError, match=r"checkpoint field rng is not a valid _Stub state "
                                              r"\(ValueError\)"):
        check_rng({"bit_generator": "_Stub", "n": 2}, _Stub(), "rng", fields)
    with pytest.raises(CheckpointError, match="checkpoint field rng.n holds a generator state "
                                              "this dlscratch cannot check"):
        check_rng({"bit_generator": "_Stub", "n": 2.5}, _Stub({"bit_generator": "_Stub",
                                                               "n": 2.5}), "rng", fields)
