"""`dlscratch info`: versions, threads, BLAS, kernels, where data is looked for and whether it
is there."""

from __future__ import annotations

import platform

import numpy as np

from dlscratch import __version__, kernels
from dlscratch.kernels.pool import ENV_VAR as THREADS_ENV_VAR
from dlscratch.kernels.pool import usable_cores


def add_parser(sub):
    p = sub.add_parser("info", help="versions, BLAS configuration and where the data is")
    p.add_argument("--data-dir", help="look for datasets here first")
    p.set_defaults(run=run)


def blas_info() -> list[str]:
    """One line per BLAS/OpenMP library loaded, with its thread count (threadpoolctl)."""
    from threadpoolctl import threadpool_info

    return [f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture', '?')}), "
            f"{i.get('num_threads')} threads: {i.get('filepath')}" for i in threadpool_info()]


def run(args) -> int:
    from dlscratch.data import ENV_VAR, data_search_info

    print(f"dlscratch {__version__}")
    print(f"python {platform.python_version()} on {platform.machine()}, numpy {np.__version__}")
    for line in blas_info():
        print(f"blas: {line} (held at 1 thread by dlscratch)")
    threads = kernels.get_num_threads()
    print(f"dlscratch threads: {threads} (usable cores: {usable_cores()}; "
          f"set with --threads or ${THREADS_ENV_VAR})")
    print(f"data parallelism: a split batch runs here and on {threads - 1} worker process"
          f"{'' if threads == 2 else 'es'}" if threads > 1 else
          "data parallelism: off (one thread: no worker process is started)")
    print(f"kernels: {kernels.in_use()} (set DLSCRATCH_KERNELS=reference for the book's plain "
          "NumPy)")
    print(f"data: explicit --data-dir, else ${ENV_VAR}, else the user cache")
    for status in data_search_info(args.data_dir).values():
        print(status.describe())
    return 0
