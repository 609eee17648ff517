"""Networks: the Sequential container and the course's networks built from it."""

from dlscratch.nets.conv_nets import DeepConvNet, SimpleConvNet
from dlscratch.nets.multi_layer import MultiLayerNet, MultiLayerNetExtend
from dlscratch.nets.sequential import Sequential
from dlscratch.nets.two_layer import TwoLayerNet

COURSE_NETS = {cls.__name__: cls for cls in (
    TwoLayerNet, MultiLayerNet, MultiLayerNetExtend, SimpleConvNet, DeepConvNet)}

__all__ = ["COURSE_NETS", "DeepConvNet", "MultiLayerNet", "MultiLayerNetExtend", "Sequential",
           "SimpleConvNet", "TwoLayerNet"]
