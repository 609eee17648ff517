"""The switch between the fast kernels and their reference twins: `kernels.use`, its context
manager form, $DLSCRATCH_KERNELS, and whole networks trained and checked on the twins."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from dlscratch import DeepConvNet, Sequential, SimpleConvNet, gradient_check, kernels
from dlscratch.kernels import fast, reference
from dlscratch.layers import Affine, BatchNormalization, Convolution, Flatten, Pooling, Relu

from ._helpers import assert_twins

SPIED = ("bn_input_grad", "bn_scale", "conv2d", "conv2d_backward", "max_pool2d",
         "max_pool2d_backward", "relu", "sum_rows")


@pytest.fixture(autouse=True)
def fast_by_default(monkeypatch):
    """Every test starts on the default choice ('fast', no $DLSCRATCH_KERNELS) and the choice
    in force before it is restored afterwards."""
    monkeypatch.delenv("DLSCRATCH_KERNELS", raising=False)
    monkeypatch.setitem(kernels._active, "name", None)


@pytest.fixture
def calls(monkeypatch) -> list:
    """A list that gets ('fast' or 'reference', kernel name) for every kernel call."""
    seen = []
    for label, module in (("fast", fast), ("reference", reference)):
        for name in SPIED:
            real = getattr(module, name)

            def spy(*args, _real=real, _key=(label, name), **kwargs):
                seen.append(_key)
                return _real(*args, **kwargs)

            monkeypatch.setattr(module, name, spy)
    real_pool_backward = reference.PoolCache.backward  # what kernels.max_pool2d_backward calls

    def pool_backward(cache, dout):
        seen.append(("reference", "max_pool2d_backward"))
        return real_pool_backward(cache, dout)

    monkeypatch.setattr(reference.PoolCache, "backward", pool_backward)
    return seen


def run_layers():
    """Conv -> ReLU -> BatchNorm (per channel) -> Pool, forward and backward, float64."""
    rng = np.random.default_rng(0)
    conv = Convolution(rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3), 1, 1)
    relu, pool = Relu(), Pooling(3, 3, stride=2, pad=1)
    bn = BatchNormalization.create(3, dtype=np.float64)
    layers = [conv, relu, bn, pool]
    out = rng.standard_normal((4, 2, 7, 5))
    for layer in layers:
        out = layer.forward(out)
    dx = rng.standard_normal(out.shape)
    for layer in reversed(layers):
        dx = layer.backward(dx)
    return out, dx, conv.dW, conv.db, bn.dgamma, bn.dbeta


def test_fast_is_the_default():
    assert kernels.in_use() == "fast"


@pytest.mark.parametrize("form", ["call", "context manager"])
def test_use_reference_makes_the_layers_call_the_twins(calls, form):
    fast_results = run_layers()
    assert set(calls) == {("fast", name) for name in SPIED}
    calls.clear()
    if form == "call":
        kernels.use("reference")
        results = run_layers()
    else:
        with kernels.use("reference"):
            results = run_layers()
        assert kernels.in_use() == "fast"
    assert set(calls) == {("reference", name) for name in SPIED}
    for got, want in zip(results, fast_results, strict=True):
        assert_twins(want, got)


def test_context_manager_restores_nested_and_after_an_error():
    with kernels.use("reference"):
        assert kernels.in_use() == "reference"
        with kernels.use("fast"):
            assert kernels.in_use() == "fast"
        assert kernels.in_use() == "reference"
    assert kernels.in_use() == "fast"
    with pytest.raises(RuntimeError, match="boom"), kernels.use("reference"):
        raise RuntimeError("boom")
    assert kernels.in_use() == "fast"


def test_pool_backward_follows_the_forward_not_the_switch():
    # A cache made by one implementation is read by that implementation's backward.
    rng = np.random.default_rng(1)
    x, dout = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((2, 3, 3, 3))
    _, cache = kernels.max_pool2d(x, 2, 2, 2, 0)
    with kernels.use("reference"):
        dx = kernels.max_pool2d_backward(dout, cache)
        _, ref_cache = kernels.max_pool2d(x, 2, 2, 2, 0)
    assert isinstance(ref_cache, reference.PoolCache)
    np.testing.assert_array_equal(dx, kernels.max_pool2d_backward(dout, ref_cache))


@pytest.mark.parametrize("bad", ["slow", "Reference", "", None, 1])
def test_use_rejects_unknown_names(bad):
    with pytest.raises(ValueError, match=rf"kernels must be one of \['fast', 'reference'\], "
                                         rf"got {re.escape(repr(bad))}"):
        kernels.use(bad)
    assert kernels.in_use() == "fast"


@pytest.mark.parametrize("value, expected", [
    ("reference", "reference"), (" Reference ", "reference"), ("fast", "fast"), ("", "fast")])
def test_environment_variable_chooses(monkeypatch, value, expected):
    monkeypatch.setenv("DLSCRATCH_KERNELS", value)
    assert kernels.in_use() == expected


def test_bad_environment_variable_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("DLSCRATCH_KERNELS", "turbo")
    with pytest.raises(ValueError, match=r"DLSCRATCH_KERNELS must be one of .*got 'turbo'"):
        kernels.in_use()
    code = "import numpy as np, dlscratch; dlscratch.Relu().forward(np.ones(3))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "DLSCRATCH_KERNELS": "turbo"}, timeout=120)
    assert done.returncode != 0
    assert "DLSCRATCH_KERNELS must be one of ['fast', 'reference'], got 'turbo'" in done.stderr


TRAIN = """
import sys
import numpy as np
from dlscratch import SGD, SimpleConvNet, kernels

net = SimpleConvNet(input_dim=(1, 9, 9), hidden_size=10, output_size=3, weight_init_std=0.3,
                    conv_param={"filter_num": 4, "filter_size": 3, "pad": 1, "stride": 1},
                    dtype=np.float64, seed=0)
rng = np.random.default_rng(0)
x, t = rng.standard_normal((8, 1, 9, 9)), rng.integers(0, 3, 8)
optimizer = SGD(lr=0.1)
for _ in range(5):
    optimizer.update(net.params, net.gradient(x, t))
np.savez(sys.argv[1], kernels=kernels.in_use(), loss=net.last_loss, **net.params)
"""


def test_training_on_the_twins_gives_the_fast_weights(tmp_path):
    results = {}
    for name in ("reference", "fast"):
        path = tmp_path / f"{name}.npz"
        done = subprocess.run([sys.executable, "-c", TRAIN, str(path)], capture_output=True,
                              text=True, env={**os.environ, "DLSCRATCH_KERNELS": name},
                              timeout=120)
        assert done.returncode == 0, done.stderr
        with np.load(path) as saved:
            results[name] = dict(saved)
    ref, fst = results["reference"], results["fast"]
    assert str(ref["kernels"]) == "reference" and str(fst["kernels"]) == "fast"
    start = SimpleConvNet(input_dim=(1, 9, 9), hidden_size=10, output_size=3,
                          weight_init_std=0.3, conv_param={"filter_num": 4, "filter_size": 3,
                                                           "pad": 1, "stride": 1},
                          dtype=np.float64, seed=0).params
    assert list(start) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    for key, initial in start.items():
        assert not np.allclose(ref[key], initial), f"{key} did not train"
        scale = np.abs(ref[key]).max()
        assert np.abs(fst[key] - ref[key]).max() <= 1e-9 * scale, key
    assert float(fst["loss"]) == pytest.approx(float(ref["loss"]), rel=1e-9)


def bn_conv_net(rng):
    return Sequential([
        Convolution(0.5 * rng.standard_normal((3, 2, 3, 3)), np.zeros(3), 2, 1), Relu(),
        BatchNormalization(rng.uniform(0.5, 1.5, 3), rng.normal(0, 0.1, 3)),
        Pooling(2, 2, stride=1), Flatten(), Affine(0.5 * rng.standard_normal((3 * 3 * 2, 4)),
                                                   np.zeros(4)),
    ])


@pytest.mark.parametrize("which", ["SimpleConvNet", "DeepConvNet", "conv-batchnorm"])
def test_gradient_check_on_the_twins(calls, which):
    rng = np.random.default_rng(5)
    if which == "SimpleConvNet":
        net = SimpleConvNet(input_dim=(1, 9, 7), hidden_size=6, output_size=3,
                            conv_param={"filter_num": 3, "filter_size": 3, "pad": 1, "stride": 1},
                            weight_init_std="he", dtype=np.float64, seed=5)
        x, max_entries, tol = rng.standard_normal((3, 1, 9, 7)), 40, 1e-5
    elif which == "DeepConvNet":  # every conv, pad 2 included, three pools, two dropouts
        net = DeepConvNet(input_dim=(1, 12, 12), hidden_size=8, output_size=3,
                          dtype=np.float64, seed=5)
        x, max_entries, tol = rng.random((2, 1, 12, 12)), 6, 1e-4
    else:
        net = bn_conv_net(rng)
        x, max_entries, tol = rng.standard_normal((4, 2, 7, 5)), 40, 1e-5
    t = rng.integers(0, 3, len(x))
    with kernels.use("reference"):
        errors = gradient_check(net, x, t, max_entries=max_entries)
    assert set(errors) == set(net.params)
    assert max(errors.values()) < tol, errors
    assert calls and {label for label, _ in calls} == {"reference"}
