"""Property: any file at all ends, in `read_idx`, in an array matching its header or in one
DataError naming the file - and never costs more memory than its header honestly declares.

10,000 files, drawn by hypothesis (derandomised): random bytes; IDX headers with valid or
mutated magic, type code, ndim and sizes (up to 2**32 - 1); bodies of the declared length, a
few bytes short or long, or megabytes of zeros more; each raw or gzip-wrapped (one member or
two, zero padding, cut short, a byte flipped, junk appended), named `.gz` or not. An oracle
written here with `struct` (not the reader's code) says what each file should give.

All of it runs in one child process under a 1 GiB address-space cap (`_memcap`): a reader that
inflated a gzip whole or allocated what a header claims without checking it would hit the cap.
The one allowed exception: a gzip whose header declares over 64 MiB (but no more than
MAX_IDX_BYTES) may end in the DataError "not enough memory" - the reader reserves the declared
size up front, in address space only, which only a capped process notices.
"""

from __future__ import annotations

import gzip
import math
import random
import runpy
import struct
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlscratch.data.idx import MAX_NDIM

from ._memcap import memory_mib, result_of, run_capped

CASES = 10_000
CAP_MIB = 1024
DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
SIZES = [0, 1, 2, 3, 5, 28, 255, 256, 60_000, 2**16, 2**24, 2**31, 2**32 - 1]
WRAPS = ["raw", "raw", "gzip", "multi", "padded", "cut", "flip", "junk", "zeros"]


def expected_array(content: bytes, limit: int) -> np.ndarray | None:
    """What `content` (decompressed) should read as, or None for "a DataError"."""
    if len(content) < 4 or content[:2] != b"\0\0" or content[2] not in DTYPES or not content[3]:
        return None
    if content[3] > MAX_NDIM:  # NumPy's limit (64 dimensions since NumPy 2), not IDX's (255)
        return None
    ndim = content[3]
    if len(content) < 4 + 4 * ndim:
        return None
    shape = struct.unpack(f">{ndim}I", content[4:4 + 4 * ndim])
    dtype = np.dtype(DTYPES[content[2]])
    if math.prod(shape) * dtype.itemsize > limit:
        return None
    if math.prod(filter(None, shape)) * dtype.itemsize >= 2**63:  # NumPy's limit, even if empty
        return None
    if len(content) != 4 + 4 * ndim + math.prod(shape) * dtype.itemsize:
        return None
    return np.frombuffer(content, dtype, offset=4 + 4 * ndim).reshape(shape)


def declared_bytes(content: bytes) -> int:
    if len(content) < 4 or content[2] not in DTYPES or len(content) < 4 + 4 * content[3]:
        return 0
    shape = struct.unpack(f">{content[3]}I", content[4:4 + 4 * content[3]])
    return math.prod(shape) * np.dtype(DTYPES[content[2]]).itemsize


@st.composite
def idx_content(draw) -> bytes:
    """Decompressed file content: random bytes, or an IDX header (maybe mutated) and body."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=40))
    magic = b"\0\0" if draw(st.integers(0, 5)) else draw(st.binary(min_size=2, max_size=2))
    code = draw(st.sampled_from(sorted(DTYPES))) if draw(st.integers(0, 5)) else draw(
        st.integers(0, 255))
    ndim = draw(st.integers(1, 4)) if draw(st.integers(0, 7)) else draw(st.integers(0, 255))
    sizes = st.sampled_from(SIZES[:5]) if draw(st.integers(0, 3)) else (
        st.sampled_from(SIZES) | st.integers(0, 2**32 - 1))
    dims = draw(st.lists(sizes, min_size=min(ndim, 6), max_size=min(ndim, 6)))
    dims += [1] * (ndim - len(dims))
    header = magic + bytes([code, ndim]) + struct.pack(f">{ndim}I", *dims)
    itemsize = np.dtype(DTYPES.get(code, ">u1")).itemsize
    length = math.prod(dims) * itemsize
    if length > 4096:
        length = draw(st.integers(0, 64))
    length = max(0, length + draw(st.sampled_from([0] * 8 + [-1, 1, -3, 8, -itemsize])))
    body = random.Random(draw(st.integers(0, 2**32))).randbytes(length)
    content = header + body
    if not draw(st.integers(0, 9)):
        content = content[:draw(st.integers(0, len(content)))]
    return content


@st.composite
def idx_files(draw) -> tuple[bytes, bytes | None, bool]:
    """(file bytes, decompressed content or None where the gzip itself was damaged, .gz name)."""
    content = draw(idx_content())
    wrap = draw(st.sampled_from(WRAPS))
    named_gz = draw(st.booleans())
    if wrap == "raw":
        known = not content.startswith(b"\x1f\x8b") and not named_gz
        return content, content if known else None, named_gz
    if wrap == "zeros":  # a small gzip bomb: megabytes of zeros after the IDX data
        content += bytes(draw(st.sampled_from([1, 4096, 1 << 20, 3 << 20])))
    if wrap == "multi":
        cut = draw(st.integers(0, len(content)))
        return gzip.compress(content[:cut]) + gzip.compress(content[cut:]), content, named_gz
    data = gzip.compress(content, mtime=0)
    if wrap == "padded":
        return data + bytes(draw(st.integers(1, 20))), content, named_gz
    if wrap == "cut":
        return data[:draw(st.integers(0, len(data) - 1))], None, named_gz
    if wrap == "flip":
        at = draw(st.integers(0, len(data) - 1))
        flipped = data[at] ^ draw(st.integers(1, 255))
        return data[:at] + bytes([flipped]) + data[at + 1:], None, named_gz
    if wrap == "junk":
        return data + draw(st.binary(min_size=1, max_size=8).filter(any)), None, named_gz
    return data, content, named_gz


def check_case(folder: Path, file: bytes, content: bytes | None, named_gz: bool,
               outcomes: Counter) -> None:
    from dlscratch.data import DataError, read_idx
    from dlscratch.data.idx import MAX_IDX_BYTES

    path = folder / ("case.idx.gz" if named_gz else "case.idx")
    path.write_bytes(file)
    try:
        array = read_idx(path)
    except DataError as e:
        assert e.path == str(path) and str(e).startswith(f"{path}: "), str(e)
        oom = "not enough memory" in str(e)
        if content is not None:
            assert expected_array(content, MAX_IDX_BYTES) is None or oom, str(e)
        if oom:  # only a reservation above 64 MiB can meet the cap
            assert content is None or declared_bytes(content) > 64 << 20, str(e)
        outcomes["error: " + kind_of(str(e))] += 1
        return
    # a damaged gzip that still reads (a flipped mtime byte): it must inflate to that
    source = content if content is not None else gzip.decompress(file)
    expected = expected_array(source, MAX_IDX_BYTES)
    assert expected is not None, f"read {array.shape} {array.dtype} from an invalid file"
    assert array.shape == expected.shape and array.dtype == expected.dtype.newbyteorder("=")
    assert array.tobytes() == expected.astype(array.dtype).tobytes()
    outcomes["array"] += 1


def kind_of(message: str) -> str:
    for kind in ("not a gzip file", "corrupt gzip", "not enough memory", "refused before reading",
                 "trailing bytes", "truncated IDX header", "truncated IDX data", "magic",
                 "type code", "ndim 0", "dimensions a NumPy", "even when empty", "empty"):
        if kind in message:
            return kind
    return "other: " + message


def fuzz_main(cases: str) -> dict:
    """Run in the capped child: `cases` files through read_idx; the outcomes, counted."""
    import dlscratch.data  # noqa: F401 (imported before the baseline is taken)

    runpy.run_path(str(Path(__file__).with_name("conftest.py")))  # the "ci" profile: derandomised
    outcomes: Counter = Counter()
    start = memory_mib()

    with tempfile.TemporaryDirectory() as folder:
        @settings(max_examples=int(cases), suppress_health_check=list(HealthCheck))
        @given(idx_files())
        def run(case):
            check_case(Path(folder), *case, outcomes)

        run()
    end = memory_mib()
    return {"cases": sum(outcomes.values()), "outcomes": dict(sorted(outcomes.items())),
            "rss_start_mib": round(start["rss"]), "peak_growth_mib": round(end["peak"] -
                                                                           start["rss"])}


def test_any_file_reads_as_its_header_says_or_fails_cleanly():
    proc = run_capped(f"{__file__}:fuzz_main", cap_mib=CAP_MIB, timeout_s=300, args=[CASES])
    result = result_of(proc)
    print(result)  # shown with -s: the counts the report quotes
    assert result["cases"] >= CASES, result
    assert not any(k.startswith("error: other") for k in result["outcomes"]), result
    assert result["outcomes"].get("array", 0) > CASES // 50, result  # valid files were drawn too
