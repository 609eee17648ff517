"""Download dataset files from mirrors (urllib only), verifying SHA-256 of the decompressed data.

Each file `<name>.gz` is streamed into a temporary file beside its target while its decompressed
bytes are hashed; only a complete, verified file is renamed into place. Mirrors are tried in turn.

Nothing a server sends can fill the disk or the memory: a file's decompressed size is known
(`DatasetSpec.file_size`: 47,040,016 bytes for MNIST's training images), so at most that plus
deflate's worst-case overhead (`gzip_cap`) is read from the network and at most that is
inflated; a file without a known size is capped at `DEFAULT_MAX_SIZE` (100 MiB).
The temporary file is removed on any failure, Ctrl-C included; one left by a killed download is
removed by the next attempt (a live download holds a lock on its own, so it is never taken).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from tqdm.auto import tqdm

from dlscratch.data.errors import ChecksumError, DataError, DownloadError
from dlscratch.data.paths import download_root, find_file
from dlscratch.data.registry import FILE_NAMES, get_spec
from dlscratch.io.atomic import stale_temps

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: stale temporaries are judged by age instead
    fcntl = None

CHUNK = 1 << 16
USER_AGENT = "dlscratch-data/0.1 (urllib)"
DEFAULT_MAX_SIZE = 100 << 20  # decompressed bytes, for a file whose size the registry lacks
STALE_AGE_S = 3600  # without file locks: a temporary untouched this long is a dead download's
_UMASK = os.umask(0)
os.umask(_UMASK)


def gzip_cap(size: int) -> int:
    """Most bytes a gzip file holding `size` bytes can take: deflate never grows data by more
    than 5 bytes per 64 KiB block; 1% and 64 KiB more leave room for headers and file names."""
    return size + size // 100 + (1 << 16)


class _GunzipHasher:
    """Feed gzip bytes in chunks; hashes the decompressed stream (multi-member aware), never
    inflating more than CHUNK * 16 bytes at a time. OverflowError past `max_size` bytes."""

    def __init__(self, max_size: int) -> None:
        self.sha = hashlib.sha256()
        self.size = 0
        self.max_size = max_size
        self._dec = zlib.decompressobj(wbits=31)

    def _take(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_size:
            raise OverflowError(f"decompresses to more than {self.max_size:,} bytes")
        self.sha.update(data)

    def feed(self, chunk: bytes) -> None:
        while chunk:
            self._take(self._dec.decompress(chunk, CHUNK * 16))
            chunk = self._dec.unconsumed_tail
            if not chunk and self._dec.eof and self._dec.unused_data:
                chunk, self._dec = self._dec.unused_data, zlib.decompressobj(wbits=31)

    def finish(self) -> str:
        """Return the hex digest; raises zlib.error if the gzip stream is incomplete."""
        self._take(self._dec.flush())
        if not self._dec.eof:
            raise zlib.error("gzip stream ends early (truncated file)")
        return self.sha.hexdigest()


def mirror_url(base: str, name: str) -> str:
    """URL of `name.gz` under mirror `base` (a trailing '/' is optional)."""
    return f"{base.rstrip('/')}/{name}.gz"


def remove_stale_temporaries(dest: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that killed downloads of `dest` left beside it; return them.

    A running download holds an exclusive lock on its temporary file, so it is left alone.
    """
    dest = Path(dest)
    removed = []
    for tmp in stale_temps(dest.parent, [dest.name]):
        with contextlib.suppress(OSError), open(tmp, "rb") as f:
            if fcntl is not None:
                fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)  # OSError: in use, keep it
            elif time.time() - os.fstat(f.fileno()).st_mtime < STALE_AGE_S:
                continue
            tmp.unlink()
            removed.append(tmp)
    return removed


@contextlib.contextmanager
def _temporary_beside(dest: Path) -> Iterator[BinaryIO]:
    """A locked temporary file beside `dest`, renamed to `dest` if the block succeeds and
    removed otherwise (KeyboardInterrupt included)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file open()'s usual mode
        with os.fdopen(fd, "wb") as f:
            if fcntl is not None:
                fcntl.flock(f, fcntl.LOCK_EX)
            yield f
            f.flush()
            os.fsync(f.fileno())
            if fcntl is not None:  # renamed while still locked: no cleaner can take it as stale
                os.replace(tmp, dest)
        if fcntl is None:
            os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _too_big(url: str, dest: Path, error: OverflowError) -> DownloadError:
    return DownloadError(f"{url}: the data {error}, more than {dest.name} may hold; the "
                         "download was discarded", dest)


def fetch_file(
    url: str,
    dest: str | os.PathLike,
    expected_sha256: str,
    *,
    max_size: int | None = None,
    timeout: float = 30.0,
    progress: bool = True,
) -> Path:
    """Download gzip file `url` to `dest` atomically; verify SHA-256 of its decompressed content.

    `max_size`: most decompressed bytes the file may hold (default DEFAULT_MAX_SIZE); the
    server may send at most `gzip_cap(max_size)` bytes. Raises DownloadError (too long or short
    a body, bad gzip), ChecksumError, or urllib/OSError on network failure. On any error (or
    Ctrl-C) nothing is left at `dest`, nor any temporary file.
    """
    dest = Path(dest)
    max_size = DEFAULT_MAX_SIZE if max_size is None else max_size
    cap = gzip_cap(max_size)
    remove_stale_temporaries(dest)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        if total is not None and total > cap:
            raise DownloadError(
                f"{url}: the server announces {total:,} bytes, more than {dest.name} can take "
                f"({cap:,} bytes of gzip for {max_size:,} bytes of data); not downloaded",
                dest,
            )
        hasher = _GunzipHasher(max_size)
        received = 0
        bar = tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress)
        with _temporary_beside(dest) as f, bar:
            while chunk := response.read(min(CHUNK, cap + 1 - received)):
                received += len(chunk)
                if received > cap:
                    raise DownloadError(
                        f"{url}: the server sent more than {cap:,} bytes, more than {dest.name} "
                        f"can take ({max_size:,} bytes of data); the download was discarded",
                        dest,
                    )
                f.write(chunk)
                bar.update(len(chunk))
                try:
                    hasher.feed(chunk)
                except zlib.error as e:
                    raise DownloadError(f"{url}: not valid gzip data ({e})", dest) from e
                except OverflowError as e:
                    raise _too_big(url, dest, e) from None
            if total is not None and received != total:
                raise DownloadError(
                    f"{url}: connection closed after {received} of {total} bytes", dest
                )
            try:
                actual = hasher.finish()
            except zlib.error as e:
                raise DownloadError(f"{url}: incomplete gzip data ({e})", dest) from e
            except OverflowError as e:
                raise _too_big(url, dest, e) from None
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
    max_size: int | None = None,
    timeout: float = 30.0,
    progress: bool = True,
    dead: set[str] | None = None,
) -> Path:
    """Fetch `name.gz` into `directory`, trying each mirror in turn; return its path.

    `max_size`: as in `fetch_file`. `dead` collects mirrors that could not be reached at all;
    they are skipped afterwards. If every mirror fails: ChecksumError if one served wrong data,
    else DownloadError.
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
            return fetch_file(url, dest, expected_sha256, max_size=max_size, timeout=timeout,
                              progress=progress)
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
    No file may be larger than the real dataset's (`DatasetSpec.file_size`).
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
            file, directory, mirrors, checksums[file], max_size=spec.file_size(file),
            timeout=timeout, progress=progress, dead=dead,
        )
    return directory
