"""Weight initialisation (chapter 6): std by scheme, fan-in, and why He matters for ReLU."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlscratch.init import fan_in, init_std, init_weight
from dlscratch.layers import Affine, Convolution


@pytest.mark.parametrize("n", [1, 50, 100, 784])
def test_init_std_schemes(n):
    assert init_std("xavier", n) == pytest.approx(1 / math.sqrt(n), rel=1e-15)
    assert init_std("sigmoid", n) == pytest.approx(1 / math.sqrt(n), rel=1e-15)
    assert init_std("he", n) == pytest.approx(math.sqrt(2 / n), rel=1e-15)
    assert init_std("relu", n) == pytest.approx(math.sqrt(2 / n), rel=1e-15)
    assert init_std("He", n) == pytest.approx(math.sqrt(2 / n), rel=1e-15)


def test_init_std_numbers_pass_through():
    assert init_std(0.01, 100) == 0.01
    assert init_std(1, 5) == 1.0
    assert init_std(0, 5) == 0.0


@pytest.mark.parametrize("bad", ["glorot", "", "kaiming"])
def test_init_std_bad_name(bad):
    with pytest.raises(ValueError, match=f"unknown weight init '{bad}'"):
        init_std(bad, 10)


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_init_std_bad_number(bad):
    with pytest.raises(ValueError, match=r"finite number >= 0, got " + repr(bad)):
        init_std(bad, 10)


def test_fan_in():
    assert fan_in((784, 50)) == 784
    assert fan_in((16, 3, 5, 7)) == 3 * 5 * 7
    assert fan_in((8, 1, 3, 3)) == 9


def test_init_weight_shape_dtype_and_std():
    rng = np.random.default_rng(0)
    w = init_weight((400, 300), "he", rng)
    assert w.shape == (400, 300)
    assert w.dtype == np.float32  # the default everywhere
    assert w.std() == pytest.approx(math.sqrt(2 / 400), rel=0.02)
    assert abs(w.mean()) < 5 * math.sqrt(2 / 400) / math.sqrt(w.size)
    w64 = init_weight((3, 4), 0.01, rng, dtype=np.float64)
    assert w64.dtype == np.float64


def test_init_weight_is_repeatable_with_a_seed():
    a = init_weight((5, 6), "xavier", np.random.default_rng(7))
    b = init_weight((5, 6), "xavier", np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


def test_conv_weights_use_channel_times_kernel_fan_in():
    rng = np.random.default_rng(1)
    conv = Convolution.create(16, 64, 3, weight_init_std="he", rng=rng)
    assert conv.W.shape == (64, 16, 3, 3)
    assert conv.W.std() == pytest.approx(math.sqrt(2 / (16 * 9)), rel=0.05)
    np.testing.assert_array_equal(conv.b, np.zeros(64))
    affine = Affine.create(500, 200, weight_init_std="xavier", rng=rng)
    assert affine.W.std() == pytest.approx(1 / math.sqrt(500), rel=0.05)
    np.testing.assert_array_equal(affine.b, np.zeros(200))


def _relu_activation_stds(weight_init_std, seed=0):
    """Std of each of 5 hidden ReLU layers of 100 units, for 1000 random inputs (the book's
    experiment), with weights from init_weight."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((1000, 100))
    stds = []
    for _ in range(5):
        w = init_weight((100, 100), weight_init_std, rng, dtype=np.float64)
        a = np.maximum(a @ w, 0)
        stds.append(float(a.std()))
    return stds


def test_he_keeps_relu_activations_alive():
    stds = _relu_activation_stds("he")
    assert stds[4] > 0.1 * stds[0]
    assert stds[4] > 0.1  # inputs have std 1; He keeps the scale of order 1


def test_small_constant_std_makes_activations_vanish():
    stds = _relu_activation_stds(0.01)
    # Each layer scales the std by about sqrt(100 * 0.01**2 / 2) ~ 0.07.
    assert stds[4] < 1e-5
    assert stds[4] < 1e-3 * stds[0]
