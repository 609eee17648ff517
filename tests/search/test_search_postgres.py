"""A study shared through a real PostgreSQL server: two commands, started at the same moment as
on two machines, that share nothing but the URL (each its own --out), finish every index once.
"""

from __future__ import annotations


def test_two_commands_share_one_study_through_the_url(tmp_path, data_dir, optuna, sh,
                                                      new_database):
    n = 6
    procs = [sh.start_search(*sh.TINY, "--trials", str(n), "--storage", new_database,
                             "--heartbeat", "1", "--out", str(tmp_path / name))
             for name in ("machine-a", "machine-b")]
    results = [proc.communicate(timeout=180) for proc in procs]
    for proc, (stdout, stderr) in zip(procs, results, strict=True):
        assert proc.returncode == 0, stderr
        assert f"study search: {n} of {n} trials done" in stdout
    all_trials = sh.trials(optuna, new_database)
    done: dict[int, list] = {}
    for t in all_trials:
        if t.state.name == "COMPLETE":
            done.setdefault(t.user_attrs["index"], []).append(t)
    assert sorted(done) == list(range(n))
    assert all(len(ts) == 1 for ts in done.values())
    # the queue was filled once (under the lock): no trial was pruned as a duplicate
    assert not [t for t in all_trials if t.user_attrs.get("duplicate")]
    assert not (tmp_path / "machine-a" / "search.db").exists()  # the study lives in the server

    # the same values as a SQLite run of the same command
    local = sh.run_search(*sh.TINY, "--trials", str(n), "--out", str(tmp_path / "local"))
    assert local.returncode == 0, local.stderr
    here = {t.user_attrs["index"]: t for t in
            sh.trials(optuna, f"sqlite:///{tmp_path / 'local' / 'search.db'}")}
    for k, (t,) in done.items():
        assert t.params == here[k].params and t.value == here[k].value
