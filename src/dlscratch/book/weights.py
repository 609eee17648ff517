"""The book's weight files: dlscratch's `.npz` for saving and loading, and a restricted reader
for the book's pickles.

The book saves a network's `params` with `pickle` (`params.pkl`, `deep_convnet_params.pkl`,
`sample_weight.pkl`). Unpickling a file runs whatever its author put in it, so dlscratch never
unpickles with Python's own loader:

- `save_params` / `load_params` of the book's networks write and read `.npz` (`params.pkl`
  becomes `params.npz`), read with `allow_pickle=False`;
- `read_pickle_weights(path)` (behind `dlscratch convert-weights FILE.pkl OUT.npz`, and behind
  `load_params('params.pkl')` when `dlscratch book` runs a script) reads a pickle with
  `RestrictedUnpickler`, which builds only NumPy arrays, dtypes, dicts, lists, strings and
  numbers and refuses every other global it is asked for, naming it.

The book's files are a plain dict of str -> ndarray: pickle protocol 3 or 4 naming
`numpy.core.multiarray._reconstruct`, `numpy.ndarray` and `numpy.dtype` (NumPy 2 writes
`numpy._core.multiarray`); protocol 2 adds `_codecs.encode` for the raw bytes.
"""

from __future__ import annotations

import codecs
import io
import os
import pickle
import sys
from pathlib import Path

import numpy as np

from dlscratch.book import SETTINGS
from dlscratch.errors import ModelFileError
from dlscratch.io.atomic import atomic_write
from dlscratch.io.npz import SafeNpz

try:  # NumPy 2
    from numpy._core.multiarray import _reconstruct, scalar
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core.multiarray import _reconstruct, scalar

MAX_PICKLE_BYTES = 1 << 30  # the book's largest file is 3.5 MB


class WeightFileError(ModelFileError):
    """A weight file that cannot be read, or a pickle that asks for something not allowed."""


def _array(cls, shape, dtype_code):
    if cls is not np.ndarray:
        raise pickle.UnpicklingError(f"refusing to build a {cls!r}: only numpy.ndarray")
    return _reconstruct(cls, shape, dtype_code)


def _encode(text, encoding="utf-8"):
    if str(encoding).lower().replace("-", "").replace("_", "") not in ("latin1", "utf8"):
        raise pickle.UnpicklingError(f"refusing _codecs.encode with encoding {encoding!r}")
    return codecs.encode(text, encoding)


ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _array,
    ("numpy._core.multiarray", "_reconstruct"): _array,
    ("numpy.core.multiarray", "scalar"): scalar,
    ("numpy._core.multiarray", "scalar"): scalar,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _encode,
}


class RefusedGlobal(pickle.UnpicklingError):
    """The pickle names a global that is not a NumPy array, dtype or number."""

    def __init__(self, name: str):
        super().__init__(f"refused to unpickle: it names the global '{name}', and only NumPy "
                         "arrays, dtypes, dicts, lists and numbers are allowed")
        self.name = name


class RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler that resolves only the globals in ALLOWED; any other raises RefusedGlobal
    naming it (`os.system`, `builtins.eval`, ...). Dicts, lists, tuples, strings, bytes and
    numbers need no global."""

    def find_class(self, module, name):
        try:
            return ALLOWED[(module, name)]
        except KeyError:
            raise RefusedGlobal(f"{module}.{name}") from None

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("refusing a persistent id")


def restricted_load(file, **kwargs):
    """`pickle.load` through RestrictedUnpickler (what `dlscratch book` gives a script that
    unpickles a file itself, as `ch03/neuralnet_mnist.py` does with sample_weight.pkl)."""
    return RestrictedUnpickler(file).load()


def restricted_loads(data, /, **kwargs):
    """`pickle.loads` through RestrictedUnpickler."""
    return RestrictedUnpickler(io.BytesIO(data)).load()


def read_pickle_weights(path) -> dict[str, np.ndarray]:
    """{name: array} from a book-style pickle (a dict of str -> numeric ndarray), read with
    RestrictedUnpickler. WeightFileError (one line, naming the file) for anything else."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_PICKLE_BYTES:
            raise WeightFileError(f"{path}: {size:,} bytes, more than a weight file of the book "
                                  f"could be (at most {MAX_PICKLE_BYTES:,})", path)
        data = path.read_bytes()
    except IsADirectoryError:
        raise WeightFileError(f"{path}: is a folder, not a weight file", path) from None
    try:
        value = RestrictedUnpickler(io.BytesIO(data)).load()
    except RefusedGlobal as exc:
        raise WeightFileError(f"{path}: {exc}", path) from None
    except Exception as exc:  # every malformed pickle: truncated, wrong opcodes, bad state
        raise WeightFileError(f"{path}: not a readable weight pickle "
                              f"({type(exc).__name__}: {exc})", path) from None
    return _check_weights(path, value)


def _check_weights(path, value) -> dict[str, np.ndarray]:
    if not isinstance(value, dict):
        raise WeightFileError(f"{path}: expected a dict of name -> array, got a "
                              f"{type(value).__name__}", path)
    arrays = {}
    for key, arr in value.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise WeightFileError(f"{path}: the key {key!r} is not a parameter name", path)
        if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf":
            kind = arr.dtype if isinstance(arr, np.ndarray) else type(arr).__name__
            raise WeightFileError(f"{path}: {key} is not an array of numbers ({kind})", path)
        arrays[key] = np.array(arr)  # an own, writeable copy (order kept)
    return arrays


def write_npz(path, arrays: dict[str, np.ndarray]) -> None:
    """Write `arrays` to `path` as an .npz (atomically: never a half-written file)."""
    with atomic_write(path) as f:
        np.savez(f, **{k: np.asarray(v) for k, v in arrays.items()})


def read_npz(path) -> dict[str, np.ndarray]:
    """{name: array} from an .npz written by `write_npz` (or np.savez), no pickle allowed."""
    with SafeNpz(path, error=WeightFileError, what="weights file", int_keys=()) as npz:
        return {key: npz.read(key) for key in npz.keys}


def npz_name(file_name) -> str:
    """The .npz that stands for a book's weight file name: `params.pkl` -> `params.npz`."""
    name = os.fspath(file_name)
    return name[:-4] + ".npz" if name.endswith(".pkl") else name


def save_params(params: dict, file_name) -> Path:
    """The book's `save_params`: `params` (a plain dict copy) to `file_name` relative to the
    current folder, as .npz (a `.pkl` name is written as `.npz`)."""
    path = Path(npz_name(file_name))
    write_npz(path, dict(params))
    return path


def load_params(file_name) -> dict[str, np.ndarray]:
    """The book's `load_params`: the arrays of `file_name`'s .npz, looked for in the current
    folder, then in the chapter folder of the script `dlscratch book` runs. A `.pkl` with no
    .npz beside it is read through the restricted unpickler when `dlscratch book` runs the
    script; otherwise it must be converted first (`dlscratch convert-weights`)."""
    npz, name = npz_name(file_name), os.fspath(file_name)
    folders = [Path.cwd()] + ([SETTINGS.chapter_dir] if SETTINGS.chapter_dir else [])
    for folder in folders:
        if (folder / npz).is_file():
            return read_npz(folder / npz)
    for folder in folders:
        pkl = folder / name
        if name.endswith(".pkl") and pkl.is_file():
            if not SETTINGS.read_pickles:
                raise WeightFileError(
                    f"{pkl} is a pickle, which dlscratch does not load directly: convert it "
                    f"once with 'dlscratch convert-weights {pkl} {pkl.with_suffix('.npz')}'",
                    pkl)
            arrays = read_pickle_weights(pkl)
            print(f"dlscratch book: {pkl}: read through the restricted unpickler (NumPy "
                  "arrays only)", file=sys.stderr)
            return arrays
    where = " or ".join(str(f / npz) for f in folders)
    raise WeightFileError(f"weights file not found: {where}", npz)
