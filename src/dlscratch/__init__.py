"""dlscratch: deep learning from scratch in NumPy - every layer readable, every gradient checked.

    from dlscratch import TwoLayerNet, Adam
    from dlscratch.data import load_mnist

The course wing (functions, gradient, graph, layers, init, optim, nets, train) reads like the
book; the kernel wing (`dlscratch.kernels`) makes its heavy steps fast. Threads:
`set_num_threads(n)` or `with threads(n):` (default: the usable cores); big batches are split
among them by `DataParallel(net)`, which the Trainer uses.
"""

__version__ = "0.1.0"

from dlscratch.errors import ModelFileError  # noqa: E402
from dlscratch.functions import (  # noqa: E402
    cross_entropy_error,
    identity,
    mean_squared_error,
    relu,
    sigmoid,
    softmax,
    step_function,
    sum_squared_error,
)
from dlscratch.gradient import (  # noqa: E402
    gradient_check,
    gradient_descent,
    numerical_diff,
    numerical_gradient,
)
from dlscratch.io.serialize import load, save  # noqa: E402
from dlscratch.kernels import get_num_threads, set_num_threads, threads  # noqa: E402
from dlscratch.kernels.data_parallel import DataParallel  # noqa: E402
from dlscratch.layers import (  # noqa: E402
    Affine,
    BatchNormalization,
    Convolution,
    Dropout,
    Flatten,
    Pooling,
    Relu,
    Residual,
    Sigmoid,
    SoftmaxWithLoss,
)
from dlscratch.nets import (  # noqa: E402
    DeepConvNet,
    MultiLayerNet,
    MultiLayerNetExtend,
    Sequential,
    SimpleConvNet,
    TwoLayerNet,
)
from dlscratch.optim import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop  # noqa: E402

__all__ = [
    "SGD", "AdaGrad", "Adam", "Affine", "BatchNormalization", "Convolution", "DataParallel",
    "DeepConvNet", "get_num_threads", "set_num_threads", "threads",
    "Dropout", "Flatten", "ModelFileError", "Momentum", "MultiLayerNet", "MultiLayerNetExtend",
    "Nesterov", "Pooling", "RMSprop", "Relu", "Residual", "Sequential", "Sigmoid",
    "SimpleConvNet", "SoftmaxWithLoss", "TwoLayerNet", "cross_entropy_error", "gradient_check",
    "gradient_descent", "identity", "load", "mean_squared_error", "numerical_diff",
    "numerical_gradient", "relu", "save", "sigmoid", "softmax", "step_function",
    "sum_squared_error",
]
