"""gradient_check with the textbook floor (1e-8) and with the default scale-aware floor."""

import numpy as np

from dlscratch import TwoLayerNet, gradient_check


def test_textbook_floor_passes_on_a_net_without_zero_gradients():
    net = TwoLayerNet(6, 5, 3, weight_init_std=0.5, dtype=np.float64, seed=1)
    rng = np.random.default_rng(2)
    x, t = rng.standard_normal((4, 6)), np.array([0, 1, 2, 1])
    errors = gradient_check(net, x, t, floor=1e-8, max_entries=None)
    assert set(errors) == {"W1", "b1", "W2", "b2"}
    assert max(errors.values()) < 1e-4


def test_default_floor_is_never_laxer_than_a_real_error():
    net = TwoLayerNet(6, 5, 3, weight_init_std=0.5, dtype=np.float64, seed=1)
    rng = np.random.default_rng(2)
    x, t = rng.standard_normal((4, 6)), np.array([0, 1, 2, 1])
    layer = net.layers["Affine2"]
    original = type(layer).backward

    def broken(self, dout):
        dx = original(self, dout)
        self.dW = self.dW * 1.05
        return dx

    layer.backward = broken.__get__(layer)
    assert gradient_check(net, x, t)["W2"] > 1e-3
