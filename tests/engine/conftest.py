"""Engine tests: BLAS limited to one thread while they run.

Their matrices are tiny, so BLAS threads only add overhead; on a busy 2-core machine OpenBLAS
threads spin against each other (a 0.6 s gradient check took 19 s). threadpoolctl is optional.
"""

from __future__ import annotations

import pytest

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - optional dependency
    threadpool_limits = None


@pytest.fixture(scope="module", autouse=True)
def _single_threaded_blas():
    if threadpool_limits is None:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
