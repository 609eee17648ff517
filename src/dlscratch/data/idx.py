"""IDX files (the MNIST container format), raw or gzip-compressed.

Layout, all integers big-endian:

    bytes 0-1   0x00 0x00
    byte  2     type code: 0x08 ubyte, 0x09 byte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     ndim (>= 1)
    4*ndim      dimension sizes d_1 ... d_ndim, uint32 each
    data        d_1 * ... * d_ndim items, C order, big-endian

A file is accepted only if its size is exactly 4 + 4*ndim + prod(d) * itemsize.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from dlscratch.data.errors import DataError
from dlscratch.io.atomic import atomic_write_bytes

GZIP_MAGIC = b"\x1f\x8b"

# type code -> big-endian dtype as stored in the file
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_FOR_KIND = {(dt.kind, dt.itemsize): code for code, dt in IDX_DTYPES.items()}


def _type_codes() -> str:
    return ", ".join(f"0x{c:02X} {dt.name}" for c, dt in IDX_DTYPES.items())


def read_file_bytes(path: str | os.PathLike) -> bytes:
    """Return the file's content, gunzipped when it is gzip data (by name `.gz` or magic)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(2, "IDX file not found", str(path)) from None
    if path.name.endswith(".gz") or data.startswith(GZIP_MAGIC):
        if not data.startswith(GZIP_MAGIC):
            what = "file is empty (0 bytes)" if not data else f"starts with {data[:2].hex()}"
            raise DataError(f"{path}: not a gzip file ({what}, expected 1f8b)", path)
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"{path}: corrupt gzip data ({e})", path) from e
    return data


def parse_idx(data: bytes, name: str | os.PathLike = "<bytes>") -> np.ndarray:
    """Decode IDX bytes into an array of native byte order; `name` is used in error messages."""
    name = os.fspath(name)
    if len(data) == 0:
        raise DataError(f"{name}: file is empty (0 bytes), expected an IDX header", name)
    if len(data) < 4:
        raise DataError(f"{name}: truncated IDX header ({len(data)} bytes, need at least 4)", name)
    if data[0] != 0 or data[1] != 0:
        raise DataError(
            f"{name}: bad IDX magic number 0x{data[:4].hex()}: the first two bytes must be 0x0000",
            name,
        )
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        raise DataError(
            f"{name}: unknown IDX type code 0x{code:02X} (known: {_type_codes()})", name
        )
    if ndim == 0:
        raise DataError(f"{name}: IDX header has ndim 0, expected at least 1 dimension", name)
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(
            f"{name}: truncated IDX header: ndim {ndim} needs {header} bytes, file has {len(data)}",
            name,
        )
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = header + math.prod(shape) * dtype.itemsize
    if len(data) < expected:
        raise DataError(
            f"{name}: truncated IDX data: shape {shape} of {dtype.name} needs {expected} bytes, "
            f"file has only {len(data)} ({expected - len(data)} missing)",
            name,
        )
    if len(data) > expected:
        raise DataError(
            f"{name}: {len(data) - expected} trailing bytes after IDX data "
            f"(shape {shape} of {dtype.name} needs {expected} bytes, file has {len(data)})",
            name,
        )
    arr = np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=header).reshape(shape)
    return arr if dtype.itemsize == 1 else arr.astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (`.gz` or raw) into an array of shape (d_1, ..., d_ndim).

    Raises DataError naming the file on a bad header, wrong size or corrupt gzip;
    FileNotFoundError if it does not exist. uint8 results are read-only views.
    """
    return parse_idx(read_file_bytes(path), path)


def encode_idx(array: np.ndarray) -> bytes:
    """Encode an array as IDX bytes (dtype uint8, int8, int16, int32, float32 or float64)."""
    array = np.asarray(array)
    code = _CODE_FOR_KIND.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        raise DataError(f"cannot store dtype {array.dtype} in IDX (supported: {_type_codes()})")
    if not 1 <= array.ndim <= 255:
        raise DataError(f"cannot store a {array.ndim}-d array in IDX (need 1 to 255 dimensions)")
    if any(d >= 2**32 for d in array.shape):
        raise DataError(f"cannot store shape {array.shape} in IDX (each size must be < 2**32)")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write `array` as an IDX file, gzip-compressed if the name ends in `.gz`; atomic."""
    data = encode_idx(array)
    if os.fspath(path).endswith(".gz"):
        data = gzip.compress(data, compresslevel=6, mtime=0)
    atomic_write_bytes(path, data)
