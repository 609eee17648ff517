"""One 5x5 convolution vs two stacked 3x3: same receptive field, 18 instead of 25 weights."""

import numpy as np
import pytest

from dlscratch.experiments.common_deep import receptive_field
from dlscratch.experiments.e23_deeper_fewer_params import BLOCKS, CHANNELS, block_layers, build
from dlscratch.layers import Convolution, Pooling, Relu


def measured_receptive_field(layers, channels, side=15) -> int:
    """The width of the input region that reaches the centre output, read off the gradient:
    with positive weights and inputs every ReLU is open, so dL/dx is non-zero exactly there."""
    for layer in layers:
        if isinstance(layer, Convolution):
            layer.W[...] = np.abs(layer.W) + 0.01
    x = np.random.default_rng(1).uniform(0.5, 1.0, (1, channels, side, side)).astype(np.float32)
    out = x
    for layer in layers:
        out = layer.forward(out)
    dout = np.zeros_like(out)
    dout[0, 0, out.shape[2] // 2, out.shape[3] // 2] = 1.0
    for layer in reversed(layers):
        dout = layer.backward(dout)
    cols = np.flatnonzero(np.abs(dout).sum(axis=(0, 1, 2)))
    return int(cols[-1] - cols[0] + 1)


@pytest.mark.parametrize("kind", list(BLOCKS))
def test_both_blocks_see_a_5x5_window(kind):
    layers = block_layers(kind, 3, np.random.default_rng(0))
    assert receptive_field(layers) == measured_receptive_field(layers, 3) == 5


def test_receptive_field_formula_against_the_gradient_with_strides():
    rng = np.random.default_rng(2)
    layers = [Convolution.create(2, 2, 3, pad=1, rng=rng), Relu(), Pooling(2, 2, stride=2),
              Convolution.create(2, 2, 3, pad=1, rng=rng)]
    # 1 + 2 (conv) + 1 (pool) + 2 * 2 (conv after the stride-2 pool) = 8 in theory; the
    # gradient reaches a window of that size or less (max pooling picks one input of each 2x2)
    assert receptive_field(layers) == 8
    assert measured_receptive_field(layers, 2, side=16) <= 8


def test_weights_per_channel_pair_and_block_parameters_from_the_layers():
    c = CHANNELS
    five, three = build("one 5x5", 0), build("two 3x3", 0)
    block_weights = {name: sum(layer.W.size for layer in net.stack.layers[3:-3]
                               if isinstance(layer, Convolution))
                     for name, net in (("one 5x5", five), ("two 3x3", three))}
    assert block_weights == {"one 5x5": 5 * 5 * c * c, "two 3x3": 2 * 3 * 3 * c * c}
    n_five = sum(p.size for p in five.params.values())
    n_three = sum(p.size for p in three.params.values())
    assert n_five - n_three == (25 * c * c + c) - 2 * (9 * c * c + c)
    np.testing.assert_array_equal(five.params["W1"], three.params["W1"])  # the same stem


def test_deeper_fewer_params_quick(run_quick, needs_mnist):
    record = run_quick("deeper-fewer-params")
    numbers = record["numbers"]
    assert numbers["weights_per_channel_pair"] == {"one 5x5": 25, "two 3x3": 18}
    assert numbers["receptive_field"] == {"one 5x5": 5, "two 3x3": 5}
    assert numbers["convolutions"] == {"one 5x5": 1, "two 3x3": 2}
    c = record["params"]["channels"]
    assert numbers["block_params"] == {"one 5x5": 25 * c * c + c, "two 3x3": 18 * c * c + 2 * c}
    for kind in ("one 5x5", "two 3x3"):
        assert numbers["test_acc"][kind] > 0.3  # learning (chance: 0.1)
        assert numbers["train_time_s"][kind] > 0
    assert "25 (one 5x5) vs 18 (two 3x3)" in record["summary"]
