"""What the book's networks share: the walk through the layers, accuracy, gradients.

The book writes these loops into every network; here they are written once. A network keeps the
book's attributes (`params`, a plain dict whose arrays the layers share; `layers`, an
OrderedDict - a list in DeepConvNet; the last layer) and calls these helpers.
"""

from __future__ import annotations

import numpy as np

from dlscratch.book._random import GLOBAL_RANDOM
from dlscratch.book.common.gradient import numerical_gradient
from dlscratch.book.common.layers import BatchNormalization, Dropout
from dlscratch.init import init_weight


def randn_weight(scale, shape):
    """`scale * np.random.randn(*shape)` in float64, drawn by dlscratch's `init_weight` from
    NumPy's global random state (`scale`: a number, or 'relu'/'he', 'sigmoid'/'xavier')."""
    return init_weight(tuple(shape), scale, GLOBAL_RANDOM, np.float64)


def two_layer_params(input_size, hidden_size, output_size, weight_init_std):
    """The two-layer networks' params: W1, b1, W2, b2 (W1 drawn first), float64."""
    return {"W1": randn_weight(weight_init_std, (input_size, hidden_size)),
            "b1": np.zeros(hidden_size),
            "W2": randn_weight(weight_init_std, (hidden_size, output_size)),
            "b2": np.zeros(output_size)}


def layer_list(layers):
    return list(layers.values()) if isinstance(layers, dict) else list(layers)


def forward(layers, x, train_flg=None):
    """x through every layer; `train_flg`, when given, goes to Dropout and BatchNormalization
    only (the others get forward(x)), as the book's networks pass it."""
    for layer in layer_list(layers):
        if train_flg is not None and isinstance(layer, (Dropout, BatchNormalization)):
            x = layer.forward(x, train_flg)
        else:
            x = layer.forward(x)
    return x


def backward(layers, last_layer):
    """The book's backward pass: dout = 1 into the last layer, then the layers in reverse."""
    dout = last_layer.backward(1)
    for layer in reversed(layer_list(layers)):
        dout = layer.backward(dout)
    return dout


def labels(t):
    """Index labels from one-hot (N, K) ones; index labels as they are."""
    return np.argmax(t, axis=1) if t.ndim != 1 else t


def accuracy(y, t):
    """Share of rows whose largest score is the label: sum(argmax y == t) / float(N)."""
    return np.sum(np.argmax(y, axis=1) == labels(t)) / float(y.shape[0])


def batched_accuracy(predict, x, t, batch_size=100):
    """As the book's convolutional networks: only int(N / batch_size) full batches are
    evaluated, yet the count is divided by N (left-over samples count as wrong)."""
    t = labels(t)
    acc = 0.0
    for i in range(int(x.shape[0] / batch_size)):
        tx = x[i * batch_size:(i + 1) * batch_size]
        tt = t[i * batch_size:(i + 1) * batch_size]
        acc += np.sum(np.argmax(predict(tx), axis=1) == tt)
    return acc / x.shape[0]


def numerical_gradients(loss, params, keys):
    """{key: d loss / d params[key]} by central differences on the very arrays the layers hold
    (`loss` takes no argument)."""
    return {key: numerical_gradient(lambda _: loss(), params[key]) for key in keys}


def link(layer, params, w_key, b_key):
    """Point a layer at params[w_key], params[b_key] again (after params were replaced)."""
    layer.W = params[w_key]
    layer.b = params[b_key]
