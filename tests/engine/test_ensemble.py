"""Ensemble: the mean of the members' softmax outputs; its scores give them back."""

from __future__ import annotations

import numpy as np
import pytest

from dlscratch.functions import softmax
from dlscratch.nets import TwoLayerNet
from dlscratch.nets.ensemble import Ensemble


def members(n=3):
    return [TwoLayerNet(784, 20, 10, weight_init_std=0.5, seed=s) for s in range(n)]


def test_probabilities_are_the_mean_of_the_members_softmax():
    nets = members()
    x = np.random.default_rng(0).random((7, 784)).astype(np.float32)
    ensemble = Ensemble(nets)
    expected = sum(softmax(net.predict(x)) for net in nets) / 3
    np.testing.assert_allclose(ensemble.probabilities(x), expected, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(softmax(ensemble.predict(x)), expected, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(ensemble.probabilities(x).sum(axis=1), 1, rtol=1e-6)
    assert ensemble.member_probabilities(x).shape == (3, 7, 10)
    np.testing.assert_allclose(ensemble.probabilities(x, batch_size=3), expected, rtol=1e-5,
                               atol=1e-9)


def test_a_one_member_ensemble_is_its_member():
    net = members(1)[0]
    x = np.random.default_rng(1).random((5, 784)).astype(np.float32)
    np.testing.assert_array_equal(Ensemble([net]).predict(x).argmax(1), net.predict(x).argmax(1))


def test_the_ensemble_accuracy_can_beat_each_member():
    """Three members each right on a different two of three samples: the vote gets all three
    right (p averaged), although each member alone gets 2/3."""

    class Fixed:
        def __init__(self, scores):
            self.scores = np.log(np.asarray(scores))

        def predict(self, x, train_flg=False, batch_size=None):
            return self.scores

    t = np.array([0, 1, 2])
    m1 = Fixed([[.7, .2, .1], [.2, .7, .1], [.5, .1, .4]])  # wrong on sample 2
    m2 = Fixed([[.4, .5, .1], [.1, .8, .1], [.1, .1, .8]])  # wrong on sample 0
    m3 = Fixed([[.8, .1, .1], [.5, .4, .1], [.1, .2, .7]])  # wrong on sample 1
    for m in (m1, m2, m3):
        assert Ensemble([m]).accuracy(None, t) == pytest.approx(2 / 3)
    assert Ensemble([m1, m2, m3]).accuracy(None, t) == 1.0


def test_bad_uses():
    with pytest.raises(ValueError, match="at least one member"):
        Ensemble([])
    with pytest.raises(ValueError, match="train its members"):
        Ensemble(members(1)).predict(np.zeros((1, 784)), train_flg=True)


def test_a_members_scores_can_come_from_elsewhere():
    """run(net, x, batch_size): how the command line gets each member's scores (split among the
    threads); the averaging is the same."""
    nets = members(2)
    x = np.random.default_rng(2).random((4, 784)).astype(np.float32)
    calls = []

    def run(net, x, batch_size):
        calls.append(batch_size)
        return net.predict(x, batch_size=batch_size)

    ensemble = Ensemble(nets)
    np.testing.assert_array_equal(ensemble.probabilities(x, 2, run), ensemble.probabilities(x, 2))
    assert calls == [2, 2]


def test_first_k_and_member_accuracy_by_hand():
    from dlscratch.nets.ensemble import first_k_accuracy, member_accuracy

    # 3 members, 2 samples, 2 classes (labels 0, 1): member 1 gets sample 1 wrong, member 2
    # sample 0; together they follow the more confident member on each sample
    probs = np.array([[[0.9, 0.1], [0.6, 0.4]],
                      [[0.45, 0.55], [0.1, 0.9]],
                      [[0.4, 0.6], [0.45, 0.55]]])
    t = np.array([0, 1])
    np.testing.assert_array_equal(member_accuracy(probs, t), [0.5, 0.5, 0.5])
    # k=1: member 1 alone; k=2: sums [1.35, .65] -> 0 right, [.7, 1.3] -> 1 right;
    # k=3: [1.75, 1.25] -> 0 right, [1.15, 1.85] -> 1 right
    np.testing.assert_array_equal(first_k_accuracy(probs, t), [0.5, 1.0, 1.0])
