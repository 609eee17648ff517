"""Ensemble: several trained networks voting together (chapter 8, 앙상블 학습).

    ensemble = Ensemble([net1, net2, net3])
    p = ensemble.probabilities(x)         # (N, K): the mean of the members' softmax outputs
    ensemble.accuracy(x, t)

`predict` returns log(p), so that softmax(ensemble.predict(x)) is p exactly and its argmax is
the ensemble's class: an Ensemble stands wherever a network's scores are read.
"""

from __future__ import annotations

import numpy as np

from dlscratch.functions import softmax
from dlscratch.metrics import accuracy


class Ensemble:
    """members: trained networks with the same input and the same K classes."""

    def __init__(self, members: list):
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = list(members)

    def __len__(self) -> int:
        return len(self.members)

    @property
    def dtype(self):
        return self.members[0].dtype

    def member_probabilities(self, x, batch_size=None, run=None) -> np.ndarray:
        """(M, N, K): each member's softmax output on x. run(net, x, batch_size) gives a
        member's scores (default: net.predict; the command line passes one that splits the
        batch among the threads)."""
        run = run or (lambda net, x, batch_size: net.predict(x, batch_size=batch_size))
        return np.stack([softmax(run(net, x, batch_size)) for net in self.members])

    def probabilities(self, x, batch_size=None, run=None) -> np.ndarray:
        """(N, K): p = (1/M) sum_m softmax(member_m(x))."""
        return self.member_probabilities(x, batch_size, run).mean(axis=0)

    def predict(self, x, train_flg=False, batch_size=None, run=None) -> np.ndarray:
        """(N, K) scores log(p): softmax of them gives p back."""
        if train_flg:
            raise ValueError("an ensemble is not trained as one network: train its members")
        with np.errstate(divide="ignore"):
            return np.log(self.probabilities(x, batch_size, run))

    def accuracy(self, x, t, batch_size=1000) -> float:
        return accuracy(self.probabilities(x, batch_size), t)


def member_accuracy(probs: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(M,): each member's accuracy alone, from member_probabilities' (M, N, K) and labels t."""
    return (probs.argmax(axis=2) == t).mean(axis=1)


def first_k_accuracy(probs: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(M,): the accuracy of the first k members together, k = 1..M - the argmax of
    p_1 + ... + p_k, which is that of their mean."""
    return (np.cumsum(probs, axis=0).argmax(axis=2) == t).mean(axis=1)
