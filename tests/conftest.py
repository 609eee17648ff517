"""Test-wide settings: one BLAS thread and one dlscratch thread per test process.

The tests run in parallel (pytest -n 2) on small matrices; two BLAS threads per process would
fight over the cores and make the suite several times slower. Results do not depend on it.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("DLSCRATCH_NUM_THREADS", "1")  # pytest -n 2: the workers share the cores
os.environ.setdefault("MPLBACKEND", "Agg")
