import numpy as np

from dlscratch.experiments.e19_simple_cnn import edge_direction, filter_response
from dlscratch.nets import SimpleConvNet


def test_quick_run_is_well_formed(run_quick, needs_mnist):
    record = run_quick("simple-cnn")
    numbers = record["numbers"]
    assert 0.0 <= numbers["train_acc"] <= 1.0 and 0.0 <= numbers["test_acc"] <= 1.0
    assert numbers["test_acc"] > 0.3  # learns something even in quick mode (chance: 0.1)
    assert numbers["epochs"] == record["params"]["epochs"] == len(numbers["epoch"]) - 1
    assert numbers["train_time_s"] > 0
    before, after = np.array(numbers["filters_before"]), np.array(numbers["filters_after"])
    assert before.shape == after.shape == (30, 5, 5)
    assert not np.allclose(before, after)
    assert numbers["response_shape"] == [24, 24]
    ratio = numbers["edge_direction_ratio"]
    assert ratio[numbers["vertical_filter"]] == max(ratio) > 1.0
    assert ratio[numbers["horizontal_filter"]] == min(ratio) < 1.0


def test_edge_direction_tells_vertical_from_horizontal():
    stripes = 0.05 * np.random.default_rng(0).random((2, 1, 5, 5))
    stripes[0, 0, :, 2] = 1.0  # a vertical stripe: changes from left to right
    stripes[1, 0, 2, :] = 1.0  # a horizontal one
    ratio = edge_direction(stripes)
    assert ratio[0] > 1.0 > ratio[1]


def test_filter_response_is_one_channel_of_the_conv_output():
    net = SimpleConvNet(seed=0)
    image = np.random.default_rng(0).random((1, 28, 28)).astype(np.float32)
    full = net.layers["Convolution1"].forward(image[None], train_flg=False)
    np.testing.assert_allclose(filter_response(net, 7, image), full[0, 7], rtol=1e-5, atol=1e-7)
