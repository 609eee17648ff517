"""A batch split among the threads (dlscratch.nets.data_parallel): the serial results, checked
gradients, and no split where the samples are coupled or the parts too small."""

from __future__ import annotations

import numpy as np
import pytest

from dlscratch import parallel
from dlscratch.gradient import gradient_check
from dlscratch.layers import Affine, Layer, Relu, Residual
from dlscratch.nets import MultiLayerNetExtend, Sequential, SimpleConvNet, data_parallel


@pytest.fixture
def two_threads():
    parallel.set_num_threads(2)
    yield
    parallel.set_num_threads(1)


@pytest.fixture
def split_any_batch(two_threads, monkeypatch):
    """Two threads, and batches split however small their parts."""
    monkeypatch.setattr(data_parallel, "MIN_SPLIT_WORK", 0)


def small_conv_net(dtype=np.float64, weight_decay_lambda=0.0):
    net = SimpleConvNet(input_dim=(1, 8, 8), conv_param={"filter_num": 3, "filter_size": 3,
                        "pad": 1, "stride": 1}, hidden_size=6, output_size=4,
                        weight_init_std=0.3, seed=0, dtype=dtype)
    net.weight_decay_lambda = weight_decay_lambda
    return net


def spy_on_splits(monkeypatch) -> list:
    """A list that gets the parts of every batch the network splits."""
    seen, split = [], data_parallel.batch_split

    def recording(*args, **kwargs):
        parts = split(*args, **kwargs)
        seen.append(parts)
        return parts

    monkeypatch.setattr(data_parallel, "batch_split", recording)
    return seen


def test_split_gradient_passes_the_gradient_check(split_any_batch, monkeypatch):
    # 7 samples: parts of 3 and 4, so the parts' weights 3/7 and 4/7 matter.
    net = small_conv_net(weight_decay_lambda=0.1)
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((7, 1, 8, 8)), rng.integers(0, 4, 7)
    seen = spy_on_splits(monkeypatch)
    errors = gradient_check(net, x, t)
    assert [s for s in seen if s is not None] == [[slice(0, 3), slice(3, 7)]]
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("labels", ["indices", "one-hot"])
def test_split_gradient_and_loss_equal_one_thread(split_any_batch, labels):
    net = small_conv_net(np.float32, weight_decay_lambda=0.01)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((9, 1, 8, 8)).astype(np.float32)
    t = rng.integers(0, 4, 9)
    if labels == "one-hot":
        t = np.eye(4, dtype=np.float32)[t]
    split = {k: g.copy() for k, g in net.gradient(x, t).items()}
    split_loss = net.last_loss
    layer_dW = net.layers["Affine1"].dW.copy()
    parallel.set_num_threads(1)
    serial = net.gradient(x, t)
    # the layers hold the combined gradients (without weight decay), as after a serial backward
    np.testing.assert_allclose(layer_dW, net.layers["Affine1"].dW, rtol=1e-5, atol=1e-7)
    assert split_loss == pytest.approx(net.last_loss, rel=1e-6)
    for key in serial:
        np.testing.assert_allclose(split[key], serial[key], rtol=1e-5,
                                   atol=1e-6 * np.abs(serial[key]).max(), err_msg=key)


def test_split_predict_equals_one_thread_also_with_batch_norm_and_dropout(split_any_batch,
                                                                         monkeypatch):
    # Batch norm (running statistics) and dropout (scaling) are per-sample at inference.
    net = MultiLayerNetExtend(12, [10, 10], 3, use_batchnorm=True, use_dropout=True, seed=0)
    rng = np.random.default_rng(2)
    net.gradient(rng.standard_normal((20, 12)).astype(np.float32), rng.integers(0, 3, 20))
    x = rng.standard_normal((11, 12)).astype(np.float32)
    seen = spy_on_splits(monkeypatch)
    split = net.predict(x, batch_size=5)  # chunks of 5, 5, 1: all parts to the threads at once
    assert seen == [[slice(0, 2), slice(2, 5), slice(5, 7), slice(7, 10), slice(10, 11)]]
    parallel.set_num_threads(1)
    np.testing.assert_allclose(split, net.predict(x), rtol=1e-6, atol=1e-6)


def test_coupled_samples_are_not_split_in_training(split_any_batch):
    bn_dropout = MultiLayerNetExtend(12, [10], 3, use_batchnorm=True, use_dropout=True, seed=0)
    x, whole = np.zeros((8, 12), np.float32), [slice(0, 8)]
    assert data_parallel.batch_split(bn_dropout.stack, x, whole, True,
                                     bn_dropout.last_layer) is None
    assert data_parallel.batch_split(bn_dropout.stack, x, whole, False) is not None

    class Scale(Layer):  # a layer that does not say its samples are independent
        def forward(self, x, train_flg=True):
            return 2 * x

    custom = Sequential([Affine.create(12, 3), Scale()])
    assert data_parallel.batch_split(custom.stack, x, whole, False) is None


def test_only_calls_with_enough_work_are_split(two_threads):
    # work = samples x (input + every layer's output values per sample), x3 in training
    conv = SimpleConvNet(seed=0)  # outputs 17,280 + 17,280 + 4,320 + 100 + 100 + 10 per image
    assert conv.stack.values_per_sample((1, 28, 28)) == 39_090
    batch, loss = np.zeros((100, 1, 28, 28), np.float32), conv.last_layer
    assert data_parallel.batch_split(conv.stack, batch, [slice(0, 100)], True, loss) == [
        slice(0, 50), slice(50, 100)]  # 100 x 39,874 x 3 = 12.0M
    assert data_parallel.batch_split(conv.stack, batch[:16], [slice(0, 16)], True, loss) is None
    dense = MultiLayerNetExtend(784, [100] * 5, 10)  # 1,010 output values per sample
    train = np.zeros((128, 784), np.float32)  # 128 x 1,794 x 3 = 0.69M
    assert data_parallel.batch_split(dense.stack, train, [slice(0, 128)], True,
                                     dense.last_layer) is None
    test = np.zeros((10_000, 784), np.float32)  # 17.9M, in chunks of 1000: 20 parts of 500
    chunks = [slice(i, i + 1000) for i in range(0, 10_000, 1000)]
    parts = data_parallel.batch_split(dense.stack, test, chunks, False)
    assert parts == [slice(i, i + 500) for i in range(0, 10_000, 500)]
    parallel.set_num_threads(1)
    assert data_parallel.batch_split(conv.stack, batch, [slice(0, 100)], True, loss) is None


def test_residual_replica_has_its_own_inner_layers():
    block = Residual([Affine.create(4, 4), Relu()])
    twin = block.replica()
    assert twin.stack is not block.stack
    assert all(a is not b for a, b in zip(twin.stack.layers, block.stack.layers, strict=True))
    assert twin.params["W1"] is block.params["W1"]  # parameters are shared
    assert block.independent_in_training and block.independent_in_inference


def test_split_residual_network_passes_the_gradient_check(split_any_batch):
    rng = np.random.default_rng(5)
    net = Sequential([Affine.create(6, 5, 0.5, rng, np.float64), Relu(),
                      Residual([Affine.create(5, 5, 0.5, rng, np.float64), Relu()]),
                      Affine.create(5, 3, 0.5, rng, np.float64)])
    x, t = rng.standard_normal((5, 6)), rng.integers(0, 3, 5)
    errors = gradient_check(net, x, t)
    assert max(errors.values()) < 1e-6, errors


def test_workers_do_not_hand_work_on(two_threads):
    # A layer run on a worker (a part of a split batch) must run its own chunks in place.
    parts = parallel.batch_parts(10)
    assert parallel.run_chunks(lambda s: parallel.threads_here(), parts) == [1, 1]
    assert parallel.threads_here() == 2


def test_mismatched_labels_and_bad_batch_size_are_clear_errors(split_any_batch):
    net = small_conv_net()
    with pytest.raises(ValueError, match=r"6 samples but 5 labels"):
        net.gradient(np.zeros((6, 1, 8, 8)), np.zeros(5, dtype=int))
    with pytest.raises(ValueError, match=r"got \(6, 2, 8, 8\)"):  # the caller's shape, not (1, ...)
        net.predict(np.zeros((6, 2, 8, 8)))
    for bad in (0, -3, 2.5):
        with pytest.raises(ValueError, match=r"batch_size must be an integer >= 1"):
            net.predict(np.zeros((6, 1, 8, 8)), batch_size=bad)
