"""The inception block (GoogLeNet): float64 gradient check, channel bookkeeping, save/load."""

from __future__ import annotations

import numpy as np
import pytest

import dlscratch
from dlscratch.errors import ModelFileError
from dlscratch.layers import Affine, Convolution, Flatten, Inception, Pooling, Relu
from dlscratch.nets import Sequential

from ._helpers import distinct_values, layer_gradient_errors

TOL = 1e-6


def _block(rng, c=3, reduce=0):
    return Inception.create(c, c1=2, c3=3, c5=1, pool_proj=2, reduce3=reduce, reduce5=reduce,
                            weight_init_std=0.5, rng=rng, dtype=np.float64)


@pytest.mark.parametrize("reduce", [0, 2])
def test_inception_gradient_float64(reduce):
    rng = np.random.default_rng(800 + reduce)
    block = _block(rng, reduce=reduce)
    for p in block.params.values():  # non-zero biases, so every path is exercised
        p[...] = rng.normal(size=p.shape)
    x = distinct_values(rng, (2, 3, 5, 6))  # no max-pool ties
    errors = layer_gradient_errors(block, x, rng)
    assert set(errors) == {"x", *block.params}
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("shape", [(1, 3, 4, 4), (2, 3, 7, 5)])
def test_inception_out_channels_are_the_sum_of_its_branches(shape):
    rng = np.random.default_rng(801)
    block = _block(rng)
    x = rng.normal(size=shape)
    out = block.forward(x)
    branch_channels = []
    for branch in block.branches:
        y = x
        for layer in branch:
            y = layer.forward(y)
        branch_channels.append(y.shape[1])
    assert out.shape == (shape[0], sum(branch_channels), *shape[2:])
    assert block.out_channels == sum(branch_channels) == out.shape[1]


def test_inception_output_is_the_branches_concatenated():
    rng = np.random.default_rng(802)
    convs = [Convolution(rng.normal(size=(k, 2, s, s)), rng.normal(size=k), pad=s // 2)
             for k, s in ((2, 1), (3, 3))]
    block = Inception([[convs[0]], [Pooling(3, 3, stride=1, pad=1), convs[1]]])
    x = rng.normal(size=(2, 2, 4, 4))
    pooled = Pooling(3, 3, stride=1, pad=1).forward(x)
    expected = np.concatenate([convs[0].forward(x), convs[1].forward(pooled)], axis=1)
    np.testing.assert_allclose(block.forward(x), expected, rtol=1e-12)


def test_inception_parameters_are_named_inside_a_network():
    rng = np.random.default_rng(803)
    net = Sequential([_block(rng, reduce=2), Relu(), Flatten(), Affine.create(8 * 16, 3)])
    convs = 1 + 2 + 2 + 1  # 1x1; reduce + 3x3; reduce + 5x5; pool's 1x1
    assert [k for k in net.params if k.startswith("Inception1.W")] == [
        f"Inception1.W{i}" for i in range(1, convs + 1)]


def test_inception_save_load_round_trip(tmp_path):
    rng = np.random.default_rng(804)
    net = Sequential([_block(rng, c=1, reduce=2), Relu(), Pooling(2, 2), Flatten(),
                      Affine.create(8 * 2 * 2, 3, rng=rng)])
    x = rng.normal(size=(4, 1, 4, 4)).astype(np.float32)
    t = np.array([0, 1, 2, 1])
    dlscratch.optim.SGD(lr=0.1).update(net.params, net.gradient(x, t))
    loaded = dlscratch.load(dlscratch.save(net, tmp_path / "inception.npz"))
    assert list(loaded.params) == list(net.params)
    for key, value in net.params.items():
        np.testing.assert_array_equal(loaded.params[key], value, err_msg=key)
    np.testing.assert_array_equal(loaded.predict(x), net.predict(x))


def test_inception_model_file_with_an_empty_branch_is_refused(tmp_path):
    import json
    import zipfile

    rng = np.random.default_rng(805)
    net = Sequential([_block(rng, c=1), Flatten(), Affine.create(8 * 4 * 4, 2, rng=rng)])
    path = dlscratch.save(net, tmp_path / "m.npz")
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    arch = json.loads(str(arrays.pop("__architecture__")))
    arch["layers"][0]["config"]["branches"][1] = []
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays, __architecture__=np.array(json.dumps(arch)))
    assert zipfile.is_zipfile(bad)
    with pytest.raises(ModelFileError, match="branches.*at least one branch and a layer in each"):
        dlscratch.load(bad)


def test_inception_errors():
    rng = np.random.default_rng(806)
    with pytest.raises(ValueError, match=r"Inception: needs at least one branch.*\[1, 0\]"):
        Inception([[Relu()], []])
    with pytest.raises(ValueError, match=r"Inception: needs at least one branch.*\[\]"):
        Inception([])
    block = Inception([[Convolution(rng.normal(size=(2, 1, 3, 3)), np.zeros(2))],
                       [Convolution(rng.normal(size=(2, 1, 1, 1)), np.zeros(2))]])
    with pytest.raises(ValueError, match=r"Inception: every branch must give the same"):
        block.forward(rng.normal(size=(1, 1, 5, 5)))
    with pytest.raises(ValueError, match="a convolution in every branch"):
        _ = Inception([[Relu()]]).out_channels
