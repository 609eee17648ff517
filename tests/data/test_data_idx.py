"""IDX reader/writer: round trips and every error path, on files written into tmp_path."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from dlscratch.data import DataError, read_idx, write_idx
from dlscratch.data.idx import encode_idx


def idx_header(code: int, shape: tuple[int, ...]) -> bytes:
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4), (2, 1, 3, 2)])
def test_round_trip(tmp_path, gz, dtype, shape):
    rng = np.random.default_rng(1)
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else None
    if info is not None:
        array = rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)
    else:
        array = rng.standard_normal(shape).astype(dtype)
    path = tmp_path / ("a.idx.gz" if gz else "a.idx")
    write_idx(path, array)
    assert path.read_bytes()[:2] == (b"\x1f\x8b" if gz else b"\x00\x00")
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    assert back.shape == shape
    np.testing.assert_array_equal(back, array)
    assert list(tmp_path.iterdir()) == [path]  # atomic write left no temporary file


def test_big_endian_on_disk(tmp_path):
    path = tmp_path / "x.idx"
    write_idx(path, np.array([1, 258], dtype=np.int32))
    assert path.read_bytes() == idx_header(0x0C, (2,)) + b"\x00\x00\x00\x01\x00\x00\x01\x02"


def test_empty_dimension_round_trips(tmp_path):
    write_idx(tmp_path / "e.idx", np.zeros((0, 28, 28), np.uint8))
    assert read_idx(tmp_path / "e.idx").shape == (0, 28, 28)


def test_gzip_detected_by_content_without_gz_name(tmp_path):
    path = tmp_path / "labels.idx"
    path.write_bytes(gzip.compress(encode_idx(np.arange(5, dtype=np.uint8))))
    np.testing.assert_array_equal(read_idx(path), np.arange(5))


@pytest.mark.parametrize("dtype", [np.int64, np.uint16, np.bool_, np.complex64])
def test_write_rejects_unsupported_dtype(tmp_path, dtype):
    with pytest.raises(DataError, match=f"cannot store dtype {np.dtype(dtype)}"):
        write_idx(tmp_path / "x.idx", np.zeros(3, dtype))
    assert not list(tmp_path.iterdir())


def test_write_rejects_scalar(tmp_path):
    with pytest.raises(DataError, match="0-d array"):
        write_idx(tmp_path / "x.idx", np.uint8(3))


def check_error(path, *fragments):
    with pytest.raises(DataError) as info:
        read_idx(path)
    message = str(info.value)
    assert str(path) in message
    assert info.value.path == str(path)
    for fragment in fragments:
        assert fragment in message, message


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize(
    "content, fragments",
    [
        (b"", ["empty", "0 bytes"]),
        (b"\x00\x00", ["truncated IDX header", "2 bytes"]),
        (b"\x01\x02\x08\x01" + b"\x00" * 8, ["bad IDX magic number 0x01020801"]),
        (idx_header(0x0A, (3,)) + b"abc", ["unknown IDX type code 0x0A"]),
        (b"\x00\x00\x08\x00", ["ndim 0"]),
        (idx_header(0x08, (2, 3))[:9], ["truncated IDX header", "needs 12 bytes", "has 9"]),
        (idx_header(0x08, (2, 3)) + b"\x01" * 5, ["truncated IDX data", "(2, 3)", "1 missing"]),
        (idx_header(0x0D, (4,)) + b"\x00" * 15, ["truncated IDX data", "float32", "needs 24"]),
        (idx_header(0x08, (2, 3)) + b"\x01" * 8, ["2 trailing bytes"]),
    ],
    ids=[
        "zero-length",
        "short-header",
        "bad-magic",
        "unknown-type",
        "ndim-0",
        "truncated-dims",
        "truncated-data",
        "truncated-float",
        "trailing-bytes",
    ],
)
def test_malformed_files(tmp_path, gz, content, fragments):
    path = tmp_path / ("bad.idx.gz" if gz else "bad.idx")
    path.write_bytes(gzip.compress(content) if gz else content)
    check_error(path, *fragments)


def test_corrupt_gzip_truncated(tmp_path):
    data = gzip.compress(encode_idx(np.arange(1000, dtype=np.int32)))
    path = tmp_path / "cut.idx.gz"
    path.write_bytes(data[: len(data) // 2])
    check_error(path, "corrupt gzip")


def test_corrupt_gzip_flipped_bytes(tmp_path):
    data = bytearray(gzip.compress(encode_idx(np.arange(1000, dtype=np.int32))))
    data[20:30] = b"\xff" * 10
    path = tmp_path / "flip.idx.gz"
    path.write_bytes(bytes(data))
    check_error(path, "corrupt gzip")


def test_gz_name_without_gzip_content(tmp_path):
    path = tmp_path / "plain.idx.gz"
    path.write_bytes(encode_idx(np.arange(3, dtype=np.uint8)))
    check_error(path, "not a gzip file", "0000")


def test_zero_length_gz_file(tmp_path):
    path = tmp_path / "empty.idx.gz"
    path.write_bytes(b"")
    check_error(path, "not a gzip file", "empty")


def test_missing_file(tmp_path):
    path = tmp_path / "nope.idx.gz"
    with pytest.raises(FileNotFoundError, match="IDX file not found") as info:
        read_idx(path)
    assert str(path) in str(info.value)
