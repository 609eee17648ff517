"""TwoLayerNet: the network of chapters 4-5 (input -> hidden -> output)."""

from __future__ import annotations

import numpy as np

from dlscratch.layers import Affine, Relu, Sigmoid
from dlscratch.nets.sequential import Sequential

ACTIVATIONS = {"relu": Relu, "sigmoid": Sigmoid}


def activation_layer(name: str):
    """A new activation layer by name ('relu' or 'sigmoid')."""
    try:
        return ACTIVATIONS[name.lower()]()
    except (KeyError, AttributeError):
        raise ValueError(f"unknown activation {name!r}: use one of {sorted(ACTIVATIONS)}") from None


class TwoLayerNet(Sequential):
    """Affine1 -> activation -> Affine2 -> SoftmaxWithLoss; params W1, b1, W2, b2.

    activation='sigmoid' is chapter 4's network (trained there with `numerical_gradient`),
    'relu' chapter 5's (trained with backprop `gradient`). Weights ~ N(0, weight_init_std^2)
    (a number, or 'xavier'/'he'), biases 0.
    """

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01,
                 activation="relu", dtype=np.float32, seed=None):
        rng = np.random.default_rng(seed)
        super().__init__([
            Affine.create(input_size, hidden_size, weight_init_std, rng, dtype),
            activation_layer(activation),
            Affine.create(hidden_size, output_size, weight_init_std, rng, dtype),
        ])
        self.config = {"input_size": input_size, "hidden_size": hidden_size,
                       "output_size": output_size, "weight_init_std": weight_init_std,
                       "activation": activation, "dtype": np.dtype(dtype).name, "seed": seed}
