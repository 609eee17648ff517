"""keep_freed_memory: takes effect on glibc, does nothing (and says so) elsewhere."""

from __future__ import annotations

import ctypes
import platform
import subprocess
import sys

import pytest

from dlscratch.kernels import allocator


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt only")
def test_takes_effect_on_glibc():
    # In a child process: the setting is process-wide.
    code = ("from dlscratch.kernels.allocator import keep_freed_memory; import numpy as np; "
            "ok = keep_freed_memory(); a = np.ones(5_000_000); print(ok, a.sum())")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.stdout.split() == ["True", "5000000.0"], r.stderr


def test_no_libc_means_no_change(monkeypatch):
    def no_library(name):
        raise OSError(f"cannot load {name}")

    monkeypatch.setattr(ctypes, "CDLL", no_library)
    assert allocator.keep_freed_memory() is False
