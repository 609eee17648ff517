"""Bombs: small files (or a server) that would cost gigabytes if taken at their word - a 3 MB
`.gz` that inflates to 3 GiB, a 190 KB PNG of 169 megapixels, a download that never ends.

Each is refused in a fresh Python process whose resident memory is read from /proc/self/status
before and after: the peak (VmHWM, reset first) may grow by less than 64 MiB. The child also
runs under a 4 GiB address-space cap, so a regression fails the test instead of the machine.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest

from dlscratch.data import FILE_NAMES

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="Linux only")

GROWTH_LIMIT_MIB = 64
CHILD = """
import json, resource
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

def memory():
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return {k: int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM")}

SETUP
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # the peak (VmHWM) starts again from the current RSS
except OSError:
    pass
before = memory()
try:
CALL
    outcome = "returned"
except Exception as e:
    outcome = f"{type(e).__name__}: {e}"
after = memory()
print(json.dumps({"outcome": outcome, "rss_growth": after["VmRSS"] - before["VmRSS"],
                  "peak_growth": after["VmHWM"] - before["VmRSS"]}))
"""


def in_fresh_process(setup: str, call: str, *args: str) -> dict:
    """Run `setup` (imports: not counted), then `call` (its memory measured) in a new Python;
    `args` are its sys.argv[1:]. {"outcome": "returned" or "Type: message", growths in MiB}."""
    code = CHILD.replace("SETUP", textwrap.dedent(setup)).replace(
        "CALL", textwrap.indent(textwrap.dedent(call), "    "))
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "DLSCRATCH_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(result)  # shown with -s: the numbers the report quotes
    return result


def gzip_of_zeros(path: Path, head: bytes, gib: int) -> None:
    """`head` then `gib` GiB of zeros as one gzip member, in about 1 MB per GiB: the deflate
    block for 1 MiB of zeros, once flushed, is the same every time, so it is repeated rather
    than recomputed. The trailer's CRC is left zero: a reader must refuse long before it."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = deflate.compress(head) + deflate.flush(zlib.Z_FULL_FLUSH)
    zeros = b"\x00" * (1 << 20)
    first = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    assert deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH) == block
    size = len(head) + (gib << 30)
    with open(path, "wb") as f:
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + start + first)
        for _ in range((gib << 10) - 1):
            f.write(block)
        f.write(deflate.flush() + struct.pack("<II", 0, size & 0xFFFFFFFF))


def test_idx_gzip_bomb(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    head = bytes([0, 0, 8, 3]) + np.array([60_000, 28, 28], ">u4").tobytes()
    bomb = folder / f"{FILE_NAMES[0]}.gz"
    gzip_of_zeros(bomb, head, gib=3)
    assert bomb.stat().st_size < 4 << 20
    result = in_fresh_process(
        "import sys\nfrom dlscratch.data import read_idx",
        "read_idx(sys.argv[1])", str(bomb))
    assert result["outcome"] == (
        f"DataError: {bomb}: more than 65536 trailing bytes after IDX data (shape (60000, 28, "
        "28) of uint8 needs 47040016 bytes, file has more than 47105552; reading stopped there)")
    assert result["peak_growth"] < GROWTH_LIMIT_MIB

    for name in FILE_NAMES[1:]:  # checking its SHA-256 inflates no further than MNIST's size
        (folder / name).write_bytes(b"")
    result = in_fresh_process(
        "import sys\nfrom dlscratch.data import verify_dataset",
        "verify_dataset('mnist', sys.argv[1])", str(tmp_path))
    assert result["outcome"] == (
        f"DataError: {bomb}: decompresses to more than 47,040,016 bytes; refused")
    assert result["peak_growth"] < 16


def test_png_bomb(tmp_path):
    """13000 x 13000 grey pixels (169 MB decoded) whose zlib stream is 170 KB."""
    width = height = 13000
    row = b"\x00" * (width + 1)
    pack = zlib.compressobj(9)
    idat = b"".join(pack.compress(row * 100) for _ in range(height // 100)) + pack.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(
            kind + data))

    path = tmp_path / "bomb.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(
        ">IIBBBBB", width, height, 8, 0, 0, 0, 0)) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    assert path.stat().st_size < 400_000
    result = in_fresh_process(
        "import sys\nfrom PIL import Image, PngImagePlugin\n"
        "from dlscratch.data.images import load_digit_image",
        "load_digit_image(sys.argv[1])", str(path))
    assert result["outcome"] == (
        f"ImageError: {path}: 169 megapixels, more than the 40-megapixel limit for a digit "
        "image; refused before decoding (scale it down first)")
    assert result["peak_growth"] < GROWTH_LIMIT_MIB


def test_download_that_sends_more_than_the_file_can_hold(tmp_path, http_server, gz_files,
                                                         fake_arrays_and_sums):
    """The server streams 16 MiB of a gzip header that never ends, for a 10 KB file."""

    def endless(handler):
        handler.send_response(200)
        handler.end_headers()
        handler.wfile.write(b"\x1f\x8b\x08\x08\x00\x00\x00\x00\x00\xff")
        for _ in range(256):
            handler.wfile.write(b"a" * 65536)

    mirror = http_server.serve("m", gz_files)
    http_server.routes[f"/m/{FILE_NAMES[3]}.gz"] = endless
    sums = json.dumps(fake_arrays_and_sums[1])
    result = in_fresh_process(
        "import json, sys\nfrom dlscratch.data import download_dataset",
        "download_dataset('mnist', sys.argv[1], mirrors=[sys.argv[2]], "
        "checksums=json.loads(sys.argv[3]), progress=False)",
        str(tmp_path), mirror, sums)
    assert result["outcome"].startswith("DownloadError: could not download")
    assert "the server sent more than 75,644 bytes" in result["outcome"]
    folder = tmp_path / "mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{n}.gz" for n in FILE_NAMES[:3])
    assert result["peak_growth"] < GROWTH_LIMIT_MIB
