"""Every non-convolutional layer on its own: forward against the formula, backward against
central differences in float64 (L = sum(out * R) for a fixed random R)."""

from __future__ import annotations

import numpy as np
import pytest

from dlscratch import cross_entropy_error, numerical_gradient
from dlscratch.layers import (
    Affine,
    BatchNormalization,
    Convolution,
    Dropout,
    Flatten,
    Relu,
    Residual,
    Sigmoid,
    SoftmaxWithLoss,
)

from ._helpers import away_from_zero, layer_gradient_errors, rel_error

TOL = 1e-6


def _shape(rng, ndim, low=2, high=6):
    return tuple(int(s) for s in rng.integers(low, high, size=ndim))


# ---------------------------------------------------------------- activations


@pytest.mark.parametrize("ndim", [2, 4])
def test_relu_forward_and_gradient(ndim):
    rng = np.random.default_rng(100 + ndim)
    x = away_from_zero(rng, _shape(rng, ndim))
    layer = Relu()
    out = layer.forward(x)
    np.testing.assert_array_equal(out, np.where(x > 0, x, 0.0))
    errors = layer_gradient_errors(layer, x, rng)
    assert errors["x"] < TOL


def test_relu_backward_masks_negative_inputs():
    layer = Relu()
    layer.forward(np.array([[-1.0, 2.0, 0.0, 3.0]]))
    np.testing.assert_array_equal(layer.backward(np.array([[5.0, 6.0, 7.0, 8.0]])),
                                  [[0.0, 6.0, 0.0, 8.0]])


def test_relu_does_not_modify_its_input():
    x = np.array([-1.0, 1.0])
    Relu().forward(x)
    np.testing.assert_array_equal(x, [-1.0, 1.0])


@pytest.mark.parametrize("ndim", [2, 3])
def test_sigmoid_forward_and_gradient(ndim):
    rng = np.random.default_rng(200 + ndim)
    x = rng.normal(0, 2, size=_shape(rng, ndim))
    layer = Sigmoid()
    np.testing.assert_allclose(layer.forward(x), 1 / (1 + np.exp(-x)), rtol=1e-13)
    errors = layer_gradient_errors(layer, x, rng)
    assert errors["x"] < TOL


# ---------------------------------------------------------------- Affine / Flatten


def test_affine_forward_formula():
    rng = np.random.default_rng(300)
    n, d, m = _shape(rng, 3)
    x, W, b = rng.normal(size=(n, d)), rng.normal(size=(d, m)), rng.normal(size=m)
    out = Affine(W, b).forward(x)
    expected = np.array([[sum(x[i, k] * W[k, j] for k in range(d)) + b[j] for j in range(m)]
                         for i in range(n)])
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_affine_gradient_2d():
    rng = np.random.default_rng(301)
    n, d, m = _shape(rng, 3)
    layer = Affine(rng.normal(size=(d, m)), rng.normal(size=m))
    errors = layer_gradient_errors(layer, rng.normal(size=(n, d)), rng)
    assert set(errors) == {"x", "W", "b"}
    assert max(errors.values()) < TOL


def test_affine_backward_formulas():
    rng = np.random.default_rng(302)
    x, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    layer = Affine(W, b)
    layer.forward(x)
    dout = rng.normal(size=(4, 2))
    dx = layer.backward(dout)
    np.testing.assert_allclose(dx, dout @ W.T, rtol=1e-13)
    np.testing.assert_allclose(layer.dW, x.T @ dout, rtol=1e-13)
    np.testing.assert_allclose(layer.db, dout.sum(axis=0), rtol=1e-13)
    assert layer.grads["W"] is layer.dW and layer.params["W"] is layer.W


def test_affine_nd_input_restores_shape_and_gradient():
    rng = np.random.default_rng(303)
    n, c, h, w = _shape(rng, 4)
    m = int(rng.integers(2, 5))
    x = rng.normal(size=(n, c, h, w))
    layer = Affine(rng.normal(size=(c * h * w, m)), rng.normal(size=m))
    out = layer.forward(x)
    assert out.shape == (n, m)
    np.testing.assert_allclose(out, x.reshape(n, -1) @ layer.W + layer.b, rtol=1e-12)
    dx = layer.backward(np.ones((n, m)))
    assert dx.shape == (n, c, h, w)
    errors = layer_gradient_errors(layer, x, rng)
    assert max(errors.values()) < TOL


def test_flatten_forward_backward():
    rng = np.random.default_rng(304)
    shape = _shape(rng, 4)
    x = rng.normal(size=shape)
    layer = Flatten()
    out = layer.forward(x)
    assert out.shape == (shape[0], int(np.prod(shape[1:])))
    np.testing.assert_array_equal(out[1], x[1].ravel())
    errors = layer_gradient_errors(layer, x, rng)
    assert errors["x"] < TOL


# ---------------------------------------------------------------- SoftmaxWithLoss


def _softmax_ref(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("one_hot", [False, True], ids=["indices", "one-hot"])
def test_softmax_with_loss_value_backward_and_gradient(one_hot):
    rng = np.random.default_rng(400 + one_hot)
    n, k = int(rng.integers(2, 8)), int(rng.integers(2, 8))
    x = rng.normal(0, 2, size=(n, k))
    idx = rng.integers(0, k, size=n)
    t = np.eye(k)[idx] if one_hot else idx
    layer = SoftmaxWithLoss()
    loss = layer.forward(x, t)
    y = _softmax_ref(x)
    expected_loss = -np.mean(np.log(y[np.arange(n), idx]))
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    # cross_entropy_error adds delta = 1e-7 inside the log: exact with delta 0, and within
    # 1e-7 / p of the guarded value (1e-6 for p >= 0.1).
    p_true = y[np.arange(n), idx]
    assert loss == pytest.approx(cross_entropy_error(y, idx, delta=0.0), rel=1e-12)
    assert abs(loss - cross_entropy_error(y, idx)) <= 1e-7 / p_true.min() + 1e-12
    dx = layer.backward(1.0)
    np.testing.assert_allclose(dx, (y - np.eye(k)[idx]) / n, rtol=1e-12, atol=1e-15)
    numeric = numerical_gradient(lambda _: layer.forward(x, t), x, h=1e-5)
    assert rel_error(dx, numeric) < TOL


def test_softmax_with_loss_index_and_one_hot_agree():
    rng = np.random.default_rng(402)
    x = rng.normal(size=(5, 4))
    idx = rng.integers(0, 4, size=5)
    a, b = SoftmaxWithLoss(), SoftmaxWithLoss()
    assert a.forward(x, idx) == pytest.approx(b.forward(x, np.eye(4)[idx]), rel=1e-14)
    np.testing.assert_allclose(a.backward(), b.backward(), rtol=1e-14, atol=1e-17)


def test_softmax_with_loss_backward_scales_with_dout():
    rng = np.random.default_rng(403)
    x = rng.normal(size=(3, 4))
    t = np.array([0, 3, 1])
    layer = SoftmaxWithLoss()
    layer.forward(x, t)
    np.testing.assert_allclose(layer.backward(2.0), 2.0 * layer.backward(1.0), rtol=1e-14)


def test_softmax_with_loss_large_scores_stay_finite():
    x = np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 2000.0]])
    layer = SoftmaxWithLoss()
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss = layer.forward(x, np.array([1, 2]))
        dx = layer.backward()
    # Sample 1: -log softmax = 1000 - 0 (+ log(1 + e^-1000 + e^-2000) ~ 0); sample 2: ~0.
    assert loss == pytest.approx(500.0, rel=1e-12)
    assert np.all(np.isfinite(dx))


# ---------------------------------------------------------------- Dropout


def _dropout_forward(layer, x, seed):
    """A training forward with a fixed mask: the layer's generator is reseeded each time."""
    def fwd():
        layer.rng = np.random.default_rng(seed)
        return layer.forward(x, train_flg=True)
    return fwd


@pytest.mark.parametrize("inverted", [False, True], ids=["course", "inverted"])
def test_dropout_gradient_with_fixed_mask(inverted):
    rng = np.random.default_rng(500 + inverted)
    x = rng.normal(size=_shape(rng, 2, 4, 9))
    layer = Dropout(0.4, inverted=inverted)
    errors = layer_gradient_errors(layer, x, rng, forward=_dropout_forward(layer, x, 11))
    assert errors["x"] < TOL


@pytest.mark.parametrize("inverted", [False, True], ids=["course", "inverted"])
def test_dropout_training_output_uses_the_mask(inverted):
    rng = np.random.default_rng(502)
    x = rng.normal(size=(30, 20))
    ratio = 0.3
    layer = Dropout(ratio, inverted=inverted, seed=5)
    out = layer.forward(x, train_flg=True)
    mask = layer.mask
    assert mask.shape == x.shape and mask.dtype == bool
    assert 0 < mask.mean() < 1
    scale = 1 / (1 - ratio) if inverted else 1.0
    np.testing.assert_allclose(out, x * mask * scale, rtol=1e-15)
    dout = rng.normal(size=x.shape)
    np.testing.assert_allclose(layer.backward(dout), dout * mask * scale, rtol=1e-15)


def test_dropout_test_time_behaviour():
    x = np.arange(12.0).reshape(3, 4)
    course = Dropout(0.25).forward(x, train_flg=False)
    np.testing.assert_allclose(course, x * 0.75, rtol=1e-15)
    inverted_out = Dropout(0.25, inverted=True).forward(x, train_flg=False)
    np.testing.assert_array_equal(inverted_out, x)


def test_dropout_same_seed_same_mask():
    x = np.ones((10, 10))
    a, b = Dropout(0.5, seed=3), Dropout(0.5, seed=3)
    np.testing.assert_array_equal(a.forward(x), b.forward(x))
    c = Dropout(0.5, seed=4)
    assert not np.array_equal(a.forward(x), c.forward(x))


@pytest.mark.parametrize("inverted", [False, True], ids=["course", "inverted"])
@pytest.mark.parametrize("ratio", [0.2, 0.5])
def test_dropout_keeps_expected_activation(inverted, ratio):
    rng = np.random.default_rng(503)
    d, n = 40, 20000
    row = rng.uniform(0.5, 1.5, size=d)
    x = np.tile(row, (n, 1))
    layer = Dropout(ratio, inverted=inverted, seed=9)
    train_mean = layer.forward(x, train_flg=True).mean(axis=0)
    test_out = layer.forward(row[None, :], train_flg=False)[0]
    # The mean of n Bernoulli(1 - ratio) draws has std sqrt(ratio (1 - ratio) / n) ~ 0.0035:
    # 5 sigma relative tolerance on each unit.
    keep = 1 - ratio
    sigma = np.sqrt(ratio * keep / n) / keep
    np.testing.assert_allclose(train_mean, test_out, rtol=5 * sigma)
    assert layer.mask.mean() == pytest.approx(keep, abs=0.01)


def test_dropout_keeps_float32():
    x = np.ones((4, 5), dtype=np.float32)
    for inverted in (False, True):
        layer = Dropout(0.5, inverted=inverted, seed=0)
        assert layer.forward(x).dtype == np.float32
        assert layer.backward(x).dtype == np.float32
        assert layer.forward(x, train_flg=False).dtype == np.float32


# ---------------------------------------------------------------- BatchNormalization


def _bn(rng, size):
    return BatchNormalization(rng.uniform(0.5, 1.5, size), rng.normal(size=size), momentum=0.9)


def test_batchnorm_2d_forward_formula():
    rng = np.random.default_rng(600)
    x = rng.normal(3.0, 2.0, size=(8, 5))
    layer = _bn(rng, 5)
    out = layer.forward(x, train_flg=True)
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    np.testing.assert_allclose(out, layer.gamma * (x - mu) / np.sqrt(var + 1e-6) + layer.beta,
                               rtol=1e-12, atol=1e-12)


def test_batchnorm_2d_gradient():
    rng = np.random.default_rng(601)
    n, d = int(rng.integers(3, 8)), int(rng.integers(2, 6))
    layer = _bn(rng, d)
    errors = layer_gradient_errors(layer, rng.normal(1.0, 2.0, size=(n, d)), rng)
    assert set(errors) == {"x", "gamma", "beta"}
    assert max(errors.values()) < TOL


def test_batchnorm_per_channel_normalises_over_n_h_w():
    rng = np.random.default_rng(602)
    n, c, h, w = 4, 3, 5, 6
    x = rng.normal(size=(n, c, h, w)) * np.array([1.0, 5.0, 0.2])[:, None, None]
    x += np.array([-2.0, 0.0, 7.0])[:, None, None]
    layer = BatchNormalization.create(c, dtype=np.float64)
    out = layer.forward(x, train_flg=True)
    assert out.shape == x.shape
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1.0, rtol=1e-4)
    # Not per activation: single positions are not normalised over N alone.
    assert np.max(np.abs(out.mean(axis=0))) > 0.1


def test_batchnorm_per_channel_formula_and_gradient():
    rng = np.random.default_rng(603)
    n, c, h, w = 3, 2, 3, 4
    x = rng.normal(size=(n, c, h, w))
    layer = _bn(rng, c)
    out = layer.forward(x, train_flg=True)
    mu = x.mean(axis=(0, 2, 3), keepdims=True)
    var = x.var(axis=(0, 2, 3), keepdims=True)
    g, b = layer.gamma[None, :, None, None], layer.beta[None, :, None, None]
    np.testing.assert_allclose(out, g * (x - mu) / np.sqrt(var + 1e-6) + b, rtol=1e-12,
                               atol=1e-12)
    errors = layer_gradient_errors(layer, x, rng)
    assert max(errors.values()) < TOL


def test_batchnorm_per_activation_on_conv_maps():
    rng = np.random.default_rng(604)
    n, c, h, w = 6, 2, 3, 3
    x = rng.normal(2.0, 3.0, size=(n, c, h, w))
    layer = BatchNormalization.create(c * h * w, dtype=np.float64)
    out = layer.forward(x, train_flg=True)
    assert out.shape == x.shape
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1.0, rtol=1e-4)
    layer = _bn(rng, c * h * w)
    out = layer.forward(x, train_flg=True)
    mu, var = x.mean(axis=0), x.var(axis=0)
    expected = (layer.gamma.reshape(c, h, w) * (x - mu) / np.sqrt(var + 1e-6)
                + layer.beta.reshape(c, h, w))
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    errors = layer_gradient_errors(layer, rng.normal(size=x.shape), rng)
    assert max(errors.values()) < TOL


def test_batchnorm_running_statistics_and_eval_mode():
    rng = np.random.default_rng(605)
    layer = _bn(rng, 3)
    x1 = rng.normal(1.0, 2.0, size=(10, 3))
    x2 = rng.normal(-1.0, 0.5, size=(10, 3))
    layer.forward(x1, train_flg=True)
    layer.forward(x2, train_flg=True)
    m = 0.9
    rm = m * (m * 0 + (1 - m) * x1.mean(0)) + (1 - m) * x2.mean(0)
    rv = m * (m * 1 + (1 - m) * x1.var(0)) + (1 - m) * x2.var(0)
    np.testing.assert_allclose(layer.running_mean, rm, rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, rv, rtol=1e-12)
    assert layer.buffers.keys() == {"running_mean", "running_var"}

    x3 = rng.normal(size=(4, 3))
    out = layer.forward(x3, train_flg=False)
    expected = layer.gamma * (x3 - rm) / np.sqrt(rv + 1e-6) + layer.beta
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    # Evaluation does not touch the running statistics.
    np.testing.assert_allclose(layer.running_mean, rm, rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, rv, rtol=1e-12)
    # Eval mode works on a single sample (no batch statistics needed).
    np.testing.assert_allclose(layer.forward(x3[:1], train_flg=False), expected[:1], rtol=1e-12)


def test_batchnorm_running_statistics_per_channel():
    rng = np.random.default_rng(606)
    x = rng.normal(3.0, 2.0, size=(2, 3, 4, 4))
    layer = BatchNormalization.create(3, momentum=0.5, dtype=np.float64)
    layer.forward(x, train_flg=True)
    np.testing.assert_allclose(layer.running_mean, 0.5 * x.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, 0.5 + 0.5 * x.var(axis=(0, 2, 3)),
                               rtol=1e-12)
    out = layer.forward(x, train_flg=False)
    rm = layer.running_mean[None, :, None, None]
    rv = layer.running_var[None, :, None, None]
    np.testing.assert_allclose(out, (x - rm) / np.sqrt(rv + 1e-6), rtol=1e-12, atol=1e-12)


def test_batchnorm_keeps_float32():
    rng = np.random.default_rng(607)
    layer = BatchNormalization.create(4)
    assert layer.gamma.dtype == np.float32
    x = rng.normal(size=(5, 4)).astype(np.float32)
    assert layer.forward(x).dtype == np.float32
    assert layer.backward(x).dtype == np.float32
    assert layer.running_mean.dtype == np.float32


# ---------------------------------------------------------------- Residual


def test_residual_affine_block_forward_and_gradient():
    rng = np.random.default_rng(700)
    n, d, hidden = 4, 5, 6
    a1 = Affine(rng.normal(size=(d, hidden)), rng.normal(size=hidden))
    a2 = Affine(rng.normal(size=(hidden, d)), rng.normal(size=d))
    block = Residual([a1, Relu(), a2])
    x = rng.normal(size=(n, d))
    out = block.forward(x)
    expected = x + np.maximum(x @ a1.W + a1.b, 0) @ a2.W + a2.b
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    assert list(block.params) == ["W1", "b1", "W2", "b2"]
    errors = layer_gradient_errors(block, x, rng)
    assert set(errors) == {"x", "W1", "b1", "W2", "b2"}
    assert max(errors.values()) < TOL


def test_residual_identity_path_carries_the_gradient():
    # With F = 0 (zero weights), y = x and dL/dx = dL/dy.
    block = Residual([Affine(np.zeros((3, 3)), np.zeros(3))])
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(block.forward(x), x)
    dout = np.ones((2, 3)) * 2
    np.testing.assert_array_equal(block.backward(dout), dout)


def test_residual_conv_block_gradient():
    rng = np.random.default_rng(701)
    c = 2
    conv1 = Convolution(rng.normal(0, 0.5, size=(3, c, 3, 3)), rng.normal(size=3), pad=1)
    conv2 = Convolution(rng.normal(0, 0.5, size=(c, 3, 3, 3)), rng.normal(size=c), pad=1)
    block = Residual([conv1, Relu(), conv2])
    x = rng.normal(size=(2, c, 4, 5))
    assert block.forward(x).shape == x.shape
    errors = layer_gradient_errors(block, x, rng)
    assert max(errors.values()) < TOL


def test_residual_shape_mismatch_raises():
    rng = np.random.default_rng(702)
    block = Residual([Affine(rng.normal(size=(4, 3)), np.zeros(3))])
    with pytest.raises(ValueError, match=r"Residual.*\(2, 4\).*\(2, 3\)"):
        block.forward(rng.normal(size=(2, 4)))
