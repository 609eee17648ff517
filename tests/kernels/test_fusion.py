"""Relu -> Pooling run as one `PooledRelu` in the replicas of data parallelism: the same
outputs and gradients bit for bit (ties, all-negative windows, overlapping and padded windows,
both kernel implementations), a central-difference check, and which pairs a replica fuses."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from dlscratch import DeepConvNet, SimpleConvNet, gradient_check, kernels, numerical_gradient
from dlscratch.kernels.replicas import PooledRelu, replica
from dlscratch.layers import (
    Affine,
    Convolution,
    Flatten,
    LayerStack,
    Pooling,
    Relu,
    Residual,
)

WINDOWS = [(2, 2, 2, 0), (3, 3, 2, 1), (3, 2, 1, 0), (2, 2, 2, 1)]  # pool_h, pool_w, stride, pad


def awkward_input(shape, dtype, seed):
    """Gaussian values with exact ties: whole windows of zeros, of one negative value, and
    repeated maxima, as convolutions over blank image borders make them."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    x[:, :, :3, :3] = 0.0
    x[:, :, -3:, :2] = -0.5
    x[:, :, 3:5, 3:5] = 1.25
    x.flat[::11] = 0.0
    return x


def channels_last(a):
    """a's values (N, C, H, W) in channels-last memory, as a convolution leaves them."""
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def relu_then_pool(window, x, dout, train_flg):
    relu, pool = Relu(), Pooling(*window[:2], stride=window[2], pad=window[3])
    out = pool.forward(relu.forward(x, train_flg), train_flg)
    return out, (relu.backward(pool.backward(dout)) if dout is not None else None)


def pooled_relu(window, x, dout, train_flg):
    fused = PooledRelu(Relu(), Pooling(*window[:2], stride=window[2], pad=window[3]))
    out = fused.forward(x, train_flg)
    return out, (fused.backward(dout) if dout is not None else None)


@pytest.mark.parametrize("implementation", ["fast", "reference"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("window", WINDOWS)
def test_the_same_outputs_and_gradients_bit_for_bit(window, dtype, implementation):
    x = awkward_input((3, 4, 9, 8), dtype, seed=window[0] * 10 + window[2])
    with kernels.use(implementation):
        expected_out, _ = relu_then_pool(window, x, None, True)
        dout = np.random.default_rng(5).standard_normal(expected_out.shape).astype(dtype)
        # dout laid out channels-first (from an Affine) or channels-last (from a convolution)
        for train_flg, given in ((True, dout), (True, channels_last(dout)), (False, None)):
            expected = relu_then_pool(window, x, given, train_flg)
            got = pooled_relu(window, x, given, train_flg)
            np.testing.assert_array_equal(got[0], expected[0])
            assert got[0].dtype == expected[0].dtype == dtype
            if train_flg:
                np.testing.assert_array_equal(got[1], expected[1])
                assert got[1].shape == x.shape
    # the ties are there: windows with all values <= 0 and windows with a repeated maximum
    assert (expected_out == 0).any()


def test_the_gradient_passes_the_central_difference_check():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 6, 6))  # continuous values: no ties
    weights = rng.standard_normal((2, 3, 3, 3))
    fused = PooledRelu(Relu(), Pooling(2, 2, stride=2))

    def loss(x_):
        return float(np.sum(fused.forward(x_, True) * weights))

    fused.forward(x, True)
    analytic = fused.backward(weights)
    numeric = numerical_gradient(loss, x, h=1e-6)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)
    assert np.count_nonzero(analytic) > 0


def kinds(stack):
    return [type(layer).__name__ for layer in stack.layers]


def test_replicas_fuse_every_top_level_relu_before_a_pooling():
    for net, fused_count in ((SimpleConvNet(seed=0), 1), (DeepConvNet(seed=0), 3)):
        plain, fused = replica(net.stack), replica(net.stack, fuse=True)
        assert kinds(plain) == kinds(net.stack)
        assert kinds(fused).count("PooledRelu") == fused_count
        assert len(fused.layers) == len(net.stack.layers) - fused_count
        assert "Pooling" not in kinds(fused)  # every pooling of these nets follows a ReLU
        # parameters shared, names kept, the network's own layers untouched
        assert fused.param_refs and [k for k, _, _ in fused.param_refs] == list(net.params)
        for key, p in fused.params.items():
            assert p is net.params[key]
        names = [layer.name for layer in net.stack.layers]
        assert [layer.name for layer in plain.layers] == names
        for layer in fused.layers:
            if isinstance(layer, PooledRelu):
                assert (layer.relu.name in names and layer.pool.name in names
                        and layer.name == f"{layer.relu.name}+{layer.pool.name}")
                assert all(layer.relu is not original and layer.pool is not original
                           for original in net.stack.layers)
            else:
                assert layer.name in names


def test_only_a_relu_directly_before_a_pooling_is_fused():
    rng = np.random.default_rng(0)
    conv = Convolution(rng.standard_normal((2, 1, 3, 3)), np.zeros(2), 1, 1)
    inner = [Relu(), Pooling(2, 2, stride=2)]
    stack = LayerStack([copy.copy(conv), Pooling(2, 2, stride=2), Relu(), Relu(),
                        Pooling(2, 2, stride=2), Residual(inner), Flatten(),
                        Affine(rng.standard_normal((2, 3)), np.zeros(3)), Relu()])
    fused = replica(stack, fuse=True)
    assert kinds(fused) == ["Convolution", "Pooling", "Relu", "PooledRelu", "Residual",
                            "Flatten", "Affine", "Relu"]
    assert kinds(fused.layers[4].stack) == ["Relu", "Pooling"]  # inside a block: unchanged


def test_a_split_simple_conv_net_gradient_is_checked_with_the_fused_replicas(monkeypatch):
    # The Trainer's path: DataParallel runs the parts on fused replicas; the gradient still
    # matches central differences.
    from dlscratch.kernels import data_parallel

    monkeypatch.setattr(data_parallel, "MIN_SPLIT_WORK", 0)
    net = SimpleConvNet(input_dim=(1, 6, 6), hidden_size=5, output_size=3, weight_init_std=0.5,
                        conv_param={"filter_num": 2, "filter_size": 3, "pad": 1, "stride": 1},
                        dtype=np.float64, seed=1)
    model = data_parallel.DataParallel(net)
    rng = np.random.default_rng(2)
    x, t = rng.standard_normal((6, 1, 6, 6)), rng.integers(0, 3, 6)
    seen = []
    real = data_parallel.replica

    def recording(stack, **options):
        seen.append(real(stack, **options))
        return seen[-1]

    monkeypatch.setattr(data_parallel, "replica", recording)
    with kernels.threads(1):
        errors = gradient_check(model, x, t)
    assert model.last_parts == 2
    assert any("PooledRelu" in kinds(s) for s in seen)
    assert max(errors.values()) < 1e-6, errors
