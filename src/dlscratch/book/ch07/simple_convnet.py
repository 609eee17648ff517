"""The book's `ch07/simple_convnet.py`: Conv1 -> Relu1 -> Pool1 -> Affine1 -> Relu2 -> Affine2.

    net = SimpleConvNet(input_dim=(1, 28, 28),
                        conv_param={'filter_num': 30, 'filter_size': 5, 'pad': 0, 'stride': 1},
                        hidden_size=100, output_size=10, weight_init_std=0.01)

float64 weights `weight_init_std * np.random.randn(...)` in W1, W2, W3 order (NumPy's global
random state). Sizes as the book computes them: conv_out = (H - FH + 2*pad) / stride + 1 (true
division, the height only), pool_out = int(FN * (conv_out/2)**2): 4320 by default.
As in the book, `accuracy` evaluates only whole batches of `batch_size` yet divides by N.
`save_params` / `load_params` use .npz files (see `dlscratch.book.weights`).
"""

from collections import OrderedDict

import numpy as np

from dlscratch.book import _net, weights
from dlscratch.book.common.layers import Affine, Convolution, Pooling, Relu, SoftmaxWithLoss

LINKS = {"Conv1": ("W1", "b1"), "Affine1": ("W2", "b2"), "Affine2": ("W3", "b3")}


class SimpleConvNet:
    def __init__(self, input_dim=(1, 28, 28),
                 conv_param={"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1},  # noqa: B006 - the book's default
                 hidden_size=100, output_size=10, weight_init_std=0.01):
        filter_num = conv_param["filter_num"]
        filter_size = conv_param["filter_size"]
        filter_pad = conv_param["pad"]
        filter_stride = conv_param["stride"]
        input_size = input_dim[1]
        conv_output_size = (input_size - filter_size + 2 * filter_pad) / filter_stride + 1
        pool_output_size = int(filter_num * (conv_output_size / 2) * (conv_output_size / 2))

        std = weight_init_std
        self.params = {}
        self.params["W1"] = _net.randn_weight(
            std, (filter_num, input_dim[0], filter_size, filter_size))
        self.params["b1"] = np.zeros(filter_num)
        self.params["W2"] = _net.randn_weight(std, (pool_output_size, hidden_size))
        self.params["b2"] = np.zeros(hidden_size)
        self.params["W3"] = _net.randn_weight(std, (hidden_size, output_size))
        self.params["b3"] = np.zeros(output_size)

        self.layers = OrderedDict()
        self.layers["Conv1"] = Convolution(self.params["W1"], self.params["b1"],
                                           conv_param["stride"], conv_param["pad"])
        self.layers["Relu1"] = Relu()
        self.layers["Pool1"] = Pooling(pool_h=2, pool_w=2, stride=2)
        self.layers["Affine1"] = Affine(self.params["W2"], self.params["b2"])
        self.layers["Relu2"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W3"], self.params["b3"])
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        return _net.forward(self.layers, x)

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t)

    def accuracy(self, x, t, batch_size=100):
        return _net.batched_accuracy(self.predict, x, t, batch_size)

    def numerical_gradient(self, x, t):
        return _net.numerical_gradients(lambda: self.loss(x, t), self.params,
                                        ("W1", "b1", "W2", "b2", "W3", "b3"))

    def gradient(self, x, t):
        self.loss(x, t)
        _net.backward(self.layers, self.last_layer)
        grads = {}
        for name, (w, b) in LINKS.items():
            grads[w], grads[b] = self.layers[name].dW, self.layers[name].db
        return grads

    def save_params(self, file_name="params.pkl"):
        """`params` to `file_name` in the current folder, as .npz (`params.pkl` ->
        `params.npz`)."""
        weights.save_params(self.params, file_name)

    def load_params(self, file_name="params.pkl"):
        """Replace `params` by the file's arrays and point the layers at them again."""
        for key, val in weights.load_params(file_name).items():
            self.params[key] = val
        for name, (w, b) in LINKS.items():
            _net.link(self.layers[name], self.params, w, b)
