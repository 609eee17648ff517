"""Test-wide settings: one BLAS thread and one dlscratch thread per test process.

The tests run in parallel (pytest -n 2) on small matrices; two BLAS threads per process would
fight over the cores and make the suite several times slower. Results do not depend on it.
"""

import os

import pytest

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("DLSCRATCH_NUM_THREADS", "1")  # pytest -n 2: the workers share the cores
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def thread_setting_restored():
    """A test that sets dlscratch's thread count (an in-process `dlscratch ... --threads 2`)
    leaves it as it found it: with more than one thread a split batch starts worker processes,
    which tests of the one-thread path must not meet."""
    from dlscratch import kernels

    before = kernels.get_num_threads()
    yield
    kernels.set_num_threads(before)
