"""Atomic file writes: write a temporary file beside the target, fsync, then rename over it.

A reader (or a crash) never sees a half-written file: either the old file or the new one.
The temporary file is `.<name>.<8 random characters>.tmp` in the target's folder; it is removed
on any exception, Ctrl-C included. Only a process killed outright (SIGKILL, power loss) leaves
one behind: `remove_stale_temps` clears those (a training run does it in its --out folder, under
its run lock, when it starts).

A failed write raises OSError naming the target (`cannot write runs/a/model.npz: No space left
on device`), with the original errno, so a full disk or a read-only folder says where.

For the fault tests only: with `DLSCRATCH_TEST_SLOW_WRITE=<seconds>` in the environment, every
write waits that long between writing its temporary file and renaming it, so a test can kill a
process while the write is in progress (tests/faults). Nothing else reads the variable.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

SLOW_WRITE_ENV = "DLSCRATCH_TEST_SLOW_WRITE"
# mkstemp's names: prefix, 8 characters of [a-z0-9_], suffix
# errors of a write into the temporary file (in the caller's block): named with the target
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS}
_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp$")


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file in the target's folder; on success rename it to `path`.

    On any exception the temporary file is removed and `path` is left untouched; an OSError
    (disk full, permission denied, ...) is raised again with `path` in its message.
    """
    path = Path(path)
    tmp, in_body = None, False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file open()'s usual mode
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            in_body = True
            yield f
            in_body = False
            f.flush()
            os.fsync(f.fileno())
        _test_pause()
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp)
        # the caller's own errors (a download's network error, ...) pass through unchanged
        if isinstance(exc, OSError) and (not in_body or exc.errno in _WRITE_ERRNOS):
            raise _naming(exc, path) from exc
        raise


def _naming(exc: OSError, path: Path) -> OSError:
    """The same error (same errno, hence the same OSError subclass) with the target's path."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    message = f"cannot write {path}: {reason}"
    return OSError(exc.errno, message) if exc.errno is not None else OSError(message)


def _test_pause() -> None:
    value = os.environ.get(SLOW_WRITE_ENV)
    if value:
        time.sleep(float(value))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_write(path, "wb") as f:
        f.write(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_write(path, "w") as f:
        f.write(text)


def stale_temps(folder: str | os.PathLike, names: Iterable[str] | None = None) -> list[Path]:
    """The temporary files `atomic_write` left in `folder` (for the targets `names`, or any)."""
    folder = Path(folder)
    wanted = None if names is None else set(names)
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match and (wanted is None or match["name"] in wanted) and \
                entry.is_file(follow_symlinks=False):
            found.append(folder / entry.name)
    return sorted(found)


def remove_stale_temps(folder: str | os.PathLike, names: Iterable[str] | None = None
                       ) -> list[Path]:
    """Remove `stale_temps(folder, names)` and return them. Only call it where no live process
    may be writing those targets (a training run holds its folder's run lock)."""
    removed = []
    for path in stale_temps(folder, names):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed
