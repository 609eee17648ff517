"""The small course-wing changes the book's scripts needed, tested on dlscratch's own objects:
labels of shape (N, 1), a scalar convolution bias, optimizers given plain numbers."""

from __future__ import annotations

import numpy as np
import pytest

from dlscratch.functions import cross_entropy_error
from dlscratch.layers import Convolution, SoftmaxWithLoss
from dlscratch.optim import SGD, Adam, Momentum


def test_softmax_with_loss_takes_a_column_of_labels():
    x = np.array([[1.0, 2.0, 0.5], [0.1, 0.2, 3.0]])
    flat, column = SoftmaxWithLoss(), SoftmaxWithLoss()
    assert column.forward(x, np.array([[1], [2]])) == flat.forward(x, np.array([1, 2]))
    np.testing.assert_array_equal(column.backward(), flat.backward())
    p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    assert np.isclose(flat.loss, -(np.log(p[0, 1]) + np.log(p[1, 2])) / 2)


def test_a_column_of_float_labels_is_still_refused():
    with pytest.raises(ValueError, match=r"labels must be integer indices of shape \(2,\)"):
        SoftmaxWithLoss().forward(np.zeros((2, 3)), np.array([[1.0], [2.0]]))


def test_cross_entropy_error_takes_a_column_of_labels():
    y = np.array([[0.1, 0.7, 0.2], [0.3, 0.3, 0.4]])
    assert cross_entropy_error(y, np.array([[1], [2]])) == cross_entropy_error(y, np.array([1, 2]))
    assert np.isclose(cross_entropy_error(y, np.array([[1], [2]])),
                      -(np.log(0.7 + 1e-7) + np.log(0.4 + 1e-7)) / 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_convolution_takes_one_bias_for_every_filter(dtype):
    W = np.ones((3, 1, 2, 2), dtype=dtype)
    conv = Convolution(W, 0.5)
    assert conv.b.shape == (3,) and conv.b.dtype == dtype and list(conv.b) == [0.5] * 3
    out = conv.forward(np.ones((1, 1, 3, 3), dtype=dtype))
    assert out.shape == (1, 3, 2, 2) and np.all(out == 4.5)
    assert list(Convolution(W, 0).b) == [0.0] * 3


def test_a_bias_of_the_wrong_length_is_still_refused():
    with pytest.raises(ValueError, match=r"b \(FN,\), got W \(3, 1, 2, 2\) and b \(2,\)"):
        Convolution(np.ones((3, 1, 2, 2)), np.zeros(2))


def test_optimizers_update_plain_numbers_and_arrays_in_place():
    params = {"x": -7.0, "y": 2.0, "W": np.array([1.0, 2.0])}
    W = params["W"]
    for opt in (SGD(lr=0.1), Momentum(lr=0.1), Adam(lr=0.1)):
        opt.update(params, {"x": -0.7, "y": 4, "W": np.array([1.0, -1.0])})
        assert type(params["x"]) is np.float64 and params["W"] is W
    # by hand: SGD -7 + 0.07 = -6.93; Momentum v = 0.07, x = -6.86; Adam's first step is lr
    assert np.isclose(params["x"], -6.93 + 0.07 + 0.1)
    assert np.isclose(params["y"], 2.0 - 0.4 - 0.4 - 0.1)
