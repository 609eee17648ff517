"""A description of the machine and libraries a benchmark ran on."""

from __future__ import annotations

import os
import platform
from contextlib import contextmanager

import numpy as np


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_info() -> list[dict]:
    """The BLAS libraries numpy loaded, with their thread counts (via threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keys = ("internal_api", "version", "num_threads", "architecture", "threading_layer")
    return [{k: p.get(k) for k in keys} for p in threadpool_info() if p.get("user_api") == "blas"]


def blas_threads() -> int | None:
    info = blas_info()
    return info[0]["num_threads"] if info else None


def describe(torch_module=None) -> dict:
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
        "blas": blas_info(),
        "loadavg_start": os.getloadavg(),
    }
    if torch_module is not None:
        desc["torch"] = torch_module.__version__
        desc["torch_threads"] = torch_module.get_num_threads()
    return desc


@contextmanager
def thread_count(n: int, torch_module=None):
    """n threads for each contender: dlscratch's own (which hold BLAS at one thread when n > 1,
    see dlscratch.parallel), BLAS's when n = 1, and torch's intra-op threads."""
    from threadpoolctl import threadpool_limits

    from dlscratch import parallel

    before = parallel.get_num_threads()
    with threadpool_limits(n, user_api="blas"):
        parallel.set_num_threads(n)
        if torch_module is not None:
            torch_module.set_num_threads(n)
        try:
            yield
        finally:
            parallel.set_num_threads(before)
