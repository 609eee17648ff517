"""The book's `common/multi_layer_net_extend.py`: MultiLayerNet with dropout and batch norm.

    net = MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100], output_size=10,
                              use_dropout=True, dropout_ration=0.2, use_batchnorm=True)

Per hidden layer i: `Affine<i>`, [`BatchNorm<i>`], `Activation_function<i>`, [`Dropout<i>`];
then `Affine<L+1>`. `dropout_ration` is the book's spelling. With batch norm, params hold
gamma<i> = 1 and beta<i> = 0 after all W/b. `predict(x, train_flg=False)`, `loss(x, t,
train_flg=False)`; `gradient` runs in training mode and returns W1, b1, gamma1, beta1, W2, ...
"""

from collections import OrderedDict

import numpy as np

from dlscratch.book import _net
from dlscratch.book.common.layers import Affine, BatchNormalization, Dropout, SoftmaxWithLoss
from dlscratch.book.common.multi_layer_net import (
    ACTIVATIONS,
    affine_grads,
    init_affine_params,
    weight_decay,
)


class MultiLayerNetExtend:
    def __init__(self, input_size, hidden_size_list, output_size,
                 activation="relu", weight_init_std="relu", weight_decay_lambda=0,
                 use_dropout=False, dropout_ration=0.5, use_batchnorm=False):
        self.input_size = input_size
        self.output_size = output_size
        self.hidden_size_list = hidden_size_list
        self.hidden_layer_num = len(hidden_size_list)
        self.use_dropout = use_dropout
        self.weight_decay_lambda = weight_decay_lambda
        self.use_batchnorm = use_batchnorm
        self.params = {}
        init_affine_params(self, weight_init_std)

        self.layers = OrderedDict()
        for idx in range(1, self.hidden_layer_num + 1):
            self.layers[f"Affine{idx}"] = Affine(self.params[f"W{idx}"], self.params[f"b{idx}"])
            if self.use_batchnorm:
                size = hidden_size_list[idx - 1]
                self.params[f"gamma{idx}"] = np.ones(size)
                self.params[f"beta{idx}"] = np.zeros(size)
                self.layers[f"BatchNorm{idx}"] = BatchNormalization(
                    self.params[f"gamma{idx}"], self.params[f"beta{idx}"])
            self.layers[f"Activation_function{idx}"] = ACTIVATIONS[activation]()
            if self.use_dropout:
                self.layers[f"Dropout{idx}"] = Dropout(dropout_ration)
        idx = self.hidden_layer_num + 1
        self.layers[f"Affine{idx}"] = Affine(self.params[f"W{idx}"], self.params[f"b{idx}"])
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x, train_flg=False):
        return _net.forward(self.layers, x, train_flg)

    def loss(self, x, t, train_flg=False):
        return self.last_layer.forward(self.predict(x, train_flg), t) + weight_decay(self)

    def accuracy(self, X, T):
        return _net.accuracy(self.predict(X, train_flg=False), T)

    def numerical_gradient(self, X, T):
        """Central differences of the training-mode loss (each call draws new dropout masks
        and moves the batch-norm running averages, as in the book)."""
        return _net.numerical_gradients(lambda: self.loss(X, T, train_flg=True), self.params,
                                        self._keys())

    def gradient(self, x, t):
        self.loss(x, t, train_flg=True)
        _net.backward(self.layers, self.last_layer)
        grads = {}
        for idx in range(1, self.hidden_layer_num + 2):
            grads.update(affine_grads(self, idx))
            if self.use_batchnorm and idx != self.hidden_layer_num + 1:
                grads[f"gamma{idx}"] = self.layers[f"BatchNorm{idx}"].dgamma
                grads[f"beta{idx}"] = self.layers[f"BatchNorm{idx}"].dbeta
        return grads

    def _keys(self):
        keys = []
        for idx in range(1, self.hidden_layer_num + 2):
            keys += [f"W{idx}", f"b{idx}"]
            if self.use_batchnorm and idx != self.hidden_layer_num + 1:
                keys += [f"gamma{idx}", f"beta{idx}"]
        return keys
