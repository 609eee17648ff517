"""Helpers shared by the engine tests: relative error and a layer's numerical gradient check."""

from __future__ import annotations

import numpy as np

from dlscratch.gradient import numerical_gradient


def rel_error(a, b) -> float:
    """max over entries of |a - b| / max(|a| + |b|, floor): the CS231n / book check.

    floor = max(1e-8, 1e-3 * max(|a| + |b|)): an entry a thousand times smaller than the
    largest one is measured against that scale, because the central difference's roundoff
    (~1e-10 absolute in float64) says nothing about it. A wrong gradient still shows: a 1%
    error anywhere gives at least 1e-5.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    if a.size == 0:
        return 0.0
    total = np.abs(a) + np.abs(b)
    floor = max(1e-8, 1e-3 * float(total.max()))
    return float(np.max(np.abs(a - b) / np.maximum(floor, total)))


def layer_gradient_errors(layer, x, rng, forward=None, h=1e-5) -> dict[str, float]:
    """Relative error of backward against central differences, for L = sum(out * R).

    `forward` (no arguments) runs the layer on `x`; the default is a training-mode forward.
    Returns {"x": error of dx, name: error of each parameter gradient}.
    """
    fwd = forward if forward is not None else (lambda: layer.forward(x, train_flg=True))
    out = fwd()
    R = rng.standard_normal(out.shape)
    fwd()
    dx = layer.backward(R.copy())
    assert dx.shape == x.shape
    analytic = {"x": np.array(dx, copy=True)}
    analytic.update({k: np.array(g, copy=True) for k, g in layer.grads.items()})
    assert set(analytic) == {"x", *layer.params}

    def loss(_):
        return float(np.sum(fwd() * R))

    errors = {"x": rel_error(analytic["x"], numerical_gradient(loss, x, h))}
    for name, param in layer.params.items():
        errors[name] = rel_error(analytic[name], numerical_gradient(loss, param, h))
    return errors


def away_from_zero(rng, shape, low=0.1, high=1.0) -> np.ndarray:
    """Random float64 values with low <= |x| <= high and random signs (no ReLU kinks)."""
    mag = rng.uniform(low, high, size=shape)
    return mag * rng.choice([-1.0, 1.0], size=shape)


def distinct_values(rng, shape, spacing=0.01) -> np.ndarray:
    """Random float64 values, all distinct and at least `spacing` apart (no max-pool ties)."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * spacing - n * spacing / 2).reshape(shape).astype(np.float64)
