"""Moved: the thread setting lives in `dlscratch.kernels` (`dlscratch.set_num_threads`,
`dlscratch.threads`), data parallelism in `dlscratch.DataParallel`. This alias warns."""

import warnings

from dlscratch.kernels.pool import get_num_threads, run_chunks, set_num_threads, threads_here

warnings.warn("dlscratch.parallel moved: use dlscratch.set_num_threads / get_num_threads / "
              "threads, and dlscratch.kernels.run_chunks", DeprecationWarning, stacklevel=2)

__all__ = ["get_num_threads", "run_chunks", "set_num_threads", "threads_here"]
