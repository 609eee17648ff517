"""Fixtures for `dlscratch search`: tiny trials on the real MNIST files, the command run as a
process of its own (as a user runs it: workers, signals, kill -9), the study read back through
Optuna, and a real PostgreSQL server.

The PostgreSQL server is Debian's (`initdb`, `pg_ctl`: `pg_config --bindir`, else
/usr/lib/postgresql/*/bin), started once for the session in a fresh folder on a free loopback
port and stopped afterwards. Both programs refuse to run as root, so as root (CI) they run as
the `postgres` user through `runuser`, in a folder that user may enter. Where CI is set, a
missing server, Optuna or data is a failure, not a skip: .ci/run installs them.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from tests.components import missing

# tiny trials: 240 training and 60 validation images, one epoch of 4 batches
TINY = ["--limit", "300", "--batch-size", "60", "--epochs", "1", "--hidden", "20", "20"]


@pytest.fixture(scope="session")
def data_dir() -> str:
    value = os.environ.get("DLSCRATCH_DATA")
    if not value or not Path(value, "mnist").is_dir():
        missing("set DLSCRATCH_DATA to a folder holding mnist/")
    return value


@pytest.fixture(scope="session")
def optuna():
    try:
        import optuna
    except ImportError:
        missing("Optuna is not installed: pip install -e '.[search]'")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "dlscratch.cli.main", "search", *args]


def run_search(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`dlscratch search ARGS` to its end; its status, stdout and stderr."""
    return subprocess.run(command(*args), capture_output=True, text=True, timeout=timeout)


def start_search(*args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen(command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **popen)


def trials(optuna, url: str, study: str = "search") -> list:
    """Every trial of the study, by number (read through Optuna, as anyone can)."""
    return optuna.load_study(study_name=study, storage=url).get_trials(deepcopy=False)


def completes_by_index(all_trials) -> dict[int, list]:
    out: dict[int, list] = {}
    for t in all_trials:
        if t.state.name == "COMPLETE":
            out.setdefault(t.user_attrs["index"], []).append(t)
    return out


def wait_for(condition, timeout: float = 60, what: str = "the condition"):
    """Poll until condition() gives something true; that value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if value := condition():
                return value
        except AssertionError:  # the condition's own verdict: no use waiting on
            raise
        except Exception:  # the database may not exist yet
            pass
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def one_error_line(result) -> str:
    """The single `dlscratch: error: ...` line of a failed command (and no traceback)."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("dlscratch: error: "), lines[0]
    return lines[0]


# -- a real PostgreSQL server -----------------------------------------------------------------


def _bindir() -> Path | None:
    candidates = []
    if pg_config := shutil.which("pg_config"):
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            candidates.append(subprocess.run([pg_config, "--bindir"], capture_output=True,
                                             text=True, check=True).stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if Path(folder, "initdb").is_file() and Path(folder, "pg_ctl").is_file():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url():
    """postgresql+psycopg://postgres@127.0.0.1:PORT/postgres of a server started for the
    session (trust authentication on loopback only), stopped and removed afterwards."""
    bindir = _bindir()
    if bindir is None:
        missing("PostgreSQL's initdb/pg_ctl not found (apt-get install postgresql)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        missing("psycopg is not installed: pip install -e '.[search]'")
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    root = Path(tempfile.mkdtemp(prefix="dlscratch-pg-"))
    root.chmod(0o755)  # the postgres user must enter it
    data = root / "data"
    if as_root:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    run = lambda *a: subprocess.run([*prefix, *a], capture_output=True, text=True,  # noqa: E731
                                    timeout=120)
    done = run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
               "--no-sync")
    assert done.returncode == 0, f"initdb failed: {done.stderr}"
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    started = run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                  str(root / "log"), "-w", "-t", "60", "start")
    try:
        assert started.returncode == 0, \
            f"pg_ctl start failed: {started.stderr} {(root / 'log').read_text()}"
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def new_database(postgres_url, request):
    """A fresh database on the session's server, for one test: its URL."""
    import psycopg

    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name)[:50].lower()
    admin = postgres_url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return postgres_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def sh():
    """This module's helpers (run_search, trials, wait_for, TINY, ...): the tests import
    nothing from the tests folder (pytest runs with --import-mode=importlib)."""
    return sys.modules[__name__]
