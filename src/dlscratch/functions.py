"""Activation and loss functions of chapters 3-4, as plain NumPy functions.

Every function works elementwise or along the last axis, on any float dtype, and returns the
dtype it was given (float32 in, float32 out).
"""

from __future__ import annotations

import numpy as np


def identity(x: np.ndarray) -> np.ndarray:
    """h(x) = x (the output activation of regression)."""
    return x


def step_function(x: np.ndarray) -> np.ndarray:
    """h(x) = 1 if x > 0 else 0, as integers 0/1 (the perceptron's activation)."""
    return (np.asarray(x) > 0).astype(np.int64)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """h(x) = 1 / (1 + exp(-x)), computed without overflow for any |x|.

    For x < 0 the algebraically equal form exp(x) / (1 + exp(x)) is used, so exp never sees a
    large positive argument: sigmoid(-1000) is 0.0 with no warning.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def relu(x: np.ndarray) -> np.ndarray:
    """h(x) = max(0, x)."""
    return np.maximum(x, 0)


def softmax(x: np.ndarray) -> np.ndarray:
    """y_k = exp(a_k - max a) / sum_i exp(a_i - max a), along the last axis.

    Subtracting the maximum changes nothing mathematically and keeps exp from overflowing:
    softmax([1010, 1000, 990]) = [9.9995e-01, 4.5398e-05, 2.0611e-09].
    Shapes: (K,) -> (K,) or (N, K) -> (N, K).
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(x: np.ndarray) -> np.ndarray:
    """log softmax(x) = x - max - log(sum exp(x - max)), along the last axis, without log(0)."""
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def mean_squared_error(y: np.ndarray, t: np.ndarray) -> float:
    """MSE as the course writes it: (1/N) * sum_i (y_i - t_i)^2 over all N output elements.

    For a batch the mean runs over every element. The book's code uses `sum_squared_error`
    instead (0.5 * sum); on the course's example (correct class 2, y = [.1, .05, .6, 0, .05, .1,
    0, .1, 0, 0]) MSE = 0.0195 and SSE = 0.0975.
    """
    y, t = _check_same_shape("mean_squared_error", y, t)
    return float(np.mean((y - t) ** 2))


def sum_squared_error(y: np.ndarray, t: np.ndarray) -> float:
    """The book's E = 0.5 * sum_k (y_k - t_k)^2 (summed over the batch too)."""
    y, t = _check_same_shape("sum_squared_error", y, t)
    return float(0.5 * np.sum((y - t) ** 2))


def cross_entropy_error(y: np.ndarray, t: np.ndarray, delta: float = 1e-7) -> float:
    """E = -(1/N) * sum_n log(y[n, t_n] + delta).

    y: probabilities, (K,) for one sample or (N, K) for a batch.
    t: one-hot labels of y's shape, or class indices, () / (N,) / a column (N, 1).
    `delta` keeps log(0) = -inf away when a probability is exactly 0.
    """
    y = np.asarray(y)
    t = np.asarray(t)
    if y.ndim == 1:
        y = y.reshape(1, -1)
        t = t.reshape(1, -1) if t.size == y.size else t.reshape(1)
    if t.shape == y.shape:
        t = t.argmax(axis=1)
    elif t.shape == (y.shape[0], 1):  # a column of class indices
        t = t.reshape(-1)
    if t.shape != (y.shape[0],):
        raise ValueError(
            f"cross_entropy_error: labels must be one-hot {y.shape} or indices ({y.shape[0]},), "
            f"got shape {t.shape}"
        )
    n = y.shape[0]
    return float(-np.sum(np.log(y[np.arange(n), t.astype(np.intp)] + delta)) / n)


def _check_same_shape(name: str, y, t) -> tuple[np.ndarray, np.ndarray]:
    y, t = np.asarray(y, dtype=float), np.asarray(t, dtype=float)
    if y.shape != t.shape:
        raise ValueError(f"{name}: y and t must have the same shape, got {y.shape} and {t.shape}")
    return y, t
