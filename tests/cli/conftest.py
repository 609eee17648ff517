"""Fixtures for the command-line tests: no network, an isolated cache, the real MNIST files
(read-only, from $DLSCRATCH_DATA) and one small trained run shared by the evaluate/predict tests.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from dlscratch.cli.main import main
from dlscratch.data import FILE_NAMES


def _real_data_root() -> Path | None:
    value = os.environ.get("DLSCRATCH_DATA")
    if not value:
        return None
    root = Path(value)
    files = [root / "mnist" / f"{name}.gz" for name in FILE_NAMES]
    return root if all(f.is_file() or f.with_suffix("").is_file() for f in files) else None


DATA_ROOT = _real_data_root()


@pytest.fixture
def mnist_root() -> Path:
    """The root holding the real mnist/ (never written to); skips the test without it."""
    if DATA_ROOT is None:
        pytest.skip("set DLSCRATCH_DATA to a folder holding mnist/")
    return DATA_ROOT


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    """No test may reach the internet (a download attempt fails at once) or touch ~/.cache."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise urllib.error.URLError("network access is disabled in the tests")

    def refuse_socket(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access is disabled in the tests")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse_socket)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return attempts


@pytest.fixture
def cli(capsys):
    """cli("train", "--flag", ...) -> (exit code, stdout, stderr) of dlscratch.cli.main.main."""

    def run(*args):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return SimpleNamespace(code=code, out=out, err=err)

    return run


def run_quietly(*args) -> SimpleNamespace:
    """main(args) outside capsys (for session fixtures)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return SimpleNamespace(code=code, out=out.getvalue(), err=err.getvalue())


# A short two-layer run on 500 MNIST images; per-epoch accuracies on 200 samples.
TRAIN_ARGS = ("train", "--iterations", "50", "--limit", "500", "--eval-limit", "200", "--quiet")


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> SimpleNamespace:
    """The output folder of one `dlscratch train` (read-only for the tests that use it)."""
    if DATA_ROOT is None:
        pytest.skip("set DLSCRATCH_DATA to a folder holding mnist/")
    out = tmp_path_factory.mktemp("run") / "two-layer"
    result = run_quietly(*TRAIN_ARGS, "--out", out)
    assert result.code == 0, result.err
    return SimpleNamespace(out=out, stdout=result.out, stderr=result.err)


# Small, quick settings: 300 images, batches of 50 (6 iterations per epoch), no progress bar.
SMALL = ("--limit", "300", "--batch-size", "50", "--eval-limit", "100", "--quiet")


@pytest.fixture(scope="session")
def cosine_run(tmp_path_factory) -> Path:
    """A finished one-epoch run with a cosine schedule; copy it before changing anything."""
    if DATA_ROOT is None:
        pytest.skip("set DLSCRATCH_DATA to a folder holding mnist/")
    out = tmp_path_factory.mktemp("run") / "cosine"
    result = run_quietly("train", "--epochs", "1", "--schedule", "cosine", *SMALL, "--out", out)
    assert result.code == 0, result.err
    return out
