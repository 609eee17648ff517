"""Layers: each has forward(x, train_flg=True), backward(dout) -> dx, params and grads."""

from dlscratch.layers.activations import Relu, Sigmoid
from dlscratch.layers.affine import Affine, Flatten
from dlscratch.layers.base import Layer
from dlscratch.layers.batchnorm import BatchNormalization
from dlscratch.layers.convolution import Convolution, conv_output_size
from dlscratch.layers.dropout import Dropout
from dlscratch.layers.inception import Inception
from dlscratch.layers.pooling import Pooling
from dlscratch.layers.registry import LAYER_TYPES, build_layer, layer_spec, register
from dlscratch.layers.residual import Residual
from dlscratch.layers.softmax_loss import SoftmaxWithLoss
from dlscratch.layers.stack import LayerStack

__all__ = ["LAYER_TYPES", "Affine", "BatchNormalization", "Convolution", "Dropout", "Flatten",
           "Inception", "Layer", "LayerStack", "Pooling", "Relu", "Residual", "Sigmoid",
           "SoftmaxWithLoss", "build_layer", "conv_output_size", "layer_spec", "register"]
