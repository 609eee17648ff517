"""The book's `ch04/two_layer_net.py`: a sigmoid network whose `predict` returns probabilities.

    net = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    y = net.predict(x)                   # softmax(sigmoid(x W1 + b1) W2 + b2): rows sum to 1
    grad = net.gradient(x, t)            # t one-hot: W1, b1, W2, b2

Only attribute: `params` (float64, `weight_init_std * np.random.randn`, W1 then W2). The
book writes the backward pass out by hand; here it runs through dlscratch's Affine and Sigmoid
layers, from the book's dy = (y - t) / N. As in the book, `accuracy` argmaxes t, so it needs
one-hot labels, and the loss is `cross_entropy_error(predict(x), t)` (1e-7 inside the log).
`from two_layer_net import *` gives `np` and common.functions, as the book's module does.
"""

from dlscratch.book import _net
from dlscratch.book.common.functions import *  # noqa: F403 - the book's star import
from dlscratch.book.common.functions import cross_entropy_error, np, softmax
from dlscratch.book.common.layers import Affine, Sigmoid


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = _net.two_layer_params(input_size, hidden_size, output_size,
                                            weight_init_std)

    def _layers(self):
        """Layers over the current params (read on every call: params may be reassigned)."""
        p = self.params
        return [Affine(p["W1"], p["b1"]), Sigmoid(), Affine(p["W2"], p["b2"])]

    def predict(self, x):
        return softmax(_net.forward(self._layers(), x))

    def loss(self, x, t):
        return cross_entropy_error(self.predict(x), t)

    def accuracy(self, x, t):
        y = np.argmax(self.predict(x), axis=1)
        t = np.argmax(t, axis=1)
        return np.sum(y == t) / float(x.shape[0])

    def numerical_gradient(self, x, t):
        return _net.numerical_gradients(lambda: self.loss(x, t), self.params,
                                        ("W1", "b1", "W2", "b2"))

    def gradient(self, x, t):
        layers = self._layers()
        y = softmax(_net.forward(layers, x))
        dy = (y - t) / x.shape[0]
        for layer in reversed(layers):
            dy = layer.backward(dy)
        return {"W1": layers[0].dW, "b1": layers[0].db, "W2": layers[2].dW, "b2": layers[2].db}
