"""The book's `common/gradient.py`: central differences with h = 1e-4.

`numerical_gradient(f, x)` is dlscratch's: it nudges the caller's array in place and restores
it, which the book's networks rely on (their `f` ignores its argument and reads the parameter
array the layers hold).
"""

import numpy as np

from dlscratch.gradient import numerical_gradient as _numerical_gradient


def numerical_gradient(f, x):
    """df/dx for an array x of any shape, by central differences (h = 1e-4)."""
    return _numerical_gradient(f, x, h=1e-4)


def _numerical_gradient_1d(f, x):
    """numerical_gradient for a 1-D x."""
    return numerical_gradient(f, x)


def numerical_gradient_2d(f, X):
    """A 1-D X as `_numerical_gradient_1d`; otherwise each row X[i] on its own, stacked."""
    if X.ndim == 1:
        return _numerical_gradient_1d(f, X)
    return np.array([_numerical_gradient_1d(f, row) for row in X])
