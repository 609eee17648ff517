"""A run folder held by one training run at a time.

    with open_run_folder("runs/a", RUN_FILES):    # RunError if another live run holds it
        ...                                        # write model.npz, checkpoint.npz, ...

`open_run_folder` creates the folder, takes its lock, and clears the temporary files that a
killed run's atomic writes left there. The lock is `fcntl.flock` on `.dlscratch.lock` in the
folder, which holds the PID of the run that has it: a second live run there is refused with
that PID, and a run killed outright (SIGKILL, power loss) never blocks the next, because the
kernel drops a flock lock with the process that held it. Taking the lock also writes a file in
the folder, so an unwritable --out is found here, before any data is loaded.
On the way out (any way out) the lock file is removed, and a folder this call created is
removed again if nothing was written into it.

flock works on local file systems, and on NFS where the server supports it. On Windows (no
fcntl) the folder is created, checked for writing and cleaned, but not locked.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from dlscratch.errors import RunError
from dlscratch.io.atomic import remove_stale_temps

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the folder is created and checked, not locked
    fcntl = None

LOCK_NAME = ".dlscratch.lock"


class RunLock:
    """The exclusive lock of a run folder (`acquire` / `release`; see the module docstring)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock and write this process's PID into it; RunError naming the holder's
        PID if a live run has it, or naming the folder if it cannot be written. Interrupted
        half-way (Ctrl-C), it leaves no lock behind."""
        while True:
            fd = self._open()
            try:
                self._lock(fd)
            except BaseException:
                os.close(fd)
                raise
            # The holder may have removed the file just before we locked it: then our lock is
            # on a file no one else will open; take the lock of the file that is there now.
            if _same_file(fd, self.path):
                break
            os.close(fd)
        self._fd = fd  # ours from here: release() removes the file
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            os.fsync(fd)
        except BaseException as exc:
            self.release()
            if isinstance(exc, OSError):
                raise _unwritable(self.folder, exc) from None
            raise

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0),
                           0o644)
        except OSError as exc:
            raise _unwritable(self.folder, exc) from None

    def _lock(self, fd: int) -> None:
        if fcntl is None:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise RunError(f"{self.folder} is in use by another dlscratch run (PID "
                               f"{_read_pid(fd)}): wait for it to end, or choose another "
                               "--out") from None
            raise RunError(f"cannot lock the run folder {self.folder}: "
                           f"{exc.strerror or exc}") from None

    def release(self) -> None:
        """Remove the lock file, then drop the lock (in that order: see `acquire`)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.remove(self.path)
        os.close(self._fd)
        self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None


@contextlib.contextmanager
def open_run_folder(folder: str | os.PathLike, names: Iterable[str]) -> Iterator[RunLock]:
    """Create `folder`, lock it (RunLock), remove stale temporary files of the targets `names`;
    on the way out remove them again (an interrupted write's, if its own clean-up was cut
    short), release the lock and remove the folders this call created if they stayed empty."""
    folder, names = Path(folder), tuple(names)
    created = _make_folders(folder)
    lock = RunLock(folder)
    try:
        try:
            with _signals_deferred():  # a Ctrl-C comes after the lock is taken, or before
                lock.acquire()
            remove_stale_temps(folder, names)
            yield lock
        finally:
            if lock.held:  # only the lock's holder may touch the temporary files
                remove_stale_temps(folder, names)
                lock.release()
    finally:
        for path in reversed(created):
            try:
                path.rmdir()
            except OSError:
                break


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold back SIGINT, SIGTERM and SIGHUP in this thread for the block (POSIX), so that
    their handlers run after it: the lock is then either not taken or recorded as taken."""
    import signal

    names = ("SIGINT", "SIGTERM", "SIGHUP")
    signals = {getattr(signal, name) for name in names if hasattr(signal, name)}
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _make_folders(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents; return the folders made, outermost first."""
    missing = []
    path = folder
    while not path.exists() and not path.is_symlink() and path != path.parent:
        missing.append(path)
        path = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise RunError(f"--out {folder} is a file, not a folder: choose another --out") from None
    except OSError as exc:
        raise _unwritable(folder, exc) from None
    return missing[::-1]


def _unwritable(folder: Path, exc: OSError) -> RunError:
    if exc.errno == errno.ENOTDIR:
        reason = "a part of the path is a file, not a folder"
    else:
        reason = exc.strerror or str(exc)
    return RunError(f"cannot write in the run folder {folder} (--out): {reason}")


def _read_pid(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return "unknown"
    return text if text.isdigit() else "unknown"


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


__all__ = ["LOCK_NAME", "RunLock", "open_run_folder"]
