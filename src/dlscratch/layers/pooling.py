"""Max pooling (chapter 7)."""

from __future__ import annotations

import numpy as np

from dlscratch.layers.base import Layer
from dlscratch.layers.im2col import col2im_nhwc, conv_output_size, pad_nhwc, windows_nhwc
from dlscratch.parallel import batch_parts, run_chunks


class Pooling(Layer):
    """out[n, c, i, j] = max of the pool_h x pool_w window at (i*stride, j*stride).

    x: (N, C, H, W) -> (N, C, OH, OW), OH = (H + 2*pad - pool_h) // stride + 1.
    Backward routes dL/dout to the (first) maximum of each window; other inputs get 0.
    Padding uses -inf (so it is never the maximum; the book pads with 0, which only differs for
    negative inputs).

    Two paths, same result: non-overlapping windows (stride == pool size, no padding) are a
    reshape of the input and a max of pool_h*pool_w strided views; any other case gathers the
    windows (im2col, channels-last) and takes the argmax. The first path splits the batch
    among dlscratch's threads (`dlscratch.parallel`), if there are several.
    """

    independent_in_training = independent_in_inference = True

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
        N, C, H, W = x.shape
        out_h = conv_output_size(H, self.pool_h, self.stride, self.pad)
        out_w = conv_output_size(W, self.pool_w, self.stride, self.pad)
        if out_h < 1 or out_w < 1:
            raise ValueError(
                f"{self.name}: a {self.pool_h}x{self.pool_w} pool does not fit an input of "
                f"shape {x.shape}"
            )
        self.x_shape = x.shape
        x_nhwc = x.transpose(0, 2, 3, 1)
        self.tiled = self.stride == self.pool_h == self.pool_w and self.pad == 0
        if self.tiled:
            out = self._forward_tiled(x_nhwc, out_h, out_w, train_flg)
        else:
            out = self._forward_windows(x_nhwc)
        return out.transpose(0, 3, 1, 2)

    def backward(self, dout):
        dout_nhwc = dout.transpose(0, 2, 3, 1)
        dx = self._backward_tiled(dout_nhwc) if self.tiled else self._backward_windows(dout_nhwc)
        return dx.transpose(0, 3, 1, 2)

    # Non-overlapping windows: x (N, OH*ph, OW*pw, C) viewed as (N, OH, ph, OW, pw, C).
    def _tile_views(self, tiles):
        return [tiles[:, :, i, :, j, :] for i in range(self.pool_h) for j in range(self.pool_w)]

    def _forward_tiled(self, x_nhwc, out_h, out_w, train_flg):
        ph, pw = self.pool_h, self.pool_w
        N, _, _, C = x_nhwc.shape
        cropped = x_nhwc[:, :out_h * ph, :out_w * pw, :]
        self.tiles = cropped.reshape(N, out_h, ph, out_w, pw, C)
        self.out = np.empty((N, out_h, out_w, C), dtype=x_nhwc.dtype)
        self.which = np.empty(self.out.shape, dtype=self._index_dtype()) if train_flg else None

        def forward_part(s):  # images s (several threads take a part each)
            views = self._tile_views(self.tiles[s])
            out = self.out[s]
            np.copyto(out, views[0])
            for v in views[1:]:
                np.maximum(out, v, out=out)
            if train_flg:
                self._first_max_index(views, out, self.which[s])

        run_chunks(forward_part, batch_parts(N))
        return self.out

    def _index_dtype(self):
        return np.uint8 if self.pool_h * self.pool_w <= 256 else np.intp

    @staticmethod
    def _first_max_index(views, out, which):
        """Fill which[n, i, j, c] with k, the first view k holding the maximum of out.

        Branch-free: with ne_k = 1 where view k is not the maximum, the first maximum is
        ne_0 (1 + ne_1 (1 + ne_2 (...))) - e.g. 0 if view 0 holds it, 1 if only view 1 ...
        """
        which.fill(0)
        for v in reversed(views[:-1]):
            which += 1
            which *= np.not_equal(v, out).view(np.uint8)  # bool as 0/1, no conversion

    def _backward_tiled(self, dout_nhwc):
        N, H, W, C = (self.x_shape[0], self.x_shape[2], self.x_shape[3], self.x_shape[1])
        if self.which is None:  # the forward pass was in inference mode
            self.which = np.empty(self.out.shape, dtype=self._index_dtype())
            self._first_max_index(self._tile_views(self.tiles), self.out, self.which)
        dtiles = np.empty(self.tiles.shape, dtype=dout_nhwc.dtype)

        def backward_part(s):
            for k, dview in enumerate(self._tile_views(dtiles[s])):
                np.multiply(dout_nhwc[s], self.which[s] == k, out=dview)

        run_chunks(backward_part, batch_parts(N))
        n, oh, ph, ow, pw, c = dtiles.shape
        dx = dtiles.reshape(n, oh * ph, ow * pw, c)
        if dx.shape[1:3] != (H, W):  # rows/columns the windows did not cover get no gradient
            full = np.zeros((N, H, W, C), dtype=dx.dtype)
            full[:, :oh * ph, :ow * pw, :] = dx
            dx = full
        return dx

    # General windows: gather (N, OH, OW, ph*pw, C) and take the argmax.
    def _forward_windows(self, x_nhwc):
        xp = pad_nhwc(x_nhwc, self.pad, value=-np.inf)
        self.xp_shape = xp.shape
        win = windows_nhwc(xp, self.pool_h, self.pool_w, self.stride)
        N, out_h, out_w, ph, pw, C = win.shape
        cols = win.reshape(N, out_h, out_w, ph * pw, C)
        self.arg = cols.argmax(axis=3)[:, :, :, None, :]
        return np.take_along_axis(cols, self.arg, axis=3)[:, :, :, 0, :]

    def _backward_windows(self, dout_nhwc):
        N, out_h, out_w, C = dout_nhwc.shape
        dcols = np.zeros((N, out_h, out_w, self.pool_h * self.pool_w, C), dtype=dout_nhwc.dtype)
        np.put_along_axis(dcols, self.arg, dout_nhwc[:, :, :, None, :], axis=3)
        dxp = col2im_nhwc(dcols.reshape(N * out_h * out_w, -1), self.xp_shape,
                          self.pool_h, self.pool_w, self.stride)
        p = self.pad
        return dxp[:, p:p + self.x_shape[2], p:p + self.x_shape[3], :]
