"""MultiLayerNet and MultiLayerNetExtend: the fully connected networks of chapter 6."""

from __future__ import annotations

import numpy as np

from dlscratch.layers import Affine, BatchNormalization, Dropout
from dlscratch.nets.sequential import Sequential
from dlscratch.nets.two_layer import activation_layer


class MultiLayerNetExtend(Sequential):
    """[Affine -> (BatchNorm) -> activation -> (Dropout)] per hidden layer -> Affine -> softmax.

    hidden_size_list: e.g. [100, 100, 100, 100]. weight_init_std: a number, 'xavier'/'sigmoid'
    (1/sqrt(n)) or 'he'/'relu' (sqrt(2/n)), n = fan-in. weight_decay_lambda: L2 as in the book.
    Dropout follows the course (scale at test time) unless `inverted_dropout=True`.
    The book spells the dropout argument `dropout_ration`; both spellings are accepted.
    Params W1, b1, ..., gamma1, beta1, ... (gamma_k belongs to Affine_k).
    """

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu",
                 weight_init_std="relu", weight_decay_lambda=0.0, use_dropout=False,
                 dropout_ratio=0.5, use_batchnorm=False, inverted_dropout=False,
                 dtype=np.float32, seed=None, dropout_ration=None):
        if dropout_ration is not None:
            dropout_ratio = dropout_ration
        rng = np.random.default_rng(seed)
        sizes = [input_size, *hidden_size_list, output_size]
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            layers.append(Affine.create(n_in, n_out, weight_init_std, rng, dtype))
            if i == len(sizes) - 2:
                break
            if use_batchnorm:
                layers.append(BatchNormalization.create(n_out, dtype=dtype))
            layers.append(activation_layer(activation))
            if use_dropout:
                layers.append(Dropout(dropout_ratio, inverted_dropout, seed=rng.integers(2**63)))
        super().__init__(layers, weight_decay_lambda=weight_decay_lambda)
        self.config = {"input_size": input_size, "hidden_size_list": list(hidden_size_list),
                       "output_size": output_size, "activation": activation,
                       "weight_init_std": weight_init_std,
                       "weight_decay_lambda": weight_decay_lambda, "use_dropout": use_dropout,
                       "dropout_ratio": dropout_ratio, "use_batchnorm": use_batchnorm,
                       "inverted_dropout": inverted_dropout, "dtype": np.dtype(dtype).name,
                       "seed": seed}


class MultiLayerNet(MultiLayerNetExtend):
    """The plain chapter-6 network: MultiLayerNetExtend without dropout or batch norm."""

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu",
                 weight_init_std="relu", weight_decay_lambda=0.0, dtype=np.float32, seed=None):
        super().__init__(input_size, hidden_size_list, output_size, activation,
                         weight_init_std, weight_decay_lambda, dtype=dtype, seed=seed)
        self.config = {k: self.config[k] for k in (
            "input_size", "hidden_size_list", "output_size", "activation", "weight_init_std",
            "weight_decay_lambda", "dtype", "seed")}
