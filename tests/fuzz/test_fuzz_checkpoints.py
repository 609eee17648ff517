"""Fuzz: thousands of mutated checkpoints, each refused by `Trainer.resume` with a one-line
CheckpointError naming the file and the field or array at fault, or resumed into a state that
passes full validation and trains on to the end of the run.

The cases start from two real checkpoints - a TwoLayerNet trained with Adam that stopped
inside an epoch (its sample order matters), and a MultiLayerNetExtend with batch norm, dropout
(RNG states), Momentum and early stopping (best weights) - and mutate the JSON record (every
field: types, values, keys, nesting; the iteration made negative or past the end), the arrays
(shapes, dtypes, NaN) and the zip (see _npz_cases). One capped subprocess runs them all.
"""

from __future__ import annotations

import copy
import json
import runpy
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from ._memcap import result_of, run_capped

CASES = 2_000
CAP_MIB = 1024
TIMEOUT_S = 240
DIM, CLASSES = 8, 3


def test_mutated_checkpoints_are_refused_or_resume_validly():
    result = result_of(run_capped(f"{__file__}:fuzz_main", CAP_MIB, TIMEOUT_S, [CASES]))
    print(f"\ncheckpoints: {result}")
    assert result["cases"] >= CASES
    assert result["outcomes"]["refused"] > 0 and result["outcomes"]["resumed"] > 0
    assert sum(result["outcomes"].values()) == result["cases"]


def runs():
    """name -> (make_trainer(checkpoint_path=None), the longer trainer's options), and the
    checkpoint each wrote: (meta, arrays)."""
    from dlscratch import MultiLayerNetExtend, TwoLayerNet
    from dlscratch.train import Trainer
    from dlscratch.train.checkpoint import read_checkpoint

    rng = np.random.default_rng(0)
    data = {name: (rng.normal(size=(n, DIM)).astype(np.float32), rng.integers(0, CLASSES, n))
            for name, n in (("train", 60), ("test", 20), ("val", 20))}
    nets = {"adam": lambda: TwoLayerNet(DIM, 6, CLASSES, weight_init_std=0.3, seed=0),
            "early": lambda: MultiLayerNetExtend(DIM, [6], CLASSES, use_dropout=True,
                                                 dropout_ratio=0.3, use_batchnorm=True, seed=0)}
    options = {"adam": dict(optimizer="Adam", optimizer_param={"lr": 0.01}),
               "early": dict(optimizer="Momentum", early_stopping_patience=3,
                             x_val=data["val"][0], t_val=data["val"][1])}
    lengths = {"adam": ({"iterations": 10}, {"iterations": 14}),
               "early": ({"epochs": 2}, {"epochs": 3})}
    found = {}
    folder = Path(tempfile.mkdtemp(prefix="fuzz-ck-base-"))
    for name in nets:
        def make(length, name=name, **more):
            return Trainer(nets[name](), *data["train"], *data["test"], mini_batch_size=8,
                           **options[name], **length, **more)

        path = folder / f"{name}.npz"
        make(lengths[name][0], checkpoint_path=path).train()
        meta, groups = read_checkpoint(path)
        arrays = {f"{g}/{k}": v for g, table in groups.items() for k, v in table.items()}
        found[name] = (make, lengths[name][1], meta, arrays)
        path.unlink()
    folder.rmdir()
    return found


def checkpoint_case(draw, meta: dict, arrays: dict) -> dict[str, np.ndarray]:
    """The members of one mutated checkpoint."""
    from hypothesis import strategies as st

    from ._npz_cases import mutate_arrays, mutate_json

    meta, arrays = copy.deepcopy(meta), dict(arrays)
    for _ in range(draw(st.integers(1, 3))):
        family = draw(st.sampled_from(["json", "json", "json", "array", "field"]))
        if family == "json":
            meta = mutate_json(draw, meta)
        elif family == "array" and arrays:
            mutate_arrays(draw, arrays, sorted(arrays))
        elif family == "field" and isinstance(meta, dict):
            key = draw(st.sampled_from(["iteration", "iteration", "elapsed_s", "order",
                                        "stopped_early", "best", "optimizer"]))
            meta[key] = copy.deepcopy(draw(st.sampled_from(
                [-5, -1, 0, 3, 10**6, 7.0, True, None, "7", [7], {"iter": 1}, [0.5, 1.0],
                 list(range(60)), list(range(59)) + [0], [1.5] * 60])))
    members = dict(arrays)
    members["__checkpoint__"] = np.array(json.dumps(meta))
    return members


def check_resumed(trainer, meta_max_iter) -> str:
    """A resumed trainer: a consistent state, and it trains on to its end."""
    from dlscratch.train import TrainingDiverged
    from dlscratch.train.callbacks import nonfinite_state

    assert 0 <= trainer.iteration <= meta_max_iter
    assert len(trainer.history["loss"]) == trainer.iteration
    assert nonfinite_state(trainer.network) is None
    try:
        history = trainer.train()
    except TrainingDiverged:
        return "resumed, then diverged"
    assert trainer.iteration == trainer.max_iter or trainer.stop_training
    assert len(history["loss"]) == trainer.iteration
    return "resumed"


def fuzz_main(cases: str) -> dict:
    runpy.run_path(str(Path(__file__).with_name("conftest.py")))  # the "ci" profile
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from dlscratch.errors import CheckpointError

    from ._npz_cases import refusal_problem, zip_bytes

    start, outcomes, fields = time.perf_counter(), Counter(), Counter()
    folder = Path(tempfile.mkdtemp(prefix="fuzz-ck-"))
    path = folder / "checkpoint.npz"
    starts = runs()

    @settings(max_examples=int(cases))
    @given(st.data())
    def one_case(data):
        name = data.draw(st.sampled_from(sorted(starts)))
        make, longer, meta, arrays = starts[name]
        path.write_bytes(zip_bytes(data.draw, checkpoint_case(data.draw, meta, arrays)))
        trainer = make(longer)
        with np.errstate(all="ignore"):
            try:
                trainer.resume(path)
            except CheckpointError as exc:
                problem = refusal_problem(exc, path)
                assert problem is None, problem
                outcomes["refused"] += 1
                fields[exc.field.split("[")[0].split(".")[0].split("/")[0]] += 1
                return
            outcome = check_resumed(trainer, meta["settings"]["max_iter"])
        outcomes["resumed" if outcome == "resumed" else "diverged"] += 1

    one_case()
    path.unlink(missing_ok=True)
    folder.rmdir()
    return {"cases": sum(outcomes.values()), "outcomes": dict(outcomes),
            "fields": dict(fields.most_common(25)),
            "seconds": round(time.perf_counter() - start, 1)}
