"""The convolutional networks of chapters 7-8: SimpleConvNet and DeepConvNet."""

from __future__ import annotations

import numpy as np

from dlscratch.layers import Affine, Convolution, Dropout, Pooling, Relu, conv_output_size
from dlscratch.nets.sequential import Sequential


class SimpleConvNet(Sequential):
    """Conv(30 5x5) -> ReLU -> Pool 2x2 -> Affine(100) -> ReLU -> Affine(10) -> softmax.

    input_dim (C, H, W); conv_param: filter_num, filter_size, pad, stride (the book's dict).
    Params W1/b1 (conv), W2/b2, W3/b3. weight_init_std: a number (the book's 0.01) or 'he'.
    """

    def __init__(self, input_dim=(1, 28, 28), conv_param=None, hidden_size=100,
                 output_size=10, weight_init_std=0.01, dtype=np.float32, seed=None):
        conv_param = {"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1,
                      **(conv_param or {})}
        fn, fs = conv_param["filter_num"], conv_param["filter_size"]
        pad, stride = conv_param["pad"], conv_param["stride"]
        c, h, w = input_dim
        conv_h = conv_output_size(h, fs, stride, pad)
        conv_w = conv_output_size(w, fs, stride, pad)
        pool_out = fn * (conv_h // 2) * (conv_w // 2)
        rng = np.random.default_rng(seed)
        super().__init__([
            Convolution.create(c, fn, fs, stride, pad, weight_init_std, rng, dtype),
            Relu(),
            Pooling(2, 2, stride=2),
            Affine.create(pool_out, hidden_size, weight_init_std, rng, dtype),
            Relu(),
            Affine.create(hidden_size, output_size, weight_init_std, rng, dtype),
        ])
        self.config = {"input_dim": list(input_dim), "conv_param": conv_param,
                       "hidden_size": hidden_size, "output_size": output_size,
                       "weight_init_std": weight_init_std, "dtype": np.dtype(dtype).name,
                       "seed": seed}


DEEP_CONV_PARAMS = (  # (filter_num, filter_size, pad, stride): 28-28-(pool)14-16-(pool)8-8-(pool)4
    (16, 3, 1, 1), (16, 3, 1, 1), (32, 3, 1, 1), (32, 3, 2, 1), (64, 3, 1, 1), (64, 3, 1, 1),
)


class DeepConvNet(Sequential):
    """The course's deep CNN (chapter 8), about 99.3% on MNIST.

    conv-relu-conv-relu-pool, three times (16, 16 | 32, 32 | 64, 64 filters of 3x3; padding 1
    except 2 on the fourth conv), then Affine(50) -> ReLU -> Dropout(0.5) -> Affine(10) ->
    Dropout(0.5) -> softmax. Spatial sizes 28-28-14-16-8-8-4, flatten 64*4*4 = 1024.
    He init with each layer's true fan-in (C*3*3 for convs, 1024 and 50 for the affines).
    Params W1..W6 (convs), W7, W8 (affines).
    """

    def __init__(self, input_dim=(1, 28, 28), hidden_size=50, output_size=10,
                 dropout_ratio=0.5, inverted_dropout=False, dtype=np.float32, seed=None):
        rng = np.random.default_rng(seed)
        c, h, w = input_dim
        layers = []
        for i, (fn, fs, pad, stride) in enumerate(DEEP_CONV_PARAMS):
            layers += [Convolution.create(c, fn, fs, stride, pad, "he", rng, dtype), Relu()]
            c = fn
            h, w = conv_output_size(h, fs, stride, pad), conv_output_size(w, fs, stride, pad)
            if i % 2 == 1:
                layers.append(Pooling(2, 2, stride=2))
                h, w = h // 2, w // 2
        flat = c * h * w
        layers += [
            Affine.create(flat, hidden_size, "he", rng, dtype), Relu(),
            Dropout(dropout_ratio, inverted_dropout, seed=rng.integers(2**63)),
            Affine.create(hidden_size, output_size, "he", rng, dtype),
            Dropout(dropout_ratio, inverted_dropout, seed=rng.integers(2**63)),
        ]
        super().__init__(layers)
        self.config = {"input_dim": list(input_dim), "hidden_size": hidden_size,
                       "output_size": output_size, "dropout_ratio": dropout_ratio,
                       "inverted_dropout": inverted_dropout, "dtype": np.dtype(dtype).name,
                       "seed": seed}
