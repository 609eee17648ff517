"""A small inception network on MNIST: the block's channels, its parameters, and that it learns."""

from dlscratch.experiments.e25_inception import BLOCK, IN_CHANNELS, build


def _conv_params(cin, cout, size):
    return cout * cin * size * size + cout


def test_inception_network_builds_its_block_from_the_settings():
    net = build(0)
    block = net.layers["Inception1"]
    assert block.out_channels == sum(BLOCK[k] for k in ("c1", "c3", "c5", "pool_proj"))
    assert len(block.branches) == 4


def test_inception_quick(run_quick, needs_mnist):
    numbers = run_quick("inception")["numbers"]
    branches = numbers["branch_channels"]
    assert branches == [BLOCK["c1"], BLOCK["c3"], BLOCK["c5"], BLOCK["pool_proj"]]
    assert numbers["out_channels"] == sum(branches) == numbers["block_output_shape"][0]
    assert numbers["block_output_shape"][1:] == [14, 14]  # every branch keeps the size
    c, out = IN_CHANNELS, numbers["out_channels"]
    block = (_conv_params(c, BLOCK["c1"], 1)
             + _conv_params(c, BLOCK["reduce3"], 1) + _conv_params(BLOCK["reduce3"], BLOCK["c3"], 3)
             + _conv_params(c, BLOCK["reduce5"], 1) + _conv_params(BLOCK["reduce5"], BLOCK["c5"], 5)
             + _conv_params(c, BLOCK["pool_proj"], 1))
    assert numbers["params"] == {"inception block": block,
                                 "plain 3x3 conv": _conv_params(c, out, 3),
                                 "plain 5x5 conv": _conv_params(c, out, 5)}
    assert block < _conv_params(c, out, 3)
    assert numbers["test_acc"] > 0.3  # learning (chance: 0.1)
    assert len(numbers["test_acc_per_epoch"]) == len(numbers["epoch"])
