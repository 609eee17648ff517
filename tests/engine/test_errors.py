"""Errors a learner will meet: wrong shapes name the layer, the expected and the received
shape; bad constructor arguments quote the bad value."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dlscratch import Sequential, TwoLayerNet
from dlscratch.layers import (
    Affine,
    BatchNormalization,
    Convolution,
    Dropout,
    Pooling,
    Relu,
    SoftmaxWithLoss,
)
from dlscratch.nets.two_layer import activation_layer


def _esc(*parts):
    """A regex matching the literal parts in order, anything in between."""
    return ".*".join(re.escape(p) for p in parts)


# ---------------------------------------------------------------- shapes in forward


def test_affine_wrong_feature_count():
    layer = Affine(np.zeros((4, 3)), np.zeros(3))
    with pytest.raises(ValueError, match=_esc("Affine", "(N, 4)", "(2, 5)")):
        layer.forward(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=_esc("Affine", "(N, 4)", "(2, 1, 2, 3)")):
        layer.forward(np.zeros((2, 1, 2, 3)))
    with pytest.raises(ValueError, match=_esc("Affine", "(N, 4)", "(4,)")):
        layer.forward(np.zeros(4))


def test_affine_error_inside_a_network_names_the_layer():
    net = TwoLayerNet(4, 5, 3)
    net.layers["Affine2"].W = np.zeros((6, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=_esc("Affine2", "(N, 6)", "(2, 5)")):
        net.predict(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=_esc("Affine1", "(N, 4)", "(2, 7)")):
        net.predict(np.zeros((2, 7)))


def test_affine_constructor_shapes():
    with pytest.raises(ValueError, match=_esc("Affine", "W (3, 2)", "b (3,)")):
        Affine(np.zeros((3, 2)), np.zeros(3))


def test_convolution_wrong_channels():
    layer = Convolution(np.zeros((2, 3, 3, 3)), np.zeros(2))
    with pytest.raises(ValueError, match=_esc("Convolution", "(N, 3, H, W)", "(2, 1, 8, 8)")):
        layer.forward(np.zeros((2, 1, 8, 8)))
    with pytest.raises(ValueError, match=_esc("Convolution", "(N, 3, H, W)", "(3, 8, 8)")):
        layer.forward(np.zeros((3, 8, 8)))


def test_convolution_input_too_small():
    layer = Convolution(np.zeros((2, 1, 5, 5)), np.zeros(2), pad=1)
    with pytest.raises(ValueError, match=_esc("Convolution", "5x5", "pad 1", "(1, 1, 2, 2)")):
        layer.forward(np.zeros((1, 1, 2, 2)))


def test_convolution_constructor_shapes():
    with pytest.raises(ValueError, match=_esc("Convolution", "W (2, 3, 3)", "b (2,)")):
        Convolution(np.zeros((2, 3, 3)), np.zeros(2))


def test_pooling_non_4d():
    with pytest.raises(ValueError, match=_esc("Pooling", "(N, C, H, W)", "(2, 3, 4)")):
        Pooling(2, 2).forward(np.zeros((2, 3, 4)))


def test_pooling_too_small():
    with pytest.raises(ValueError, match=_esc("Pooling", "3x3", "(1, 1, 2, 2)")):
        Pooling(3, 3, stride=1).forward(np.zeros((1, 1, 2, 2)))


def test_batchnorm_size_mismatch():
    layer = BatchNormalization.create(4)
    with pytest.raises(ValueError, match=_esc("BatchNormalization", "4", "(N, 4)", "(2, 5)")):
        layer.forward(np.zeros((2, 5), dtype=np.float32))
    with pytest.raises(ValueError, match=_esc("BatchNormalization", "(N, 4, H, W)",
                                              "(2, 3, 2, 2)")):
        layer.forward(np.zeros((2, 3, 2, 2), dtype=np.float32))


def test_batchnorm_gamma_beta_mismatch():
    with pytest.raises(ValueError, match=_esc("BatchNormalization", "(3,)", "(4,)")):
        BatchNormalization(np.ones(3), np.zeros(4))


def test_softmax_with_loss_bad_labels():
    layer = SoftmaxWithLoss()
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match=_esc("SoftmaxWithLoss", "(3,)", "(3, 4)", "(2,)")):
        layer.forward(x, np.array([0, 1]))
    # Float labels of shape (N,) are neither indices nor one-hot.
    with pytest.raises(ValueError, match=_esc("SoftmaxWithLoss", "(3,)", "float64")):
        layer.forward(x, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=_esc("SoftmaxWithLoss", "(N, K)", "(3,)")):
        layer.forward(np.zeros(3), np.array([0]))


@pytest.mark.parametrize("labels, low, high", [([0, 4, 1], 0, 4), ([-1, 2, 3], -1, 3)])
def test_softmax_with_loss_out_of_range_labels(labels, low, high):
    with pytest.raises(ValueError, match=_esc("SoftmaxWithLoss", "[0, 4)", f"[{low}, {high}]")):
        SoftmaxWithLoss().forward(np.zeros((3, 4)), np.array(labels))


# ---------------------------------------------------------------- constructor arguments


@pytest.mark.parametrize("kwargs, text", [
    ({"stride": 0}, "stride must be an integer >= 1, got 0"),
    ({"stride": 1.5}, "stride must be an integer >= 1, got 1.5"),
    ({"pad": -1}, "pad must be an integer >= 0, got -1"),
    ({"pad": 0.5}, "pad must be an integer >= 0, got 0.5"),
])
def test_convolution_bad_arguments(kwargs, text):
    with pytest.raises(ValueError, match=_esc("Convolution", text)):
        Convolution(np.zeros((1, 1, 3, 3)), np.zeros(1), **kwargs)


@pytest.mark.parametrize("args, text", [
    ((0, 2), "pool_h must be an integer >= 1, got 0"),
    ((2, 2.5), "pool_w must be an integer >= 1, got 2.5"),
    ((2, 2, 0), "stride must be an integer >= 1, got 0"),
    ((2, 2, 2, -1), "pad must be an integer >= 0, got -1"),
    ((2, 2, 2, 2), "pad=2"),
])
def test_pooling_bad_arguments(args, text):
    with pytest.raises(ValueError, match=_esc("Pooling", text)):
        Pooling(*args)


@pytest.mark.parametrize("ratio", [1.0, -0.1, 1.5])
def test_dropout_bad_ratio(ratio):
    with pytest.raises(ValueError, match=_esc("Dropout", f"got {ratio!r}")):
        Dropout(ratio)


@pytest.mark.parametrize("momentum", [1.5, -0.1])
def test_batchnorm_bad_momentum(momentum):
    with pytest.raises(ValueError, match=_esc("BatchNormalization", f"got {momentum!r}")):
        BatchNormalization(np.ones(2), np.zeros(2), momentum=momentum)


@pytest.mark.parametrize("lam", [-0.1, float("nan")])
def test_sequential_bad_weight_decay(lam):
    with pytest.raises(ValueError, match=_esc("weight_decay_lambda", repr(lam))):
        Sequential([Relu()], weight_decay_lambda=lam)


def test_sequential_rejects_non_layers():
    with pytest.raises(TypeError, match="layer 1 must be a dlscratch Layer, got int"):
        Sequential([Relu(), 3])


def test_unknown_activation():
    with pytest.raises(ValueError, match=_esc("unknown activation 'tanh'")):
        activation_layer("tanh")
    with pytest.raises(ValueError, match=_esc("unknown activation 'tanh'")):
        TwoLayerNet(2, 3, 2, activation="tanh")
