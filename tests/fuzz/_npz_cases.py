"""Mutated .npz files for the fuzz tests: arrays, .npy headers, JSON records, zip members and
raw bytes, each mutation drawn with hypothesis (`draw` = `st.data().draw`).

    members = {"W1": array, ..., "__architecture__": np.array(json_text)}
    mutate_arrays(draw, arrays)           # NaN/Inf, dtypes, shapes, huge values (in place)
    mutate_json(draw, record)             # a random field: new type/value, removed, added
    data = zip_bytes(draw, members)       # npy bytes per member, some headers forged, then
                                          # zip-level mutations: renamed/duplicated/missing
                                          # members, deflate, claimed sizes, flipped bytes
"""

from __future__ import annotations

import copy
import io
import json
import math
import struct
import warnings
import zipfile

import numpy as np
from hypothesis import strategies as st

ODD_NUMBERS = [0, 1, -1, 2, 3, 7, 300_000, 2**31, 2**63, 10**40, 0.5, -0.5, 1.0, 1e308,
               math.nan, math.inf, -math.inf, -0.0]
ODD_VALUES = [None, True, False, "", "x", "float16", "float64", "complex128", "object",
              "Residual", "Affine", "BatchNormalization", "SoftmaxWithLoss", "Relu", "relu",
              "he", "PCG64", "MT19937", [], {}, [1], [0], [-1], [2, 3], [1, 2, 3, 4], [[1]],
              {"a": 1}, {"layers": []}, *ODD_NUMBERS]
JSON_VALUES = st.one_of(
    st.sampled_from(ODD_VALUES), st.integers(-10, 10**6),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
    st.lists(st.integers(-2, 70), max_size=6),
    st.recursive(st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=3),
                 lambda inner: st.lists(inner, max_size=3)
                 | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=8))
ODD_NAMES = ["../W1.npy", "W1", "a/b.npy", "W1.npy.npy", "", ".npy", "Ω.npy", "W 1.npy",
             "W1.NPY", "/abs.npy", "net//W1.npy", "net/.npy", "x\n.npy", "__x__.npy"]
DESCRS = ["<f4", "<f8", ">f8", "<f2", "|O", "<c16", "<U4", "|S3", "<i8", "|b1", "<M8[s]",
          "|V8", [("a", "<f8")], "x", 7, "(2,)<f4", "<f16", "<u4", ("<f8",), (), ("<f8", 3),
          {"a": 1}, [("a",)], [1], "<U99999999999999999999", ("<f8", (10**12, 10**12))]


def npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=True)
    return buf.getvalue()


def mutate_json(draw, root):
    """Mutate one randomly reached field of a JSON value; returns the (possibly new) root."""
    path, node = [], root
    while isinstance(node, (dict, list)) and node and draw(st.integers(0, 3)) > 0:
        key = draw(st.sampled_from(sorted(node) if isinstance(node, dict)
                                   else list(range(len(node)))))
        path.append((node, key))
        node = node[key]
    op = draw(st.sampled_from(["replace", "replace", "delete", "add", "duplicate", "wrap",
                               "nest"]))
    new = copy.deepcopy(draw(JSON_VALUES))  # sampled lists and dicts are shared objects
    if op == "wrap":
        new = [node]
    elif op == "nest":
        new = node
        for _ in range(draw(st.integers(1, 120))):
            new = draw(st.sampled_from([[new], {"a": new}]))
    if not path:
        return new if op in ("replace", "wrap", "nest") else root
    parent, key = path[-1]
    if op == "delete":
        del parent[key]
    elif op == "add" and isinstance(node, dict):
        node[draw(st.sampled_from(["extra", "type", "config", "params", "W", "layers"]))] = new
    elif op == "add" and isinstance(node, list):
        node.insert(draw(st.integers(0, len(node))), new)
    elif op == "duplicate" and isinstance(parent, list):
        parent.insert(key, json.loads(json.dumps(node)))
    else:
        parent[key] = new
    return root


def mutate_arrays(draw, arrays: dict[str, np.ndarray], keys: list[str]) -> None:
    """One mutation of one array among `keys` (in place in `arrays`)."""
    key = draw(st.sampled_from(keys))
    arr = arrays[key]
    op = draw(st.sampled_from(["nan", "inf", "huge", "negative", "dtype", "shape", "fortran",
                               "scale", "object", "drop", "extra"]))
    if op not in ("fortran", "object", "drop", "extra") and (
            arr.dtype.kind not in "fiub" or arr.ndim == 0 or arr.size == 0):
        op = "drop"  # an earlier mutation left something these cannot work on
    if op in ("nan", "inf", "huge", "negative"):
        arr = np.array(arr, dtype=np.float64 if op == "huge" or arr.dtype.kind != "f" else
                       arr.dtype)
        index = draw(st.integers(0, arr.size - 1))
        arr.flat[index] = {"nan": np.nan, "inf": -np.inf, "huge": 3e39, "negative": -1.0}[op]
    elif op == "dtype":
        dtype = draw(st.sampled_from(["int32", "int64", "complex64", "float16", ">f8", "bool",
                                      "U3", "float64", "uint8", "S4"]))
        arr = arr.astype(dtype)
    elif op == "shape":
        arr = draw(st.sampled_from([arr.reshape(-1), arr.T, arr[None], arr[..., :-1],
                                    np.zeros(()), np.zeros((0,)), np.concatenate([arr, arr])
                                    if arr.ndim else arr]))
    elif op == "fortran":
        arr = np.asfortranarray(arr)
    elif op == "scale":
        arr = arr * draw(st.sampled_from([0.0, -1.0, 2.0, 1e-30]))
    elif op == "object":
        arr = np.array([{"evil": 1}, None], dtype=object)
    elif op == "drop":
        del arrays[key]
        return
    else:
        arrays[draw(st.sampled_from(["extra", "W99", "b1", "net/W1", "opt/m/W1", "best/x",
                                     "__other__"]))] = np.ones(3, np.float32)
        return
    arrays[key] = arr


def forged_npy(draw, original: bytes) -> bytes:
    """A .npy member whose header is written by hand: odd versions, dtypes, shapes, lengths."""
    version = draw(st.sampled_from([(1, 0), (1, 0), (2, 0), (3, 0), (0, 0), (255, 1)]))
    shape = draw(st.sampled_from([(3,), (2**27,), (2**40,), (-1,), (10**12, 10**12), (), (0,),
                                  (1.5,), ("a",), ((2,),), (2, 3, 4, 5, 6, 7, 8, 9, 10)]))
    fields = {"descr": draw(st.sampled_from(DESCRS)),
              "fortran_order": draw(st.sampled_from([False, True, "x", None])),
              "shape": shape}
    if draw(st.booleans()):
        del fields[draw(st.sampled_from(sorted(fields)))]
    text = draw(st.sampled_from([repr(fields), repr(fields)[:-3], "[1, 2]", "{" * 300,
                                 repr(fields) + " " * 20_000, "not python", repr(fields)]))
    header = text.encode("latin1", "replace") + b"\n"
    size = struct.pack("<H" if version[0] < 2 else "<I",
                       draw(st.sampled_from([len(header), len(header), 0, 65535, 7])) % 65536)
    data = original[draw(st.sampled_from([128, 64, 0])):]
    cut = draw(st.sampled_from([len(data), len(data), 0, len(data) // 2]))
    return b"\x93NUMPY" + bytes(version) + size + header + data[:cut]


def zip_bytes(draw, members: dict[str, np.ndarray]) -> bytes:
    """The .npz of `members`, with at most one forged header and zip-level mutations."""
    entries = [(f"{key}.npy", npy(arr)) for key, arr in members.items()]
    if entries and draw(st.integers(0, 4)) == 0:  # a member's bytes changed, CRC still right
        i = draw(st.integers(0, len(entries) - 1))
        name, data = entries[i]
        if draw(st.booleans()):
            data = forged_npy(draw, data)
        else:
            pos = draw(st.integers(0, max(len(data) - 1, 0)))
            data = data[:pos] + bytes([draw(st.integers(0, 255))]) + data[pos + 1:]
        entries[i] = (name, data)
    op = draw(st.sampled_from(["none", "none", "rename", "duplicate", "deflate", "claims",
                               "flip", "truncate", "shuffle"]))
    if op == "rename" and entries:
        i = draw(st.integers(0, len(entries) - 1))
        entries[i] = (draw(st.sampled_from(ODD_NAMES)), entries[i][1])
    elif op == "duplicate" and entries:
        entries.append(entries[draw(st.integers(0, len(entries) - 1))])
    elif op == "shuffle":
        entries = entries[::-1]
    deflate = op == "deflate"
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w") as zf:
        warnings.simplefilter("ignore")  # "Duplicate name"
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
            zf.writestr(info, data)
    data = buf.getvalue()
    if op == "claims" and entries:
        data = patch_central(data, draw(st.integers(0, len(entries) - 1)),
                             draw(st.sampled_from([("usize", 2**30), ("usize", 0),
                                                   ("usize", 2**32 - 1), ("csize", 1),
                                                   ("method", 8), ("method", 12),
                                                   ("method", 99), ("flags", 1),
                                                   ("offset", 3), ("crc", 0)])))
    elif op == "flip":
        for _ in range(draw(st.integers(1, 4))):
            pos = draw(st.integers(0, len(data) - 1))
            data = data[:pos] + bytes([draw(st.integers(0, 255))]) + data[pos + 1:]
    elif op == "truncate":
        data = data[:draw(st.integers(0, len(data) - 1))]
    return data


CENTRAL_FIELDS = {"flags": (8, "<H"), "method": (10, "<H"), "crc": (16, "<I"),
                  "csize": (20, "<I"), "usize": (24, "<I"), "offset": (42, "<I")}


def patch_central(data: bytes, index: int, change: tuple[str, int]) -> bytes:
    """Overwrite one field of member `index`'s entry in the zip's central directory."""
    field, value = change
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        pos = zf.start_dir
    for _ in range(index):
        n, m, k = struct.unpack("<HHH", data[pos + 28:pos + 34])
        pos += 46 + n + m + k
    offset, fmt = CENTRAL_FIELDS[field]
    start = pos + offset
    return data[:start] + struct.pack(fmt, value) + data[start + struct.calcsize(fmt):]


def refusal_problem(exc, path) -> str | None:
    """What is wrong with a refusal's message (None: one line naming the file and field)."""
    message = str(exc)
    if "\n" in message or len(message) > 1000:
        return f"not one short line: {message[:300]!r}"
    if exc.path != str(path) or not message.startswith(f"{path}: "):
        return f"does not start with the file: {message!r}"
    if not exc.field or exc.field not in message[len(str(path)):]:
        return f"does not name its field {exc.field!r}: {message!r}"
    return None
