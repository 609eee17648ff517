"""Helpers for the tests of this folder: .npy headers and members written by hand.

This folder is not a package (pytest would name it `io`, the standard library's name), so its
tests load this file with `runpy.run_path`.
"""

from __future__ import annotations

import io
import runpy
import zipfile
from pathlib import Path

import numpy as np

FUZZ = Path(__file__).parents[1] / "fuzz"
_memcap = runpy.run_path(str(FUZZ / "_memcap.py"))
memory_mib, result_of, run_capped = (_memcap[n] for n in ("memory_mib", "result_of",
                                                            "run_capped"))
patch_central = runpy.run_path(str(FUZZ / "_npz_cases.py"))["patch_central"]


def npy_header(shape, descr="<f8", version=(1, 0)) -> bytes:
    """A .npy header claiming `shape` of `descr`, without data."""
    buf = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    if version == (1, 0):
        np.lib.format.write_array_header_1_0(buf, header)
    else:
        np.lib.format.write_array_header_2_0(buf, header)
    return buf.getvalue()


def npy_bytes(arr) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=True)
    return buf.getvalue()


def rewrite(path: Path, member: str, data: bytes | None, compress=zipfile.ZIP_STORED,
            **claims) -> Path:
    """Replace (add; with data None, remove) one member of the .npz at path. `claims`, e.g.
    usize=2**30: fields of that member's entry in the zip directory overwritten (lies)."""
    with zipfile.ZipFile(path) as zf:
        others = [(n, zf.read(n)) for n in zf.namelist() if n != member]
    with zipfile.ZipFile(path, "w") as zf:
        for name, payload in others:
            zf.writestr(name, payload)
        if data is not None:
            zf.writestr(zipfile.ZipInfo(member, (1980, 1, 1, 0, 0, 0)), data, compress)
    for field, value in claims.items():
        with zipfile.ZipFile(path) as zf:
            index = zf.namelist().index(member)
        path.write_bytes(patch_central(path.read_bytes(), index, (field, value)))
    return path
