"""dlscratch.io.npz.SafeNpz: every refusal, with its message naming the file and the member."""

from __future__ import annotations

import re
import runpy
import zipfile
from pathlib import Path

import numpy as np
import pytest

from dlscratch.errors import CheckpointError, ModelFileError
from dlscratch.io import npz as npz_module
from dlscratch.io.npz import SafeNpz, json_depth

_files = runpy.run_path(str(Path(__file__).with_name("_files.py")))  # not a package: see there
npy_header, npy_bytes, rewrite = _files["npy_header"], _files["npy_bytes"], _files["rewrite"]
REC = "__rec__"


@pytest.fixture
def plain(tmp_path) -> Path:
    """W1 (2, 3) float32, b1 (3,) float64 and a JSON record."""
    path = tmp_path / "m.npz"
    np.savez(path, W1=np.ones((2, 3), np.float32), b1=np.zeros(3),
             **{REC: np.array('{"a": [1, 2]}')})
    return path


def refused(path, text, error=ModelFileError, field=None, **options):
    """Open (and read everything of) path; the error must name the file, field and text."""
    with pytest.raises(error) as info:
        with SafeNpz(path, record=REC, error=error, **options) as npz:
            for key in npz.keys:
                npz.read(key)
            npz.record_value()
    message = str(info.value)
    assert message.startswith(f"{path}: ") or message.endswith(str(path)), message
    assert text in message, message
    assert "\n" not in message
    if field is not None:
        assert info.value.field == field and field in message
    return info.value


def test_a_plain_file_reads(plain):
    with SafeNpz(plain, record=REC) as npz:
        assert npz.keys == ["W1", "b1"]
        assert npz.headers["W1"].shape == (2, 3) and npz.headers["W1"].dtype == np.float32
        npz.check({"W1": ((2, 3), "f"), "b1": ((3,), "f")}, "the plan")
        np.testing.assert_array_equal(npz.read("W1"), np.ones((2, 3)))
        assert npz.read("b1", np.float32).dtype == np.float32
        assert npz.record_value() == {"a": [1, 2]}


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match=re.escape(f"model file not found: {tmp_path}")):
        SafeNpz(tmp_path / "nope.npz")
    with pytest.raises(CheckpointError, match="checkpoint not found"):
        SafeNpz(tmp_path / "nope.npz", error=CheckpointError, what="checkpoint")


def test_not_a_zip(tmp_path):
    path = tmp_path / "x.npz"
    with open(path, "wb") as f:  # a bare .npy: np.load would read it, SafeNpz refuses
        np.save(f, np.zeros(3))
    refused(path, "unreadable model file (truncated or corrupted?): not a zip archive (.npz)",
            field="archive")
    path.write_bytes(b"PK\x03\x04" + bytes(60))
    refused(path, "unreadable model file (truncated or corrupted?): the zip archive cannot be "
                  "read: File is not a zip file", field="archive")


def test_too_many_members(plain, monkeypatch):
    monkeypatch.setattr(npz_module, "MAX_MEMBERS", 2)
    refused(plain, "the archive holds 3 members, more than 2", field="archive")


@pytest.mark.parametrize("name", ["../W1.npy", "W1", "a/b.npy", "x\n.npy", "W 1.npy", ".npy"])
def test_member_names(plain, name):
    rewrite(plain, name, npy_bytes(np.zeros(2)))
    error = refused(plain, "is not an array name (KEY.npy, KEY of letters, digits and _ . -)")
    assert error.field == f"member {name!r}"


def test_groups_allow_slashes(plain):
    rewrite(plain, "net/W1.npy", npy_bytes(np.zeros(2)))
    with SafeNpz(plain, record=REC, groups=True) as npz:
        assert "net/W1" in npz.keys
    rewrite(plain, "net//W1.npy", npy_bytes(np.zeros(2)))
    refused(plain, "member 'net//W1.npy' is not an array name", groups=True)


def test_duplicate_member(plain):
    with pytest.warns(UserWarning), zipfile.ZipFile(plain, "a") as zf:
        zf.writestr("W1.npy", npy_bytes(np.zeros(2)))
    refused(plain, "member W1.npy appears twice in the archive", field="W1")


@pytest.mark.parametrize("claims, text", [
    ({"flags": 1}, "member W1.npy is encrypted"),
    ({"method": 12}, "member W1.npy uses compression method 12; only stored and deflated"),
    ({"usize": 2**30}, "member W1.npy is stored uncompressed but claims 1073741824 bytes in"),
    ({"method": 8, "usize": 2**31}, "member W1.npy claims 2147483648 bytes from"),
])
def test_zip_directory_claims(plain, claims, text):
    rewrite(plain, "W1.npy", npy_bytes(np.zeros(4)), **claims)
    refused(plain, text, field="W1")


def test_total_size_cap(plain):
    refused(plain, "the members up to b1 claim", field="b1", max_bytes=200)


@pytest.mark.parametrize("data, text", [
    (b"not an npy file at all", "the header of W1 cannot be read: the magic string is not"),
    (npy_header((2,))[:20], "the header of W1 cannot be read"),
    (b"\x93NUMPY\x03\x00" + bytes(8), "W1 is in .npy format version (3, 0), not 1.0 or 2.0"),
])
def test_unreadable_headers(plain, data, text):
    rewrite(plain, "W1.npy", data)
    refused(plain, text, field="W1")


@pytest.mark.parametrize("arr, text", [
    (np.zeros(2, complex), "W1 has dtype 'complex128'; a model file holds float arrays only"),
    (np.array(["a"]), "W1 has dtype '<U1'"),
    (np.array([b"a"]), "W1 has dtype '|S1'"),
    (np.array([None], dtype=object), "W1 holds pickled Python objects, which dlscratch never "
                                     "loads; a model file holds float arrays only"),
    (np.zeros(2, bool), "W1 has dtype 'bool'"),
    (np.zeros(2, np.int64), "W1 has dtype 'int64'; a model file holds float arrays only"),
    (np.zeros(2, np.longdouble), "W1 has dtype"),
    (np.zeros(2, [("a", "<f8")]), "W1 has dtype"),
])
def test_dtypes_refused_before_reading(plain, arr, text):
    rewrite(plain, "W1.npy", npy_bytes(arr))
    refused(plain, text, field="W1")


def test_integers_where_allowed(plain):
    rewrite(plain, "W1.npy", npy_bytes(np.arange(3)))
    with SafeNpz(plain, record=REC, int_keys=("W1",)) as npz:
        np.testing.assert_array_equal(npz.read("W1"), [0, 1, 2])
        with pytest.raises(ModelFileError, match="W1 has dtype int64, the plan expects float"):
            npz.check({"W1": ((3,), "f"), "b1": ((3,), "f")}, "the plan")
    rewrite(plain, "W1.npy", npy_bytes(np.zeros(2, complex)))
    refused(plain, "W1 has dtype 'complex128'; a model file holds float or integer arrays only",
            int_keys=("W1",))


@pytest.mark.parametrize("arr", [np.array(["{}", "{}"]), np.array(b"{}"), np.array(1.0)])
def test_record_must_be_one_text(plain, arr):
    rewrite(plain, f"{REC}.npy", npy_bytes(arr))
    refused(plain, f"the {REC} record must be one text of at most 67108864 bytes", field=REC)


@pytest.mark.parametrize("data, text", [
    (npy_header((-1,)) + bytes(8), "W1 claims a negative dimension: shape (-1,)"),
    (npy_header((2**27,)) + bytes(8), "W1 claims shape (134217728,) of float64 (1073741824 "
                                      "bytes) but its member holds 8 bytes"),
    (npy_header((2,), version=(2, 0)) + bytes(17), "W1 claims shape (2,) of float64 (16 bytes)"
                                                   " but its member holds 17 bytes"),
])
def test_sizes_must_match_the_member(plain, data, text):
    rewrite(plain, "W1.npy", data)
    refused(plain, text, field="W1")


def test_check_keys_shapes_and_kinds(plain):
    with SafeNpz(plain, record=REC) as npz:
        with pytest.raises(ModelFileError, match=re.escape(
                "arrays do not match the plan: missing ['W2'], unexpected ['b1']")) as info:
            npz.check({"W1": ((2, 3), "f"), "W2": ((1,), "f")}, "the plan")
        assert info.value.field == "W2"
        with pytest.raises(ModelFileError, match=re.escape(
                "W1 has shape (2, 3), the plan expects (3, 2)")) as info:
            npz.check({"W1": ((3, 2), "f"), "b1": ((3,), "f")}, "the plan")
        assert info.value.field == "W1" and str(plain) in str(info.value)


def test_nan_and_inf_are_refused_naming_the_array(plain):
    w = np.ones((4, 4), np.float32)
    w[0, :3], w[1, 0] = np.nan, np.inf
    rewrite(plain, "W1.npy", npy_bytes(w))
    refused(plain, "W1 holds 3 NaN and 1 infinite values", field="W1")
    w[0, :3] = 0
    rewrite(plain, "W1.npy", npy_bytes(w))
    refused(plain, "W1 holds 1 infinite values", field="W1")


def test_values_too_large_for_the_target_dtype(plain):
    rewrite(plain, "W1.npy", npy_bytes(np.array([1.0, 3e39, -1e300])))
    with SafeNpz(plain, record=REC) as npz:
        assert npz.read("W1").dtype == np.float64
        with pytest.raises(ModelFileError, match="W1 holds 2 infinite values too large for "
                                                 "float32") as info:
            npz.read("W1", np.float32)
    assert info.value.field == "W1"


def test_a_corrupted_member_fails_its_crc(plain):
    def flip(w):
        rewrite(plain, "W1.npy", npy_bytes(w))
        data = bytearray(plain.read_bytes())
        data[data.index(w.tobytes()) + w.nbytes - 1] ^= 0xFF
        plain.write_bytes(bytes(data))

    flip(np.ones((2, 3), np.float32))  # a small member is read whole with its header
    refused(plain, "unreadable model file (truncated or corrupted?): the header of W1 cannot "
                   "be read: Bad CRC-32 for file 'W1.npy'", field="W1")
    flip(np.ones((100, 100), np.float32))  # a large one: when its data is read
    refused(plain, "unreadable model file (truncated or corrupted?): W1 cannot be read: Bad "
                   "CRC-32 for file 'W1.npy'", field="W1")


def test_data_that_differs_from_its_header(plain, monkeypatch):
    monkeypatch.setattr(np.lib.format, "read_array", lambda f, allow_pickle: np.zeros(5))
    refused(plain, "W1 does not hold what its header claims", field="W1")


@pytest.mark.parametrize("text, message", [
    ("{not json", f"unreadable model file (truncated or corrupted?): the {REC} record is not "
                  "valid JSON: Expecting property name"),
    ("[" * 5000 + "]" * 5000, "is not valid JSON: maximum recursion depth"),
    ("1" * 5000, "is not valid JSON: Exceeds the limit"),
    ("[" * 101 + "]" * 101, f"the {REC} record nests deeper than 100 levels"),
])
def test_bad_records(plain, text, message):
    rewrite(plain, f"{REC}.npy", npy_bytes(np.array(text)))
    refused(plain, message, field=REC)


def test_json_depth():
    assert json_depth(3) == 0 and json_depth([]) == 1
    assert json_depth({"a": [1, {"b": []}]}) == 4
