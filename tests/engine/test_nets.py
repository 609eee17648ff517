"""The course's networks: parameter names, weight decay, gradient checks, dtypes, accuracy,
DeepConvNet's structure and initialisation; and gradient_check itself."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlscratch import (
    DeepConvNet,
    MultiLayerNet,
    MultiLayerNetExtend,
    Sequential,
    SimpleConvNet,
    TwoLayerNet,
    gradient_check,
)
from dlscratch.layers import (
    Affine,
    BatchNormalization,
    Convolution,
    Dropout,
    Flatten,
    Pooling,
    Relu,
    Residual,
)

from ._helpers import rel_error

NET_TOL = 1e-5  # gradient_check's own entrywise error (no floor) on whole networks


def _data(rng, n, shape, k):
    return rng.normal(size=(n, *shape)), rng.integers(0, k, size=n)


def _log_softmax(a):
    a = a - a.max(axis=1, keepdims=True)
    return a - np.log(np.exp(a).sum(axis=1, keepdims=True))


# ---------------------------------------------------------------- TwoLayerNet


def test_two_layer_net_params_and_default_dtype():
    net = TwoLayerNet(784, 50, 10, seed=0)
    assert list(net.params) == ["W1", "b1", "W2", "b2"]
    shapes = {k: v.shape for k, v in net.params.items()}
    assert shapes == {"W1": (784, 50), "b1": (50,), "W2": (50, 10), "b2": (10,)}
    assert all(p.dtype == np.float32 for p in net.params.values())
    assert net.params["W1"].std() == pytest.approx(0.01, rel=0.05)
    np.testing.assert_array_equal(net.params["b1"], 0)
    x = np.random.default_rng(0).random((3, 784))
    assert net.predict(x).dtype == np.float32


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_two_layer_net_forward_by_hand(activation):
    rng = np.random.default_rng(1)
    net = TwoLayerNet(6, 5, 4, weight_init_std=1.0, activation=activation, dtype=np.float64,
                      seed=1)
    p = net.params
    x, t = _data(rng, 7, (6,), 4)
    a1 = x @ p["W1"] + p["b1"]
    z1 = np.maximum(a1, 0) if activation == "relu" else 1 / (1 + np.exp(-a1))
    scores = z1 @ p["W2"] + p["b2"]
    np.testing.assert_allclose(net.predict(x), scores, rtol=1e-12)
    loss = -np.mean(_log_softmax(scores)[np.arange(7), t])
    assert net.loss(x, t) == pytest.approx(loss, rel=1e-12)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_two_layer_net_gradient_matches_numerical_gradient(activation):
    rng = np.random.default_rng(2)
    net = TwoLayerNet(5, 4, 3, weight_init_std=1.0, activation=activation,
                      dtype=np.float64, seed=2)
    x, t = _data(rng, 6, (5,), 3)
    before = {k: v.copy() for k, v in net.params.items()}
    numeric = net.numerical_gradient(x, t)
    for k in before:  # the probes leave the parameters exactly as they were
        np.testing.assert_array_equal(net.params[k], before[k])
    backprop = net.gradient(x, t)
    assert set(numeric) == set(backprop) == {"W1", "b1", "W2", "b2"}
    for k in numeric:
        assert rel_error(backprop[k], numeric[k]) < 1e-6, k
    assert net.last_loss == pytest.approx(net.loss(x, t, train_flg=True), rel=1e-15)


# ---------------------------------------------------------------- MultiLayerNet


def test_multi_layer_net_weight_decay_loss_by_hand():
    rng = np.random.default_rng(3)
    lam = 0.3
    net = MultiLayerNet(4, [5, 3], 2, weight_decay_lambda=lam, dtype=np.float64, seed=3)
    assert list(net.params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    for k in ("b1", "b2", "b3"):  # nonzero biases: they must not enter the penalty
        net.params[k][...] = rng.normal(size=net.params[k].shape)
    x, t = _data(rng, 5, (4,), 2)
    p = net.params
    h1 = np.maximum(x @ p["W1"] + p["b1"], 0)
    h2 = np.maximum(h1 @ p["W2"] + p["b2"], 0)
    scores = h2 @ p["W3"] + p["b3"]
    data_loss = -np.mean(_log_softmax(scores)[np.arange(5), t])
    penalty = 0.5 * lam * sum(np.sum(p[k] ** 2) for k in ("W1", "W2", "W3"))
    assert net.loss(x, t) == pytest.approx(data_loss + penalty, rel=1e-12)

    plain = MultiLayerNet(4, [5, 3], 2, dtype=np.float64, seed=3)
    for k in plain.params:
        plain.params[k][...] = net.params[k]
    g_decay, g_plain = net.gradient(x, t), plain.gradient(x, t)
    for k in g_decay:
        extra = lam * p[k] if k.startswith("W") else 0.0
        np.testing.assert_allclose(g_decay[k], g_plain[k] + extra, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("activation, init", [("relu", "he"), ("sigmoid", "xavier")])
def test_multi_layer_net_gradient_check_with_weight_decay(activation, init):
    rng = np.random.default_rng(4)
    net = MultiLayerNet(6, [5, 5, 4], 3, activation=activation, weight_init_std=init,
                        weight_decay_lambda=0.1, dtype=np.float64, seed=4)
    x, t = _data(rng, 8, (6,), 3)
    errors = gradient_check(net, x, t)
    assert set(errors) == set(net.params)
    assert max(errors.values()) < NET_TOL


def test_multi_layer_net_extend_names_and_buffers():
    net = MultiLayerNetExtend(6, [5, 4], 3, use_batchnorm=True, use_dropout=True, seed=0)
    assert list(net.params) == ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2",
                                "W3", "b3"]
    assert list(net.buffers) == ["running_mean1", "running_var1", "running_mean2",
                                 "running_var2"]
    assert net.params["gamma1"].shape == (5,) and net.params["gamma2"].shape == (4,)
    kinds = [type(layer).__name__ for layer in net.stack.layers]
    assert kinds == ["Affine", "BatchNormalization", "Relu", "Dropout", "Affine",
                     "BatchNormalization", "Relu", "Dropout", "Affine"]


@pytest.mark.parametrize("inverted", [False, True], ids=["course-dropout", "inverted-dropout"])
def test_multi_layer_net_extend_gradient_check(inverted):
    rng = np.random.default_rng(5)
    net = MultiLayerNetExtend(6, [5, 4], 3, use_batchnorm=True, use_dropout=True,
                              dropout_ratio=0.3, inverted_dropout=inverted,
                              weight_decay_lambda=0.05, dtype=np.float64, seed=5)
    for layer in net.stack.layers:  # non-trivial gamma/beta
        if isinstance(layer, BatchNormalization):
            layer.gamma[...] = rng.uniform(0.5, 1.5, size=layer.gamma.shape)
            layer.beta[...] = rng.normal(size=layer.beta.shape)
    x, t = _data(rng, 10, (6,), 3)
    errors = gradient_check(net, x, t)
    assert set(errors) == set(net.params)
    assert max(errors.values()) < NET_TOL


class _NoRngNet:
    """A view of a network that hides get_rng_state, so gradient_check cannot fix the masks."""

    def __init__(self, net):
        self.params, self.gradient, self.loss = net.params, net.gradient, net.loss


def test_gradient_check_needs_the_rng_restore_for_dropout():
    rng = np.random.default_rng(6)
    net = MultiLayerNetExtend(6, [8], 3, use_dropout=True, dropout_ratio=0.5,
                              dtype=np.float64, seed=6)
    x, t = _data(rng, 10, (6,), 3)
    assert max(gradient_check(net, x, t).values()) < NET_TOL
    # Without restoring the RNG, every loss evaluation draws a new mask: the check fails.
    assert max(gradient_check(_NoRngNet(net), x, t).values()) > 1e-2


def test_rng_state_round_trip():
    net = MultiLayerNetExtend(4, [6], 2, use_dropout=True, seed=1)
    x = np.ones((3, 4), dtype=np.float32)
    state = net.get_rng_state()
    a = net.predict(x, train_flg=True)
    net.set_rng_state(state)
    np.testing.assert_array_equal(net.predict(x, train_flg=True), a)
    with pytest.raises(ValueError, match="expected 1 RNG states, got 0"):
        net.set_rng_state([])


# ---------------------------------------------------------------- gradient_check itself


def test_gradient_check_detects_a_broken_backward(monkeypatch):
    rng = np.random.default_rng(7)
    net = TwoLayerNet(5, 4, 3, weight_init_std=1.0, dtype=np.float64, seed=7)
    x, t = _data(rng, 6, (5,), 3)
    assert max(gradient_check(net, x, t).values()) < NET_TOL
    layer = net.layers["Affine2"]
    original = layer.backward

    def broken(dout):
        dx = original(dout)
        layer.dW = layer.dW * 1.01
        return dx

    monkeypatch.setattr(layer, "backward", broken)
    errors = gradient_check(net, x, t)
    assert errors["W2"] > 1e-4
    assert errors["W1"] < NET_TOL  # dx of Affine2 is still right


def test_gradient_check_refuses_float32():
    net = TwoLayerNet(3, 4, 2, seed=0)
    with pytest.raises(ValueError, match="float64.*float32"):
        gradient_check(net, np.zeros((2, 3)), np.array([0, 1]))


def test_gradient_check_samples_and_restores_parameters():
    rng = np.random.default_rng(8)
    net = TwoLayerNet(30, 20, 3, weight_init_std="he", dtype=np.float64, seed=8)
    x, t = _data(rng, 4, (30,), 3)
    before = {k: v.copy() for k, v in net.params.items()}
    calls = []
    loss = net.loss

    def counting_loss(*args, **kwargs):
        calls.append(1)
        return loss(*args, **kwargs)

    net.loss = counting_loss
    errors = gradient_check(net, x, t, max_entries=10)
    # W1 (600 entries) and W2 (60) are sampled to 10 entries, b1 (20) too, b2 (3) fully.
    assert len(calls) == 1 + 2 * (10 + 10 + 10 + 3)
    assert set(errors) == {"W1", "b1", "W2", "b2"}
    assert max(errors.values()) < NET_TOL
    for k in before:
        np.testing.assert_array_equal(net.params[k], before[k])


# ---------------------------------------------------------------- conv nets


def test_simple_conv_net_gradient_check():
    rng = np.random.default_rng(9)
    net = SimpleConvNet(input_dim=(1, 10, 10),
                        conv_param={"filter_num": 3, "filter_size": 3, "pad": 0, "stride": 1},
                        hidden_size=8, output_size=4, weight_init_std="he",
                        dtype=np.float64, seed=9)
    assert list(net.params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert net.params["W1"].shape == (3, 1, 3, 3)
    assert net.params["W2"].shape == (3 * 4 * 4, 8)  # conv 8x8 -> pool 4x4
    x, t = _data(rng, 3, (1, 10, 10), 4)
    errors = gradient_check(net, x, t, max_entries=40)
    assert set(errors) == set(net.params)
    assert max(errors.values()) < NET_TOL


def test_simple_conv_net_book_defaults():
    net = SimpleConvNet(seed=0)
    assert net.params["W1"].shape == (30, 1, 5, 5)
    assert net.params["W2"].shape == (30 * 12 * 12, 100)
    assert net.params["W3"].shape == (100, 10)
    assert net.params["W1"].dtype == np.float32


@pytest.fixture(scope="module")
def deep_net64():
    return DeepConvNet(dtype=np.float64, seed=10)


def test_deep_conv_net_gradient_check(deep_net64):
    rng = np.random.default_rng(10)
    x = rng.random((2, 1, 28, 28))
    t = np.array([3, 7])
    errors = gradient_check(deep_net64, x, t, max_entries=6)
    assert list(errors) == [f"{p}{i}" for i in range(1, 9) for p in ("W", "b")]
    assert max(errors.values()) < 1e-4


def test_deep_conv_net_structure(deep_net64):
    x = np.zeros((1, 1, 28, 28))
    sizes, flat = [28], None
    for layer in deep_net64.stack.layers:
        if isinstance(layer, Affine) and flat is None:
            flat = x[0].size
        x = layer.forward(x, train_flg=False)
        if isinstance(layer, (Convolution, Pooling)):
            sizes.append(x.shape[2])
            assert x.shape[2] == x.shape[3]
    # After each conv and each pool: 28 28 (14) 14 16 (8) 8 8 (4).
    assert sizes == [28, 28, 28, 14, 14, 16, 8, 8, 8, 4]
    assert flat == 1024 == deep_net64.params["W7"].shape[0]
    assert x.shape == (1, 10)
    assert "(64, 4, 4)" in deep_net64.summary((1, 28, 28))
    kinds = [type(layer).__name__ for layer in deep_net64.stack.layers]
    assert kinds.count("Convolution") == 6 and kinds.count("Pooling") == 3
    assert kinds[-5:] == ["Affine", "Relu", "Dropout", "Affine", "Dropout"]


def test_deep_conv_net_he_init():
    net = DeepConvNet(seed=11)
    fan_ins = {"W1": 9, "W2": 144, "W3": 144, "W4": 288, "W5": 288, "W6": 576,
               "W7": 1024, "W8": 50}
    for k, n in fan_ins.items():
        w = net.params[k]
        assert w.dtype == np.float32
        expected = math.sqrt(2 / n)
        # The sample std of w.size Gaussians is within ~1/sqrt(2 size) of the truth.
        assert abs(w.std() / expected - 1) < 5 / math.sqrt(2 * w.size), k
        np.testing.assert_array_equal(net.params["b" + k[1:]], 0)


# ---------------------------------------------------------------- Sequential by hand


def _hand_built(rng, dtype=np.float64):
    return Sequential([
        Convolution.create(1, 3, 3, pad=1, weight_init_std="he", rng=rng, dtype=dtype),
        Relu(),
        Residual([
            Convolution.create(3, 4, 3, pad=1, weight_init_std="he", rng=rng, dtype=dtype),
            Relu(),
            Convolution.create(4, 3, 3, pad=1, weight_init_std="he", rng=rng, dtype=dtype),
        ]),
        Pooling(2, 2, stride=2),
        Flatten(),
        Affine.create(3 * 3 * 3, 6, "he", rng, dtype),
        Relu(),
        Residual([Affine.create(6, 6, "he", rng, dtype), Relu(),
                  Affine.create(6, 6, "he", rng, dtype)]),
        Affine.create(6, 4, "he", rng, dtype),
    ], weight_decay_lambda=0.01)


def test_hand_built_sequential_with_residual_gradient_check():
    rng = np.random.default_rng(12)
    net = _hand_built(rng)
    assert list(net.params) == [
        "W1", "b1", "Residual1.W1", "Residual1.b1", "Residual1.W2", "Residual1.b2",
        "W2", "b2", "Residual2.W1", "Residual2.b1", "Residual2.W2", "Residual2.b2", "W3", "b3"]
    x, t = _data(rng, 3, (1, 6, 6), 4)
    errors = gradient_check(net, x, t, max_entries=30)
    assert set(errors) == set(net.params)
    assert max(errors.values()) < NET_TOL


def test_weight_decay_counts_weights_inside_residual_blocks():
    rng = np.random.default_rng(13)
    net = _hand_built(rng)
    x, t = _data(rng, 2, (1, 6, 6), 4)
    no_decay = Sequential(net.stack.layers)
    squares = sum(np.sum(v**2) for k, v in net.params.items() if k.split(".")[-1][0] == "W")
    assert net.loss(x, t) == pytest.approx(no_decay.loss(x, t) + 0.5 * 0.01 * squares,
                                           rel=1e-12)


# ---------------------------------------------------------------- dtypes and accuracy


def _course_nets(dtype, seed):
    return {
        "TwoLayerNet": (TwoLayerNet(12, 7, 4, dtype=dtype, seed=seed), (12,)),
        "MultiLayerNet": (MultiLayerNet(12, [7, 6], 4, dtype=dtype, seed=seed), (12,)),
        "MultiLayerNetExtend": (MultiLayerNetExtend(12, [7, 6], 4, use_batchnorm=True,
                                                    use_dropout=True, dtype=dtype, seed=seed),
                                (12,)),
        "SimpleConvNet": (SimpleConvNet((1, 8, 8), {"filter_num": 2, "filter_size": 3},
                                        hidden_size=5, output_size=4, dtype=dtype, seed=seed),
                          (1, 8, 8)),
    }


def test_float32_is_the_default_and_float64_selectable():
    for name, (net, _) in _course_nets(np.float32, 0).items():
        assert net.dtype == np.float32, name
        assert all(p.dtype == np.float32 for p in net.params.values()), name
        assert all(b.dtype == np.float32 for b in net.buffers.values()), name
    for name, (net, _) in _course_nets(np.float64, 0).items():
        assert all(p.dtype == np.float64 for p in net.params.values()), name
    assert DeepConvNet(seed=0).dtype == np.float32


def test_float32_and_float64_forward_agree():
    rng = np.random.default_rng(14)
    nets32, nets64 = _course_nets(np.float32, 15), _course_nets(np.float64, 15)
    for name, (net64, shape) in nets64.items():
        net32 = nets32[name][0]
        for k, p in net64.params.items():  # the same weights, rounded to float32
            p[...] = net32.params[k]
        x = rng.normal(size=(5, *shape))
        y32, y64 = net32.predict(x), net64.predict(x)
        assert y32.dtype == np.float32 and y64.dtype == np.float64
        scale = np.max(np.abs(y64))
        assert np.max(np.abs(y32 - y64)) <= 1e-4 * scale, name


def test_deep_conv_net_float32_and_float64_agree():
    net32, net64 = DeepConvNet(seed=18), DeepConvNet(dtype=np.float64, seed=18)
    for k, p in net64.params.items():
        p[...] = net32.params[k]
    x = np.random.default_rng(18).random((2, 1, 28, 28))
    y32, y64 = net32.predict(x), net64.predict(x)
    assert y32.dtype == np.float32 and y64.dtype == np.float64
    assert np.max(np.abs(y32 - y64)) <= 1e-4 * np.max(np.abs(y64))


def test_accuracy_is_batched_and_accepts_one_hot():
    rng = np.random.default_rng(16)
    net = TwoLayerNet(10, 8, 5, weight_init_std=1.0, seed=16)
    x, t = _data(rng, 53, (10,), 5)
    expected = float(np.mean(net.predict(x).argmax(axis=1) == t))
    assert 0 < expected < 1
    assert net.accuracy(x, t, batch_size=7) == expected
    assert net.accuracy(x, t, batch_size=1000) == expected
    assert net.accuracy(x, np.eye(5)[t], batch_size=7) == expected
    np.testing.assert_allclose(net.predict(x, batch_size=7), net.predict(x), rtol=1e-5, atol=1e-6)


def test_accuracy_with_batchnorm_is_batch_size_independent():
    # Eval mode uses running statistics, so chunking cannot change any prediction.
    rng = np.random.default_rng(17)
    net = MultiLayerNetExtend(10, [8], 5, use_batchnorm=True, weight_init_std=1.0, seed=17)
    x, t = _data(rng, 40, (10,), 5)
    net.gradient(x, t)  # move the running statistics away from (0, 1)
    assert net.accuracy(x, t, batch_size=3) == net.accuracy(x, t, batch_size=1000)


def test_first_nonfinite_finds_the_layer():
    net = TwoLayerNet(3, 4, 2, seed=0)
    x = np.ones((2, 3))
    assert net.first_nonfinite(x) is None
    net.params["W2"][0, 0] = np.nan
    assert net.first_nonfinite(x) == "Affine2 (parameter W2)"


def test_dropout_layers_seeded_from_the_net_seed():
    x = np.ones((4, 12), dtype=np.float32)
    a = MultiLayerNetExtend(12, [20], 3, use_dropout=True, seed=3)
    b = MultiLayerNetExtend(12, [20], 3, use_dropout=True, seed=3)
    np.testing.assert_array_equal(a.predict(x, train_flg=True), b.predict(x, train_flg=True))
    assert isinstance(a.stack.layers[2], Dropout)
