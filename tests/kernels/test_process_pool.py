"""Worker processes (kernels.process_pool): the same weights at 1, 2 and 3 workers for every
course network, a killed worker, Ctrl-C and SIGTERM of a training command, and no shared
memory left under /dev/shm after any of them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from dlscratch import (
    Adam,
    BatchNormalization,
    DataParallel,
    DeepConvNet,
    MultiLayerNet,
    MultiLayerNetExtend,
    Sequential,
    SimpleConvNet,
    TwoLayerNet,
    kernels,
)
from dlscratch.errors import RunError
from dlscratch.kernels import data_parallel
from dlscratch.kernels.shared_arena import SharedArena, shm_folder
from dlscratch.layers import Convolution

COURSE_NETS = {
    "TwoLayerNet": lambda: TwoLayerNet(784, 50, 10, seed=0),
    "MultiLayerNet": lambda: MultiLayerNet(784, [100] * 3, 10, seed=0),
    "MultiLayerNetExtend": lambda: MultiLayerNetExtend(784, [60, 60], 10, use_dropout=True,
                                                       dropout_ratio=0.2, seed=0),
    "MultiLayerNetExtend-batchnorm": lambda: MultiLayerNetExtend(
        784, [60, 60], 10, use_batchnorm=True, use_dropout=True, dropout_ratio=0.2, seed=0),
    "SimpleConvNet": lambda: SimpleConvNet(seed=0),
    "DeepConvNet": lambda: DeepConvNet(seed=0),
}


def arenas(pid: int | None = None) -> list[str]:
    """This process's (or pid's) shared-memory blocks still named under /dev/shm."""
    prefix = f"dlscratch-{os.getpid() if pid is None else pid}-"
    return sorted(name for name in os.listdir(shm_folder()) if name.startswith(prefix))


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (dead, waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def batches(net, n=100, count=3, seed=0):
    rng = np.random.default_rng(seed)
    shape = (1, 28, 28) if isinstance(net.stack.layers[0], Convolution) else (784,)
    return [(rng.random((n, *shape), dtype=np.float32), rng.integers(0, 10, n))
            for _ in range(count)]


def train_steps(name, workers, *, processes=True, monkeypatch=None):
    """(params and buffers, losses, RNG states, pool pids seen) after 3 Adam steps at
    `workers` workers."""
    net = bn_conv_net() if name == "batch-norm" else COURSE_NETS[name]()
    model, optimizer, losses = DataParallel(net), Adam(lr=0.01), []
    monkeypatch.setattr(data_parallel, "PROCESSES_IN_TRAINING", processes)
    with kernels.threads(workers + 1), model:
        for x, t in batches(net):
            optimizer.update(model.params, model.gradient(x, t))
            losses.append(model.last_loss)
        pids = [] if model._pool is None else model._pool.pids
        assert model.last_parts == 8
    state = {k: a.copy() for k, a in {**net.params, **net.buffers}.items()}
    return state, losses, net.get_rng_state(), pids


@pytest.fixture
def eight_parts(monkeypatch):
    """Every training batch split in 8 parts (decided in this process, the parts' owner)."""
    monkeypatch.setattr(data_parallel, "MIN_SPLIT_WORK", 0)
    monkeypatch.setattr(data_parallel, "PART_WORK", 1)


@pytest.fixture(autouse=True)
def nothing_left_behind():
    yield
    assert arenas() == []


@pytest.mark.parametrize("name", [*COURSE_NETS, "batch-norm"])
def test_identical_at_1_2_and_3_workers(eight_parts, monkeypatch, name):
    runs = {w: train_steps(name, w, monkeypatch=monkeypatch) for w in (0, 1, 2)}
    threads = train_steps(name, 1, processes=False, monkeypatch=monkeypatch)
    params, losses, rng_states, pids = runs[0]
    assert pids == [] and len(runs[1][3]) == 1 and len(runs[2][3]) == 2
    for other in (runs[1], runs[2], threads):
        assert other[1] == losses and other[2] == rng_states
        for key, p in params.items():
            assert np.array_equal(other[0][key], p), key
    assert not any(alive(pid) for run in runs.values() for pid in run[3])
    if name.startswith("MultiLayerNetExtend"):  # dropout's masks drawn once for the batch
        assert rng_states != COURSE_NETS[name]().get_rng_state()
    if "batch" in name.lower():  # batch norm in lockstep: its running averages moved as one
        initial = bn_conv_net() if name == "batch-norm" else COURSE_NETS[name]()
        assert all(not np.array_equal(params[k], b) for k, b in initial.buffers.items())


@pytest.mark.parametrize("name", ["SimpleConvNet", "MultiLayerNetExtend-batchnorm"])
def test_batches_of_changing_size_on_one_pool(eight_parts, name):
    """Batches of 40, 24 (the arena holds it: a new layout), 24 again and 56 (a bigger
    arena) through the same workers: each step as with one process."""
    sizes = (40, 24, 24, 56)
    runs = []
    for workers in (0, 1):
        net = COURSE_NETS[name]()
        model, optimizer, losses = DataParallel(net), Adam(lr=0.01), []
        with kernels.threads(workers + 1), model:
            for n, seed in zip(sizes, range(len(sizes)), strict=True):
                (x, t), = batches(net, n=n, count=1, seed=seed)
                optimizer.update(model.params, model.gradient(x, t))
                losses.append(model.last_loss)
            assert (model._pool is None) == (workers == 0)
        runs.append((losses, {k: a.copy() for k, a in {**net.params, **net.buffers}.items()}))
    assert runs[1][0] == runs[0][0]
    for key, value in runs[0][1].items():
        assert np.array_equal(runs[1][1][key], value), key


def bn_conv_net():
    net = SimpleConvNet(seed=0)
    rng = np.random.default_rng(3)
    gamma, beta, mean, var = (a.astype(np.float32) for a in (
        rng.uniform(0.5, 1.5, 30), rng.normal(0, 0.1, 30), rng.normal(0, 0.1, 30),
        rng.uniform(0.5, 2, 30)))
    layers = list(net.stack.layers)
    layers.insert(1, BatchNormalization(gamma, beta, running_mean=mean, running_var=var))
    return Sequential(layers)


@pytest.mark.parametrize("name", [*COURSE_NETS, "batch-norm"])
def test_inference_identical_at_1_2_and_3_workers(monkeypatch, name):
    monkeypatch.setattr(data_parallel, "MIN_SPLIT_WORK", 0)
    monkeypatch.setattr(data_parallel, "PROCESS_INFERENCE_RATIO", 0)  # processes for all
    net = bn_conv_net() if name == "batch-norm" else COURSE_NETS[name]()
    (x, _), = batches(net, n=1000, count=1)
    runs = []
    for workers in (0, 1, 2):
        with kernels.threads(workers + 1), DataParallel(net) as model:
            runs.append((model.predict(x, batch_size=300), model.predict(x[:7])))
            assert (model._pool is None) == (workers == 0)
            assert workers == 0 or model._pool.workers == workers
    for scores, small in runs[1:]:
        assert np.array_equal(scores, runs[0][0]) and np.array_equal(small, runs[0][1])
    np.testing.assert_allclose(runs[0][0], net.predict(x), rtol=1e-4, atol=1e-5)


def test_a_killed_worker_fails_the_step_with_a_clear_error():
    net = SimpleConvNet(seed=0)
    (x, t), = batches(net, n=100, count=1)
    with kernels.threads(2), DataParallel(net) as model:
        model.gradient(x, t)  # starts the worker
        pid, = model._pool.pids
        os.kill(pid, signal.SIGKILL)
        start = time.monotonic()
        with pytest.raises(RunError, match=rf"^worker process {pid} stopped \(killed by "
                                           rf"SIGKILL\); the call was not completed$"):
            model.gradient(x, t)
        assert time.monotonic() - start < 5
        assert model._pool is not None and model._pool.workers == 0  # shut down
        grads = model.gradient(x, t)  # the next step starts a new worker
        assert model._pool.workers == 1 and model._pool.pids != [pid]
        assert all(np.all(np.isfinite(g)) for g in grads.values())


def test_a_worker_killed_during_a_step():
    net = SimpleConvNet(seed=0)
    (x, t), = batches(net, n=2000, count=1)  # a step of a few tenths of a second
    with kernels.threads(2), DataParallel(net) as model:
        model.gradient(x[:100], t[:100])
        pid, = model._pool.pids
        killer = threading.Timer(0.05, os.kill, (pid, signal.SIGKILL))
        killer.start()
        start = time.monotonic()
        with pytest.raises(RunError, match=rf"worker process {pid} stopped"):
            model.gradient(x, t)
        killer.join()
        assert time.monotonic() - start < 10
        assert not alive(pid)


def test_a_changed_layer_setting_restarts_the_workers(eight_parts):
    # the workers build their layers from the settings at start: a change needs new workers
    nets = [COURSE_NETS["MultiLayerNetExtend"]() for _ in range(2)]
    (x, t), = batches(nets[0], count=1)
    results = []
    for net, workers in zip(nets, (0, 1), strict=True):
        with kernels.threads(workers + 1), DataParallel(net) as model:
            model.gradient(x, t)
            first = model._pool
            for layer in net.stack.random_layers():
                layer.dropout_ratio = 0.5
            results.append({k: g.copy() for k, g in model.gradient(x, t).items()})
            second = model._pool
            assert workers == 0 or second is not first
            model.gradient(x, t)
            assert model._pool is second  # kept from now on
    for key, g in results[0].items():
        assert np.array_equal(results[1][key], g), key


def test_one_thread_starts_no_process(monkeypatch):
    net = SimpleConvNet(seed=0)
    (x, t), = batches(net, count=1)
    monkeypatch.setattr(data_parallel, "ProcessPool", None)  # would fail if used
    with kernels.threads(1):
        model = DataParallel(net)
        model.gradient(x, t)
        assert model.last_parts == 2 and model._pool is None


def test_the_trainer_stops_its_workers():
    from dlscratch.train import Trainer

    net = SimpleConvNet(seed=0)
    (x, t), = batches(net, n=300, count=1)
    with kernels.threads(2):
        trainer = Trainer(net, x, t, epochs=1, mini_batch_size=100, optimizer="Adam",
                          evaluate_initial=False)
        started = []
        real = trainer.model.gradient

        def gradient(*args):
            grads = real(*args)
            started.extend(trainer.model._pool.pids)
            return grads

        trainer.model.gradient = gradient
        trainer.train()
    assert len(started) == 3 and len(set(started)) == 1  # one worker, kept for the run
    assert trainer.model._pool is None and not alive(started[0])


def test_the_arena_is_gone_once_mapped():
    arena = SharedArena.create({"a": ((3, 4), "float32"), "b": ((5,), "int64")})
    twin = SharedArena.attach(arena.path, arena.layout)
    arena.unlink()
    assert arenas() == []
    arena.arrays["a"][...] = 7
    twin.arrays["b"][...] = np.arange(5)
    assert np.all(twin.arrays["a"] == 7) and list(arena.arrays["b"]) == [0, 1, 2, 3, 4]
    assert arena.arrays["b"].ctypes.data % 64 == 0  # each array on a cache line
    arena.close()
    twin.close()


# ---------------------------------------------------------------- the command


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to find the workers")
@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signals_stop_the_workers(tmp_path, signum, status):
    data = os.environ.get("DLSCRATCH_DATA")
    assert data, "the tests need DLSCRATCH_DATA (a folder holding mnist/)"
    env = dict(os.environ, DLSCRATCH_NUM_THREADS="2", MPLBACKEND="Agg")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dlscratch.cli.main", "train", "--model", "simple-cnn",
         "--limit", "2000", "--epochs", "50", "--quiet", "--out", str(tmp_path / "run")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signum, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while not (workers := children(proc.pid)) and proc.poll() is None:
        assert time.monotonic() < deadline, "no worker process started"
        time.sleep(0.01)
    time.sleep(0.5)  # in the middle of training
    proc.send_signal(signum)
    assert proc.wait(timeout=30) == status
    assert "dlscratch: interrupted by" in proc.stderr.read()
    proc.stderr.close()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert workers and not any(alive(pid) for pid in workers)
    assert arenas(proc.pid) == []
