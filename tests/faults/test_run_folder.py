"""The run folder: one live run at a time, an unwritable --out refused before the data loads,
a full disk named, stale temporary files cleared."""

from __future__ import annotations

import errno
import os
import signal
from pathlib import Path

import pytest

from dlscratch.errors import RunError
from dlscratch.io.atomic import atomic_write_text, remove_stale_temps, stale_temps
from dlscratch.train.run_lock import LOCK_NAME, RunLock, open_run_folder


def test_a_second_live_run_in_the_same_folder_is_refused_with_the_first_ones_pid(
        kit, tmp_path, cli):
    out = tmp_path / "run"
    first = kit.Run([*kit.RUN_ARGS, "--out", out], tmp_path / "p")
    lock = out / LOCK_NAME
    first.wait_until(lambda: lock.exists() and lock.read_text().strip() == str(first.pid),
                     "the first run's lock")
    for extra in ((), ("--resume",)):
        r = cli(*kit.RUN_ARGS, *extra, "--out", out)
        assert r.code == 1 and r.out == ""
        if extra:  # --resume reads config.json first: the first run may not have written it
            assert str(out) in r.err and r.err.count("\n") == 1
            continue
        assert r.err == (f"dlscratch: error: {out} is in use by another dlscratch run (PID "
                         f"{first.pid}): wait for it to end, or choose another --out\n")
    assert first.proc.poll() is None  # the first run goes on
    assert first.signal(signal.SIGKILL) == -signal.SIGKILL
    second = RunLock(out)  # a killed run never blocks the next
    second.acquire()
    assert lock.read_text().strip() == str(os.getpid())
    second.release()
    assert not lock.exists()


def test_the_lock_is_exclusive_and_leaves_nothing(tmp_path):
    folder = tmp_path / "run"
    with open_run_folder(folder, ["model.npz"]) as held:
        assert held.held
        with pytest.raises(RunError, match=rf"in use by another dlscratch run \(PID "
                                           rf"{os.getpid()}\)"):
            RunLock(folder).acquire()
        (folder / "model.npz").write_text("x")
    assert sorted(p.name for p in folder.iterdir()) == ["model.npz"]
    with open_run_folder(tmp_path / "a" / "b", []):
        pass
    assert not (tmp_path / "a").exists()  # made for a run that wrote nothing: removed


@pytest.fixture
def no_data(tmp_path, monkeypatch) -> Path:
    empty = tmp_path / "empty-data"
    empty.mkdir()
    monkeypatch.setenv("DLSCRATCH_DATA", str(empty))
    return empty


def unwritable_outs(tmp_path) -> list[tuple[Path, str]]:
    """Folders no process can write in, root included (chmod does not stop root)."""
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    cases = [(a_file / "run", "a part of the path is a file, not a folder")]
    if Path("/sys/kernel").is_dir():  # sysfs: no new files, whoever asks
        cases += [(Path("/sys/kernel"), ""), (Path("/sys/kernel/dlscratch-run"), "")]
    return cases


def test_an_unwritable_out_is_refused_before_the_data_loads(cli, no_data, tmp_path):
    for out, reason in unwritable_outs(tmp_path):
        r = cli("train", "--iterations", "2", "--quiet", "--out", out)
        assert r.code == 1 and r.out == ""
        assert r.err.startswith(f"dlscratch: error: cannot write in the run folder {out} "
                                f"(--out): {reason}"), r.err
        assert "data not found" not in r.err and r.err.count("\n") == 1
    a_file = tmp_path / "a-file"
    r = cli("train", "--iterations", "2", "--quiet", "--out", a_file)
    assert r.err == f"dlscratch: error: --out {a_file} is a file, not a folder: choose another " \
                    "--out\n"
    assert a_file.read_text() == "x"


def test_a_full_disk_names_the_file(kit, cli, tmp_path, monkeypatch):
    """ENOSPC while the first checkpoint is written: one line with its path, nothing left."""
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc/self/fd")
    real_fsync = os.fsync

    def full(fd):
        if ".checkpoint.npz." in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full)
    out = tmp_path / "run"
    r = cli("train", "--iterations", "24", "--limit", "600", "--batch-size", "50",
            "--eval-limit", "100", "--quiet", "--out", out)
    assert r.code == 1
    assert r.err == (f"dlscratch: error: cannot write {out / 'checkpoint.npz'}: No space left "
                     "on device\n")
    assert kit.listing(out) == ["config.json"]


def test_atomic_write_errors_name_the_target(tmp_path):
    target = tmp_path / "a-file" / "sub" / "x.txt"
    (tmp_path / "a-file").write_text("")
    with pytest.raises(OSError, match=rf"^\[Errno {errno.ENOTDIR}\] cannot write "
                                      rf"{target}: Not a directory$") as info:
        atomic_write_text(target, "x")
    assert info.value.errno == errno.ENOTDIR

    import urllib.error

    from dlscratch.io.atomic import atomic_write

    with pytest.raises(urllib.error.URLError):  # the caller's own errors pass unchanged
        with atomic_write(tmp_path / "download.gz") as f:
            f.write(b"part")
            raise urllib.error.URLError("offline")
    assert os.listdir(tmp_path) == ["a-file"]


def test_stale_temps_are_only_atomic_writes_of_the_named_targets(tmp_path):
    names = [".model.npz.ab_12xyz.tmp", ".history.json.k9a0b1c2.tmp", ".notes.txt.abcdefgh.tmp",
             ".model.npz.tmp", "model.npz", ".model.npz.TOOLONG99.tmp"]
    for name in names:
        (tmp_path / name).write_text("")
    assert [p.name for p in stale_temps(tmp_path, ["model.npz", "history.json"])] == [
        ".history.json.k9a0b1c2.tmp", ".model.npz.ab_12xyz.tmp"]
    assert len(stale_temps(tmp_path)) == 3
    remove_stale_temps(tmp_path, ["model.npz"])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(set(names) -
                                                                {".model.npz.ab_12xyz.tmp"})
    assert stale_temps(tmp_path / "missing") == []
