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


# -- limits: what a header may declare, and what a file may hold ----------------------------


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_header_declaring_more_than_the_cap_is_refused_unread(tmp_path, gz):
    content = idx_header(0x0E, (2**16, 2**15))  # 2**31 float64: 16 GiB, and no data at all
    path = tmp_path / ("big.idx.gz" if gz else "big.idx")
    path.write_bytes(gzip.compress(content) if gz else content)
    check_error(path, "IDX header declares shape (65536, 32768) of float64 = 17,179,869,184 "
                "bytes, more than the IDX size limit (1,073,741,824 bytes); refused before reading")


def test_a_lower_limit_and_its_reason_are_named(tmp_path):
    path = tmp_path / "labels.idx"
    write_idx(path, np.zeros(101, np.uint8))
    with pytest.raises(DataError) as info:
        read_idx(path, max_bytes=100, limit_note="a test's 100 labels")
    assert str(info.value) == (
        f"{path}: IDX header declares shape (101,) of uint8 = 101 bytes, more than a test's 100 "
        "labels (100 bytes); refused before reading")
    assert read_idx(path, max_bytes=101).shape == (101,)


def test_gzip_truncated_far_below_a_huge_declared_size(tmp_path):
    path = tmp_path / "cut.idx.gz"  # declares 256 MiB, holds 10 bytes: nothing big is touched
    path.write_bytes(gzip.compress(idx_header(0x08, (2**14, 2**14)) + b"\x01" * 10))
    check_error(path, "truncated IDX data", "needs 268435468 bytes", "file has only 22",
                "268435446 missing")


def test_gzip_that_inflates_far_beyond_its_header_stops_reading(tmp_path):
    path = tmp_path / "long.idx.gz"
    path.write_bytes(gzip.compress(idx_header(0x08, (4,)) + b"\x00" * (1 << 20)))
    check_error(path, "more than 65536 trailing bytes after IDX data", "needs 12 bytes",
                "file has more than 65548; reading stopped there")


def test_raw_file_with_many_trailing_bytes_counts_them(tmp_path):
    path = tmp_path / "long.idx"
    path.write_bytes(idx_header(0x08, (4,)) + b"\x00" * 100_004)
    check_error(path, "100000 trailing bytes after IDX data", "file has 100012)")


def test_gzip_with_trailing_garbage_after_the_member(tmp_path):
    path = tmp_path / "junk.idx.gz"
    path.write_bytes(gzip.compress(encode_idx(np.arange(3, dtype=np.uint8))) + b"junk")
    check_error(path, "corrupt gzip data")


def test_multi_member_gzip_and_zero_padding_are_read(tmp_path):
    data = encode_idx(np.arange(300, dtype=np.int16))
    path = tmp_path / "multi.idx.gz"
    path.write_bytes(gzip.compress(data[:7]) + gzip.compress(data[7:]) + b"\x00" * 9)
    np.testing.assert_array_equal(read_idx(path), np.arange(300))


def test_out_of_memory_becomes_a_data_error(tmp_path, monkeypatch):
    path = tmp_path / "x.idx"
    write_idx(path, np.zeros((3, 4), np.float32))

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(np, "empty", no_memory)
    check_error(path, "not enough memory to read shape (3, 4) of float32 (0.0 MiB)")


def test_a_folder_is_not_an_idx_file(tmp_path):
    check_error(tmp_path, "cannot read (Is a directory)")


def test_parse_idx_reads_bytes():
    from dlscratch.data.idx import parse_idx

    np.testing.assert_array_equal(parse_idx(encode_idx(np.arange(4, dtype=np.int32))),
                                  np.arange(4))
    with pytest.raises(DataError, match="<bytes>: 1 trailing bytes"):
        parse_idx(encode_idx(np.arange(4, dtype=np.uint8)) + b"!")


def test_more_dimensions_than_numpy_allows(tmp_path):
    from dlscratch.data.idx import MAX_NDIM

    path = tmp_path / "deep.idx"
    path.write_bytes(idx_header(0x08, (1,) * (MAX_NDIM + 1)) + b"\x07")
    check_error(path, f"IDX header has ndim {MAX_NDIM + 1}, more than the {MAX_NDIM} dimensions "
                "a NumPy array can have")
    path.write_bytes(idx_header(0x08, (1,) * MAX_NDIM) + b"\x07")
    assert read_idx(path).shape == (1,) * MAX_NDIM


def test_an_empty_shape_numpy_cannot_hold(tmp_path):
    path = tmp_path / "empty-but-huge.idx"
    path.write_bytes(idx_header(0x08, (0, 2**32 - 1, 2**32 - 1)))
    check_error(path, "IDX header declares shape (0, 4294967295, 4294967295) of uint8, more than "
                "a NumPy array can have even when empty")
