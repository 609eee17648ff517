"""SHA-256 verification of dataset files (hash of the decompressed IDX content)."""

from __future__ import annotations

import hashlib
import os
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dlscratch.data.errors import ChecksumError, DataError
from dlscratch.data.idx import CHUNK, MAX_IDX_BYTES, open_decompressed
from dlscratch.data.locate import locate_dataset
from dlscratch.data.registry import get_spec

_SUM_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")


def sha256_decompressed(path: str | os.PathLike, max_bytes: int = MAX_IDX_BYTES + 1024) -> str:
    """Hex SHA-256 of the file's content after gunzipping (raw files are hashed as they are),
    inflated in a stream. DataError naming the file if the content exceeds `max_bytes` (a
    small `.gz` that inflates to gigabytes is stopped there) or the gzip data is corrupt."""
    sha, total = hashlib.sha256(), 0
    with open_decompressed(path) as (stream, _):
        try:
            while chunk := stream.read(CHUNK):
                total += len(chunk)
                if total > max_bytes:
                    raise DataError(
                        f"{path}: decompresses to more than {max_bytes:,} bytes; refused", path
                    )
                sha.update(chunk)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"{path}: corrupt gzip data ({e})", path) from e
    return sha.hexdigest()


def parse_sha256sums(text: str) -> dict[str, str]:
    """Parse `sha256sum` output (lines `HASH  name`) into {name: hash}."""
    sums = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _SUM_LINE.match(line.strip())
        if match is None:
            raise DataError(f"line {number} is not 'HASH  name': {line!r}")
        sums[match.group(2)] = match.group(1).lower()
    return sums


@dataclass(frozen=True)
class FileCheck:
    """Result of hashing one file."""

    file: str
    path: Path
    expected: str
    actual: str

    @property
    def ok(self) -> bool:
        return self.actual == self.expected


def verify_dataset(
    name: str,
    data_dir: str | os.PathLike | None = None,
    *,
    checksums: Mapping[str, str] | None = None,
    strict: bool = True,
) -> list[FileCheck]:
    """Hash the four files of dataset `name` (found as the loaders find them) and compare.

    Never downloads. Raises DatasetNotFoundError if files are missing; with `strict`,
    ChecksumError naming every mismatching file, else the failing checks are just returned.
    """
    spec = get_spec(name)
    checksums = spec.checksums if checksums is None else checksums
    checks = []
    for file, path in locate_dataset(spec.name, data_dir, download=False).items():
        if file not in checksums:
            raise DataError(f"no expected SHA-256 for {file} ({path})", path)
        actual = sha256_decompressed(path, spec.file_size(file))
        checks.append(FileCheck(file, path, checksums[file].lower(), actual))
    bad = [c for c in checks if not c.ok]
    if strict and bad:
        first = bad[0]
        others = "; ".join(f"{c.path}: expected {c.expected}, got {c.actual}" for c in bad[1:])
        note = f"also mismatching: {others}" if others else ""
        raise ChecksumError(first.path, first.expected, first.actual, note)
    return checks
