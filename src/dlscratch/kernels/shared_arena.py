"""Shared memory for the worker processes: one block of named arrays in a file under /dev/shm.

    arena = SharedArena.create({"x": ((100, 1, 28, 28), "float32"), ...})   # the parent
    arena.arrays["x"][:] = x_batch
    twin = SharedArena.attach(arena.path, arena.layout)                       # a worker
    arena.unlink()      # the parent, once every worker has attached: the name is gone,
                        # the memory stays until the last mapping is closed

The parent owns every block: it creates it and unlinks it, as soon as the workers have mapped
it, so nothing is left under /dev/shm even if a process is killed later. Workers only attach.
"""

from __future__ import annotations

import contextlib
import itertools
import mmap
import os
import tempfile

import numpy as np

ALIGN = 64  # each array starts on a cache line
_names = itertools.count()


def shm_folder() -> str:
    """/dev/shm where it exists (memory, not disk), else the temporary folder."""
    return "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()


class SharedArena:
    """Named arrays laid out one after another in one shared mapping.

    layout: {name: (shape, dtype name)}; `arrays` holds a NumPy view of each."""

    def __init__(self, path: str, layout: dict, memory: mmap.mmap):
        self.path, self.layout, self._memory = path, layout, memory
        self.arrays = {}
        for name, (offset, shape, dtype) in _offsets(layout)[0].items():
            self.arrays[name] = np.ndarray(shape, dtype, buffer=memory, offset=offset)

    @classmethod
    def create(cls, layout: dict) -> SharedArena:
        size = max(_offsets(layout)[1], 1)
        path = os.path.join(shm_folder(), f"dlscratch-{os.getpid()}-{next(_names)}")
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        try:
            os.ftruncate(fd, size)
            memory = mmap.mmap(fd, size)
        except BaseException:
            os.unlink(path)
            raise
        finally:
            os.close(fd)
        return cls(path, layout, memory)

    @classmethod
    def attach(cls, path: str, layout: dict) -> SharedArena:
        fd = os.open(path, os.O_RDWR)
        try:
            memory = mmap.mmap(fd, max(_offsets(layout)[1], 1))
        finally:
            os.close(fd)
        return cls(path, layout, memory)

    def unlink(self) -> None:
        """Remove the block's name (the parent, once the workers have attached)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def close(self) -> None:
        """Drop this process's mapping (the views must not be used afterwards)."""
        self.arrays = {}
        with contextlib.suppress(BufferError):  # a view still alive: the GC unmaps it later
            self._memory.close()


def _offsets(layout: dict) -> tuple[dict, int]:
    """({name: (byte offset, shape, dtype)}, total bytes)."""
    found, end = {}, 0
    for name, (shape, dtype) in layout.items():
        dtype = np.dtype(dtype)
        offset = -(-end // ALIGN) * ALIGN
        found[name] = (offset, tuple(shape), dtype)
        end = offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    return found, end
