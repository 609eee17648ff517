"""The book's `ch05/layer_naive.py`: the multiply and add nodes of the shopping examples.

They are dlscratch's `MulLayer` and `AddLayer` (`dlscratch.graph`): MulLayer keeps `x` and `y`
(None before forward); both return their input gradients as a tuple from `backward(dout)`.
"""

from dlscratch.graph import AddLayer  # noqa: F401 - the book's name
from dlscratch.graph import MulLayer as _MulLayer


class MulLayer(_MulLayer):
    __doc__ = _MulLayer.__doc__

    def __init__(self):
        self.x = None
        self.y = None
