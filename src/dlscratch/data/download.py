"""Download dataset files from mirrors (urllib only), verifying SHA-256 of the decompressed data.

Each file `<name>.gz` is streamed into a temporary file beside its target while its decompressed
bytes are hashed; only a complete, verified file is renamed into place. Mirrors are tried in turn.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from tqdm.auto import tqdm

from dlscratch.data.errors import ChecksumError, DataError, DownloadError
from dlscratch.data.paths import download_root, find_file
from dlscratch.data.registry import FILE_NAMES, get_spec
from dlscratch.io.atomic import atomic_write

CHUNK = 1 << 16
USER_AGENT = "dlscratch-data/0.1 (urllib)"


class _GunzipHasher:
    """Feed gzip bytes in chunks; hashes the decompressed stream (multi-member aware)."""

    def __init__(self) -> None:
        self.sha = hashlib.sha256()
        self._dec = zlib.decompressobj(wbits=31)

    def feed(self, chunk: bytes) -> None:
        while chunk:
            self.sha.update(self._dec.decompress(chunk))
            chunk = self._dec.unused_data if self._dec.eof else b""
            if chunk:
                self._dec = zlib.decompressobj(wbits=31)

    def finish(self) -> str:
        """Return the hex digest; raises zlib.error if the gzip stream is incomplete."""
        self.sha.update(self._dec.flush())
        if not self._dec.eof:
            raise zlib.error("gzip stream ends early (truncated file)")
        return self.sha.hexdigest()


def mirror_url(base: str, name: str) -> str:
    """URL of `name.gz` under mirror `base` (a trailing '/' is optional)."""
    return f"{base.rstrip('/')}/{name}.gz"


def fetch_file(
    url: str,
    dest: str | os.PathLike,
    expected_sha256: str,
    *,
    timeout: float = 30.0,
    progress: bool = True,
) -> Path:
    """Download gzip file `url` to `dest` atomically; verify SHA-256 of its decompressed content.

    Raises DownloadError (short body, bad gzip), ChecksumError, or urllib/OSError on network
    failure. On any error nothing is left at `dest` (nor any temporary file).
    """
    dest = Path(dest)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        hasher = _GunzipHasher()
        received = 0
        bar = tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress)
        with atomic_write(dest, "wb") as f, bar:
            while chunk := response.read(CHUNK):
                f.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
                try:
                    hasher.feed(chunk)
                except zlib.error as e:
                    raise DownloadError(f"{url}: not valid gzip data ({e})", dest) from e
            if total is not None and received != total:
                raise DownloadError(
                    f"{url}: connection closed after {received} of {total} bytes", dest
                )
            try:
                actual = hasher.finish()
            except zlib.error as e:
                raise DownloadError(f"{url}: incomplete gzip data ({e})", dest) from e
            if actual != expected_sha256.lower():
                raise ChecksumError(
                    dest, expected_sha256, actual, f"downloaded from {url}; the file was discarded"
                )
    return dest


def download_file(
    name: str,
    directory: str | os.PathLike,
    mirrors: Sequence[str],
    expected_sha256: str,
    *,
    timeout: float = 30.0,
    progress: bool = True,
    dead: set[str] | None = None,
) -> Path:
    """Fetch `name.gz` into `directory`, trying each mirror in turn; return its path.

    `dead` collects mirrors that could not be reached at all; they are skipped afterwards.
    If every mirror fails: ChecksumError if one served wrong data, else DownloadError.
    """
    dest = Path(directory) / f"{name}.gz"
    dead = set() if dead is None else dead
    failures: list[str] = []
    checksum_error: ChecksumError | None = None
    for base in mirrors:
        url = mirror_url(base, name)
        if base in dead:
            failures.append(f"{url}: skipped (mirror unreachable earlier)")
            continue
        try:
            return fetch_file(url, dest, expected_sha256, timeout=timeout, progress=progress)
        except ChecksumError as e:
            checksum_error = checksum_error or e
            failures.append(str(e))
        except DownloadError as e:
            failures.append(str(e))
        except urllib.error.HTTPError as e:
            failures.append(f"{url}: HTTP {e.code} {e.reason}")
        except (OSError, http.client.HTTPException, ValueError) as e:
            reason = getattr(e, "reason", e)
            failures.append(f"{url}: {type(e).__name__}: {reason}")
            dead.add(base)
    if checksum_error is not None:
        raise checksum_error
    detail = "\n".join(f"  - {f}" for f in failures) or "  - (no mirrors given)"
    raise DownloadError(f"could not download {name}.gz from any mirror:\n{detail}", dest)


def download_dataset(
    name: str,
    data_dir: str | os.PathLike | None = None,
    *,
    mirrors: Sequence[str] | None = None,
    checksums: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    progress: bool = True,
) -> Path:
    """Download the missing files of dataset `name` into `<data_dir or cache>/<name>/`.

    `mirrors` (base URLs) and `checksums` (file name -> SHA-256 of the decompressed file)
    default to the built-in tables. Returns the dataset folder. Files already present are kept.
    """
    spec = get_spec(name)
    mirrors = spec.mirrors if mirrors is None else tuple(mirrors)
    checksums = spec.checksums if checksums is None else checksums
    directory = download_root(data_dir) / spec.name
    dead: set[str] = set()
    for file in FILE_NAMES:
        if find_file(directory, file) is not None:
            continue
        if file not in checksums:
            raise DataError(f"no expected SHA-256 for {file}: refusing to download it unverified")
        download_file(
            file, directory, mirrors, checksums[file], timeout=timeout, progress=progress, dead=dead
        )
    return directory
