"""Layers: each has forward(x, train_flg=True), backward(dout) -> dx, params and grads."""

from dlscratch.layers.activations import Relu, Sigmoid
from dlscratch.layers.affine import Affine, Flatten
from dlscratch.layers.base import Layer
from dlscratch.layers.batchnorm import BatchNormalization
from dlscratch.layers.convolution import Convolution
from dlscratch.layers.dropout import Dropout
from dlscratch.layers.im2col import col2im, im2col
from dlscratch.layers.pooling import Pooling
from dlscratch.layers.residual import Residual
from dlscratch.layers.softmax_loss import SoftmaxWithLoss
from dlscratch.layers.stack import LayerStack

LAYER_TYPES = {cls.__name__: cls for cls in (
    Relu, Sigmoid, Affine, Flatten, BatchNormalization, Convolution, Dropout, Pooling, Residual,
    SoftmaxWithLoss,
)}

__all__ = ["Affine", "BatchNormalization", "Convolution", "Dropout", "Flatten", "LAYER_TYPES",
           "Layer", "LayerStack", "Pooling", "Relu", "Residual", "Sigmoid", "SoftmaxWithLoss",
           "col2im", "im2col"]
