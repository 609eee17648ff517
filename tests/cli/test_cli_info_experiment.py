"""`dlscratch info` and the parts of `dlscratch experiment` tested here (--list, unknown name)."""

from __future__ import annotations

import platform

import numpy as np

from dlscratch import __version__


def test_info_prints_versions_blas_and_data_folders(cli, tmp_path, monkeypatch):
    data = tmp_path / "data"
    (data / "mnist").mkdir(parents=True)
    (data / "mnist" / "train-images-idx3-ubyte.gz").write_bytes(b"")
    monkeypatch.setenv("DLSCRATCH_DATA", str(data))
    r = cli("info")
    assert r.code == 0 and r.err == ""
    lines = r.out.splitlines()
    assert lines[0] == f"dlscratch {__version__}"
    assert f"python {platform.python_version()}" in lines[1]
    assert f"numpy {np.__version__}" in lines[1]
    assert any(line.startswith("blas: ") and len(line) > 8 for line in lines)
    assert "data: explicit --data-dir, else $DLSCRATCH_DATA, else the user cache" in lines
    assert "MNIST (mnist):" in lines and "Fashion-MNIST (fashion-mnist):" in lines
    assert f"  {data / 'mnist'}  [$DLSCRATCH_DATA]" in lines
    assert f"  {tmp_path / 'xdg-cache' / 'dlscratch' / 'mnist'}  [user cache]" in lines
    assert "    ok      train-images-idx3-ubyte.gz" in lines
    assert "    MISSING t10k-labels-idx1-ubyte[.gz]" in lines
    assert f"  downloads would go to {tmp_path / 'xdg-cache' / 'dlscratch' / 'mnist'}" in lines


def test_threads_flag_sets_the_threads_and_info_shows_threads_blas_and_kernels(cli):
    import os

    import dlscratch

    cores = len(os.sched_getaffinity(0))
    try:
        r = cli("info", "--threads", "3")
        assert r.code == 0
        lines = r.out.splitlines()
        assert (f"dlscratch threads: 3 (usable cores: {cores}; set with --threads or "
                "$DLSCRATCH_NUM_THREADS)") in lines
        assert "data parallelism: a split batch runs here and on 2 worker processes" in lines
        assert "kernels: fast (set DLSCRATCH_KERNELS=reference for the book's plain NumPy)" in lines
        blas = [line for line in lines if line.startswith("blas: ")]
        assert blas and all(", 1 threads: " in line and line.endswith("(held at 1 thread by "
                                                                       "dlscratch)")
                            for line in blas)
        assert dlscratch.get_num_threads() == 3
        assert "data parallelism: off (one thread: no worker process is started)" in \
            cli("info", "--threads", "1").out.splitlines()
    finally:
        dlscratch.set_num_threads(1)


def test_info_with_data_dir_shows_the_folder_in_use(cli, tmp_path):
    from dlscratch.data import FILE_NAMES

    for name in FILE_NAMES:
        (tmp_path / "d" / "mnist").mkdir(parents=True, exist_ok=True)
        (tmp_path / "d" / "mnist" / name).write_bytes(b"")
    r = cli("info", "--data-dir", tmp_path / "d")
    assert r.code == 0
    assert f"  {tmp_path / 'd' / 'mnist'}  [data_dir argument]  <- used" in r.out.splitlines()
    assert "[$DLSCRATCH_DATA]" not in r.out  # an explicit folder is the only one searched


def test_experiment_list(cli):
    from dlscratch.experiments.registry import EXPERIMENTS

    r = cli("experiment", "--list")
    assert r.code == 0 and r.err == ""
    lines = r.out.splitlines()
    assert len(lines) == len(EXPERIMENTS) > 0
    for module, line in zip(EXPERIMENTS, lines, strict=True):
        assert f" {module.INFO.name} " in line
    assert cli("experiment").out == r.out  # no name: the list too


def test_unknown_experiment(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = cli("experiment", "no-such-experiment", "--out", tmp_path / "out")
    assert r.code == 1 and r.out == ""
    assert r.err.count("\n") == 1
    assert "dlscratch: error: unknown experiment 'no-such-experiment'" in r.err
    assert not (tmp_path / "out").exists()
