"""DataParallel(net): a batch split into parts run on replicas of the layers. Checked gradients,
the bare network's numbers, when it splits and when not, bit-identical results at any thread
count, the first layer's skipped dL/dx, replicas, errors and attribute forwarding."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import dlscratch
from dlscratch import (
    DataParallel,
    MultiLayerNet,
    MultiLayerNetExtend,
    Sequential,
    SimpleConvNet,
    gradient_check,
    kernels,
)
from dlscratch.kernels import data_parallel, layout
from dlscratch.layers import (
    Affine,
    BatchNormalization,
    Convolution,
    Flatten,
    Layer,
    Pooling,
    Relu,
    Residual,
)

F64 = np.float64


@pytest.fixture
def split_always(monkeypatch):
    """Every call with at least two samples is split, however little work it has."""
    monkeypatch.setattr(data_parallel, "MIN_SPLIT_WORK", 0)


@pytest.fixture
def parts_seen(monkeypatch) -> list:
    """A list that gets the parts of every split call (what DataParallel hands run_chunks)."""
    seen, real = [], data_parallel.run_chunks

    def recording(work, chunks):
        seen.append(list(chunks))
        return real(work, chunks)

    monkeypatch.setattr(data_parallel, "run_chunks", recording)
    return seen


# ---------------------------------------------------------------- networks (float64)


def dense_net():
    return MultiLayerNet(6, [5, 4], 3, activation="sigmoid", weight_init_std=0.8,
                         weight_decay_lambda=0.1, dtype=F64, seed=0)


def conv_net(weight_decay_lambda=0.05):
    net = SimpleConvNet(input_dim=(2, 7, 6), hidden_size=6, output_size=3, weight_init_std=0.4,
                        conv_param={"filter_num": 3, "filter_size": 3, "pad": 1, "stride": 1},
                        dtype=F64, seed=0)
    net.weight_decay_lambda = weight_decay_lambda
    return net


def residual_net():
    rng = np.random.default_rng(5)
    return Sequential([Affine.create(6, 5, 0.6, rng, F64), Relu(),
                       Residual([Affine.create(5, 5, 0.6, rng, F64), Relu()]),
                       Affine.create(5, 3, 0.6, rng, F64)], weight_decay_lambda=0.1)


def strided_conv_net():
    rng = np.random.default_rng(6)
    return Sequential([Convolution(0.5 * rng.standard_normal((3, 2, 3, 3)), np.zeros(3), 2, 1),
                       Relu(), Pooling(3, 3, stride=2, pad=1), Flatten(),
                       Affine(0.5 * rng.standard_normal((12, 3)), 0.1 * np.ones(3))])


def bn_dropout_net():
    return MultiLayerNetExtend(6, [8, 8], 3, use_batchnorm=True, use_dropout=True,
                               dropout_ratio=0.3, dtype=F64, seed=0)


def bn_conv_net():
    rng = np.random.default_rng(7)
    return Sequential([Convolution(0.5 * rng.standard_normal((3, 2, 3, 3)), np.zeros(3), 1, 1),
                       BatchNormalization(rng.uniform(0.5, 1.5, 3), rng.normal(0, 0.1, 3)),
                       Relu(), Pooling(2, 2, stride=2), Flatten(),
                       Affine(0.5 * rng.standard_normal((3 * 3 * 3, 3)), np.zeros(3))])


NETS = {"dense": dense_net, "conv": conv_net, "residual": residual_net,
        "strided-conv": strided_conv_net}


def bn_dense_net():
    return MultiLayerNetExtend(6, [5, 4], 3, use_batchnorm=True, weight_init_std=0.8,
                               weight_decay_lambda=0.1, dtype=F64, seed=0)


BN_NETS = {"bn-conv": bn_conv_net, "bn-dense": bn_dense_net}
INPUT_OF = {"bn-dense": "dense"}  # the data of each batch-norm net
INPUTS = {"dense": (6,), "conv": (2, 7, 6), "residual": (6,), "strided-conv": (2, 7, 5),
          "bn-dropout": (6,), "bn-conv": (2, 7, 6)}


def data(name, n, seed=0, one_hot=False):
    rng = np.random.default_rng(seed)
    x, t = rng.standard_normal((n, *INPUTS[name])), rng.integers(0, 3, n)
    return x, (np.eye(3)[t] if one_hot else t)


def trained(net, name, steps=3):
    """net after a few plain SGD steps (batch norm's running statistics away from 0 and 1)."""
    x, t = data(name, 16, seed=99)
    for _ in range(steps):
        for key, g in net.gradient(x, t).items():
            net.params[key] -= 0.1 * g
    return net


# ---------------------------------------------------------------- gradients


@pytest.mark.parametrize("name", [*NETS, "bn-conv", "bn-dense"])
def test_split_gradient_passes_the_gradient_check(split_always, parts_seen, name):
    # 7 samples: parts of 3 and 4, so the weights 3/7 and 4/7 of the parts matter; batch
    # norm's parts run side by side (no run_chunks), exchanging their sums
    model = DataParallel({**NETS, **BN_NETS}[name]())
    x, t = data(INPUT_OF.get(name, name), 7)
    errors = gradient_check(model, x, t)
    assert model.last_parts == 2
    assert parts_seen == ([] if name in BN_NETS else [[slice(0, 3), slice(3, 7)]])
    assert set(errors) == set(model.net.params)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("one_hot", [False, True])
@pytest.mark.parametrize("name", [*NETS, "bn-conv", "bn-dense"])
def test_split_gradient_equals_the_bare_network(split_always, name, one_hot):
    net = {**NETS, **BN_NETS}[name]()
    model = DataParallel(net)
    x, t = data(INPUT_OF.get(name, name), 9, seed=1, one_hot=one_hot)
    buffers = {k: b.copy() for k, b in net.buffers.items()}
    grads = {k: g.copy() for k, g in model.gradient(x, t).items()}
    assert model.last_parts == 2
    loss = model.last_loss
    assert net.last_loss == loss
    layer_grads = {k: g.copy() for k, g in net.stack.grads.items()}  # dW, db, ... of the layers
    moved = {k: b.copy() for k, b in net.buffers.items()}  # batch norm's running averages
    for key, b in buffers.items():
        net.buffers[key][...] = b
    bare = net.gradient(x, t)
    for key, b in net.buffers.items():
        assert not np.array_equal(b, buffers[key])
        np.testing.assert_allclose(moved[key], b, rtol=1e-12, atol=1e-14, err_msg=key)
    assert loss == pytest.approx(net.last_loss, rel=1e-12)
    assert set(grads) == set(bare) == set(net.params)
    # a bias before batch norm has a zero gradient: rounding noise, measured on the whole scale
    scale = max(np.abs(g).max() for g in bare.values())
    for key in bare:
        np.testing.assert_allclose(grads[key], bare[key], rtol=1e-10, atol=1e-12 * scale,
                                   err_msg=key)
    for key, g in net.stack.grads.items():  # the batch's gradients, without weight decay
        np.testing.assert_allclose(layer_grads[key], g, rtol=1e-10, atol=1e-12 * scale,
                                   err_msg=key)
    if net.weight_decay_lambda:
        W = next(k for k in net.params if k.endswith("W1"))
        np.testing.assert_array_equal(grads[W], layer_grads[W] + net.weight_decay_lambda
                                      * net.params[W])


def test_layers_hold_the_sum_of_the_parts(split_always, monkeypatch):
    net = residual_net()
    model = DataParallel(net)
    x, t = data("residual", 7)
    results, real = [], data_parallel.part_gradient

    def recording(*args):
        result = real(*args)
        results.append((result[0], {k: g.copy() for k, g in result[1].items()}))
        return result

    monkeypatch.setattr(data_parallel, "part_gradient", recording)
    with kernels.threads(1):  # the parts run here, one after the other
        model.gradient(x, t)
    assert len(results) == 2 and model.last_parts == 2
    (loss_a, a), (loss_b, b) = results
    assert model.last_loss == loss_a + loss_b + net.decay_loss()
    for key, layer, attr in net.stack.param_refs:
        np.testing.assert_array_equal(getattr(layer, "d" + attr), a[key] + b[key])


# ---------------------------------------------------------------- split or not


def test_big_batches_are_split_and_small_ones_not():
    # work = samples x (input + every layer's output values per sample), x3 in training
    net = SimpleConvNet(seed=0)  # 784 + 17,280 + 17,280 + 4,320 + 100 + 100 + 10 per image
    model = DataParallel(net)
    x, t = np.zeros((100, 1, 28, 28), np.float32), np.arange(100) % 10
    model.gradient(x, t)  # 100 x 39,874 x 3 = 12.0M
    assert model.last_parts == 2
    model.gradient(x[:16], t[:16])  # 1.9M: under MIN_SPLIT_WORK
    assert model.last_parts == 1
    with kernels.threads(1):  # the parts depend on the batch only
        assert model.parts(x, [slice(0, 100)], True) == [slice(0, 50), slice(50, 100)]
    dense = DataParallel(MultiLayerNetExtend(784, [100] * 5, 10))  # 784 + 1,010 per sample
    assert dense.parts(np.zeros((128, 784), np.float32), [slice(0, 128)], True) is None
    test = np.zeros((10_000, 784), np.float32)  # 17.9M, in chunks of 1000: 20 parts of 500
    chunks = [slice(i, i + 1000) for i in range(0, 10_000, 1000)]
    assert dense.parts(test, chunks, False) == [slice(i, i + 500) for i in range(0, 10_000, 500)]


@pytest.mark.parametrize("case", ["batch-norm-in-a-block", "one-sample", "custom-layer"])
def test_not_split_in_training(split_always, parts_seen, case):
    if case == "batch-norm-in-a-block":  # lockstep handles batch norm at the top level only
        rng = np.random.default_rng(4)
        net, name, n = Sequential([Affine.create(6, 5, 0.6, rng, F64), Residual([
            Affine.create(5, 5, 0.6, rng, F64), BatchNormalization.create(5, dtype=F64)]),
            Affine.create(5, 3, 0.6, rng, F64)]), "dense", 8
    elif case == "one-sample":
        net, name, n = conv_net(), "conv", 1
    else:
        class Double(Layer):  # a layer that does not say its samples are independent
            def forward(self, x, train_flg=True):
                return 2 * x

            def backward(self, dout):
                return 2 * dout

        net, name, n = Sequential([Affine.create(6, 3, 0.5, None, F64), Double()]), "dense", 8
    model = DataParallel(net)
    x, t = data(name, n)
    grads = {k: g.copy() for k, g in model.gradient(x, t).items()}
    assert model.last_parts == 1 and parts_seen == []
    for key, g in net.gradient(x, t).items():
        np.testing.assert_array_equal(grads[key], g, err_msg=key)
    assert model.last_loss == net.last_loss
    if case == "custom-layer":  # nor in inference
        np.testing.assert_array_equal(model.predict(x), net.predict(x))
        assert parts_seen == []


@pytest.mark.parametrize("inverted", [False, True])
def test_dropout_is_split_with_the_masks_of_the_serial_run(split_always, parts_seen, inverted):
    # the masks are drawn for the whole batch before the parts run, from each layer's own
    # generator: the same masks as the bare network's, and the same generator states after
    net = MultiLayerNetExtend(6, [8, 8], 3, use_dropout=True, dropout_ratio=0.4, dtype=F64,
                              seed=0)
    for layer in net.stack.random_layers():
        layer.inverted = inverted
    model, x, t = DataParallel(net), *data("dense", 9, seed=2)
    state = net.get_rng_state()
    grads = {k: g.copy() for k, g in model.gradient(x, t).items()}
    assert model.last_parts == 2 and parts_seen == [[slice(0, 4), slice(4, 9)]]
    after_split, loss = net.get_rng_state(), model.last_loss
    net.set_rng_state(state)
    bare = net.gradient(x, t)
    assert net.get_rng_state() == after_split != state
    assert loss == pytest.approx(net.last_loss, rel=1e-12)
    for key, g in bare.items():
        np.testing.assert_allclose(grads[key], g, rtol=1e-10, atol=1e-12 * np.abs(g).max(),
                                   err_msg=key)
    assert any(not np.all(layer.mask) for layer in net.stack.random_layers())  # some dropped


# ---------------------------------------------------------------- inference


@pytest.mark.parametrize("name", ["conv", "strided-conv", "residual", "bn-dropout", "bn-conv"])
def test_split_inference_equals_the_bare_network(split_always, parts_seen, name):
    # batch norm (running statistics) and dropout (scaling) are per sample in inference
    builders = {**NETS, "bn-dropout": bn_dropout_net, "bn-conv": bn_conv_net}
    net = trained(builders[name](), name)
    model = DataParallel(net)
    x, t = data(name, 11, seed=2)
    scores = model.predict(x)
    assert parts_seen == [[slice(0, 5), slice(5, 11)]]
    np.testing.assert_allclose(scores, net.predict(x), rtol=1e-12, atol=1e-12)
    parts_seen.clear()
    chunked = model.predict(x, batch_size=5)  # chunks 5, 5, 1: all their parts at once
    assert parts_seen == [[slice(0, 2), slice(2, 5), slice(5, 7), slice(7, 10), slice(10, 11)]]
    np.testing.assert_allclose(chunked, net.predict(x, batch_size=5), rtol=1e-12, atol=1e-12)
    assert model.loss(x, t) == pytest.approx(net.loss(x, t), rel=1e-12)
    assert model.accuracy(x, t) == net.accuracy(x, t)
    assert model.accuracy(x, t, batch_size=4) == net.accuracy(x, t, batch_size=4)
    parts_seen.clear()
    state = net.get_rng_state()
    train_scores = model.predict(x, train_flg=True)  # training mode: the bare network
    net.set_rng_state(state)
    np.testing.assert_array_equal(train_scores, net.predict(x, train_flg=True))
    assert parts_seen == []
    for bad in (0, -3, 2.5):
        with pytest.raises(ValueError, match=f"batch_size must be an integer >= 1, got {bad}"):
            model.predict(x, batch_size=bad)


# ---------------------------------------------------------------- threads


@pytest.mark.parametrize("name", ["conv", "residual", "bn-conv"])
def test_parts_and_results_are_the_same_at_any_thread_count(split_always, parts_seen,
                                                            monkeypatch, name):
    monkeypatch.setattr(data_parallel, "PART_WORK", 1)  # 8 parts of 1 or 2 samples
    monkeypatch.setattr(layout, "CHUNK_BYTES", 1)  # and the kernels chunked inside each part
    monkeypatch.setattr(data_parallel, "PROCESSES_IN_TRAINING", False)  # threads here; worker
    # processes (which these patches do not reach): tests/kernels/test_process_pool.py
    builders = {**NETS, "bn-conv": bn_conv_net}
    x, t = data(name, 13, seed=3)
    runs = []
    for count in (1, 2, 3):
        parts_seen.clear()
        net = builders[name]()
        model = DataParallel(net)
        with kernels.threads(count):
            grads = {k: g.copy() for k, g in model.gradient(x, t).items()}
            scores, chunked = model.predict(x), model.predict(x, batch_size=4)
            runs.append((list(parts_seen), model.last_parts, grads, model.last_loss, scores,
                         chunked))
    for parts, last_parts, grads, loss, scores, chunked in runs[1:]:
        assert parts == runs[0][0] and last_parts == runs[0][1]
        assert loss == runs[0][3]
        for key, g in grads.items():
            assert np.array_equal(g, runs[0][2][key]), key
        assert np.array_equal(scores, runs[0][4]) and np.array_equal(chunked, runs[0][5])
    assert runs[0][1] == 8  # batch norm too: its parts in lockstep
    assert len(runs[0][0][-2]) == 8  # predict(x) is split in 8 parts with any network


# ---------------------------------------------------------------- the first layer's dL/dx


def spy_backward(monkeypatch, cls) -> list:
    """A list that gets (layer name, returned dx) for every cls.backward call."""
    seen, real = [], cls.backward

    def spy(self, dout):
        dx = real(self, dout)
        seen.append((self.name, dx))
        return dx

    monkeypatch.setattr(cls, "backward", spy)
    return seen


@pytest.mark.parametrize("split", [True, False])
@pytest.mark.parametrize("name, first", [("conv", Convolution), ("dense", Affine)])
def test_the_first_layer_skips_its_input_gradient(monkeypatch, name, first, split):
    if split:
        monkeypatch.setattr(data_parallel, "MIN_SPLIT_WORK", 0)
    net = NETS[name]()
    first_name = net.stack.layers[0].name
    seen = spy_backward(monkeypatch, first)
    if first is Convolution:
        seen_affine = spy_backward(monkeypatch, Affine)
    x, t = data(name, 7)
    model = DataParallel(net)
    model.gradient(x, t)
    assert model.last_parts == (2 if split else 1)
    firsts = [dx for layer, dx in seen if layer == first_name]
    assert len(firsts) == model.last_parts and all(dx is None for dx in firsts)
    later = [dx for layer, dx in (seen_affine if first is Convolution else seen)
             if layer != first_name]
    assert later and all(isinstance(dx, np.ndarray) for dx in later)
    # the bare network: a real dL/dx, and the stack returns it
    seen.clear()
    net.gradient(x, t)
    (dx,) = [dx for layer, dx in seen if layer == first_name]
    assert isinstance(dx, np.ndarray) and dx.shape == x.shape and np.any(dx)
    net.loss(x, t, train_flg=True)
    stack_dx = net.stack.backward(net.last_layer.backward(1.0))
    np.testing.assert_array_equal(stack_dx, dx)
    assert kernels.input_grad_wanted(net.stack.layers[0])


# ---------------------------------------------------------------- replicas


def test_replicas_share_parameters_not_caches(split_always, monkeypatch):
    net = residual_net()
    model = DataParallel(net)
    x, t = data("residual", 7)
    model.gradient(x, t)  # sizes measured: the replicas below are the parts'
    replicas, real = [], data_parallel.replica

    def recording(stack, **options):
        replicas.append(real(stack, **options))
        return replicas[-1]

    monkeypatch.setattr(data_parallel, "replica", recording)
    with dlscratch.threads(1):  # one thread: one replica runs both parts, one after the other
        model.gradient(x, t)
    outer = [r for r in replicas if len(r.layers) == len(net.stack.layers)]
    assert len(outer) == 1 and model.last_parts == 2
    (a,), originals = outer, net.stack.layers
    for i, layer in enumerate(originals):
        assert a.layers[i] is not layer
    assert a.layers[1].out.shape == (4, 5)  # the last part's output: parts of 3 and 4
    assert a.layers[2].stack is not originals[2].stack
    assert not hasattr(originals[1], "out")  # the network's own layers never ran
    assert not hasattr(originals[2].stack.layers[1], "out")
    # two replicas (as two threads make them) keep their own caches
    b = real(net.stack)
    b.forward(x[:3], True)
    a.forward(x[3:], True)
    assert a.layers[1].out.shape == (4, 5) and b.layers[1].out.shape == (3, 5)
    assert a.layers[2].stack.layers[1] is not b.layers[2].stack.layers[1]
    # parameters: the very same arrays
    for replica_stack in (a, b):
        for (key, p), (key2, q) in zip(replica_stack.params.items(), net.params.items(),
                                       strict=True):
            assert key == key2 and p is q


def test_other_attributes_are_the_networks():
    net = conv_net()
    model = DataParallel(net)
    assert model.net is net
    assert model.config is net.config and model.config["hidden_size"] == 6
    assert model.stack is net.stack and model.last_layer is net.last_layer
    assert list(model.layers) == list(net.layers)
    assert all(model.layers[k] is layer for k, layer in net.layers.items())
    assert all(model.params[k] is p for k, p in net.params.items())
    assert model.weight_decay_lambda == net.weight_decay_lambda
    assert model.dtype == np.float64
    with pytest.raises(AttributeError):
        _ = model.no_such_attribute
    twin = copy.copy(model)  # no endless __getattr__ on an instance without `net`
    assert twin.net is net
