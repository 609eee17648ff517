"""The book's `ch08/deep_convnet.py`: six 3x3 convolutions, three poolings, two Affine layers
with dropout, about 99.4% on MNIST.

    conv - relu - conv - relu - pool - conv - relu - conv - relu - pool -
    conv - relu - conv - relu - pool - affine - relu - dropout - affine - dropout - softmax

`layers` is a plain list of 20 layers, as in the book; W1..W8 sit at indices 0, 2, 5, 7, 10,
12, 15, 18. He initialisation with the book's hard-coded fan-ins (1*9, 16*9, 16*9, 32*9,
32*9, 64*9, 64*4*4, hidden_size), drawn with `np.random.randn` in W1..W8 order. `loss` always
runs in training mode (dropout on); `predict(x, train_flg=False)`; as in the book the last
Dropout halves the scores at test time (the argmax is unchanged). `accuracy` evaluates whole
batches only and divides by N. Weights: .npz (see `dlscratch.book.weights`).
"""

import numpy as np

from dlscratch.book import _net, weights
from dlscratch.book.common.layers import (
    Affine,
    Convolution,
    Dropout,
    Pooling,
    Relu,
    SoftmaxWithLoss,
)

WEIGHTED = (0, 2, 5, 7, 10, 12, 15, 18)  # layer index of W1..W8


def _conv(n, s=1, p=1):
    return {"filter_num": n, "filter_size": 3, "pad": p, "stride": s}


class DeepConvNet:
    def __init__(self, input_dim=(1, 28, 28),
                 conv_param_1=_conv(16), conv_param_2=_conv(16),  # noqa: B008 - the book's defaults
                 conv_param_3=_conv(32), conv_param_4=_conv(32, p=2),  # noqa: B008
                 conv_param_5=_conv(64), conv_param_6=_conv(64),  # noqa: B008
                 hidden_size=50, output_size=10):
        pre_node_nums = np.array([1 * 3 * 3, 16 * 3 * 3, 16 * 3 * 3, 32 * 3 * 3, 32 * 3 * 3,
                                  64 * 3 * 3, 64 * 4 * 4, hidden_size])
        weight_init_scales = np.sqrt(2.0 / pre_node_nums)

        self.params = {}
        pre_channel_num = input_dim[0]
        convs = (conv_param_1, conv_param_2, conv_param_3, conv_param_4, conv_param_5,
                 conv_param_6)
        for idx, conv_param in enumerate(convs):
            shape = (conv_param["filter_num"], pre_channel_num, conv_param["filter_size"],
                     conv_param["filter_size"])
            self.params[f"W{idx + 1}"] = _net.randn_weight(weight_init_scales[idx], shape)
            self.params[f"b{idx + 1}"] = np.zeros(conv_param["filter_num"])
            pre_channel_num = conv_param["filter_num"]
        self.params["W7"] = _net.randn_weight(weight_init_scales[6], (64 * 4 * 4, hidden_size))
        self.params["b7"] = np.zeros(hidden_size)
        self.params["W8"] = _net.randn_weight(weight_init_scales[7], (hidden_size, output_size))
        self.params["b8"] = np.zeros(output_size)

        p = self.params
        self.layers = []
        for idx, conv_param in enumerate(convs):
            self.layers.append(Convolution(p[f"W{idx + 1}"], p[f"b{idx + 1}"],
                                           conv_param["stride"], conv_param["pad"]))
            self.layers.append(Relu())
            if idx % 2 == 1:
                self.layers.append(Pooling(pool_h=2, pool_w=2, stride=2))
        self.layers += [Affine(p["W7"], p["b7"]), Relu(), Dropout(0.5),
                        Affine(p["W8"], p["b8"]), Dropout(0.5)]
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x, train_flg=False):
        return _net.forward(self.layers, x, train_flg)

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x, train_flg=True), t)

    def accuracy(self, x, t, batch_size=100):
        return _net.batched_accuracy(lambda tx: self.predict(tx, train_flg=False), x, t,
                                     batch_size)

    def gradient(self, x, t):
        self.loss(x, t)
        _net.backward(self.layers, self.last_layer)
        grads = {}
        for i, layer_idx in enumerate(WEIGHTED):
            grads[f"W{i + 1}"] = self.layers[layer_idx].dW
            grads[f"b{i + 1}"] = self.layers[layer_idx].db
        return grads

    def save_params(self, file_name="params.pkl"):
        """`params` to `file_name` in the current folder, as .npz (`.pkl` -> `.npz`)."""
        weights.save_params(self.params, file_name)

    def load_params(self, file_name="params.pkl"):
        """Replace `params` by the file's arrays and point the layers at them again."""
        for key, val in weights.load_params(file_name).items():
            self.params[key] = val
        for i, layer_idx in enumerate(WEIGHTED):
            _net.link(self.layers[layer_idx], self.params, f"W{i + 1}", f"b{i + 1}")
