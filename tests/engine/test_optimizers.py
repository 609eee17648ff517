"""Optimizers (chapter 6): the course's update rules written out by hand, in-place updates,
float32 kept, state round trip, hyperparameter validation."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from dlscratch.optim import (
    OPTIMIZERS,
    SGD,
    AdaGrad,
    Adam,
    Momentum,
    Nesterov,
    RMSprop,
    get_optimizer,
)

ALL = [SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam]


def _two_steps(rng, shape):
    w0 = rng.normal(size=shape)
    g1, g2 = rng.normal(size=shape), rng.normal(size=shape)
    return w0, g1, g2


def _run(opt, w0, grads):
    params = {"W": w0.copy()}
    for g in grads:
        opt.update(params, {"W": g})
    return params["W"]


# Each reference below is the course's formula, written out with explicit state.


def test_sgd_step():
    rng = np.random.default_rng(0)
    w0, g1, g2 = _two_steps(rng, (3, 4))
    lr = 0.05
    expected = w0 - lr * g1 - lr * g2
    np.testing.assert_allclose(_run(SGD(lr), w0, [g1, g2]), expected, rtol=1e-14)


def test_momentum_steps():
    rng = np.random.default_rng(1)
    w0, g1, g2 = _two_steps(rng, (5,))
    lr, m = 0.1, 0.8
    v1 = m * 0 - lr * g1
    w1 = w0 + v1
    v2 = m * v1 - lr * g2
    w2 = w1 + v2
    np.testing.assert_allclose(_run(Momentum(lr, m), w0, [g1, g2]), w2, rtol=1e-14)


def test_nesterov_steps():
    rng = np.random.default_rng(2)
    w0, g1, g2 = _two_steps(rng, (2, 3))
    lr, m = 0.1, 0.9
    # The book's form: v <- m v - lr g;  W <- W + m^2 v - (1 + m) lr g.
    v1 = -lr * g1
    w1 = w0 + m * m * v1 - (1 + m) * lr * g1
    v2 = m * v1 - lr * g2
    w2 = w1 + m * m * v2 - (1 + m) * lr * g2
    np.testing.assert_allclose(_run(Nesterov(lr, m), w0, [g1, g2]), w2, rtol=1e-13)


def test_adagrad_steps():
    rng = np.random.default_rng(3)
    w0, g1, g2 = _two_steps(rng, (4,))
    lr = 0.5
    h1 = g1**2
    w1 = w0 - lr * g1 / (np.sqrt(h1) + 1e-7)
    h2 = h1 + g2**2
    w2 = w1 - lr * g2 / (np.sqrt(h2) + 1e-7)
    np.testing.assert_allclose(_run(AdaGrad(lr), w0, [g1, g2]), w2, rtol=1e-13)


def test_rmsprop_steps():
    rng = np.random.default_rng(4)
    w0, g1, g2 = _two_steps(rng, (3, 2))
    lr, d = 0.01, 0.9
    h1 = d * 0 + (1 - d) * g1**2
    w1 = w0 - lr * g1 / (np.sqrt(h1) + 1e-7)
    h2 = d * h1 + (1 - d) * g2**2
    w2 = w1 - lr * g2 / (np.sqrt(h2) + 1e-7)
    np.testing.assert_allclose(_run(RMSprop(lr, d), w0, [g1, g2]), w2, rtol=1e-13)


def test_adam_steps():
    rng = np.random.default_rng(5)
    w0, g1, g2 = _two_steps(rng, (6,))
    lr, b1, b2 = 0.01, 0.9, 0.999
    w = w0.copy()
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t, g in enumerate([g1, g2], start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        lr_t = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        w = w - lr_t * m / (np.sqrt(v) + 1e-7)
    np.testing.assert_allclose(_run(Adam(lr, b1, b2), w0, [g1, g2]), w, rtol=1e-12)


def test_adam_first_step_is_lr_times_sign():
    # t = 1: m = 0.1 g, v = 0.001 g^2, lr_t = lr sqrt(0.001) / 0.1, so the step is ~ lr sign(g).
    w = {"W": np.zeros(3)}
    Adam(lr=0.2).update(w, {"W": np.array([3.0, -0.5, 1e-2])})
    np.testing.assert_allclose(w["W"], [-0.2, 0.2, -0.2], rtol=1e-3)


def _f(p):
    return p[0] ** 2 / 20 + p[1] ** 2


def _grad_f(p):
    return np.array([p[0] / 10, 2 * p[1]])


@pytest.mark.parametrize("name, lr", [("sgd", 0.95), ("momentum", 0.1), ("nesterov", 0.1),
                                      ("adagrad", 1.5), ("rmsprop", 0.1), ("adam", 0.3)])
def test_optimizers_approach_the_minimum_of_the_course_function(name, lr):
    opt = get_optimizer(name, lr=lr)
    params = {"p": np.array([-7.0, 2.0])}
    start = np.linalg.norm(params["p"])
    path = [params["p"].copy()]
    for _ in range(30):
        opt.update(params, {"p": _grad_f(params["p"])})
        path.append(params["p"].copy())
    assert np.linalg.norm(params["p"]) < 0.5 * start
    assert _f(params["p"]) < 0.1 * _f(path[0])
    assert len({tuple(p) for p in path}) == 31  # it moved at every step


@pytest.mark.parametrize("cls", ALL)
def test_update_in_place_and_keeps_float32(cls):
    rng = np.random.default_rng(6)
    W = rng.normal(size=(4, 3)).astype(np.float32)
    b = rng.normal(size=3).astype(np.float32)
    params = {"W": W, "b": b}
    opt = cls(lr=0.01)
    before = W.copy()
    for _ in range(3):
        grads = {"W": rng.normal(size=(4, 3)).astype(np.float32),
                 "b": rng.normal(size=3).astype(np.float32)}
        opt.update(params, grads)
    assert params["W"] is W and params["b"] is b
    assert W.dtype == np.float32 and b.dtype == np.float32
    assert not np.array_equal(W, before)
    _, arrays = opt.state_dict()
    assert all(a.dtype == np.float32 for a in arrays.values())


@pytest.mark.parametrize("cls", ALL)
def test_float32_update_matches_float64(cls):
    rng = np.random.default_rng(7)
    w64 = rng.normal(size=50)
    grads = [rng.normal(size=50) for _ in range(4)]
    p64 = {"W": w64.copy()}
    p32 = {"W": w64.astype(np.float32)}
    o64, o32 = cls(lr=0.01), cls(lr=0.01)
    for g in grads:
        o64.update(p64, {"W": g})
        o32.update(p32, {"W": g.astype(np.float32)})
    assert p32["W"].dtype == np.float32
    np.testing.assert_allclose(p32["W"], p64["W"], rtol=1e-5, atol=1e-6)


def test_adam_does_not_upcast_float32_with_float64_gradients():
    params = {"W": np.ones(4, dtype=np.float32)}
    opt = Adam(lr=0.1)
    opt.update(params, {"W": np.full(4, 0.5)})
    assert params["W"].dtype == np.float32
    np.testing.assert_allclose(params["W"], 0.9, rtol=1e-5)


@pytest.mark.parametrize("cls", ALL)
def test_state_dict_round_trip_continues_identically(cls):
    rng = np.random.default_rng(8)
    shapes = {"W1": (3, 4), "b1": (4,)}
    grads = [{k: rng.normal(size=s) for k, s in shapes.items()} for _ in range(6)]
    params = {k: rng.normal(size=s) for k, s in shapes.items()}
    a = cls(lr=0.02)
    for g in grads[:3]:
        a.update(params, g)
    scalars, arrays = a.state_dict()
    scalars = json.loads(json.dumps(scalars))  # JSON-ready
    b = cls(lr=0.5)  # a different lr: load_state_dict restores the saved one
    b.load_state_dict(scalars, {k: v.copy() for k, v in arrays.items()})
    assert b.lr == a.lr and b.iter == a.iter == 3
    params_b = {k: v.copy() for k, v in params.items()}
    for g in grads[3:]:
        a.update(params, g)
        b.update(params_b, g)
    for k in params:
        np.testing.assert_array_equal(params_b[k], params[k])


def test_load_state_dict_rejects_another_optimizer():
    scalars, arrays = Momentum().state_dict()
    with pytest.raises(ValueError, match="'Momentum', not Adam"):
        Adam().load_state_dict(scalars, arrays)


def test_update_requires_matching_gradients():
    opt = SGD()
    with pytest.raises(KeyError, match="'b'"):
        opt.update({"W": np.zeros(2), "b": np.zeros(2)}, {"W": np.zeros(2)})
    with pytest.raises(ValueError, match=r"'W'.*\(3,\).*\(2,\)"):
        opt.update({"W": np.zeros(2)}, {"W": np.zeros(3)})


@pytest.mark.parametrize("make, text", [
    (lambda: SGD(lr=0), "lr must be a finite number > 0, got 0.0"),
    (lambda: SGD(lr=-0.1), "lr must be a finite number > 0, got -0.1"),
    (lambda: Adam(lr=float("nan")), "lr must be a finite number > 0, got nan"),
    (lambda: Momentum(momentum=1.0), "momentum must be in [0, 1), got 1.0"),
    (lambda: Nesterov(momentum=-0.5), "momentum must be in [0, 1), got -0.5"),
    (lambda: RMSprop(decay_rate=1.2), "decay_rate must be in [0, 1), got 1.2"),
    (lambda: Adam(beta1=1.0), "beta1 must be in [0, 1), got 1.0"),
    (lambda: Adam(beta2=-0.001), "beta2 must be in [0, 1), got -0.001"),
    (lambda: AdaGrad(lr=float("inf")), "lr must be a finite number > 0, got inf"),
])
def test_bad_hyperparameters(make, text):
    with pytest.raises(ValueError, match=re.escape(text)):
        make()


def test_get_optimizer_by_name():
    assert set(OPTIMIZERS) == {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"}
    opt = get_optimizer("Adam", lr=0.3, beta1=0.8)
    assert isinstance(opt, Adam) and opt.lr == 0.3 and opt.beta1 == 0.8
    assert isinstance(get_optimizer("SGD"), SGD)
    assert get_optimizer("momentum", momentum=0.5).momentum == 0.5
    with pytest.raises(ValueError, match="unknown optimizer 'adamw'"):
        get_optimizer("adamw")
