"""IDX files (the MNIST container format), raw or gzip-compressed.

Layout, all integers big-endian:

    bytes 0-1   0x00 0x00
    byte  2     type code: 0x08 ubyte, 0x09 byte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     ndim (>= 1)
    4*ndim      dimension sizes d_1 ... d_ndim, uint32 each
    data        d_1 * ... * d_ndim items, C order, big-endian

A file is accepted only if its (decompressed) size is exactly 4 + 4*ndim + prod(d) * itemsize.
The header is read first and decides everything: a raw file's size is checked before its data
is read; a `.gz` file is inflated in chunks into an array of the declared size and refused at
the first byte beyond it, so a small file that inflates to gigabytes costs at most the declared
size. No header may declare more than `MAX_IDX_BYTES` of data (callers may set a lower limit).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import math
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from dlscratch.data.errors import DataError
from dlscratch.io.atomic import atomic_write_bytes

GZIP_MAGIC = b"\x1f\x8b"
MAX_IDX_BYTES = 1 << 30  # 1 GiB of data: 20x MNIST's largest file (47 MB), above EMNIST's (550 MB)
CHUNK = 1 << 20  # bytes inflated or read at a time
MAX_NDIM = 64 if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else 32  # NumPy's own limit
_TAIL = 1 << 16  # trailing bytes counted exactly before saying "more than"

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
_GZIP_ERRORS = (OSError, EOFError, zlib.error)  # gzip.BadGzipFile is an OSError


def _type_codes() -> str:
    return ", ".join(f"0x{c:02X} {dt.name}" for c, dt in IDX_DTYPES.items())


@contextlib.contextmanager
def open_decompressed(path: str | os.PathLike) -> Iterator[tuple[BinaryIO, int | None]]:
    """Open a file for reading its content, gunzipped in a stream when it is gzip data (by name
    `.gz` or by magic): yields (stream, size), size None for gzip (unknown until inflated).

    FileNotFoundError if it does not exist; DataError for a `.gz` name without gzip content.
    """
    path = Path(path)
    try:
        raw = open(path, "rb")  # closed below, after the gzip reader over it
    except FileNotFoundError:
        raise FileNotFoundError(2, "IDX file not found", str(path)) from None
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})", path) from None
    with raw:
        magic = raw.peek(2)[:2]  # not read: a pipe cannot seek back
        if not (path.name.endswith(".gz") or magic == GZIP_MAGIC):
            yield raw, os.fstat(raw.fileno()).st_size
            return
        if magic != GZIP_MAGIC:
            what = "file is empty (0 bytes)" if not magic else f"starts with {magic.hex()}"
            raise DataError(f"{path}: not a gzip file ({what}, expected 1f8b)", path)
        with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
            yield stream, None


def _read_exactly(stream: BinaryIO, n: int, name: str) -> bytes:
    """Up to `n` bytes (fewer only at the end of the data)."""
    try:
        return stream.read(n)
    except _GZIP_ERRORS as e:
        raise DataError(f"{name}: corrupt gzip data ({e})", name) from e


def _read_into(stream: BinaryIO, buffer: memoryview, name: str) -> int:
    """Fill `buffer` as far as the data goes, CHUNK bytes at a time (a gzip stream's readinto
    reads a whole request into a temporary first); the number of bytes read."""
    done = 0
    try:
        while done < len(buffer) and (n := stream.readinto(buffer[done:done + CHUNK])):
            done += n
    except _GZIP_ERRORS as e:
        raise DataError(f"{name}: corrupt gzip data ({e})", name) from e
    return done


def _header(stream: BinaryIO, size: int | None, name: str) -> tuple[tuple[int, ...], np.dtype]:
    """Read and check the header: (shape, stored dtype). `size`: the file's, if known."""
    def have(n: int) -> str:
        return f"{size if size is not None else n} bytes"

    head = _read_exactly(stream, 4, name)
    if len(head) == 0:
        raise DataError(f"{name}: file is empty (0 bytes), expected an IDX header", name)
    if len(head) < 4:
        raise DataError(f"{name}: truncated IDX header ({len(head)} bytes, need at least 4)", name)
    if head[0] != 0 or head[1] != 0:
        raise DataError(
            f"{name}: bad IDX magic number 0x{head.hex()}: the first two bytes must be 0x0000",
            name,
        )
    code, ndim = head[2], head[3]
    if code not in IDX_DTYPES:
        raise DataError(
            f"{name}: unknown IDX type code 0x{code:02X} (known: {_type_codes()})", name
        )
    if ndim == 0:
        raise DataError(f"{name}: IDX header has ndim 0, expected at least 1 dimension", name)
    if ndim > MAX_NDIM:
        raise DataError(
            f"{name}: IDX header has ndim {ndim}, more than the {MAX_NDIM} dimensions a NumPy "
            "array can have",
            name,
        )
    dims = _read_exactly(stream, 4 * ndim, name)
    if len(dims) < 4 * ndim:
        raise DataError(
            f"{name}: truncated IDX header: ndim {ndim} needs {4 + 4 * ndim} bytes, file has "
            f"{have(4 + len(dims))}",
            name,
        )
    shape = tuple(int(d) for d in np.frombuffer(dims, dtype=">u4"))
    return shape, IDX_DTYPES[code]


def _size_error(
    name: str, shape, dtype: np.dtype, expected: int, actual: int, at_least: bool = False
) -> DataError:
    """Wrong length: `actual` bytes (`at_least`: reading stopped there, a gzip may hold more)."""
    if actual < expected:
        return DataError(
            f"{name}: truncated IDX data: shape {shape} of {dtype.name} needs {expected} bytes, "
            f"file has only {actual} ({expected - actual} missing)",
            name,
        )
    if not at_least:
        return DataError(
            f"{name}: {actual - expected} trailing bytes after IDX data "
            f"(shape {shape} of {dtype.name} needs {expected} bytes, file has {actual})",
            name,
        )
    return DataError(
        f"{name}: more than {actual - expected} trailing bytes after IDX data (shape {shape} of "
        f"{dtype.name} needs {expected} bytes, file has more than {actual}; reading stopped there)",
        name,
    )


def _read_data(stream: BinaryIO, size: int | None, shape, dtype: np.dtype, name: str) -> np.ndarray:
    """The data after the header, checked to end exactly where the header says."""
    header = 4 + 4 * len(shape)
    count = math.prod(shape)
    expected = header + count * dtype.itemsize
    if size is not None and size != expected:  # a raw file: decided before reading any data
        raise _size_error(name, shape, dtype, expected, size)
    array = np.empty(count, dtype=dtype)  # reserved, not touched: memory grows as data comes
    done = _read_into(stream, memoryview(array.view(np.uint8)), name)
    if done < count * dtype.itemsize:
        raise _size_error(name, shape, dtype, expected, header + done)
    tail = _read_exactly(stream, _TAIL, name)  # a gzip bomb stops here, after `expected`
    if tail:
        at_least = len(tail) == _TAIL and _read_exactly(stream, 1, name) != b""
        raise _size_error(name, shape, dtype, expected, expected + len(tail), at_least)
    array = array.reshape(shape)
    return array if dtype.itemsize == 1 else array.astype(dtype.newbyteorder("="))


def read_idx_stream(
    stream: BinaryIO,
    name: str | os.PathLike = "<bytes>",
    size: int | None = None,
    *,
    max_bytes: int = MAX_IDX_BYTES,
    limit_note: str = "",
) -> np.ndarray:
    """Decode IDX data from a binary stream (`size`: its length, if known) into an array of
    native byte order. Refuses a header that declares more than `max_bytes` of data
    (`limit_note` says why that limit, in the message). `name` is used in error messages."""
    name = os.fspath(name)
    shape, dtype = _header(stream, size, name)
    nbytes = math.prod(shape) * dtype.itemsize
    if math.prod(d for d in shape if d) * dtype.itemsize > np.iinfo(np.intp).max:
        # NumPy refuses such a shape even when a zero size makes it empty
        raise DataError(
            f"{name}: IDX header declares shape {shape} of {dtype.name}, more than a NumPy "
            "array can have even when empty",
            name,
        )
    if nbytes > max_bytes:
        why = limit_note or "the IDX size limit"
        raise DataError(
            f"{name}: IDX header declares shape {shape} of {dtype.name} = {nbytes:,} bytes, "
            f"more than {why} ({max_bytes:,} bytes); refused before reading",
            name,
        )
    try:
        return _read_data(stream, size, shape, dtype, name)
    except MemoryError:
        raise DataError(
            f"{name}: not enough memory to read shape {shape} of {dtype.name} "
            f"({nbytes / 2**20:,.1f} MiB)",
            name,
        ) from None


def parse_idx(data: bytes, name: str | os.PathLike = "<bytes>") -> np.ndarray:
    """Decode IDX bytes into an array of native byte order; `name` is used in error messages."""
    return read_idx_stream(io.BytesIO(data), name, len(data))


def read_idx(
    path: str | os.PathLike, *, max_bytes: int = MAX_IDX_BYTES, limit_note: str = ""
) -> np.ndarray:
    """Read an IDX file (`.gz` or raw) into an array of shape (d_1, ..., d_ndim).

    Raises DataError naming the file on a bad header, wrong size, corrupt gzip, a declared
    size above `max_bytes`, or too little memory; FileNotFoundError if it does not exist.
    uint8 results are writable arrays owned by the caller.
    """
    with open_decompressed(path) as (stream, size):
        return read_idx_stream(stream, path, size, max_bytes=max_bytes, limit_note=limit_note)


def encode_idx(array: np.ndarray) -> bytes:
    """Encode an array as IDX bytes (dtype uint8, int8, int16, int32, float32 or float64)."""
    array = np.asarray(array)
    code = _CODE_FOR_KIND.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        raise DataError(f"cannot store dtype {array.dtype} in IDX (supported: {_type_codes()})")
    if not 1 <= array.ndim <= 255:  # (NumPy itself stops at MAX_NDIM)
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
