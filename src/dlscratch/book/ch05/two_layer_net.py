"""The book's `ch05/two_layer_net.py`: Affine1 -> Relu1 -> Affine2 -> SoftmaxWithLoss.

    net = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    grad = net.gradient(x, t)            # backprop: W1, b1, W2, b2
    grad = net.numerical_gradient(x, t)  # central differences, the same keys

float64 weights `weight_init_std * np.random.randn(...)` (W1 then W2, NumPy's global random
state), zero biases. `layers` is the book's OrderedDict; the last layer is `lastLayer`.
"""

from collections import OrderedDict

from dlscratch.book import _net
from dlscratch.book.common.layers import Affine, Relu, SoftmaxWithLoss


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = _net.two_layer_params(input_size, hidden_size, output_size,
                                            weight_init_std)

        self.layers = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
        self.layers["Relu1"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        """Raw scores (N, output_size)."""
        return _net.forward(self.layers, x)

    def loss(self, x, t):
        """Cross-entropy of softmax(scores); t one-hot (N, K) or indices (N,)."""
        return self.lastLayer.forward(self.predict(x), t)

    def accuracy(self, x, t):
        return _net.accuracy(self.predict(x), t)

    def numerical_gradient(self, x, t):
        return _net.numerical_gradients(lambda: self.loss(x, t), self.params,
                                        ("W1", "b1", "W2", "b2"))

    def gradient(self, x, t):
        self.loss(x, t)
        _net.backward(self.layers, self.lastLayer)
        return {"W1": self.layers["Affine1"].dW, "b1": self.layers["Affine1"].db,
                "W2": self.layers["Affine2"].dW, "b2": self.layers["Affine2"].db}
