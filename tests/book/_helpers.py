"""Helpers for the book tests: a folder laid out like the book's checkout, and a way to run a
script in it through `dlscratch book` in a subprocess, as a reader would.

The checkout holds a decoy `common/` and `dataset/` that fail on import, so a test passes only
if `dlscratch book` served the book's modules from dlscratch.book.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dlscratch.data import FILE_NAMES

DECOY = 'raise ImportError("the checkout\'s own {} was imported instead of dlscratch.book")\n'


def _mnist_root() -> Path | None:
    value = os.environ.get("DLSCRATCH_DATA")
    if not value:
        return None
    files = [Path(value) / "mnist" / f"{name}.gz" for name in FILE_NAMES]
    return Path(value) if all(f.is_file() for f in files) else None


MNIST_ROOT = _mnist_root()
needs_mnist = pytest.mark.skipif(MNIST_ROOT is None,
                                 reason="set DLSCRATCH_DATA to a folder holding mnist/")


class Book:
    """A book-like checkout under tmp_path: `write('ch05/x.py', text)`, `run('ch05/x.py')`."""

    def __init__(self, root: Path):
        self.root = root
        for package in ("common", "dataset"):
            (root / package).mkdir(parents=True)
            (root / package / "__init__.py").write_text(DECOY.format(package + "/"))
        self.figures = root.parent / "figures"

    def write(self, relpath: str, text: str) -> Path:
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    def run(self, relpath: str, *args: str, options=(), check=True, timeout=120, env=None):
        """`dlscratch book [options] SCRIPT args` from the checkout's parent folder, with no
        display (and `env`'s changes: None removes a variable)."""
        env = {**os.environ, "MPLBACKEND": "Agg", "DLSCRATCH_NUM_THREADS": "1",
               "OPENBLAS_NUM_THREADS": "1", "XDG_CACHE_HOME": str(self.root.parent / "cache"),
               "DISPLAY": None, "WAYLAND_DISPLAY": None, **(env or {})}
        env = {k: v for k, v in env.items() if v is not None}
        cmd = [sys.executable, "-m", "dlscratch.cli.main", "book",
               "--figures", str(self.figures), *options, str(self.root / relpath), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env,
                              cwd=self.root.parent, timeout=timeout)
        if check:
            assert proc.returncode == 0, f"rc {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        return proc

    def lines(self, relpath: str, *args: str, **kwargs) -> list[str]:
        return self.run(relpath, *args, **kwargs).stdout.splitlines()


def dlscratch(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The `dlscratch` command in a subprocess."""
    return subprocess.run([sys.executable, "-m", "dlscratch.cli.main", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=120)
