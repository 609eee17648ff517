"""The benchmarked networks, their optimizers and the data they are fed."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dlscratch.nets import DeepConvNet, MultiLayerNet, Sequential, SimpleConvNet, TwoLayerNet
from dlscratch.optim import get_optimizer


@dataclass(frozen=True)
class Workload:
    name: str
    batch_size: int
    flat: bool  # input (N, 784) if True, else (N, 1, 28, 28)
    optimizer: str
    lr: float
    build: Callable[[], Sequential]

    def make_optimizer(self):
        return get_optimizer(self.optimizer, lr=self.lr)


WORKLOADS = {w.name: w for w in (
    Workload("TwoLayerNet", 100, True, "sgd", 0.1,
             lambda: TwoLayerNet(784, 50, 10, weight_init_std=0.01, seed=0)),
    Workload("MultiLayerNet", 128, True, "adam", 0.001,
             lambda: MultiLayerNet(784, [100] * 5, 10, activation="relu",
                                   weight_init_std="he", seed=0)),
    Workload("SimpleConvNet", 100, False, "adam", 0.001, lambda: SimpleConvNet(seed=0)),
    Workload("DeepConvNet", 100, False, "adam", 0.001, lambda: DeepConvNet(seed=0)),
)}


@dataclass
class Data:
    x_train: np.ndarray  # (N, 784) float32 in [0, 1]
    t_train: np.ndarray  # (N,) int64
    x_test: np.ndarray
    t_test: np.ndarray
    source: str

    def images(self, x: np.ndarray, flat: bool) -> np.ndarray:
        return x if flat else x.reshape(len(x), 1, 28, 28)

    def train_batches(self, batch_size: int, flat: bool, count: int = 20):
        """`count` consecutive mini-batches (views, so no copy is timed)."""
        x = self.images(self.x_train, flat)
        n = min(count, len(x) // batch_size)
        return [(x[i * batch_size:(i + 1) * batch_size],
                 self.t_train[i * batch_size:(i + 1) * batch_size]) for i in range(n)]


def load_data(n_test: int = 10_000) -> Data:
    """Real MNIST when DLSCRATCH_DATA is set, else random data of the same shape and dtype."""
    if os.environ.get("DLSCRATCH_DATA"):
        from dlscratch.data import load_mnist

        (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, flatten=True,
                                                           download=False, progress=False)
        return Data(x_train, t_train, x_test[:n_test], t_test[:n_test],
                    f"MNIST ({os.environ['DLSCRATCH_DATA']})")
    rng = np.random.default_rng(0)
    n_train = 128 * 20
    return Data(rng.random((n_train, 784), dtype=np.float32),
                rng.integers(0, 10, n_train), rng.random((n_test, 784), dtype=np.float32),
                rng.integers(0, 10, n_test), "random (DLSCRATCH_DATA unset)")
