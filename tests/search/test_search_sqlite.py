"""`dlscratch search` on its default storage (SQLite in --out), run as a user runs it: stopped
and continued, on 1 and 2 worker processes, with a worker killed mid-trial."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3

import pytest

from dlscratch.kernels.pool import usable_cores
from dlscratch.search.space import draw_values, parse_param

COURSE = (parse_param("lr=1e-6:1e-2:log"), parse_param("weight_decay=1e-8:1e-4:log"))
# trials that last a second or more even on a fast machine, for the tests that signal or kill
# mid-trial: the poll must see a trial running, and it must still run when the signal lands
SLOW = ["--limit", "6000", "--batch-size", "50", "--epochs", "8"]


def url_of(out) -> str:
    return f"sqlite:///{out / 'search.db'}"


def assert_each_index_once(all_trials, n: int) -> dict:
    """Every index 0..n-1 has exactly one COMPLETE trial (no gap, no duplicate)."""
    done = {}
    for t in all_trials:
        if t.state.name == "COMPLETE":
            done.setdefault(t.user_attrs["index"], []).append(t)
    assert sorted(done) == list(range(n))
    assert all(len(ts) == 1 for ts in done.values()), {k: len(v) for k, v in done.items()}
    return {k: ts[0] for k, ts in done.items()}


def test_one_and_two_workers_give_the_same_trials(tmp_path, data_dir, optuna, sh):
    n = 5
    one, two = tmp_path / "one", tmp_path / "two"
    a = sh.run_search(*sh.TINY, "--trials", str(n), "--seed", "3", "--out", str(one))
    b = sh.run_search(*sh.TINY, "--trials", str(n), "--seed", "3", "--out", str(two),
                      "--workers", "2")
    assert a.returncode == 0, a.stderr
    assert b.returncode == 0, b.stderr
    by_one = assert_each_index_once(sh.trials(optuna, url_of(one)), n)
    by_two = assert_each_index_once(sh.trials(optuna, url_of(two)), n)
    for k in range(n):
        # the values drawn from (seed, k), whoever ran the trial
        assert by_one[k].params == draw_values(COURSE, 3, k)[0] == by_two[k].params
        assert by_one[k].value == by_two[k].value
        assert by_one[k].user_attrs["val_acc"] == by_two[k].user_attrs["val_acc"]
        assert by_one[k].user_attrs["val_acc"][-1] == by_one[k].value
        assert by_one[k].user_attrs["seed"] == draw_values(COURSE, 3, k)[1][0]
    assert {t.user_attrs["threads"] for t in by_one.values()} == {usable_cores()}
    assert {t.user_attrs["threads"] for t in by_two.values()} == {max(1, usable_cores() // 2)}
    # the live table: one line per finished trial, and the report at the end
    rows = [line for line in b.stdout.splitlines() if "/5  index" in line]
    assert sorted(int(r.split("index")[1].split()[0]) for r in rows) == list(range(n))
    assert f"study search: {n} of {n} trials done" in b.stdout
    for name in ("curves.png", "scatter.png", "trials.csv", "narrowed.json", "best.json"):
        assert (two / "search" / name).stat().st_size > 0


def test_stopped_and_continued_reaches_exactly_n(tmp_path, data_dir, optuna, sh):
    """Ctrl-C mid-trial: status 130, one line; the trial cut short is FAIL; the same command
    again finishes the study with exactly one COMPLETE trial per index. A larger --trials then
    adds indices (the study's total, not N more)."""
    out = tmp_path / "run"
    url = url_of(out)
    args = [*SLOW, "--trials", "4", "--out", str(out)]
    proc = sh.start_search(*args)

    def one_done_and_one_just_started():
        with contextlib.closing(sqlite3.connect(out / "search.db", timeout=10)) as c:
            done = c.execute("SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'").fetchone()
        return done[0] and just_started(out / "search.db")

    number, _ = sh.wait_for(one_done_and_one_just_started,
                            what="a finished trial and one that just started")
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "interrupted by Ctrl-C (SIGINT)" in lines[0], stderr
    assert "run the same command again" in lines[0]
    cut = next(t for t in sh.trials(optuna, url) if t.number == number)
    states = {t.number: t.state.name for t in sh.trials(optuna, url)}
    assert states[cut.number] == "FAIL"
    assert list(states.values()).count("COMPLETE") < 4

    again = sh.run_search(*args)
    assert again.returncode == 0, again.stderr
    by_index = assert_each_index_once(sh.trials(optuna, url), 4)
    assert by_index[cut.user_attrs["index"]].number > cut.number  # run again, as a new trial
    assert by_index[cut.user_attrs["index"]].params == cut.params

    more = sh.run_search(*args[:-4], "--trials", "6", "--out", str(out))
    assert more.returncode == 0, more.stderr
    after = assert_each_index_once(sh.trials(optuna, url), 6)
    assert all(after[k].number == by_index[k].number for k in range(4))  # kept, not rerun


def just_started(db, within_s: float = 0.3):
    """(trial number, worker pid) of a RUNNING trial that recorded its pid and started less
    than within_s seconds ago, else None."""
    import datetime

    with contextlib.closing(sqlite3.connect(db, timeout=10)) as c:
        rows = c.execute("SELECT t.number, t.datetime_start, a.value_json FROM trials t JOIN "
                         "trial_user_attributes a ON a.trial_id = t.trial_id "
                         "WHERE t.state = 'RUNNING' AND a.key = 'pid'").fetchall()
    now = datetime.datetime.now()
    for number, start, pid in rows:
        if (now - datetime.datetime.fromisoformat(start)).total_seconds() < within_s:
            return number, int(pid)
    return None


def test_a_worker_killed_mid_trial_loses_nothing(tmp_path, data_dir, optuna, sh):
    """kill -9 of a worker process during a trial: its heartbeat stops, the other worker marks
    the trial FAIL, runs its index again, and the study completes."""
    out = tmp_path / "run"
    url = url_of(out)
    proc = sh.start_search(*SLOW, "--trials", "4", "--workers", "2", "--heartbeat", "1",
                           "--out", str(out))
    # a trial that started a moment ago (most of its second still to run), read with sqlite3
    # directly: Optuna takes longer to open the study than the trial lasts
    number, pid = sh.wait_for(lambda: just_started(out / "search.db"),
                              what="a trial that just started")
    assert pid != proc.pid
    os.kill(pid, signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert f"(pid {pid}) was killed by SIGKILL" in stderr
    all_trials = sh.trials(optuna, url)
    by_index = assert_each_index_once(all_trials, 4)
    killed = next(t for t in all_trials if t.number == number)
    assert killed.state.name == "FAIL" and killed.user_attrs["pid"] == pid
    retry = by_index[killed.user_attrs["index"]]
    assert retry.user_attrs["pid"] != pid and retry.params == killed.params
    assert "study search: 4 of 4 trials done" in stdout


def test_a_study_made_with_other_settings_is_refused(tmp_path, data_dir, optuna, sh):
    out = tmp_path / "run"
    first = sh.run_search(*sh.TINY, "--trials", "1", "--out", str(out))
    assert first.returncode == 0, first.stderr
    second = sh.run_search(*sh.TINY, "--epochs", "2", "--trials", "1", "--param",
                           "lr=1e-4:1e-1:log", "--out", str(out))
    assert second.returncode == 1
    line = sh.one_error_line(second)
    assert "study 'search'" in line and "was created with other settings" in line
    assert "--epochs: saved 1.0 vs now 2.0" in line
    assert "--param: saved lr=1e-06:0.01:log weight_decay=1e-08:0.0001:log vs now " \
           "lr=0.0001:0.1:log" in line
    assert len(sh.trials(optuna, url_of(out))) == 1  # nothing was queued


def test_report_narrow_and_train_on_best(tmp_path, data_dir, optuna, sh):
    """The report's narrowed ranges are those of the best 5 trials; --narrow searches inside
    them; best.json trains with `dlscratch train --config` on the full training set."""
    out = tmp_path / "run"
    url = url_of(out)
    first = sh.run_search(*sh.TINY, "--trials", "7", "--out", str(out), "--quiet")
    assert first.returncode == 0, first.stderr
    (out / "search" / "narrowed.json").unlink()
    report = sh.run_search("--report", str(out))
    assert report.returncode == 0, report.stderr
    done = [t for t in sh.trials(optuna, url) if t.state.name == "COMPLETE"]
    ranked = sorted(done, key=lambda t: (-t.value, t.user_attrs["index"]))
    top = ranked[:5]
    narrowed = json.loads((out / "search" / "narrowed.json").read_text())
    lr = (min(t.params["lr"] for t in top), max(t.params["lr"] for t in top))
    wd = (min(t.params["weight_decay"] for t in top), max(t.params["weight_decay"] for t in top))
    assert narrowed["narrowed"] == [f"lr={lr[0]:g}:{lr[1]:g}:log",
                                    f"weight_decay={wd[0]:g}:{wd[1]:g}:log"]
    assert [b["index"] for b in narrowed["best"]] == [t.user_attrs["index"] for t in top]
    assert f"Best-1: val acc {ranked[0].value:.4f}" in report.stdout

    second = sh.run_search(*sh.TINY, "--trials", "3", "--out", str(out), "--narrow")
    assert second.returncode == 0, second.stderr
    r2 = [t for t in sh.trials(optuna, url, "search-r2") if t.state.name == "COMPLETE"]
    assert len(r2) == 3
    for t in r2:
        assert lr[0] <= t.params["lr"] <= lr[1] and wd[0] <= t.params["weight_decay"] <= wd[1]

    best = json.loads((out / "search" / "best.json").read_text())["settings"]
    assert best["lr"] == ranked[0].params["lr"]
    assert best["weight_decay"] == ranked[0].params["weight_decay"]
    assert best["seed"] == ranked[0].user_attrs["seed"]
    assert best["limit"] is None and best["val_fraction"] == 0.0
    from dlscratch.cli.main import main

    run = tmp_path / "best"
    assert main(["train", "--config", str(out / "search" / "best.json"), "--limit", "300",
                 "--quiet", "--out", str(run)]) == 0
    saved = json.loads((run / "config.json").read_text())["settings"]
    assert saved == {**best, "limit": 300}  # the file's settings, the flag beside it on top


SLOW_TAKER = """
import sys, time
from optuna.storages._rdb import models
from dlscratch.search import worker
read = models.TrialModel.find_or_raise_by_id
def slow_read(cls, *args, **kwargs):  # widen the gap between reading a queued trial and taking it
    trial = read(*args, **kwargs)
    if trial.state.name == "WAITING":
        time.sleep(0.5)
    return trial
models.TrialModel.find_or_raise_by_id = classmethod(slow_read)
train = worker.run_trial
def logged_train(config, data):  # one line per trial trained, whichever process trains it
    with open(sys.argv[2], "a") as log:
        log.write(f"{config.seed}\\n")
    return train(config, data)
worker.run_trial = logged_train
sys.exit(worker.main([sys.argv[1]]))
"""


def test_two_workers_never_take_the_same_trial(tmp_path, data_dir, optuna, sh):
    """SQLite ignores Optuna's SELECT ... FOR UPDATE, so without the study's lock two workers
    that ask at the same moment both take the first queued trial (and the second one's result
    is refused). Here reading a trial is slowed down to make that moment wide."""
    import subprocess
    import sys

    from dlscratch.search import study as st
    from dlscratch.search.settings import SearchSettings
    from dlscratch.search.worker import WorkerJob
    from dlscratch.train.run_config import RunConfig

    url = f"sqlite:///{tmp_path / 'search.db'}"
    settings = SearchSettings(RunConfig(model="multi-layer", hidden=(20, 20), limit=300,
                                        batch_size=60, epochs=1, val_fraction=0.2,
                                        data_dir=data_dir), COURSE)
    study = st.open_study(st.open_storage(url), "search", settings, url)
    st.queue_missing(study, settings, 4, url)
    job = WorkerJob(url, "search", settings.to_dict(), 4, heartbeat=5, data_dir=data_dir,
                    threads=1).to_json()
    log = tmp_path / "trained.txt"
    procs = [subprocess.Popen([sys.executable, "-c", SLOW_TAKER, job, str(log)],
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    by_index = assert_each_index_once(sh.trials(optuna, url), 4)
    assert all(t.state.name == "COMPLETE" for t in sh.trials(optuna, url))
    # each trial trained once: no two workers took the same queued trial
    assert sorted(log.read_text().split()) == sorted(str(t.user_attrs["seed"])
                                                     for t in by_index.values())


def test_ctrl_c_stops_every_worker(tmp_path, data_dir, optuna, sh):
    """SIGINT to the command alone (not its process group): it passes the signal on to its
    worker processes, which mark their trials FAIL and end; nothing is left running."""
    out = tmp_path / "run"
    url = url_of(out)
    proc = sh.start_search(*SLOW, "--trials", "6", "--workers", "2", "--out", str(out))
    running = sh.wait_for(lambda: [t for t in sh.trials(optuna, url)
                                   if t.state.name == "RUNNING" and "pid" in t.user_attrs],
                          what="a running trial")
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1].startswith("dlscratch: interrupted by Ctrl-C")
    assert "Traceback" not in stderr
    for t in running:
        try:
            os.kill(t.user_attrs["pid"], 0)
            raise AssertionError(f"worker {t.user_attrs['pid']} is still running")
        except ProcessLookupError:
            pass
    states = [t.state.name for t in sh.trials(optuna, url)]
    assert "RUNNING" not in states and "FAIL" in states


def test_tpe_integers_and_choices(tmp_path, data_dir, optuna, sh):
    """--sampler tpe fills the queued trials itself; an integer range sets every hidden layer
    (as many as --hidden gives); choices come from the list."""
    out = tmp_path / "run"
    done = sh.run_search("--limit", "300", "--batch-size", "60", "--epochs", "1", "--hidden",
                         "20", "20", "20", "--sampler", "tpe", "--param", "hidden=8:32",
                         "--param", "activation=relu,sigmoid", "--param", "lr=1e-3:1e-1:log",
                         "--trials", "4", "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    by_index = assert_each_index_once(sh.trials(optuna, url_of(out)), 4)
    for t in by_index.values():
        assert 8 <= t.params["hidden"] <= 32 and isinstance(t.params["hidden"], int)
        assert t.params["activation"] in ("relu", "sigmoid")
        assert 1e-3 <= t.params["lr"] <= 1e-1
    best = json.loads((out / "search" / "best.json").read_text())["settings"]
    top = max(by_index.values(), key=lambda t: (t.value, -t.user_attrs["index"]))
    assert best["hidden"] == [top.params["hidden"]] * 3
    assert best["activation"] == top.params["activation"]


def test_workers_stop_when_the_command_is_killed(tmp_path, data_dir, optuna, sh):
    """kill -9 of the command itself: each worker finishes its trial and stops (no orphan
    goes on with the study); the same command again completes it."""
    import time

    out = tmp_path / "run"
    url = url_of(out)
    args = [*SLOW, "--trials", "8", "--workers", "2", "--heartbeat", "1", "--out", str(out)]
    proc = sh.start_search(*args)

    def running_trials():
        if proc.poll() is not None:
            raise AssertionError("the search ended before a running trial was seen: "
                                 f"{proc.communicate()[1]}")
        return [t for t in sh.trials(optuna, url)
                if t.state.name == "RUNNING" and "pid" in t.user_attrs]

    running = sh.wait_for(running_trials, what="a running trial")
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    pids = {t.user_attrs["pid"] for t in running}

    def alive(pid):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True

    deadline = time.monotonic() + 60
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in pids)
    assert len(sh.completes_by_index(sh.trials(optuna, url))) < 8
    again = sh.run_search(*args)
    assert again.returncode == 0, again.stderr
    assert_each_index_once(sh.trials(optuna, url), 8)


def test_a_creation_race_is_retried_and_other_errors_are_not(tmp_path, optuna, monkeypatch):
    """Two processes making the same new database: the one that loses sees "table ... already
    exists" (SQLite's OperationalError) or a duplicate schema version (IntegrityError) and
    opens it again; any other OperationalError is one line at once, without retrying."""
    import sqlalchemy.exc

    from dlscratch.search import study
    from dlscratch.search.errors import SearchError

    real, calls = optuna.storages.RDBStorage, []

    def losing_once(error):
        def storage(url, **kwargs):
            calls.append(url)
            if len(calls) == 1:
                raise error
            return real(url, **kwargs)
        return storage

    monkeypatch.setattr(study.time, "sleep", lambda s: None)
    for error in (sqlalchemy.exc.OperationalError("CREATE TABLE studies", {},
                                                  Exception("table studies already exists")),
                  sqlalchemy.exc.IntegrityError("INSERT", {}, Exception(
                      "UNIQUE constraint failed: alembic_version.version_num"))):
        calls.clear()
        monkeypatch.setattr(optuna.storages, "RDBStorage", losing_once(error))
        url = f"sqlite:///{tmp_path / f'{type(error).__name__}.db'}"
        assert isinstance(study.open_storage(url), real) and len(calls) == 2
    calls.clear()
    monkeypatch.setattr(optuna.storages, "RDBStorage", losing_once(
        sqlalchemy.exc.OperationalError("connect", {}, Exception("unable to open database file"))))
    with pytest.raises(SearchError, match="cannot open the storage: unable to open database"):
        study.open_storage(f"sqlite:///{tmp_path / 'x.db'}")
    assert len(calls) == 1
