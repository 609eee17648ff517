"""Error paths added late: optimizer arguments, weight decay, unknown layer types in files."""

import json

import numpy as np
import pytest

from dlscratch import ModelFileError, Sequential, TwoLayerNet, load, save
from dlscratch.layers import Relu
from dlscratch.optim import get_optimizer


def test_get_optimizer_with_an_argument_it_does_not_take():
    with pytest.raises(ValueError, match=r"SGD takes lr, got momentum"):
        get_optimizer("sgd", momentum=0.9)


@pytest.mark.parametrize("lam", [-0.1, float("nan")])
def test_sequential_rejects_a_bad_weight_decay(lam):
    with pytest.raises(ValueError, match="weight_decay_lambda must be >= 0"):
        Sequential([Relu()], weight_decay_lambda=lam)


def test_unknown_layer_type_in_a_model_file(tmp_path):
    path = save(Sequential([Relu()]), tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as data:
        arch = json.loads(str(data["__architecture__"]))
    arch["layers"][0]["type"] = "Teleport"
    np.savez(path, __architecture__=np.array(json.dumps(arch)))
    with pytest.raises(ModelFileError, match="unknown layer type 'Teleport'"):
        load(path)


def test_course_net_file_round_trips_after_the_error_paths(tmp_path):
    net = TwoLayerNet(4, 3, 2, seed=0)
    x = np.ones((1, 4), np.float32)
    np.testing.assert_array_equal(load(save(net, tmp_path / "n")).predict(x), net.predict(x))
