"""The helper the fuzz tests share: a function run in a capped child process."""

from __future__ import annotations

import pytest

from ._memcap import memory_mib, result_of, run_capped


def echo(*args):
    return {"args": list(args), "memory": memory_mib()}


def allocate(mib):
    import numpy as np

    return int(np.ones(int(mib) * 2**20 // 8).sum())


def test_the_result_comes_back_through_json():
    result = result_of(run_capped(f"{__file__}:echo", 1024, 60, ["a", 2]))
    assert result["args"] == ["a", "2"]  # arguments arrive as strings
    assert 0 < result["memory"]["rss"] <= result["memory"]["peak"]


def test_an_allocation_past_the_cap_fails_in_the_child():
    assert result_of(run_capped(f"{__file__}:allocate", 1024, 60, [64])) == 64 * 2**17
    proc = run_capped(f"{__file__}:allocate", 1024, 60, [2048])
    assert proc.returncode != 0 and "MemoryError" in proc.stderr
    with pytest.raises(AssertionError, match="child failed"):
        result_of(proc)
