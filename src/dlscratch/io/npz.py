"""A careful reader of `.npz` files from strangers: headers first, sizes checked, no pickle.

`np.savez` writes a zip archive with one member `KEY.npy` per array. Read naively, a 1 MB file
whose member claims a terabyte is allocated before anything is checked. `SafeNpz` instead:

1. opens the archive only if its first bytes are a zip's, with `np.load(f, allow_pickle=False)`,
   whose NpzFile reads nothing but the zip directory (`.zip`, a `zipfile.ZipFile`);
2. checks every member in the directory: name `KEY.npy` (KEY: letters, digits, `_ . -`, and
   `/` between groups where the caller allows it), no duplicates, no encryption, stored or
   deflated, a claimed size consistent with the compressed size (deflate cannot expand more
   than 1032:1), and all claimed sizes together at most `max_bytes`;
3. reads each member's `.npy` header only (magic, shape, dtype, order): floats (int where the
   caller allows it; never object, string, complex or structured data), a JSON record
   (`__NAME__`) a 0-d unicode array, and shape x itemsize equal to the member's size less
   its header;
4. lets the caller compare keys and shapes with what it expects (`check`) before any data;
5. reads data with `np.lib.format.read_array(f, allow_pickle=False)` (`read`): floats must be
   finite, and fit the dtype they are cast to.

Every refusal is the caller's error class (ModelFileError, CheckpointError) naming the file
and the member or field.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
import tokenize
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlscratch.errors import ModelFileError
from dlscratch.io.fields import Fields, one_line, show

MAX_BYTES = 512 * 2**20  # arrays of one model file: 50M float64 values (the architecture cap)
MAX_MEMBERS = 20_000  # 1,000 layers x 4 arrays x 4 checkpoint groups, with room
MAX_RECORD_BYTES = 64 * 2**20  # the JSON record (4 bytes a character): a history of ~1M steps
MAX_JSON_DEPTH = 100  # nesting of the JSON record (16 Residual levels need about 60)
MAX_DEFLATE_RATIO = 1100  # deflate expands at most 1032:1; a larger claim is a lie
MAX_HEADER_BYTES = 12 + 10_000  # magic, version, length, and numpy's largest safe header
FLOAT_SIZES = (2, 4, 8)  # float16, float32, float64
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a member first, or an empty archive
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,199}")
# what a corrupted archive or member raises while it is opened or read (numpy's .npy header
# parser lets IndexError, KeyError and TypeError through for some odd `descr` values, and
# tokenize's TokenError for some unparsable headers)
_CORRUPT = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, OverflowError,
            struct.error, RecursionError, NotImplementedError, IndexError, KeyError, TypeError,
            tokenize.TokenError)


@dataclass(frozen=True)
class Header:
    """What a member's .npy header claims, read before its data."""

    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool
    info: zipfile.ZipInfo


class _Counted:
    """A file wrapper that counts the bytes read through it (the .npy header's length) and
    reads at most `limit` of them: a header that claims a length of gigabytes ends short
    instead of inflating a deflated member into memory."""

    def __init__(self, f, limit: int):
        self.f, self.count, self.limit = f, 0, limit

    def read(self, size=-1):
        left = self.limit - self.count
        data = self.f.read(left if size is None or size < 0 else min(size, left))
        self.count += len(data)
        return data


class SafeNpz:
    """An .npz opened for careful reading; use as a context manager.

        with SafeNpz(path, record="__architecture__") as npz:
            arch = npz.record_value()              # the JSON record, parsed
            npz.check({"W1": ((784, 50), "f")})    # keys and shapes, before any data
            w1 = npz.read("W1", np.float32)        # finite float32 values

    error: the error class; what: "model file" / "checkpoint" (in messages); record: the key
    of the JSON record; groups: keys may hold "/" ("net/W1"); int_keys: keys that may hold
    integers; max_bytes: the most array data the whole file may claim.
    """

    def __init__(self, path, *, error: type = ModelFileError, what: str = "model file",
                 record: str | None = None, groups: bool = False, int_keys=(),
                 max_bytes: int = MAX_BYTES):
        self.path = Path(path)
        self.error, self.what, self.record = error, what, record
        self.groups, self.int_keys, self.max_bytes = groups, frozenset(int_keys), max_bytes
        self.fields = Fields(self.path, error, what)
        self.headers: dict[str, Header] = {}
        self._file = self._npz = None
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        for thing in (self._npz, self._file):
            if thing is not None:
                thing.close()
        self._file = self._npz = None

    def refuse(self, field: str, text: str) -> Exception:
        return self.fields.refuse(field, text)

    def unreadable(self, field: str, detail: str) -> Exception:
        return self.refuse(field, f"unreadable {self.what} (truncated or corrupted?): {detail}")

    # -- opening: the zip directory, then every member's header ----------------------------
    def _open(self) -> None:
        if not self.path.is_file():
            raise self.error(f"{self.what} not found: {self.path}", path=os.fspath(self.path))
        try:
            self._file = open(self.path, "rb")  # noqa: SIM115 - closed by close()
            magic = self._file.read(4)
        except OSError as exc:
            raise self.unreadable("archive", f"the archive cannot be read: "
                                             f"{one_line(exc)}") from None
        if magic not in ZIP_MAGIC:  # np.load would read a bare .npy (or refuse a pickle)
            raise self.unreadable("archive", "not a zip archive (.npz)")
        try:
            self._file.seek(0)
            self._npz = np.load(self._file, allow_pickle=False)
            infos = self._npz.zip.infolist()
        except _CORRUPT as exc:
            raise self.unreadable("archive", f"the zip archive cannot be read: "
                                             f"{one_line(exc)}") from None
        if len(infos) > MAX_MEMBERS:
            raise self.refuse("archive", f"the archive holds {len(infos)} members, more than "
                                         f"{MAX_MEMBERS}")
        members, total = {}, 0
        for info in infos:
            key = self._member_key(info, members)
            total += info.file_size
            if total > self.max_bytes:
                raise self.refuse(key, f"the members up to {key} claim {total} bytes, more than "
                                       f"the {self.max_bytes} a {self.what} may hold")
            members[key] = info
        for key, info in members.items():
            self.headers[key] = self._read_header(key, info)

    def _member_key(self, info: zipfile.ZipInfo, seen) -> str:
        name = info.filename
        key = name[:-4] if name.endswith(".npy") else None
        parts = key.split("/") if key is not None and self.groups else [key]
        if key is None or not all(p is not None and _NAME.fullmatch(p) for p in parts):
            field = f"member {show(name)}"
            raise self.refuse(field, f"{field} is not an array name (KEY.npy, KEY of letters, "
                                     f"digits and _ . -)")
        if key in seen:
            raise self.refuse(key, f"member {key}.npy appears twice in the archive")
        if info.flag_bits & 0x1:
            raise self.refuse(key, f"member {key}.npy is encrypted")
        method, size, packed = info.compress_type, info.file_size, info.compress_size
        if method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise self.refuse(key, f"member {key}.npy uses compression method {method}; "
                                   f"only stored and deflated members are read")
        if method == zipfile.ZIP_STORED and size != packed:
            raise self.refuse(key, f"member {key}.npy is stored uncompressed but claims {size} "
                                   f"bytes in {packed}")
        if method == zipfile.ZIP_DEFLATED and size > MAX_DEFLATE_RATIO * packed + 1024:
            raise self.refuse(key, f"member {key}.npy claims {size} bytes from {packed} "
                                   f"compressed ones, more than deflate can expand")
        return key

    def _read_header(self, key: str, info: zipfile.ZipInfo) -> Header:
        fmt, version = np.lib.format, None
        try:
            with self._npz.zip.open(info) as raw:
                f = _Counted(raw, MAX_HEADER_BYTES)
                version = fmt.read_magic(f)
                if version in ((1, 0), (2, 0)):
                    read = fmt.read_array_header_1_0 if version == (1, 0) else \
                        fmt.read_array_header_2_0
                    shape, fortran_order, dtype = read(f)
        except _CORRUPT as exc:
            raise self.unreadable(key, f"the header of {key} cannot be read: "
                                       f"{one_line(exc)}") from None
        if version not in ((1, 0), (2, 0)):
            raise self.refuse(key, f"{key} is in .npy format version {version}, not 1.0 or 2.0")
        self._check_dtype(key, dtype, shape)
        if any(n < 0 for n in shape):
            raise self.refuse(key, f"{key} claims a negative dimension: shape {show(shape)}")
        size = math.prod(shape) * dtype.itemsize
        if size != info.file_size - f.count:
            raise self.refuse(key, f"{key} claims shape {show(shape)} of {dtype} ({size} bytes) "
                                   f"but its member holds {info.file_size - f.count} bytes")
        return Header(tuple(shape), dtype, fortran_order, info)

    def _check_dtype(self, key: str, dtype: np.dtype, shape) -> None:
        if key == self.record or key.startswith("__") and key.endswith("__"):  # a JSON record
            if dtype.kind != "U" or shape != () or dtype.itemsize > MAX_RECORD_BYTES:
                raise self.refuse(key, f"the {key} record must be one text of at most "
                                       f"{MAX_RECORD_BYTES} bytes, got {show(str(dtype))} of "
                                       f"shape {show(shape)}")
            return
        plain = dtype.fields is None and dtype.subdtype is None and not dtype.hasobject
        is_float = plain and dtype.kind == "f" and dtype.itemsize in FLOAT_SIZES
        is_int = plain and dtype.kind in "iu" and key in self.int_keys
        if not (is_float or is_int):
            allowed = "float or integer" if key in self.int_keys else "float"
            text = (f"{key} holds pickled Python objects, which dlscratch never loads"
                    if dtype.hasobject else f"{key} has dtype {show(str(dtype))}")
            raise self.refuse(key, f"{text}; a {self.what} holds {allowed} arrays only")

    # -- what the caller asks for -----------------------------------------------------------
    @property
    def keys(self) -> list[str]:
        """The array keys, the record excluded."""
        return [k for k in self.headers if k != self.record]

    def check(self, expected: dict[str, tuple[tuple[int, ...], str]], against: str) -> None:
        """Keys exactly `expected` (key -> (shape, dtype kinds such as "f")), shapes and kinds
        as given; `against` names what they come from ("the architecture (TwoLayerNet)")."""
        missing = sorted(set(expected) - set(self.keys))
        extra = sorted(set(self.keys) - set(expected))
        if missing or extra:
            raise self.refuse((missing or extra)[0],
                              f"arrays do not match {against}: missing {show(missing, 250)}, "
                              f"unexpected {show(extra, 250)}")
        for key, (shape, kinds) in expected.items():
            head = self.headers[key]
            if head.shape != tuple(shape):
                raise self.refuse(key, f"{key} has shape {show(head.shape)}, {against} expects "
                                       f"{tuple(shape)}")
            if head.dtype.kind not in kinds:
                raise self.refuse(key, f"{key} has dtype {head.dtype}, {against} expects "
                                       f"{'float' if kinds == 'f' else kinds}")

    def read(self, key: str, dtype=None) -> np.ndarray:
        """The array `key` (its header already checked); floats must be finite, and still finite
        once cast to `dtype` when given."""
        head = self.headers[key]
        try:
            with self._npz.zip.open(head.info) as f:
                arr = np.lib.format.read_array(f, allow_pickle=False)
                trailing = f.read(1)  # also makes zipfile check the member's CRC
        except _CORRUPT as exc:
            raise self.unreadable(key, f"{key} cannot be read: {one_line(exc)}") from None
        if trailing or arr.shape != head.shape or arr.dtype != head.dtype:
            raise self.unreadable(key, f"{key} does not hold what its header claims")
        if arr.dtype.kind == "f":
            self._check_finite(key, arr, "")
            if dtype is not None and arr.dtype != dtype:
                with np.errstate(over="ignore"):
                    arr = arr.astype(dtype)
                self._check_finite(key, arr, f" too large for {np.dtype(dtype).name}")
        return arr

    def _check_finite(self, key: str, arr: np.ndarray, why: str) -> None:
        if np.isfinite(arr).all():
            return
        nan, inf = int(np.isnan(arr).sum()), int(np.isinf(arr).sum())
        counts = " and ".join(text for n, text in ((nan, f"{nan} NaN"), (inf, f"{inf} infinite"))
                              if n)
        raise self.refuse(key, f"{key} holds {counts} values{why}")

    def record_value(self):
        """The JSON record, parsed (None-safe: the caller checks `record in headers` first)."""
        key = self.record
        arr = self.read(key)
        try:
            value = json.loads(str(arr[()]))
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, too many digits, depth
            raise self.unreadable(key, f"the {key} record is not valid JSON: "
                                       f"{one_line(exc)}") from None
        if json_depth(value) > MAX_JSON_DEPTH:
            raise self.refuse(key, f"the {key} record nests deeper than {MAX_JSON_DEPTH} levels")
        return value


def json_depth(value) -> int:
    """How deeply lists and objects nest in a JSON value (a scalar: 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict)
                                                   else item))
    return deepest


__all__ = ["MAX_BYTES", "MAX_DEFLATE_RATIO", "MAX_JSON_DEPTH", "MAX_MEMBERS",
           "MAX_RECORD_BYTES", "Header", "SafeNpz", "json_depth"]
