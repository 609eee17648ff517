"""Run one test function in a fresh Python process under a memory cap, and read its result.

    from ._memcap import run_capped, result_of

    proc = run_capped(f"{__file__}:fuzz_main", cap_mib=1024, timeout_s=120, args=["5000"])
    assert proc.returncode == 0, proc.stderr[-5000:]
    result = result_of(proc)             # what fuzz_main("5000") returned, through JSON

`target` is "FILE.py:FUNCTION". In the child, the address space is capped first
(`resource.setrlimit(RLIMIT_AS, cap)`), so an allocation past the cap raises MemoryError there
instead of exhausting the machine; then FILE's folder is imported as a package (relative
imports such as `from ._memcap import ...` work, as under pytest) and FUNCTION(*args) is
called with the string args. Its return value must be JSON-ready; it is printed on the last
line of stdout after RESULT_MARK. An exception ends the child with a traceback on stderr and
a non-zero returncode. BLAS and dlscratch run one thread in the child.

`memory_mib()` reads the calling process's resident memory (VmRSS) and its peak (VmHWM) from
/proc/self/status, for tests that check a refusal allocated nothing.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import json
import os
import resource
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

RESULT_MARK = "RESULT-JSON "


def run_capped(target: str, cap_mib: int, timeout_s: float,
               args: Sequence[str] = ()) -> subprocess.CompletedProcess:
    """Run FILE.py:FUNCTION(*args) in a child capped at cap_mib MiB of address space.

    Raises subprocess.TimeoutExpired after timeout_s seconds (the child is killed)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "DLSCRATCH_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    command = [sys.executable, str(Path(__file__).resolve()), target, str(int(cap_mib)),
               *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, env=env)


def result_of(proc: subprocess.CompletedProcess):
    """The target's return value, from the child's last RESULT_MARK line."""
    lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if proc.returncode != 0 or not lines:
        raise AssertionError(f"child failed (returncode {proc.returncode}):\n"
                             f"{proc.stdout[-3000:]}\n{proc.stderr[-8000:]}")
    return json.loads(lines[-1][len(RESULT_MARK):])


def memory_mib() -> dict[str, float]:
    """{"rss": VmRSS, "peak": VmHWM} of this process, in MiB (Linux)."""
    found = {}
    with open("/proc/self/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found["rss" if name == "VmRSS" else "peak"] = int(value.split()[0]) / 1024
    return found


def _load_target(target: str):
    """FUNCTION of FILE, FILE's folder imported as a package (relative imports work)."""
    file, _, name = target.rpartition(":")
    file = Path(file).resolve()
    package, init = "_capped_target_package", file.parent / "__init__.py"
    if init.exists():
        spec = importlib.util.spec_from_file_location(
            package, init, submodule_search_locations=[str(file.parent)])
    else:
        spec = importlib.machinery.ModuleSpec(package, None, is_package=True)
        spec.submodule_search_locations.append(str(file.parent))
    module = importlib.util.module_from_spec(spec)
    sys.modules[package] = module
    if init.exists():
        spec.loader.exec_module(module)
    return getattr(importlib.import_module(f"{package}.{file.stem}"), name)


def _main(target: str, cap_mib: str, *args: str) -> None:
    cap = int(cap_mib) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    result = _load_target(target)(*args)
    print(RESULT_MARK + json.dumps(result), flush=True)


if __name__ == "__main__":
    _main(*sys.argv[1:])
