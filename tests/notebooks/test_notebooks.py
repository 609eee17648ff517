"""Every course notebook (notebooks/*.ipynb) runs from top to bottom without an error.

Each notebook is executed by nbclient in a kernel that runs this interpreter (a kernelspec
written for the session points at sys.executable, so the notebooks import the dlscratch under
test, not whatever `python` is first on PATH), with DLSCRATCH_QUICK=1: every training in
them shrinks to a few hundred images. Any cell that raises fails the test, naming the cell.
The stored notebooks must carry no outputs (they are written with nbformat, outputs cleared).
Where CI is set, a missing nbclient / ipykernel or missing MNIST data is a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
from tests.components import missing

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
KERNEL = "dlscratch-test"
CELL_TIMEOUT_S = 300


def test_there_is_a_notebook_per_part_of_the_course():
    assert len(NOTEBOOKS) == 6, [p.name for p in NOTEBOOKS]


@pytest.fixture(scope="session")
def data_dir() -> str:
    value = os.environ.get("DLSCRATCH_DATA")
    if not value or not Path(value, "mnist").is_dir():
        missing("set DLSCRATCH_DATA to a folder holding mnist/")
    return value


@pytest.fixture(scope="session")
def kernel_dirs(tmp_path_factory) -> list[str]:
    """A kernelspec that starts ipykernel with this very interpreter."""
    for module in ("nbclient", "nbformat", "ipykernel", "jupyter_client"):
        try:
            __import__(module)
        except ImportError:
            missing(f"{module} is not installed: pip install -e '.[test]'")
    spec_dir = tmp_path_factory.mktemp("kernels") / KERNEL
    spec_dir.mkdir()
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "dlscratch (test)", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return [str(spec_dir.parent)]


def run_notebook(path: Path, kernel_dirs: list[str], data_dir: str):
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env = {**os.environ, "DLSCRATCH_QUICK": "1", "DLSCRATCH_DATA": data_dir,
           "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    km = KernelManager(kernel_name=KERNEL,
                       kernel_spec_manager=KernelSpecManager(kernel_dirs=kernel_dirs))
    # the kernel's working folder is the notebooks' own, as when Jupyter opens them
    client = NotebookClient(nb, km=km, timeout=CELL_TIMEOUT_S, allow_errors=False,
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    started = time.perf_counter()
    client.execute(env=env)  # passed on to the kernel's start
    return nb, time.perf_counter() - started


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_without_error(path, kernel_dirs, data_dir):
    from nbclient.exceptions import CellExecutionError

    try:
        nb, seconds = run_notebook(path, kernel_dirs, data_dir)
    except CellExecutionError as error:
        pytest.fail(f"{path.name}: a cell raised:\n{error}")
    print(f"{path.name}: {seconds:.1f} s")
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), f"{path.name}: a cell did not run"
    assert sum(len(c.outputs) for c in code) > 0


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_notebook_has_no_outputs(path):
    import json as _json

    nb = _json.loads(path.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        assert cell.get("outputs") == [], f"{path.name}: cell {i} has stored outputs"
        assert cell.get("execution_count") is None, f"{path.name}: cell {i} has a count"
