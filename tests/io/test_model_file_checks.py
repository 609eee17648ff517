"""dlscratch.load checks the architecture record as data from a stranger: every refusal, with
its message naming the file and the field (io.arch_check, io.serialize)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from dlscratch import (
    DeepConvNet,
    ModelFileError,
    MultiLayerNet,
    MultiLayerNetExtend,
    Sequential,
    SimpleConvNet,
    TwoLayerNet,
    load,
)
from dlscratch.io.arch_check import check_course_config
from dlscratch.io.fields import Fields
from dlscratch.io.serialize import architecture, state_arrays
from dlscratch.layers import (
    LAYER_TYPES,
    Affine,
    BatchNormalization,
    Convolution,
    Dropout,
    Flatten,
    Layer,
    Pooling,
    Relu,
    Residual,
)


def two_layer():
    return TwoLayerNet(4, 5, 3, seed=0)


def hand_built():
    """Conv, BN, Relu, Pool, Flatten, Dropout, Affine, Residual: layers[0] ... layers[7]."""
    rng = np.random.default_rng(0)
    return Sequential([Convolution.create(1, 2, 3, pad=1, rng=rng), BatchNormalization.create(2),
                       Relu(), Pooling(2, 2, stride=2), Flatten(), Dropout(0.5),
                       Affine.create(8, 3, rng=rng), Residual([Affine.create(3, 3, rng=rng),
                                                               Relu()])])


def forge(tmp_path, net, change=None, arrays_change=None):
    """The model file of `net` with its architecture (and arrays) changed by the functions."""
    arch, arrays = architecture(net), {k: v.copy() for k, v in state_arrays(net).items()}
    if change is not None:
        arch = change(arch) or arch
    if arrays_change is not None:
        arrays_change(arrays)
    path = tmp_path / "m.npz"
    np.savez(path, **arrays, __architecture__=np.array(json.dumps(arch)))
    return path


def refused(path, text, field):
    with pytest.raises(ModelFileError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and text in message, message
    assert info.value.field == field and field in message and "\n" not in message
    assert info.value.path == str(path)


def put(path_, value):
    """A change setting arch[a][b]... = value (path_ like "layers.0.params.W")."""
    def change(arch):
        *parents, last = [int(p) if p.isdigit() else p for p in path_.split(".")]
        node = arch
        for p in parents:
            node = node[p]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return change


DELETE = object()
TOP = [
    (lambda a: [a], "the architecture record must be a JSON object, got a list", "architecture"),
    (put("format", "other"), "not a dlscratch model file (format 'other')", "format"),
    (put("version", "1"), "model format version '1' is not supported (this dlscratch reads "
                          "version 1)", "version"),
    (put("extra", 1), "the architecture record has unknown key 'extra' (expected keys: config, "
                      "dtype, format", "architecture"),
    (put("layers", DELETE), "architecture field layers is missing", "layers"),
    (put("model", 3), "architecture field model must be a class name, got 3", "model"),
    (put("model", "a\nb"), "architecture field model must be a class name, got 'a\\nb'", "model"),
    (put("dtype", "complex128"), "architecture field dtype must be one of 'float16', 'float32', "
                                 "'float64', got 'complex128'", "dtype"),
    (put("weight_decay_lambda", -1), "architecture field weight_decay_lambda must be a finite "
                                     "number in [0, inf], got -1", "weight_decay_lambda"),
    (put("weight_decay_lambda", float("nan")), "got nan", "weight_decay_lambda"),
    (put("loss", "Relu"), "architecture field loss must name a loss layer such as "
                          "'SoftmaxWithLoss', got 'Relu'", "loss"),
    (put("layers", {}), "architecture field layers must be a list, got an object", "layers"),
    (put("layers", []), "architecture field layers is empty: a network needs at least one "
                        "layer", "layers"),
    (put("layers.0", []), "architecture field layers[0] must be an object, got a list",
     "layers[0]"),
    (put("layers.0.type", "Teleport"), "architecture field layers[0].type is an unknown layer "
                                       "type 'Teleport'", "layers[0].type"),
    (put("layers.1.type", "SoftmaxWithLoss"), "architecture field layers[1].type is the loss "
                                              "SoftmaxWithLoss, not a layer", "layers[1].type"),
    (put("layers.0.params", ["W", "b"]), "architecture field layers[0].params must be an object,"
                                         " got a list", "layers[0].params"),
    (put("layers.0.params.W", DELETE), "architecture field layers[0].params.W is missing",
     "layers[0].params.W"),
    (put("layers.0.params.Q", [1]), "architecture field layers[0].params has unknown key 'Q'",
     "layers[0].params"),
    (put("layers.1.params.W", [1]), "architecture field layers[1].params has unknown key 'W' "
                                    "(expected keys: none)", "layers[1].params"),
    (put("layers.0.params.W", "x"), "architecture field layers[0].params.W must be a list, got "
                                    "a string", "layers[0].params.W"),
    (put("layers.0.params.W", [4, -5]), "architecture field layers[0].params.W[1] must be an "
                                        "integer in [0, 50000000], got -5",
     "layers[0].params.W[1]"),
    (put("layers.0.params.W", [4, 5.0]), "W[1] must be an integer in [0, 50000000], got 5.0",
     "layers[0].params.W[1]"),
    (put("layers.0.params.W", [1] * 9), "architecture field layers[0].params.W holds 9 entries,"
                                        " more than 8", "layers[0].params.W"),
    (put("layers.0.params.W", [4, 5, 1]), "architecture field layers[0].params of Affine must be"
                                          " W with 2 dimensions and b of its outputs, got W (4, "
                                          "5, 1) and b (5,)", "layers[0].params"),
    (put("layers.0.config", []), "architecture field layers[0].config must be an object, got "
                                 "a list", "layers[0].config"),
    (put("layers.0.config", {"x": 1}), "architecture field layers[0].config has unknown key "
                                       "'x'", "layers[0].config"),
    (put("config.hidden_size", 300_000), "architecture field config.hidden_size must be an "
                                         "integer in [1, 65536], got 300000",
     "config.hidden_size"),
    (put("config.hidden_size", True), "config.hidden_size must be an integer in [1, 65536], got"
                                      " True", "config.hidden_size"),
    (put("config.input_size", DELETE), "architecture field config.input_size is missing",
     "config.input_size"),
    (put("config.foo", 1), "architecture field config has unknown key 'foo'", "config"),
    (put("config.activation", "tanh"), "architecture field config.activation must be one of "
                                       "'relu', 'sigmoid', got 'tanh'", "config.activation"),
    (put("config.weight_init_std", "x"), "architecture field config.weight_init_std must be a "
                                         "number in [0, 1000] or one of 'xavier', 'he', "
                                         "'sigmoid', 'relu', got 'x'", "config.weight_init_std"),
    (put("config.weight_init_std", 1e9), "got 1000000000.0", "config.weight_init_std"),
    (put("config.dtype", "int8"), "architecture field config.dtype must be one of", "config.dtype"),
    (put("config.seed", -1), "architecture field config.seed must be an integer in [0, "
                             f"{2**128}], got -1", "config.seed"),
    (put("config.hidden_size", 6), "architecture field config of TwoLayerNet implies 51 "
                                   "parameter values, but its layers declare 43", "config"),
    (put("config.activation", "sigmoid"), "the layers recorded in the file do not match "
                                          "TwoLayerNet{'input_size': 4", "layers"),
    (lambda a: {**a, "model": "Sequential", "config": 7}, "architecture field config must be an "
                                                          "object, got an integer", "config"),
]


@pytest.mark.parametrize("change, text, field", TOP)
def test_architecture_refusals(tmp_path, change, text, field):
    refused(forge(tmp_path, two_layer(), change), text, field)


def nest(depth):
    spec = {"type": "Relu", "config": {}, "params": {}, "buffers": {}}
    for _ in range(depth):
        spec = {"type": "Residual", "config": {"layers": [spec]}, "params": {}, "buffers": {}}
    return spec


def big_affine(d, m):
    return {"type": "Affine", "config": {}, "params": {"W": [d, m], "b": [m]}, "buffers": {}}


LAYERS = [
    (put("layers.0.config.stride", 0), "architecture field layers[0].config.stride must be an "
                                       "integer in [1, 64], got 0", "layers[0].config.stride"),
    (put("layers.0.config.pad", DELETE), "architecture field layers[0].config.pad is missing",
     "layers[0].config.pad"),
    (put("layers.0.params.b", [3]), "layers[0].params of Convolution must be W with 4 dimensions"
                                    " and b of its outputs, got W (2, 1, 3, 3) and b (3,)",
     "layers[0].params"),
    (put("layers.3.config.pad", 2), "architecture field layers[3].config.pad must be at most "
                                    "half the pool size", "layers[3].config.pad"),
    (put("layers.3.config.pool_h", "2"), "layers[3].config.pool_h must be an integer in [1, 64]"
                                         ", got '2'", "layers[3].config.pool_h"),
    (put("layers.1.config.momentum", 2), "architecture field layers[1].config.momentum must be a"
                                         " finite number in [0, 1], got 2",
     "layers[1].config.momentum"),
    (put("layers.1.config.eps", 0), "layers[1].config.eps must be a finite number in (0, 1], "
                                    "got 0", "layers[1].config.eps"),
    (put("layers.1.buffers.running_var", [3]), "architecture field layers[1] must have gamma, "
                                               "beta, running_mean and running_var of one shape "
                                               "(D,)", "layers[1]"),
    (put("layers.5.config.dropout_ratio", 1), "layers[5].config.dropout_ratio must be a finite "
                                              "number in [0, 1), got 1",
     "layers[5].config.dropout_ratio"),
    (put("layers.5.config.inverted", "no"), "architecture field layers[5].config.inverted must "
                                            "be true or false, got 'no'",
     "layers[5].config.inverted"),
    (put("layers.7.config", {}), "architecture field layers[7].config.layers is missing",
     "layers[7].config.layers"),
    (lambda a: a["layers"].append(nest(17)), "nests Residual blocks more than 16 deep",
     "layers[8]" + ".config.layers[0]" * 16),
    (put("layers", [nest(0)] * 1001), "architecture field layers[1000] is one layer more than "
                                      "the 1000 a network may have", "layers[1000]"),
    (put("layers.6", big_affine(100_000, 100_000)), "architecture field layers[6] declares "
                                                    "10000100000 values, more than 50000000",
     "layers[6]"),
    (put("layers", [big_affine(6000, 5000)] * 2), "architecture field layers declare 60010000 "
                                                  "parameter values, more than 50000000",
     "layers"),
]


@pytest.mark.parametrize("change, text, field", LAYERS)
def test_layer_refusals(tmp_path, change, text, field):
    refused(forge(tmp_path, hand_built(), change), text, field)


@pytest.mark.parametrize("make, key, value, text", [
    (lambda: SimpleConvNet((1, 8, 8), {"filter_num": 2, "filter_size": 3}, 4, 3), "input_dim",
     [1, 2, 2], "architecture field config.input_dim [1, 2, 2] is too small for SimpleConvNet's "
                "filters and pooling"),
    (lambda: SimpleConvNet((1, 8, 8), {"filter_num": 2, "filter_size": 3}, 4, 3), "conv_param",
     {"filter_size": 0}, "architecture field config.conv_param.filter_size must be an integer "
                         "in [1, 64], got 0"),
    (lambda: DeepConvNet(hidden_size=4), "input_dim", [1, 28], "architecture field "
                                                              "config.input_dim must hold 3 "
                                                              "entries, got 2"),
    (lambda: DeepConvNet(hidden_size=4), "hidden_size", 0, "config.hidden_size must be an "
                                                          "integer in [1, 65536], got 0"),
    (lambda: MultiLayerNetExtend(4, [3], 2), "hidden_size_list", "x", "architecture field "
                                                                    "config.hidden_size_list "
                                                                    "must be a list, got a "
                                                                    "string"),
    (lambda: MultiLayerNetExtend(4, [3], 2), "use_batchnorm", 1, "architecture field "
                                                                "config.use_batchnorm must be "
                                                                "true or false, got 1"),
    (lambda: MultiLayerNetExtend(4, [3], 2), "dropout_ratio", 1.5, "config.dropout_ratio must "
                                                                  "be a finite number in [0, "
                                                                  "1), got 1.5"),
])
def test_course_config_refusals(tmp_path, make, key, value, text):
    refused(forge(tmp_path, make(), put(f"config.{key}", value)), text,
            text.split(" ")[2] if text.startswith("architecture") else f"config.{key}")


def test_arrays_are_checked_against_the_architecture(tmp_path):
    net = two_layer()
    path = forge(tmp_path, net, arrays_change=lambda w: w.pop("W1"))
    refused(path, "arrays do not match the architecture (TwoLayerNet): missing ['W1'], "
                  "unexpected []", "W1")
    path = forge(tmp_path, net, arrays_change=lambda w: w.update(W9=np.zeros(2)))
    refused(path, "missing [], unexpected ['W9']", "W9")
    path = forge(tmp_path, net, arrays_change=lambda w: w.update(W1=w["W1"].T.copy()))
    refused(path, "W1 has shape (5, 4), the architecture (TwoLayerNet) expects (4, 5)", "W1")
    path = forge(tmp_path, net, arrays_change=lambda w: w["W2"].__setitem__((0, 0), np.nan))
    refused(path, "W2 holds 1 NaN values", "W2")


def test_negative_running_variance(tmp_path):
    path = forge(tmp_path, hand_built(),
                 arrays_change=lambda w: w["running_var1"].__setitem__(0, -1.0))
    refused(path, "running_var1 holds 1 negative values (a variance is >= 0)", "running_var1")


def test_no_architecture_record(tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, W1=np.zeros(2))
    refused(path, "no architecture record (__architecture__); not a dlscratch model file",
            "__architecture__")


class Scaled(Layer):
    """A layer registered by a user: the loader cannot know its config, its constructor can."""

    def __init__(self, k=1.0):
        super().__init__()
        if not k > 0:
            raise ValueError(f"Scaled: k must be > 0, got {k!r}")
        self.k = k

    def config(self):
        return {"k": self.k}

    def forward(self, x, train_flg=True):
        return self.k * x


def test_a_user_layer_checks_its_own_config(tmp_path, monkeypatch):
    monkeypatch.setitem(LAYER_TYPES, "Scaled", Scaled)
    net = Sequential([Scaled(2.0), Affine.create(3, 2)])
    assert load(forge(tmp_path, net)).stack.layers[0].k == 2.0
    refused(forge(tmp_path, net, put("layers.0.config.k", -1)),
            "the layers cannot be rebuilt: Scaled: k must be > 0, got -1", "layers")
    refused(forge(tmp_path, net, put("layers.0.config.k", [1])),
            "architecture field layers[0].config.'k' must be a number, string, boolean or null,"
            " got a list", "layers[0].config.'k'")


def test_valid_variants_load(tmp_path):
    """float64 arrays for a float32 network (cast), Fortran order, deflated members."""
    net = hand_built()
    arrays = {k: np.asfortranarray(v.astype(np.float64)) for k, v in state_arrays(net).items()}
    path = tmp_path / "m.npz"
    np.savez_compressed(path, **arrays, __architecture__=np.array(json.dumps(architecture(net))))
    loaded = load(path)
    assert loaded.dtype == np.float32
    for key, value in state_arrays(net).items():
        np.testing.assert_array_equal(state_arrays(loaded)[key], value)


@pytest.mark.parametrize("make", [
    lambda: TwoLayerNet(784, 50, 10), lambda: MultiLayerNet(12, [7, 6], 4),
    lambda: MultiLayerNetExtend(12, [7, 6, 5], 4, use_batchnorm=True, use_dropout=True),
    lambda: SimpleConvNet(), lambda: SimpleConvNet((3, 9, 7), {"filter_num": 4, "filter_size": 2,
                                                              "pad": 1, "stride": 2}, 5, 3),
    lambda: DeepConvNet(), lambda: DeepConvNet((2, 17, 13), hidden_size=7, output_size=4),
])
def test_config_counts_without_building(make, tmp_path):
    net = make()
    fields = Fields(tmp_path / "m.npz", ModelFileError, "architecture")
    count = check_course_config(type(net).__name__, net.config, fields)
    assert count == sum(v.size for v in state_arrays(net).values())


def test_messages_quote_long_values_briefly(tmp_path):
    path = forge(tmp_path, two_layer(), put("config.activation", "x" * 10_000))
    with pytest.raises(ModelFileError) as info:
        load(path)
    assert len(str(info.value)) < 300
    assert re.search(r"got 'x+\.\.\.$", str(info.value))
