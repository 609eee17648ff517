"""The book's `common/multi_layer_net.py`: a fully connected network of any depth.

    net = MultiLayerNet(input_size=784, hidden_size_list=[100, 100], output_size=10,
                        activation='relu', weight_init_std='relu', weight_decay_lambda=0)

Layers `Affine1, Activation_function1, ..., Affine<L+1>` (an OrderedDict), `last_layer`
SoftmaxWithLoss. Weights `scale * np.random.randn(fan_in, fan_out)` in W1, W2, ... order, with
scale sqrt(2/fan_in) for 'relu'/'he', sqrt(1/fan_in) for 'sigmoid'/'xavier', else the number.
The loss adds 0.5 * lambda * sum(W**2) over every W, and `gradient` adds lambda * W.
"""

from collections import OrderedDict

import numpy as np

from dlscratch.book import _net
from dlscratch.book.common.layers import Affine, Relu, Sigmoid, SoftmaxWithLoss

ACTIVATIONS = {"sigmoid": Sigmoid, "relu": Relu}


class MultiLayerNet:
    def __init__(self, input_size, hidden_size_list, output_size,
                 activation="relu", weight_init_std="relu", weight_decay_lambda=0):
        self.input_size = input_size
        self.output_size = output_size
        self.hidden_size_list = hidden_size_list
        self.hidden_layer_num = len(hidden_size_list)
        self.weight_decay_lambda = weight_decay_lambda
        self.params = {}
        init_affine_params(self, weight_init_std)

        self.layers = OrderedDict()
        for idx in range(1, self.hidden_layer_num + 1):
            self.layers[f"Affine{idx}"] = Affine(self.params[f"W{idx}"], self.params[f"b{idx}"])
            self.layers[f"Activation_function{idx}"] = ACTIVATIONS[activation]()
        idx = self.hidden_layer_num + 1
        self.layers[f"Affine{idx}"] = Affine(self.params[f"W{idx}"], self.params[f"b{idx}"])
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        return _net.forward(self.layers, x)

    def loss(self, x, t):
        """Cross-entropy plus the weight decay 0.5 * lambda * sum(W**2) of every W."""
        return self.last_layer.forward(self.predict(x), t) + weight_decay(self)

    def accuracy(self, x, t):
        return _net.accuracy(self.predict(x), t)

    def numerical_gradient(self, x, t):
        return _net.numerical_gradients(lambda: self.loss(x, t), self.params, affine_keys(self))

    def gradient(self, x, t):
        self.loss(x, t)
        _net.backward(self.layers, self.last_layer)
        return affine_grads(self)


def init_affine_params(net, weight_init_std):
    """params W1, b1, ..., W<L+1>, b<L+1> for the sizes [input] + hidden + [output]."""
    sizes = [net.input_size] + list(net.hidden_size_list) + [net.output_size]
    for idx in range(1, len(sizes)):
        scale = weight_init_std
        if str(weight_init_std).lower() in ("relu", "he", "sigmoid", "xavier"):
            scale = str(weight_init_std).lower()
        net.params[f"W{idx}"] = _net.randn_weight(scale, (sizes[idx - 1], sizes[idx]))
        net.params[f"b{idx}"] = np.zeros(sizes[idx])


def weight_decay(net):
    return sum(0.5 * net.weight_decay_lambda * np.sum(net.params[f"W{idx}"] ** 2)
               for idx in range(1, net.hidden_layer_num + 2))


def affine_keys(net):
    return [f"{p}{idx}" for idx in range(1, net.hidden_layer_num + 2) for p in ("W", "b")]


def affine_grads(net, idx=None):
    """W<i>: Affine<i>.dW + lambda * W, b<i>: Affine<i>.db (every i, or only `idx`)."""
    grads = {}
    for i in range(1, net.hidden_layer_num + 2) if idx is None else (idx,):
        layer = net.layers[f"Affine{i}"]
        grads[f"W{i}"] = layer.dW + net.weight_decay_lambda * layer.W
        grads[f"b{i}"] = layer.db
    return grads
