"""The book's `common/functions.py`: activation and loss functions, from `dlscratch.functions`.

Names: identity_function, step_function, sigmoid, sigmoid_grad, relu, relu_grad, softmax,
mean_squared_error (the book's 0.5 * sum, which dlscratch calls sum_squared_error; the original
repository's name sum_squared_error works too), cross_entropy_error, softmax_loss.
dlscratch's sigmoid avoids exp overflow (the book's may warn); cross_entropy_error keeps the
book's 1e-7 inside the log and accepts one-hot or index labels, (N,) or (N, 1).
`from common.functions import *` also hands the script `np`, as the book's module does.
"""

import numpy as np  # noqa: F401 - exported: the book's scripts get `np` from the star import

from dlscratch import functions as _f
from dlscratch.functions import (  # noqa: F401 - the book's names
    cross_entropy_error,
    relu,
    sigmoid,
    softmax,
    step_function,
    sum_squared_error,  # the original repository's name
)
from dlscratch.functions import sum_squared_error as mean_squared_error  # noqa: F401
from dlscratch.layers.activations import Sigmoid as _Sigmoid

identity_function = _f.identity


def sigmoid_grad(x):
    """d sigmoid / dx = (1 - sigmoid(x)) * sigmoid(x): the Sigmoid layer's backward for dout 1."""
    layer = _Sigmoid()
    layer.forward(np.asarray(x, dtype=float))
    return layer.backward(1.0)


def relu_grad(x):
    """d relu / dx: 1 where x >= 0, else 0 (the book's choice at the kink x = 0).

    The Korean repository's version builds its zeros with `np.zeros(x)` and fails on any float
    array; this is the original repository's working version (`zeros_like`).
    """
    return (np.asarray(x) >= 0).astype(float)


def softmax_loss(X, t):
    """cross_entropy_error(softmax(X), t)."""
    return cross_entropy_error(softmax(X), t)


