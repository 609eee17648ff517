"""Chapters 2-5 basics: activation and loss functions, perceptron gates, the computational
graph examples, numerical differentiation and gradient descent."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from dlscratch import (
    cross_entropy_error,
    gradient_descent,
    identity,
    mean_squared_error,
    numerical_diff,
    numerical_gradient,
    relu,
    sigmoid,
    softmax,
    step_function,
    sum_squared_error,
)
from dlscratch.graph import AddLayer, MulLayer, buy_apples, buy_apples_and_oranges
from dlscratch.perceptron import AND, NAND, OR, XOR

# The course's example: correct class 2, the network says 0.6 for it.
T_ONE_HOT = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0], dtype=np.float64)
Y_GOOD = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
Y_BAD = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])


# ---------------------------------------------------------------- activations


def test_step_function_is_zero_at_and_below_zero():
    x = np.array([-2.0, -1e-9, 0.0, 1e-9, 3.0])
    y = step_function(x)
    np.testing.assert_array_equal(y, [0, 0, 0, 1, 1])
    assert np.issubdtype(y.dtype, np.integer)


def test_step_function_accepts_2d():
    x = np.array([[-1.0, 2.0], [0.5, -0.5]])
    np.testing.assert_array_equal(step_function(x), [[0, 1], [1, 0]])


def test_sigmoid_matches_definition_for_moderate_x():
    x = np.linspace(-30, 30, 241)
    expected = np.array([1.0 / (1.0 + math.exp(-v)) for v in x])
    np.testing.assert_allclose(sigmoid(x), expected, rtol=1e-13, atol=0)
    assert sigmoid(np.array(0.0)) == 0.5


def test_sigmoid_extremes_without_warnings():
    x = np.array([-1000.0, -750.0, 750.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            y = sigmoid(x)
    assert np.all(np.isfinite(y))
    np.testing.assert_array_equal(y, [0.0, 0.0, 1.0, 1.0])


def test_sigmoid_float32_extremes_without_warnings():
    x = np.array([-1000.0, -100.0, 100.0, 1000.0], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            y = sigmoid(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, [0, 0, 1, 1], atol=1e-30, rtol=0)


def test_sigmoid_keeps_float32_and_upcasts_ints():
    x32 = np.linspace(-5, 5, 11, dtype=np.float32)
    y32 = sigmoid(x32)
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, 1 / (1 + np.exp(-x32.astype(np.float64))), rtol=1e-6)
    yi = sigmoid(np.array([-1, 0, 1]))
    assert yi.dtype == np.float64
    np.testing.assert_allclose(yi, [1 / (1 + math.e), 0.5, 1 / (1 + 1 / math.e)], rtol=1e-15)


def test_relu_and_identity():
    x = np.array([[-3.0, -0.0, 0.0], [0.5, 2.0, -1e-12]])
    np.testing.assert_array_equal(relu(x), [[0, 0, 0], [0.5, 2.0, 0]])
    assert relu(x.astype(np.float32)).dtype == np.float32
    assert identity(x) is x


def _softmax_reference(a):
    """exp(a) / sum exp(a), the textbook formula (only safe for moderate a)."""
    e = np.exp(np.asarray(a, dtype=np.float64))
    return e / e.sum(axis=-1, keepdims=True)


def test_softmax_1d_matches_formula():
    a = np.array([0.3, 2.9, 4.0])
    y = softmax(a)
    np.testing.assert_allclose(y, _softmax_reference(a), rtol=1e-14)
    # The book's printed values.
    np.testing.assert_allclose(y, [0.01821127, 0.24519181, 0.73659691], atol=1e-8)
    assert y.sum() == pytest.approx(1.0, abs=1e-15)


def test_softmax_overflow_safe():
    a = np.array([1010.0, 1000.0, 990.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            y = softmax(a)
    assert np.all(np.isfinite(y))
    assert y.sum() == pytest.approx(1.0, abs=1e-15)
    # softmax is invariant to a constant shift: same as softmax([20, 10, 0]).
    np.testing.assert_allclose(y, _softmax_reference([20.0, 10.0, 0.0]), rtol=1e-12)


def test_softmax_batched_along_last_axis():
    rng = np.random.default_rng(1)
    n, k = rng.integers(2, 9), rng.integers(2, 12)
    a = rng.normal(0, 3, size=(n, k))
    y = softmax(a)
    assert y.shape == (n, k)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-14)
    for i in range(n):
        np.testing.assert_allclose(y[i], _softmax_reference(a[i]), rtol=1e-13)


def test_softmax_invariant_to_constant_per_row():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(5, 7))
    shift = rng.uniform(-500, 500, size=(5, 1))
    np.testing.assert_allclose(softmax(a + shift), softmax(a), rtol=1e-9, atol=1e-15)


def test_softmax_keeps_float32():
    a = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    y = softmax(a)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, _softmax_reference(a), rtol=1e-6)


# ---------------------------------------------------------------- losses


def test_mean_and_sum_squared_error_course_example():
    # MSE = (1/10) * sum (y - t)^2 = 0.195 / 10; SSE = 0.5 * 0.195.
    # sum (y - t)^2 = .01 + .0025 + .16 + 0 + .0025 + .01 + 0 + .01 + 0 + 0 = 0.195
    assert mean_squared_error(Y_GOOD, T_ONE_HOT) == pytest.approx(0.0195, abs=1e-15)
    assert sum_squared_error(Y_GOOD, T_ONE_HOT) == pytest.approx(0.0975, abs=1e-15)


def test_squared_errors_reject_shape_mismatch():
    with pytest.raises(ValueError, match=r"mean_squared_error.*\(10,\).*\(9,\)"):
        mean_squared_error(Y_GOOD, T_ONE_HOT[:9])
    with pytest.raises(ValueError, match=r"sum_squared_error.*\(10,\).*\(9,\)"):
        sum_squared_error(Y_GOOD, T_ONE_HOT[:9])


def test_cross_entropy_single_sample():
    assert cross_entropy_error(Y_GOOD, T_ONE_HOT) == pytest.approx(0.5108, abs=1e-4)
    assert cross_entropy_error(Y_GOOD, T_ONE_HOT) == pytest.approx(-math.log(0.6 + 1e-7), 1e-12)
    assert cross_entropy_error(Y_BAD, T_ONE_HOT) == pytest.approx(2.3026, abs=1e-4)
    assert cross_entropy_error(Y_BAD, T_ONE_HOT) == pytest.approx(-math.log(0.1 + 1e-7), 1e-12)


def test_cross_entropy_index_label_equals_one_hot():
    assert cross_entropy_error(Y_GOOD, 2) == pytest.approx(cross_entropy_error(Y_GOOD, T_ONE_HOT))
    assert cross_entropy_error(Y_BAD, np.array(2)) == pytest.approx(-math.log(0.1 + 1e-7), 1e-12)


def test_cross_entropy_batch_is_averaged():
    rng = np.random.default_rng(3)
    n, k = 6, 5
    y = rng.dirichlet(np.ones(k), size=n)
    t = rng.integers(0, k, size=n)
    expected = -np.mean([math.log(y[i, t[i]] + 1e-7) for i in range(n)])
    assert cross_entropy_error(y, t) == pytest.approx(expected, rel=1e-12)
    one_hot = np.eye(k)[t]
    assert cross_entropy_error(y, one_hot) == pytest.approx(expected, rel=1e-12)
    # The two course samples as a batch: the mean of the two single losses.
    batch = np.stack([Y_GOOD, Y_BAD])
    both = (-math.log(0.6 + 1e-7) - math.log(0.1 + 1e-7)) / 2
    assert cross_entropy_error(batch, np.array([2, 2])) == pytest.approx(both, rel=1e-12)


def test_cross_entropy_zero_probability_is_finite():
    y = np.array([0.0, 1.0, 0.0])
    with np.errstate(divide="raise", invalid="raise"):
        e = cross_entropy_error(y, 0)
    assert math.isfinite(e)
    assert e == pytest.approx(-math.log(1e-7), rel=1e-12)
    assert cross_entropy_error(y, 0, delta=1e-3) == pytest.approx(-math.log(1e-3), rel=1e-12)


def test_cross_entropy_bad_label_shape():
    y = np.full((4, 3), 1 / 3)
    with pytest.raises(ValueError, match=r"cross_entropy_error.*\(4, 3\).*\(4,\).*\(5,\)"):
        cross_entropy_error(y, np.zeros(5, dtype=int))


# ---------------------------------------------------------------- perceptrons

TRUTH = {
    AND: [0, 0, 0, 1],
    NAND: [1, 1, 1, 0],
    OR: [0, 1, 1, 1],
    XOR: [0, 1, 1, 0],
}


@pytest.mark.parametrize("gate", list(TRUTH), ids=lambda g: g.__name__)
def test_gate_truth_table(gate):
    inputs = [(0, 0), (1, 0), (0, 1), (1, 1)]
    assert [gate(a, b) for a, b in inputs] == TRUTH[gate]


# ---------------------------------------------------------------- computational graph


def test_mul_and_add_nodes():
    mul = MulLayer()
    assert mul.forward(3.0, 4.0) == 12.0
    assert mul.backward(2.0) == (8.0, 6.0)
    add = AddLayer()
    assert add.forward(3.0, 4.0) == 7.0
    assert add.backward(2.5) == (2.5, 2.5)


def test_buy_apples():
    r = buy_apples()
    assert r["price"] == pytest.approx(220)
    assert r["d_apple"] == pytest.approx(2.2)
    assert r["d_apple_num"] == pytest.approx(110)
    assert r["d_tax"] == pytest.approx(200)


def test_buy_apples_and_oranges():
    r = buy_apples_and_oranges()
    assert r["price"] == pytest.approx(715)
    assert r["d_apple_num"] == pytest.approx(110)
    assert r["d_apple"] == pytest.approx(2.2)
    assert r["d_orange"] == pytest.approx(3.3)
    assert r["d_orange_num"] == pytest.approx(165)
    assert r["d_tax"] == pytest.approx(650)


def test_graph_derivatives_match_numerical_diff():
    # price(apple, apple_num, orange, orange_num, tax), each partial checked numerically.
    base = {"apple": 100.0, "apple_num": 2.0, "orange": 150.0, "orange_num": 3.0, "tax": 1.1}
    r = buy_apples_and_oranges(**base)
    for name in base:
        def f(v, name=name):
            return buy_apples_and_oranges(**{**base, name: v})["price"]

        assert r["d_" + name] == pytest.approx(numerical_diff(f, base[name]), rel=1e-7)


# ---------------------------------------------------------------- numerical differentiation


def test_numerical_diff_course_function():
    def f(x):
        return 0.01 * x**2 + 0.1 * x

    assert numerical_diff(f, 5) == pytest.approx(0.2, abs=1e-9)
    assert numerical_diff(f, 10) == pytest.approx(0.3, abs=1e-9)


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_numerical_gradient_any_shape(ndim):
    rng = np.random.default_rng(10 + ndim)
    shape = tuple(int(s) for s in rng.integers(1, 5, size=ndim))
    x = rng.normal(size=shape)
    a = rng.normal(size=shape)

    def f(z):
        return float(np.sum(z**3) + np.sum(a * z) + np.sum(z) ** 2)

    before = x.copy()
    grad = numerical_gradient(f, x)
    analytic = 3 * x**2 + a + 2 * np.sum(x)
    assert grad.shape == shape
    np.testing.assert_allclose(grad, analytic, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(x, before)  # every entry restored exactly


def test_numerical_gradient_course_function():
    def f(x):
        return x[0] ** 2 + x[1] ** 2

    for point, expected in [((3.0, 4.0), (6.0, 8.0)), ((0.0, 2.0), (0.0, 4.0)),
                            ((3.0, 0.0), (6.0, 0.0))]:
        g = numerical_gradient(f, np.array(point))
        np.testing.assert_allclose(g, expected, atol=1e-7)


def test_numerical_gradient_indices_limit_the_probes():
    x = np.arange(6.0).reshape(2, 3)
    calls = []

    def f(z):
        calls.append(1)
        return float(np.sum(z**2))

    g = numerical_gradient(f, x, indices=[(0, 1), (1, 2)])
    assert len(calls) == 4
    expected = np.zeros_like(x)
    expected[0, 1], expected[1, 2] = 2 * x[0, 1], 2 * x[1, 2]
    np.testing.assert_allclose(g, expected, atol=1e-7)


def test_numerical_gradient_rejects_int_array():
    with pytest.raises(ValueError, match="int64"):
        numerical_gradient(lambda z: 0.0, np.arange(3))


def _bowl(x):
    return x[0] ** 2 + x[1] ** 2


def test_gradient_descent_reaches_minimum():
    x, path = gradient_descent(_bowl, np.array([-3.0, 4.0]), lr=0.1, step_num=100)
    # Each step multiplies x by (1 - 2 * 0.1) = 0.8: 5 * 0.8**100 ~ 1e-9.
    np.testing.assert_allclose(x, [0.0, 0.0], atol=1e-8)
    assert path.shape == (101, 2)
    np.testing.assert_array_equal(path[0], [-3.0, 4.0])
    np.testing.assert_allclose(path[1], [-3.0 * 0.8, 4.0 * 0.8], rtol=1e-8)
    np.testing.assert_array_equal(path[-1], x)


def test_gradient_descent_does_not_modify_init():
    init = np.array([-3.0, 4.0])
    gradient_descent(_bowl, init, lr=0.1, step_num=5)
    np.testing.assert_array_equal(init, [-3.0, 4.0])


def test_gradient_descent_learning_rate_too_large_diverges():
    with np.errstate(all="ignore"):
        x, _ = gradient_descent(_bowl, np.array([-3.0, 4.0]), lr=10.0, step_num=100)
    # x <- x - 10 * 2x = -19x: grows without bound.
    assert not np.all(np.isfinite(x)) or np.max(np.abs(x)) > 1e10


def test_gradient_descent_learning_rate_too_small_barely_moves():
    x, _ = gradient_descent(_bowl, np.array([-3.0, 4.0]), lr=1e-10, step_num=100)
    np.testing.assert_allclose(x, [-3.0, 4.0], atol=1e-6)
    assert not np.array_equal(x, [-3.0, 4.0])  # it does move, just a little
