"""Fixtures for the Trainer tests: small synthetic classification data and small networks."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from dlscratch.nets import MultiLayerNetExtend, TwoLayerNet

DIM, CLASSES = 8, 3


def blobs(n: int, seed: int, spread: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    """n points around CLASSES fixed centres in DIM dimensions (overlapping a little)."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(123).normal(0.0, spread, (CLASSES, DIM))
    t = rng.integers(0, CLASSES, n)
    x = centres[t] + rng.normal(0.0, 1.0, (n, DIM))
    return x.astype(np.float32), t.astype(np.int64)


@pytest.fixture(scope="session")
def data() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """train: 60 samples (batch 8 -> 7 iterations per epoch, 4 sit out), test and val: 40.

    The arrays are shared by every test: they are made read-only so no test can alter them.
    """
    sets = {"train": blobs(60, 1), "test": blobs(40, 2), "val": blobs(40, 3)}
    for x, t in sets.values():
        x.setflags(write=False)
        t.setflags(write=False)
    return sets


NETS = {
    "two-layer": lambda seed: TwoLayerNet(DIM, 10, CLASSES, weight_init_std=0.3, seed=seed),
    "dropout": lambda seed: MultiLayerNetExtend(DIM, [10, 10], CLASSES, use_dropout=True,
                                                dropout_ratio=0.3, seed=seed),
    "batchnorm": lambda seed: MultiLayerNetExtend(DIM, [10, 10], CLASSES, use_batchnorm=True,
                                                  seed=seed),
    "dropout+batchnorm": lambda seed: MultiLayerNetExtend(
        DIM, [10, 10], CLASSES, use_dropout=True, dropout_ratio=0.3, use_batchnorm=True,
        seed=seed),
}


@pytest.fixture
def make_net():
    """make_net(kind="two-layer", seed=0): a fresh small network (see NETS)."""
    return lambda kind="two-layer", seed=0: NETS[kind](seed)


@pytest.fixture
def make_trainer(data, make_net):
    """make_trainer(net=None, kind=..., **kwargs): a Trainer on the synthetic data.

    Defaults: batch 8, SGD lr 0.1, 3 epochs, test set given; kwargs override any of them.
    """

    def make(net=None, kind="two-layer", **kwargs):
        from dlscratch.train import Trainer

        net = make_net(kind) if net is None else net
        (x, t), (xt, tt) = data["train"], data["test"]
        options = dict(x_test=xt, t_test=tt, epochs=3, mini_batch_size=8, optimizer="SGD",
                       optimizer_param={"lr": 0.1})
        options.update(kwargs)
        return net, Trainer(net, x, t, **options)

    return make


def weights(net) -> dict[str, np.ndarray]:
    """Copies of every parameter and buffer of a network."""
    return {k: v.copy() for k, v in {**net.params, **net.buffers}.items()}


def same_weights(a, b) -> bool:
    wa, wb = weights(a), weights(b)
    return wa.keys() == wb.keys() and all(np.array_equal(wa[k], wb[k]) for k in wa)


def comparable(history: dict) -> dict:
    """A history without its wall-clock column (the only thing allowed to differ)."""
    return {k: v for k, v in history.items() if k != "elapsed_s"}


@pytest.fixture
def helpers() -> SimpleNamespace:
    """weights / same_weights / comparable / blobs (test modules cannot import conftest)."""
    return SimpleNamespace(weights=weights, same_weights=same_weights, comparable=comparable,
                           blobs=blobs)
