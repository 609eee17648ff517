"""Fuzz: thousands of mutated model files, each refused with a one-line ModelFileError naming
the file and the field or array at fault, or loaded as a network that passes full validation.

The cases start from small real files (a TwoLayerNet, a SimpleConvNet with two filters, a
MultiLayerNetExtend with batch norm and dropout, and a Sequential with a Residual block) and
mutate their arrays, .npy headers, architecture record (types, values, keys, nesting, the
network emptied or nested deep, hidden_size 300000), zip members and bytes (see _npz_cases).
The whole family runs in one subprocess capped at CAP_MIB of address space, so a memory bomb
that slipped through ends as a MemoryError there, a failure here.
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

CASES = 5_000
CAP_MIB = 1024
TIMEOUT_S = 240


def test_mutated_model_files_are_refused_or_valid():
    result = result_of(run_capped(f"{__file__}:fuzz_main", CAP_MIB, TIMEOUT_S, [CASES]))
    print(f"\nmodel files: {result}")
    assert result["cases"] >= CASES
    assert result["outcomes"]["refused"] > 0 and result["outcomes"]["valid"] > 0
    assert sum(result["outcomes"].values()) == result["cases"]


def bases() -> dict[str, tuple[dict, dict[str, np.ndarray]]]:
    """name -> (architecture, arrays) of the small real files the cases start from."""
    from dlscratch import MultiLayerNetExtend, Sequential, SimpleConvNet, TwoLayerNet
    from dlscratch.io.serialize import architecture, state_arrays
    from dlscratch.layers import Affine, BatchNormalization, Relu, Residual

    rng = np.random.default_rng(0)
    nets = {
        "two-layer": TwoLayerNet(6, 5, 3, seed=0),
        "simple-cnn": SimpleConvNet((1, 6, 6), {"filter_num": 2, "filter_size": 3},
                                    hidden_size=4, output_size=3, seed=0),
        "batchnorm": MultiLayerNetExtend(4, [5], 3, use_batchnorm=True, use_dropout=True,
                                         seed=0),
        "residual": Sequential([Affine.create(4, 5, "he", rng), BatchNormalization.create(5),
                                Relu(), Residual([Affine.create(5, 5, "he", rng), Relu()]),
                                Affine.create(5, 3, "he", rng)]),
    }
    return {name: (architecture(net), {k: v.copy() for k, v in state_arrays(net).items()})
            for name, net in nets.items()}


def model_case(draw, base) -> dict[str, np.ndarray]:
    """The members of one mutated model file."""
    from hypothesis import strategies as st

    from ._npz_cases import mutate_arrays, mutate_json

    arch, arrays = copy.deepcopy(base[0]), dict(base[1])
    record = None
    for _ in range(draw(st.integers(1, 3))):
        family = draw(st.sampled_from(["json", "json", "json", "array", "special", "record"]))
        if family == "json":
            arch = mutate_json(draw, arch)
        elif family == "array" and arrays:
            mutate_arrays(draw, arrays, sorted(arrays))
        elif family == "special" and isinstance(arch, dict):
            arch = special(draw, arch)
        elif family == "record":
            record = draw(st.sampled_from([
                np.array("not json"), np.array(json.dumps(arch)[:-1]), np.array(["{}", "{}"]),
                np.array(b"{}"), np.array("[" * 5000 + "]" * 5000),
                np.array('{"format": 1e999999}'), np.array("1" * 5000), np.array(7.0)]))
    members = dict(arrays)
    members["__architecture__"] = np.array(json.dumps(arch)) if record is None else record
    return members


def special(draw, arch: dict) -> dict:
    """Targeted changes: a huge hidden size, no layers, deep Residual nesting, a Sequential."""
    from hypothesis import strategies as st

    kind = draw(st.sampled_from(["hidden", "empty", "nest", "sequential", "params-list"]))
    if kind == "hidden" and isinstance(arch.get("config"), dict):
        arch["config"]["hidden_size"] = 300_000
    elif kind == "empty":
        arch["layers"] = []
    elif kind == "nest":
        spec = {"type": "Relu", "config": {}, "params": {}, "buffers": {}}
        for _ in range(draw(st.integers(1, 40))):
            spec = {"type": "Residual", "config": {"layers": [spec]}, "params": {},
                    "buffers": {}}
        arch["layers"] = [*arch.get("layers", []), spec] if isinstance(arch.get("layers"),
                                                                       list) else [spec]
    elif kind == "sequential":  # drop the config: the layers alone describe the network
        arch.pop("config", None)
        arch["model"] = "Sequential"
    elif isinstance(arch.get("layers"), list) and arch["layers"]:
        spec = arch["layers"][0]
        if isinstance(spec, dict):
            spec["params"] = list(spec.get("params", {}))
    return arch


def check_valid(net) -> None:
    """A loaded network: finite float arrays, shapes as its architecture, variances >= 0."""
    from dlscratch import Sequential
    from dlscratch.io.arch_check import MAX_VALUES, declared_arrays
    from dlscratch.io.serialize import architecture, state_arrays

    assert isinstance(net, Sequential)
    arrays = state_arrays(net)
    assert {k: v.shape for k, v in arrays.items()} == declared_arrays(
        architecture(net)["layers"])
    assert sum(v.size for v in arrays.values()) <= MAX_VALUES
    for key, value in arrays.items():
        assert value.dtype.kind == "f" and np.isfinite(value).all(), key
        assert not key.startswith("running_var") or (value >= 0).all(), key


def fuzz_main(cases: str) -> dict:
    """Run the cases (in the capped child); return their count and outcomes."""
    runpy.run_path(str(Path(__file__).with_name("conftest.py")))  # the "ci" profile
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from dlscratch import ModelFileError, load

    from ._npz_cases import refusal_problem, zip_bytes

    start, outcomes, messages = time.perf_counter(), Counter(), Counter()
    folder = Path(tempfile.mkdtemp(prefix="fuzz-model-"))
    path = folder / "model.npz"
    starts = bases()

    @settings(max_examples=int(cases))
    @given(st.data())
    def one_case(data):
        name = data.draw(st.sampled_from(sorted(starts)))
        path.write_bytes(zip_bytes(data.draw, model_case(data.draw, starts[name])))
        try:
            net = load(path)
        except ModelFileError as exc:
            problem = refusal_problem(exc, path)
            assert problem is None, problem
            outcomes["refused"] += 1
            messages[exc.field.split("[")[0].split(".")[0]] += 1
            return
        check_valid(net)
        outcomes["valid"] += 1

    one_case()
    path.unlink(missing_ok=True)
    folder.rmdir()
    return {"cases": sum(outcomes.values()), "outcomes": dict(outcomes),
            "fields": dict(messages.most_common(25)),
            "seconds": round(time.perf_counter() - start, 1)}
