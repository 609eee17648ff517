"""DeepConvNet as VGG blocks: the table's counts are those of the network the library builds."""

from dlscratch.errors import ModelFileError
from dlscratch.io.arch_check import check_course_config
from dlscratch.io.fields import Fields
from dlscratch.layers import conv_output_size
from dlscratch.nets import DeepConvNet
from dlscratch.nets.conv_nets import DEEP_CONV_PARAMS


def test_vgg_table_quick(run_quick):
    record = run_quick("vgg")
    numbers = record["numbers"]
    rows = numbers["layers"]
    net = DeepConvNet()
    assert [r["layer"] for r in rows] == [layer.name for layer in net.stack.layers]
    # the table's total = the network's arrays = the count implied by its config alone
    implied = check_course_config("DeepConvNet", {}, Fields("net", ModelFileError, "arch"))
    assert numbers["total_params"] == sum(r["params"] for r in rows)
    assert numbers["total_params"] == sum(p.size for p in net.params.values()) == implied
    assert numbers["total_multiply_adds"] == sum(r["multiply_adds"] for r in rows)


def test_vgg_blocks_and_multiply_adds_from_the_formula(run_quick):
    numbers = run_quick("vgg")["numbers"]
    convs = [r for r in numbers["layers"] if r["layer"].startswith("Convolution")]
    c, side = 1, 28
    for i, (row, (fn, fs, pad, stride)) in enumerate(zip(convs, DEEP_CONV_PARAMS, strict=True)):
        side = conv_output_size(side, fs, stride, pad)
        assert row["output"] == [fn, side, side]
        assert row["params"] == fn * c * fs * fs + fn
        assert row["multiply_adds"] == fn * c * fs * fs * side * side
        c = fn
        if i % 2 == 1:
            side //= 2
    assert numbers["filter_sizes"] == ["3x3"]
    assert [b["convolutions"] for b in numbers["blocks"].values()] == [2, 2, 2, 0]
    assert list(numbers["blocks"]) == ["block 1", "block 2", "block 3", "head"]
    assert numbers["weighted_layers"] == 8
    assert sum(b["params"] for b in numbers["blocks"].values()) == numbers["total_params"]
