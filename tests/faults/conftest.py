"""Fault tests: real `dlscratch train` processes killed, interrupted and crowded at chosen
moments, then resumed.

The moments are set by what the run has written, never by the clock: with
DLSCRATCH_TEST_SLOW_WRITE (io.atomic) every atomic write waits between writing its temporary
file `.<name>.<random>.tmp` and renaming it, so a test that sees the k-th temporary file of
checkpoint.npz knows the run is inside its k-th checkpoint write, and one that sees it gone
knows the write is done.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from dlscratch.cli.main import main
from dlscratch.data import FILE_NAMES

SLOW_WRITE = "0.2"  # seconds each atomic write of a process under test holds its temp file
# A multi-layer run (batch norm, dropout: RNG and running statistics in the checkpoint) of 600
# images in batches of 50: 12 iterations an epoch, checkpoints at 12, 24, 36, 48 and 60.
RUN_ARGS = ("train", "--model", "multi-layer", "--hidden", "40", "40", "--dropout", "0.1",
            "--batchnorm", "--iterations", "60", "--limit", "600", "--batch-size", "50",
            "--eval-limit", "200", "--quiet")
OUTPUTS = ["checkpoint.npz", "config.json", "curves.png", "history.csv", "history.json",
           "model.npz"]


def _data_root() -> Path | None:
    value = os.environ.get("DLSCRATCH_DATA")
    if not value:
        return None
    files = [Path(value) / "mnist" / f"{name}.gz" for name in FILE_NAMES]
    return Path(value) if all(f.is_file() or f.with_suffix("").is_file() for f in files) \
        else None


DATA_ROOT = _data_root()


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    """In this process: no download, no ~/.cache (the child processes get the real data)."""
    def refuse(*args, **kwargs):
        raise urllib.error.URLError("network access is disabled in the tests")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture
def cli(capsys):
    def run(*args):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return SimpleNamespace(code=code, out=out, err=err)
    return run


@pytest.fixture(scope="session")
def reference(tmp_path_factory) -> dict[str, np.ndarray]:
    """model.npz's arrays after RUN_ARGS uninterrupted (in this process)."""
    if DATA_ROOT is None:
        pytest.skip("set DLSCRATCH_DATA to a folder holding mnist/")
    out = tmp_path_factory.mktemp("reference") / "run"
    buffers = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(buffers[0]), contextlib.redirect_stderr(buffers[1]):
        code = main([*RUN_ARGS, "--out", str(out)])
    assert code == 0, buffers[1].getvalue()
    return model_arrays(out / "model.npz")


def model_arrays(path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files if k != "__architecture__"}


def same_arrays(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def command() -> list[str]:
    return [sys.executable, "-m", "dlscratch.cli.main"]


class Run:
    """One `dlscratch` process; its output goes to files (a pipe could fill and block it)."""

    def __init__(self, args, folder: Path, slow: bool = True):
        env = dict(os.environ, DLSCRATCH_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                   OMP_NUM_THREADS="1", MPLBACKEND="Agg", PYTHONUNBUFFERED="1",
                   XDG_CACHE_HOME=str(folder / "xdg-cache"))
        env.pop("DLSCRATCH_TEST_SLOW_WRITE", None)
        if slow:
            env["DLSCRATCH_TEST_SLOW_WRITE"] = SLOW_WRITE
        if DATA_ROOT is not None:
            env["DLSCRATCH_DATA"] = str(DATA_ROOT)
        folder.mkdir(parents=True, exist_ok=True)
        self.stdout_path, self.stderr_path = folder / "stdout", folder / "stderr"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            # the signals as a terminal would deliver them, even when the tests run under nohup
            # or as a background job (an ignored signal is inherited, and dlscratch leaves an
            # ignored signal ignored)
            self.proc = subprocess.Popen([*command(), *map(str, args)], stdout=out, stderr=err,
                                         env=env, preexec_fn=_default_signals)
        self.pid = self.proc.pid

    def wait_until(self, condition, what: str, timeout: float = 60.0) -> None:
        """Poll `condition()` every few milliseconds while the process lives."""
        deadline = time.monotonic() + timeout
        while not condition():
            if self.proc.poll() is not None:
                pytest.fail(f"the run ended (status {self.proc.returncode}) before {what}: "
                            f"{self.stderr}")
            if time.monotonic() > deadline:
                self.proc.kill()
                pytest.fail(f"timed out waiting for {what}")
            time.sleep(0.002)

    def signal(self, signum) -> int:
        self.proc.send_signal(signum)
        return self.proc.wait(timeout=60)

    def finish(self) -> int:
        return self.proc.wait(timeout=120)

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text()

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()


def temps(folder: Path, name: str) -> list[Path]:
    return sorted(folder.glob(f".{name}.*.tmp"))


class Writes:
    """The temporary files of one target seen so far in a folder, in order: `inside(k)` is
    true while the k-th write is in progress (its temp file seen), `done(k)` once it is
    renamed."""

    def __init__(self, folder: Path, name: str):
        self.folder, self.name, self.seen = folder, name, []
        self.before = set(temps(folder, name)) if folder.exists() else set()  # a killed run's

    def _look(self) -> None:
        for path in temps(self.folder, self.name):
            if path not in self.seen and path not in self.before:
                self.seen.append(path)

    def inside(self, k: int):
        def check():
            self._look()
            return len(self.seen) >= k
        return check

    def done(self, k: int):
        def check():
            self._look()
            return len(self.seen) >= k and not self.seen[k - 1].exists()
        return check


def checkpoint_iteration(folder: Path) -> int:
    from dlscratch.train.checkpoint import read_checkpoint

    return read_checkpoint(folder / "checkpoint.npz")[0]["iteration"]


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def kit() -> SimpleNamespace:
    """The helpers above, for the tests (conftest is not importable by name)."""
    if DATA_ROOT is None:
        pytest.skip("set DLSCRATCH_DATA to a folder holding mnist/")
    return SimpleNamespace(RUN_ARGS=RUN_ARGS, OUTPUTS=OUTPUTS, Run=Run, Writes=Writes,
                           temps=temps, listing=listing, checkpoint_iteration=checkpoint_iteration,
                           model_arrays=model_arrays, same_arrays=same_arrays)


def _default_signals() -> None:
    for signum in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)
