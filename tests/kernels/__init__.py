"""Tests of the kernel wing: fast kernels against their reference twins, the switch between
them, dlscratch's threads and data parallelism."""
