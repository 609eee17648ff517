"""Identical at any thread count: every course network, trained through the Trainer on real
MNIST at 1, 2 and 3 threads, ends with the same weights bit for bit, the same history (every
loss, every accuracy) and the same test scores - and a run interrupted and resumed on another
thread count ends where the uninterrupted one does.

Each case also checks that the batches were really split (so a test cannot pass by never
running in parallel): every training step cut its batch into parts (last_parts > 1) and, with
n threads, ran them in this process and n - 1 worker processes (none with one thread) - the
dropout nets with their masks drawn for the whole batch, the batch-norm net in lockstep
(exchanging the parts' sums). SimpleConvNet (batch 100), DeepConvNet and the residual net split
at the real MIN_SPLIT_WORK; the small dense nets only with the threshold lowered to 0
(monkeypatched).

Needs the MNIST files ($DLSCRATCH_DATA/mnist); skipped without them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import dlscratch
from dlscratch.data import FILE_NAMES, load_dataset
from dlscratch.data.augment import augment_batch
from dlscratch.kernels import data_parallel
from dlscratch.layers import Affine, Convolution, Pooling, Relu, Residual
from dlscratch.nets import (
    DeepConvNet,
    MultiLayerNet,
    MultiLayerNetExtend,
    Sequential,
    SimpleConvNet,
    TwoLayerNet,
)
from dlscratch.train import Trainer

THREADS = (1, 2, 3)


def _data_root() -> Path | None:
    value = os.environ.get("DLSCRATCH_DATA")
    if not value:
        return None
    files = [Path(value) / "mnist" / f"{name}.gz" for name in FILE_NAMES]
    return Path(value) if all(f.is_file() or f.with_suffix("").is_file() for f in files) else None


DATA_ROOT = _data_root()
pytestmark = pytest.mark.skipif(DATA_ROOT is None,
                                reason="set DLSCRATCH_DATA to a folder holding mnist/")


@pytest.fixture(scope="module")
def mnist() -> dict[str, tuple[np.ndarray, ...]]:
    """The first 1,000 training and 500 test images, flat (N, 784) and as (N, 1, 28, 28);
    read-only, shared by every case."""
    sets = {}
    for kind, flatten in (("flat", True), ("image", False)):
        (x, t), (x_test, t_test) = load_dataset("mnist", flatten=flatten, data_dir=DATA_ROOT,
                                                download=False, progress=False)
        arrays = (x[:1000].copy(), t[:1000].copy(), x_test[:500].copy(), t_test[:500].copy())
        for a in arrays:
            a.setflags(write=False)
        sets[kind] = arrays
    return sets


def residual_net(seed: int) -> Sequential:
    """A small ResNet as experiment 22 builds it: conv stem, 2 Residual blocks of
    conv-relu-conv (16 channels, 3x3, pad 1), pooling, affine."""
    rng = np.random.default_rng(seed)

    def conv(in_channels):
        return Convolution.create(in_channels, 16, 3, stride=1, pad=1, weight_init_std="he",
                                  rng=rng)

    layers = [conv(1), Relu(), Pooling(2, 2, stride=2)]
    for _ in range(2):
        layers += [Residual([conv(16), Relu(), conv(16)]), Relu()]
    layers += [Pooling(2, 2, stride=2), Affine.create(16 * 7 * 7, 10, "he", rng)]
    return Sequential(layers)


@dataclass
class Case:
    make: Callable[[], object]  # a fresh network, the same initial weights every time
    data: str  # "flat" or "image"
    iterations: int
    batch: int
    optimizer: str
    lr: float
    n_train: int = 1000
    augment: Callable | None = None
    min_split_work: int | None = None  # None: the real threshold
    eval_limit: int = 200
    n_test: int = 500


CASES = {
    "TwoLayerNet": Case(lambda: TwoLayerNet(784, 50, 10, seed=0), "flat",
                        iterations=300, batch=20, optimizer="SGD", lr=0.1, min_split_work=0),
    "MultiLayerNet": Case(lambda: MultiLayerNet(784, [50, 50, 50], 10, weight_decay_lambda=0.01,
                                                seed=0),
                          "flat", iterations=300, batch=20, optimizer="Adam", lr=0.001,
                          min_split_work=0),
    "MultiLayerNetExtend-dropout": Case(
        lambda: MultiLayerNetExtend(784, [50, 50, 50], 10, use_dropout=True, dropout_ratio=0.2,
                                    seed=0),
        "flat", iterations=300, batch=20, optimizer="Momentum", lr=0.05,
        min_split_work=0),
    "MultiLayerNetExtend-batchnorm": Case(
        lambda: MultiLayerNetExtend(784, [50, 50, 50], 10, use_batchnorm=True, seed=0),
        "flat", iterations=300, batch=20, optimizer="Adam", lr=0.001,
        min_split_work=0),
    "SimpleConvNet-augment": Case(lambda: SimpleConvNet(seed=0), "image",
                                  iterations=40, batch=100, optimizer="Adam", lr=0.001,
                                  augment=augment_batch),
    "DeepConvNet": Case(lambda: DeepConvNet(seed=0), "image", iterations=40,
                        batch=20, optimizer="Adam", lr=0.003, n_train=300, eval_limit=100,
                        n_test=200),
    "Residual": Case(lambda: residual_net(seed=0), "image", iterations=30, batch=50,
                     optimizer="Momentum", lr=0.02, n_train=500),
}


@dataclass
class Outcome:
    state: dict[str, np.ndarray]  # parameters and buffers
    history: dict
    scores: np.ndarray  # the trained network's scores for the test images
    accuracy: float
    parts: list[int]  # DataParallel.last_parts of every training step
    workers: list[int]  # the worker processes of every training step


def train_case(case: Case, n_threads: int, mnist) -> Outcome:
    x, t, x_test, t_test = mnist[case.data]
    x, t = x[:case.n_train], t[:case.n_train]
    x_test, t_test = x_test[:case.n_test], t_test[:case.n_test]
    with pytest.MonkeyPatch.context() as mp, dlscratch.threads(n_threads):
        if case.min_split_work is not None:
            mp.setattr(data_parallel, "MIN_SPLIT_WORK", case.min_split_work)
        else:
            assert data_parallel.MIN_SPLIT_WORK == 1 << 22  # the real threshold, unpatched
        net = case.make()
        trainer = Trainer(net, x, t, x_test, t_test, iterations=case.iterations,
                          mini_batch_size=case.batch, optimizer=case.optimizer,
                          optimizer_param={"lr": case.lr}, augment=case.augment,
                          evaluate_sample_num_per_epoch=case.eval_limit, seed=0)
        assert isinstance(trainer.model, data_parallel.DataParallel)
        assert trainer.model.net is net
        parts, workers, gradient = [], [], trainer.model.gradient

        def recording_gradient(xb, tb):
            grads = gradient(xb, tb)
            parts.append(trainer.model.last_parts)
            pool = trainer.model._pool
            workers.append(0 if pool is None else pool.workers)
            return grads

        trainer.model.gradient = recording_gradient
        history = trainer.train()
        scores = trainer.model.predict(x_test)
        accuracy = trainer.model.accuracy(x_test, t_test)
        trainer.model.close()
    state = {key: a.copy() for key, a in {**net.params, **net.buffers}.items()}
    return Outcome(state, {k: v for k, v in history.items() if k != "elapsed_s"}, scores,
                   accuracy, parts, workers)


def check_split(case: Case, n_threads: int, out: Outcome) -> None:
    assert len(out.parts) == case.iterations
    assert min(out.parts) > 1, f"the batches were not split: last_parts {set(out.parts)}"
    assert set(out.workers) == {n_threads - 1}, f"worker processes: {set(out.workers)}"


@pytest.mark.parametrize("name", list(CASES))
def test_identical_at_any_thread_count(name, mnist):
    case = CASES[name]
    outcomes = {}
    for n in THREADS:
        outcomes[n] = out = train_case(case, n, mnist)
        check_split(case, n, out)
    first = outcomes[1]
    initial = case.make()
    changed = [k for k, a in first.state.items()
               if not np.array_equal(a, {**initial.params, **initial.buffers}[k])]
    assert changed, "training changed no weight"
    assert first.accuracy > 0.2, f"{name} learned nothing ({first.accuracy})"
    for n in THREADS[1:]:
        other = outcomes[n]
        assert other.state.keys() == first.state.keys()
        differ = [k for k in first.state if not np.array_equal(first.state[k], other.state[k])]
        assert not differ, f"{name}: {differ} differ between 1 and {n} threads"
        for key in first.history:
            assert other.history[key] == first.history[key], \
                f"{name}: history[{key!r}] differs between 1 and {n} threads"
        assert np.array_equal(other.scores, first.scores), f"{name}: scores, {n} threads"
        assert other.accuracy == first.accuracy
        assert other.parts == first.parts  # the split depends on the batch's shape alone


# -- interrupted and resumed on another thread count -------------------------------------------
def _cli() -> list[str]:
    script = Path(sys.executable).with_name("dlscratch")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dlscratch.cli.main"]


RUN = ("train", "--model", "simple-cnn", "--limit", "600", "--batch-size", "50",
       "--eval-limit", "200", "--quiet")


def _start(out: Path, epochs: int, threads: int, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "DLSCRATCH_DATA": str(DATA_ROOT),
           "XDG_CACHE_HOME": str(out.parent / "cache")}
    env.pop("DLSCRATCH_NUM_THREADS", None)
    return subprocess.Popen([*_cli(), *RUN, "--epochs", str(epochs), "--threads", str(threads),
                             "--out", str(out), *extra], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen) -> str:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, f"{' '.join(process.args)} failed:\n{err}"
    return out


def _model(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as arrays:
        return {key: arrays[key] for key in arrays.files}


def _history(path: Path) -> dict:
    history = json.loads(path.read_text())
    history.pop("elapsed_s")
    return history


def test_resumed_on_other_thread_counts_equals_uninterrupted(tmp_path):
    whole, pieces = tmp_path / "whole", tmp_path / "pieces"
    uninterrupted = _start(whole, 2, 1)  # runs beside the interrupted one
    try:
        _finish(_start(pieces, 1, 2))
        assert (pieces / "checkpoint.npz").exists()
        first_half = _history(pieces / "history.json")
        resumed = _finish(_start(pieces, 2, 3, "--resume"))
    finally:
        whole_out = _finish(uninterrupted)
    # it did resume (a fresh 2-epoch run would end with the same weights too)
    assert re.search(r"resum.*\b12\b", resumed, re.IGNORECASE), resumed
    a, b = _model(whole / "model.npz"), _model(pieces / "model.npz")
    assert a.keys() == b.keys() and len(a) > 1
    differ = [k for k in a if not np.array_equal(a[k], b[k])]
    assert not differ, f"model.npz arrays differ after the resume: {differ}"
    history = _history(whole / "history.json")
    assert history == _history(pieces / "history.json")
    assert len(history["loss"]) == 24 and history["loss"][:12] == first_half["loss"]
    accuracy = [line for line in whole_out.splitlines() if line.startswith("test accuracy")]
    assert accuracy and accuracy == [line for line in resumed.splitlines()
                                     if line.startswith("test accuracy")]


def test_trainer_resume_on_other_thread_count_with_dropout_and_batchnorm(mnist, tmp_path):
    """The same through the Trainer's checkpoint API, on a network with random state of its
    own (dropout masks) and buffers (batch norm statistics)."""
    x, t, x_test, t_test = mnist["flat"]

    def trainer(iterations, checkpoint=None):
        net = MultiLayerNetExtend(784, [40, 40], 10, use_dropout=True, dropout_ratio=0.3,
                                  use_batchnorm=True, seed=3)
        return net, Trainer(net, x, t, x_test, t_test, iterations=iterations,
                            mini_batch_size=25, optimizer="Adam", optimizer_param={"lr": 0.002},
                            evaluate_sample_num_per_epoch=200, seed=5,
                            checkpoint_path=checkpoint)

    with dlscratch.threads(1):
        whole_net, whole = trainer(120)
        whole.train()
    path = tmp_path / "checkpoint.npz"
    with dlscratch.threads(3):
        _, first = trainer(80, path)  # two epochs of 40, checkpointed
        first.train()
    with dlscratch.threads(2):
        net, second = trainer(120)
        second.resume(path)
        assert second.iteration == 80
        second.train()
    for key, a in {**whole_net.params, **whole_net.buffers}.items():
        assert np.array_equal(a, {**net.params, **net.buffers}[key]), key
    expected = {k: v for k, v in whole.history.items() if k != "elapsed_s"}
    assert {k: v for k, v in second.history.items() if k != "elapsed_s"} == expected
