"""Memory bombs: small files that claim huge arrays or networks are refused before anything
is allocated. Each is loaded in a fresh subprocess capped at CAP_MIB of address space (an
allocation of the claimed size would fail there with MemoryError); its resident memory
(VmRSS before, VmHWM - the peak - after) must grow by less than GROWTH_MIB.
"""

from __future__ import annotations

import json
import runpy
import zipfile
from pathlib import Path

import numpy as np
import pytest

from dlscratch import Sequential, TwoLayerNet, save
from dlscratch.layers import Relu

_files = runpy.run_path(str(Path(__file__).with_name("_files.py")))  # not a package: see there
memory_mib, result_of, run_capped = _files["memory_mib"], _files["result_of"], _files["run_capped"]
npy_header, npy_bytes, rewrite = _files["npy_header"], _files["npy_bytes"], _files["rewrite"]

CAP_MIB = 1024
GROWTH_MIB = 64
GIB = 2**30


def model(tmp_path) -> Path:
    return save(TwoLayerNet(784, 10, 10, seed=0), tmp_path / "model.npz")


def bomb_header_claims_1gib(tmp_path):
    path = model(tmp_path)
    rewrite(path, "W1.npy", npy_header((GIB // 8,)) + bytes(1000))
    return path, "W1 claims shape (134217728,) of float64 (1073741824 bytes)"


def bomb_zip_entry_claims_1gib(tmp_path):
    path = model(tmp_path)
    rewrite(path, "W1.npy", npy_header((4,)) + bytes(32), usize=GIB)
    return path, "member W1.npy is stored uncompressed but claims 1073741824 bytes"


def bomb_deflated_1gib(tmp_path):
    """A real zip bomb: about 1 MB that inflates to 1 GiB of zeros (sizes and CRC true)."""
    path = model(tmp_path)
    chunk = bytes(2**24)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=6) as zf, \
            zf.open("W9.npy", "w", force_zip64=True) as f:
        f.write(npy_header((GIB // 8,)))
        for _ in range(GIB // len(chunk)):
            f.write(chunk)
    return path, "more than the 536870912 a model file may hold"


def bomb_terabytes(tmp_path):
    path = model(tmp_path)
    rewrite(path, "W1.npy", npy_header((2**40,), "<f4") + bytes(64))
    return path, "W1 claims shape (1099511627776,) of float32"


def bomb_hidden_300000(tmp_path):
    path = model(tmp_path)
    with np.load(path) as f:
        arch = json.loads(str(f["__architecture__"]))
    arch["config"]["hidden_size"] = 300_000  # TwoLayerNet(784, 300000, 10): 2.7 GB to build
    rewrite(path, "__architecture__.npy", npy_bytes(np.array(json.dumps(arch))))
    return path, "config.hidden_size must be an integer in [1, 65536], got 300000"


def bomb_declared_shapes(tmp_path):
    path = save(Sequential([Relu()]), tmp_path / "seq.npz")
    arch = {"format": "dlscratch-model", "version": 1, "model": "Sequential",
            "dtype": "float32", "weight_decay_lambda": 0.0, "loss": "SoftmaxWithLoss",
            "layers": [{"type": "Affine", "config": {},
                        "params": {"W": [100_000, 100_000], "b": [100_000]}, "buffers": {}}]}
    rewrite(path, "__architecture__.npy", npy_bytes(np.array(json.dumps(arch))))
    return path, "declares 10000100000 values, more than 50000000"


def bomb_checkpoint_record(tmp_path):
    path = tmp_path / "checkpoint.npz"
    np.savez(path, **{"net/W1": np.zeros(3, np.float32)})
    rewrite(path, "__checkpoint__.npy", npy_header((), f"<U{GIB // 4}") + bytes(400))
    return path, ("the __checkpoint__ record must be one text of at most 67108864 bytes, got "
                  "'<U268435456'")


BOMBS = {name[5:]: fn for name, fn in globals().items() if name.startswith("bomb_")}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_a_bomb_is_refused_without_allocating(name, tmp_path):
    path, expected = BOMBS[name](tmp_path)
    assert path.stat().st_size < 2 * 2**20
    kind = "checkpoint" if "checkpoint" in name else "model"
    result = result_of(run_capped(f"{__file__}:measure_refusal", CAP_MIB, 60,
                                  [kind, str(path)]))
    print(f"\n{name}: {result}")
    assert result["error"] == ("CheckpointError" if kind == "checkpoint" else "ModelFileError")
    assert expected in result["message"] and str(path) in result["message"]
    assert result["peak_growth_mib"] < GROWTH_MIB
    assert result["rss_growth_mib"] < GROWTH_MIB


def measure_refusal(kind: str, path: str) -> dict:
    """In the capped child: read `path`; the error and the memory growth it cost."""
    from dlscratch import TwoLayerNet
    from dlscratch.errors import ModelFileError
    from dlscratch.io.serialize import load
    from dlscratch.train.checkpoint import read_checkpoint

    TwoLayerNet(4, 3, 2).predict(np.ones((1, 4)))  # warm up: numpy, BLAS, lazy imports
    before = memory_mib()
    try:
        (read_checkpoint if kind == "checkpoint" else load)(path)
        error, message = None, None
    except ModelFileError as exc:
        error, message = type(exc).__name__, str(exc)
    after = memory_mib()
    return {"error": error, "message": message,
            "rss_growth_mib": round(after["rss"] - before["rss"], 1),
            "peak_growth_mib": round(after["peak"] - before["rss"], 1)}
