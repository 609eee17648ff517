"""Pickles in the book's weight-file format, made here (BOOK-API.md §12), and hostile ones.

The book's files are `pickle.dumps` of a dict of name -> ndarray: protocol 3 (or 4) naming
`numpy.core.multiarray._reconstruct`, `numpy.ndarray` and `numpy.dtype`; protocol 2 adds
`_codecs.encode`. NumPy 2's own pickling names `numpy._core.multiarray` instead, so the module
of `_reconstruct` is written by hand here.
"""

from __future__ import annotations

import io
import os
import pickle
import pickletools

import numpy as np

try:
    from numpy._core.multiarray import _reconstruct
except ImportError:  # NumPy 1.x
    from numpy.core.multiarray import _reconstruct


class _BookPickler(pickle._Pickler):
    """Python's own pickler, naming `_reconstruct` as `<core>.multiarray._reconstruct`."""

    def __init__(self, file, protocol, core):
        super().__init__(file, protocol)
        self.core = core

    def save_global(self, obj, name=None):
        if obj is not _reconstruct:
            return super().save_global(obj, name)
        if self.proto >= 4:
            self.save(f"{self.core}.multiarray")
            self.save("_reconstruct")
            self.write(pickle.STACK_GLOBAL)
        else:
            self.write(pickle.GLOBAL + f"{self.core}.multiarray\n_reconstruct\n".encode())
        self.memoize(obj)


def book_pickle(arrays: dict, protocol: int = 3, core: str = "numpy.core") -> bytes:
    f = io.BytesIO()
    _BookPickler(f, protocol, core).dump(arrays)
    return f.getvalue()


def globals_named(data: bytes) -> list[str]:
    """'module name' of every GLOBAL / STACK_GLOBAL in the pickle, in order (a memo reference
    to a module name already written counts as that name)."""
    names, top, memo = [], [], {}
    for op, arg, _ in pickletools.genops(data):
        if op.name == "GLOBAL":
            names.append(arg)
            top.append(arg)
        elif op.name == "STACK_GLOBAL":
            names.append(f"{top[-2]} {top[-1]}")
            top.append(names[-1])
        elif op.name.endswith("UNICODE"):
            top.append(arg)
        elif op.name == "MEMOIZE":
            memo[len(memo)] = top[-1]
        elif op.name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[arg] = top[-1]
        elif op.name in ("GET", "BINGET", "LONG_BINGET"):
            top.append(memo.get(arg))
        else:
            top.append(None)
    return names


class RunsACommand:
    """Unpickled by Python's loader, this runs `touch <path>`."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def malicious_pickle(path, protocol: int = 3) -> bytes:
    """A weight file whose W1 runs a command when unpickled the usual way."""
    return pickle.dumps({"b1": np.zeros(3), "W1": RunsACommand(path)}, protocol=protocol)


def sample_arrays(seed: int = 0) -> dict:
    """Arrays like sample_weight.pkl's: float32, some Fortran-ordered, keys out of order."""
    rng = np.random.default_rng(seed)
    return {
        "b2": rng.standard_normal(4).astype(np.float32),
        "W1": np.asfortranarray(rng.standard_normal((6, 5)).astype(np.float32)),
        "b1": rng.standard_normal(5).astype(np.float32),
        "W2": rng.standard_normal((5, 4)),
    }
