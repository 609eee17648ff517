"""The book's `common/layers.py`: its eight layers, made of dlscratch's.

Affine, Sigmoid, SoftmaxWithLoss, Convolution and Pooling are dlscratch's layers themselves;
Relu, Dropout and BatchNormalization are thin subclasses that add what the book's versions
have and dlscratch's do not. Like the book's, every layer holds *references* to the arrays it
is given, so an in-place update of a network's `params` reaches it.

Differences that remain, none of which changes what the book's scripts print beyond rounding:
- SoftmaxWithLoss computes the exact log-softmax; the book adds 1e-7 inside the log (a
  difference below 1e-6 in the loss), and so its backward is exactly the loss's gradient.
- Pooling pads with -inf and counts `pad` in its output size (the book ignores it there); every
  book network uses pad 0, where both agree.
- Convolution and Pooling keep their caches in dlscratch's form (no `col`, `col_W`, and
  `arg_max` is the kernel's own record); BatchNormalization keeps `xn` and `std` but not
  `xc` and `batch_size`.

`from common.layers import *` exports the layers, im2col, col2im, np and every function of
common.functions, as the book's module does.
"""

import numpy as np

from dlscratch.book._random import GLOBAL_RANDOM
from dlscratch.book.common.functions import *  # noqa: F403 - the book's star export
from dlscratch.book.common.util import col2im, im2col  # noqa: F401 - exported as in the book
from dlscratch.layers import batchnorm as _batchnorm
from dlscratch.layers import dropout as _dropout
from dlscratch.layers.activations import Relu as _Relu
from dlscratch.layers.activations import Sigmoid  # noqa: F401 - the book's layer
from dlscratch.layers.affine import Affine  # noqa: F401 - the book's layer
from dlscratch.layers.convolution import Convolution  # noqa: F401 - the book's layer
from dlscratch.layers.pooling import Pooling  # noqa: F401 - the book's layer
from dlscratch.layers.softmax_loss import SoftmaxWithLoss  # noqa: F401 - the book's layer


class Relu(_Relu):
    """dlscratch's ReLU with the book's `mask` (True where x <= 0); as in the book, backward
    zeroes the masked entries of `dout` in place and returns that same array."""

    def __init__(self):
        super().__init__()
        self.mask = None

    def forward(self, x, train_flg=True):
        self.mask = x <= 0
        return super().forward(x, train_flg)

    def backward(self, dout):
        dout[self.mask] = 0
        return dout


class Dropout(_dropout.Dropout):
    """dlscratch's Dropout as the book uses it: masks from `np.random.rand` (the global random
    state), kept where the draw exceeds the ratio; training multiplies by the 0/1 mask and
    test time by (1 - ratio) - not inverted, which is also the course's default."""

    def __init__(self, dropout_ratio=0.5):
        super().__init__(dropout_ratio)
        self.rng = GLOBAL_RANDOM
        self.mask = None


class BatchNormalization(_batchnorm.BatchNormalization):
    """dlscratch's batch normalisation with the book's starting point: running mean *and*
    variance start at zeros (dlscratch starts the variance at ones), eps 1e-6 (the book's
    10e-7). On (N, C, H, W) maps the book's gamma has C*H*W entries: statistics per
    activation, which dlscratch's layer does for a gamma of that size."""

    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        size = np.asarray(gamma).size
        if running_mean is None:
            running_mean = np.zeros(size)
        if running_var is None:
            running_var = np.zeros(size)
        super().__init__(gamma, beta, momentum, running_mean, running_var, eps=10e-7)
        # the very arrays given (dlscratch's layer keeps a flat view), as the book's layer does
        if isinstance(gamma, np.ndarray) and gamma.shape == self.gamma.shape:
            self.gamma = gamma
        if isinstance(beta, np.ndarray) and beta.shape == self.beta.shape:
            self.beta = beta
