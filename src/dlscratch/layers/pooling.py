"""Max pooling (chapter 7)."""

from __future__ import annotations

from dlscratch import kernels
from dlscratch.layers.base import Layer
from dlscratch.layers.convolution import conv_output_size
from dlscratch.layers.registry import register


@register
class Pooling(Layer):
    """out[n, c, i, j] = max of the pool_h x pool_w window at (i*stride, j*stride).

    x: (N, C, H, W) -> (N, C, OH, OW), OH = (H + 2*pad - pool_h) // stride + 1.
    As the book computes it: im2col, one row per window and channel, the row's max (and its
    argmax, for backward); backward routes dL/dout to the (first) maximum of each window,
    other inputs get 0. Padding is -inf (never the maximum; the book pads with 0, which only
    differs for negative inputs).
    """

    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        super().__init__()
        for label, v, low in (("pool_h", pool_h, 1), ("pool_w", pool_w, 1),
                              ("stride", stride, 1), ("pad", pad, 0)):
            if int(v) != v or v < low:
                raise ValueError(f"Pooling: {label} must be an integer >= {low}, got {v!r}")
        if 2 * pad > min(pool_h, pool_w):
            raise ValueError(
                f"Pooling: pad must be at most half the pool size, got pad={pad} for a "
                f"{pool_h}x{pool_w} pool"
            )
        self.pool_h, self.pool_w = int(pool_h), int(pool_w)
        self.stride, self.pad = int(stride), int(pad)

    def config(self):
        return {"pool_h": self.pool_h, "pool_w": self.pool_w, "stride": self.stride,
                "pad": self.pad}

    def forward(self, x, train_flg=True):
        if x.ndim != 4:
            raise ValueError(f"{self.name}: expected input of shape (N, C, H, W), got {x.shape}")
        out_h = conv_output_size(x.shape[2], self.pool_h, self.stride, self.pad)
        out_w = conv_output_size(x.shape[3], self.pool_w, self.stride, self.pad)
        if out_h < 1 or out_w < 1:
            raise ValueError(
                f"{self.name}: a {self.pool_h}x{self.pool_w} pool does not fit an input of "
                f"shape {x.shape}"
            )
        out, self.arg_max = kernels.max_pool2d(x, self.pool_h, self.pool_w, self.stride,
                                               self.pad, train_flg)
        return out

    def backward(self, dout):
        return kernels.max_pool2d_backward(dout, self.arg_max)
