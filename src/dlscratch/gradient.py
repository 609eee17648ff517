"""Numerical differentiation (chapter 4) and the gradient check of chapter 5.

Backprop is fast but easy to get wrong; the central difference is slow but hard to get wrong.
`gradient_check` compares the two on any network of the package.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_diff(f: Callable[[float], float], x: float, h: float = 1e-4) -> float:
    """Central difference: f'(x) ~ (f(x + h) - f(x - h)) / 2h, error O(h^2)."""
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    h: float = 1e-4,
    indices=None,
) -> np.ndarray:
    """d f / d x by central differences, for an array x of any shape.

    Each entry of x is nudged by +-h in place and restored afterwards, so `f` may read x through
    any reference (a network's parameter dict, say). `indices` (a list of index tuples) limits
    the probes to those entries; the others are left 0 in the result.
    """
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"numerical_gradient: x must be a float array, got dtype {x.dtype}")
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape) if indices is None else indices:
        original = x[idx]
        x[idx] = original + h
        f_plus = f(x)
        x[idx] = original - h
        f_minus = f(x)
        x[idx] = original
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def gradient_descent(
    f: Callable[[np.ndarray], float],
    init_x,
    lr: float = 0.01,
    step_num: int = 100,
) -> tuple[np.ndarray, np.ndarray]:
    """x <- x - lr * grad f(x), `step_num` times.

    Returns (final x, path) where path has shape (step_num + 1, *x.shape): the start included.
    """
    x = np.array(init_x, dtype=np.float64)
    path = [x.copy()]
    for _ in range(step_num):
        x -= lr * numerical_gradient(f, x)
        path.append(x.copy())
    return x, np.array(path)


def relative_error(a: np.ndarray, b: np.ndarray, floor: float = 1e-8) -> np.ndarray:
    """|a - b| / max(floor, |a| + |b|), entrywise."""
    return np.abs(a - b) / np.maximum(floor, np.abs(a) + np.abs(b))


def gradient_check(
    net,
    x: np.ndarray,
    t: np.ndarray,
    h: float = 1e-6,
    max_entries: int | None = 100,
    seed: int = 0,
    floor: float | None = None,
) -> dict[str, float]:
    """Max relative error between backprop and numerical gradients, per parameter.

    error = |g_backprop - g_numerical| / max(floor, |g_backprop| + |g_numerical|), entrywise.

    net: anything with `params` (name -> array), `gradient(x, t)` and `loss(x, t)`.
    Parameters with more than `max_entries` entries are checked on a seeded random sample of
    that many entries (None: all). Random layers (dropout) see the same random numbers in every
    evaluation: the network's RNG state is restored before each one. The network must be
    float64: in float32 a central difference is too coarse to check anything. The small default
    h keeps the probes from stepping across ReLU/max kinks.
    `floor=1e-8` is the textbook formula. The default (None) uses max(1e-8, 1e-3 * the
    network's largest gradient): entries a thousand times smaller than that are measured against
    that scale, since the central difference's roundoff (~1e-10 for h = 1e-6) would otherwise
    make an exactly zero gradient (a bias just before batch norm) look 100% wrong.
    """
    dtypes = {p.dtype for p in net.params.values()}
    if dtypes != {np.dtype(np.float64)}:
        raise ValueError(
            "gradient_check needs a float64 network (dtype=np.float64), "
            f"got {sorted(map(str, dtypes))}"
        )
    rng_state = net.get_rng_state() if hasattr(net, "get_rng_state") else None

    def restore_rng():
        if rng_state is not None:
            net.set_rng_state(rng_state)

    restore_rng()
    backprop = {k: g.copy() for k, g in net.gradient(x, t).items()}
    scale = max((float(np.abs(g).max()) for g in backprop.values() if g.size), default=0.0)
    if floor is None:
        floor = max(1e-8, 1e-3 * scale)

    def loss(_):
        restore_rng()
        return net.loss(x, t, train_flg=True)

    sampler = np.random.default_rng(seed)
    errors = {}
    for name, param in net.params.items():
        indices = None
        if max_entries is not None and param.size > max_entries:
            flat = sampler.choice(param.size, size=max_entries, replace=False)
            indices = list(zip(*np.unravel_index(flat, param.shape), strict=True))
        numeric = numerical_gradient(loss, param, h=h, indices=indices)
        if indices is None:
            errors[name] = float(relative_error(backprop[name], numeric, floor).max())
        else:
            rows = tuple(np.array(i) for i in zip(*indices, strict=True))
            errors[name] = float(relative_error(backprop[name][rows], numeric[rows], floor).max())
    restore_rng()
    return errors
