"""`dlscratch serve` as a user runs it: a process of its own that prints its address, answers,
and stops on Ctrl-C with one line; the one-line errors; the first run that trains a model."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from dlscratch.cli import serve_cmd
from dlscratch.errors import RunError


def serve(*args: str, cwd=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dlscratch.cli.main", "serve", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def address_of(process: subprocess.Popen, timeout: float = 60) -> str:
    """The URL from the 'serving at URL' line (the lines before it are returned too)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            pytest.fail(f"serve ended before serving: {process.stderr.read()}")
        if line.startswith("serving at "):
            return line.split()[2]
    pytest.fail("serve printed no address")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_prints_its_address_answers_and_stops_on_ctrl_c(runs, data_dir):
    process = serve(str(runs / "simple-cnn"), "--runs", str(runs), "--port", "0")
    try:
        url = address_of(process)
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0/")
        with urllib.request.urlopen(url + "api/models", timeout=10) as response:
            models = json.load(response)
        assert models["default"] == "simple-cnn" and len(models["models"]) == 4
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == 130
    assert err.strip().splitlines() == [f"dlscratch: Ctrl-C (SIGINT): stopped serving {url}"]


def test_a_port_in_use_is_one_line(runs):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = serve(str(runs / "two-layer"), "--port", str(port))
        out, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert err.strip().splitlines() == [
        f"dlscratch: error: cannot listen on 127.0.0.1 port {port}: the port is in use "
        "(another server?); choose another --port, or --port 0 for any free one"]


@pytest.mark.parametrize("args, words", [
    (["nowhere/model.npz"], "nowhere/model.npz: no such model file or run folder"),
    (["digit.png"], "digit.png: not a dlscratch model file (it is a PNG image"),
    (["--port", "70000"], "expected a port number 0..65535, got '70000'"),
    (["--host", "192.0.2.1", "--port", "0"],
     "cannot listen on 192.0.2.1 port 0: 192.0.2.1 is not an address of this machine"),
])
def test_bad_command_lines_are_one_line(runs, tmp_path, args, words):
    (tmp_path / "digit.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    process = serve(*args, "--runs", str(runs), cwd=tmp_path)
    out, err = process.communicate(timeout=60)
    lines = err.strip().splitlines()
    assert process.returncode in (1, 2) and len(lines) == 1 and words in lines[0], err


def test_a_model_is_a_file_a_run_folder_or_an_ensemble_folder(runs, tmp_path):
    assert serve_cmd.model_file(str(runs / "two-layer")) == runs / "two-layer" / "model.npz"
    assert serve_cmd.model_file(str(runs / "ensemble")) == runs / "ensemble"
    (tmp_path / "run").mkdir()
    with pytest.raises(RunError, match="holds no model.npz or ensemble.json"):
        serve_cmd.model_file(str(tmp_path / "run"))


@pytest.mark.parametrize("host, warned", [
    ("127.0.0.1", False), ("127.0.0.2", False), ("::1", False), ("localhost", False),
    ("0.0.0.0", True), ("192.168.1.5", True), ("myhost.example", True)])
def test_only_a_host_beyond_this_machine_is_warned_about(host, warned):
    warning = serve_cmd.exposure_warning(host, 8000)
    assert (warning is not None) == warned
    if warned:
        assert host in warning and "anyone" in warning


def test_without_any_run_the_default_model_is_trained_first(tmp_path, data_dir, monkeypatch,
                                                             capsys):
    """(A shorter run than the real default, which takes ~20 s: the same code path.)"""
    monkeypatch.setattr(serve_cmd, "DEFAULT_TRAINING", (
        "--model", "two-layer", "--limit", "600", "--iterations", "30", "--eval-limit", "100",
        "--data-dir", str(data_dir)))
    runs = tmp_path / "runs"
    start = serve_cmd.choose_model(None, runs)
    out, err = capsys.readouterr()
    assert start == runs / "two-layer" / "model.npz" and start.is_file()
    assert out.startswith(f"no model under {runs}/: training the default two-layer model into "
                          f"{runs / 'two-layer'} first")
    assert "test accuracy: " in out
    assert "img/s" in err  # the progress bar
    assert serve_cmd.choose_model(None, runs) == start  # the next time: that run, no training
    assert capsys.readouterr().out == ""


def helper_pids(process: subprocess.Popen) -> list[int]:
    """The serving helper processes a serve command started (its children)."""
    with open(f"/proc/{process.pid}/task/{process.pid}/children") as f:
        return [int(pid) for pid in f.read().split()]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


def wait_until_gone(pids: list[int], timeout: float = 20) -> list[int]:
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [pid for pid in pids if alive(pid)]


def test_several_processes_answer_and_end_with_the_command(runs, test_digits):
    """--threads 3: the command and 2 helper processes serve from one socket; 12 clients at
    once all get their answers, each the same as the one the command gives alone; Ctrl-C ends
    the helpers with it."""
    import http.client
    import threading

    from tests.serve.conftest import drawing

    digits, _ = test_digits
    pngs = [drawing(d) for d in digits[:12]]
    process = serve(str(runs / "two-layer"), "--runs", str(runs), "--port", "0", "--threads", "3")
    try:
        url = address_of(process)
        helpers = helper_pids(process)
        assert len(helpers) == 2
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        answers = {}

        def client(k):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for _ in range(5):
                conn.request("POST", "/api/predict", pngs[k], {"Content-Type": "image/png"})
                response = conn.getresponse()
                assert response.status == 200
                answers.setdefault(k, set()).add(tuple(json.load(response)["probabilities"]))

        threads = [threading.Thread(target=client, args=(k,)) for k in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(answers) == list(range(12))
        assert all(len(a) == 1 for a in answers.values())  # every process: the same answer
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == 130
    assert wait_until_gone(helpers) == []


def test_helpers_end_when_the_command_is_killed(runs):
    """kill -9 of the command: its helpers see their pipe close and end too."""
    process = serve(str(runs / "two-layer"), "--runs", str(runs), "--port", "0", "--threads", "2")
    try:
        url = address_of(process)
        helpers = helper_pids(process)
        assert len(helpers) == 1
        with urllib.request.urlopen(url + "api/models", timeout=10) as response:
            assert response.status == 200
        process.kill()
        process.wait(timeout=20)
    finally:
        process.kill()
    assert wait_until_gone(helpers) == []
