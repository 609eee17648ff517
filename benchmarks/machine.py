"""A description of the machine and libraries a benchmark ran on."""

from __future__ import annotations

import os
import platform
from contextlib import contextmanager

import numpy as np

from dlscratch.kernels.pool import cpu_model


def blas_info() -> list[dict]:
    """The BLAS libraries numpy loaded, with their thread counts (via threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keys = ("internal_api", "version", "num_threads", "architecture", "threading_layer")
    return [{k: p.get(k) for k in keys} for p in threadpool_info() if p.get("user_api") == "blas"]


def vector_extensions() -> list[str]:
    """The CPU's SIMD extensions that decide the speed of products (AVX2, AVX-512 ...)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f
                          if line.startswith("flags")), [])
    except OSError:
        return []
    wanted = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
              "avx512_bf16", "amx_tile")
    return [flag for flag in wanted if flag in flags]


def git_commit(path=None) -> str:
    """The commit of the dlscratch checkout being measured (with '+changes' if dirty)."""
    import subprocess

    import dlscratch

    where = path or os.path.dirname(dlscratch.__file__)
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=where, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


def describe(torch_module=None) -> dict:
    import dlscratch
    from dlscratch import kernels

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    desc = {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cores": usable,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "vector_extensions": vector_extensions(),
        "blas": blas_info(),
        "loadavg_start": os.getloadavg(),
        "dlscratch_commit": git_commit(),
        "dlscratch_threads": dlscratch.get_num_threads(),
        "dlscratch_kernels": kernels.in_use(),
    }
    if torch_module is not None:
        desc["torch"] = torch_module.__version__
        desc["torch_threads"] = torch_module.get_num_threads()
    return desc


@contextmanager
def thread_count(n: int | None, torch_module=None):
    """n threads for each contender (dlscratch's own and torch's intra-op threads); None
    leaves every default as it is."""
    import dlscratch

    if n is None:
        yield
        return
    before = torch_module.get_num_threads() if torch_module is not None else None
    with dlscratch.threads(n):
        if torch_module is not None:
            torch_module.set_num_threads(n)
        try:
            yield
        finally:
            if torch_module is not None:
                torch_module.set_num_threads(before)
