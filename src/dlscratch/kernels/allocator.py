"""Keep freed memory for the next step (glibc's malloc): fewer page faults, same results.

A convolutional network allocates the same big arrays at every step (a DeepConvNet activation
of 1,000 images is 50 MB). By default glibc serves every block above 32 MB with a fresh mmap and
unmaps it when freed, so the next step faults the pages in and zeroes them again; with
transparent huge pages that can mean compacting memory first (benchmarks/NOTES.md measures it).
The cost: the process keeps its peak memory instead of returning freed blocks to the system.

    from dlscratch.kernels.allocator import keep_freed_memory
    keep_freed_memory()       # the dlscratch command and benchmarks.recipes call it at start-up;
                              # the speed table only with --keep-freed-memory (it helps PyTorch too)

It changes a process-wide setting, so the library never calls it on import; its worker
processes (`process_pool`) are its own, and always call it.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1  # mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1 << 29  # blocks up to 512 MB come from the heap and are reused
TRIM_THRESHOLD = 1 << 30  # free memory at the top of the heap is kept up to 1 GB


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to reuse freed blocks up to 512 MB instead of unmapping them.

    Returns True if the setting took effect, False where there is no glibc (macOS, Windows,
    musl): there nothing changes.
    """
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and
                mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
