"""Fast max pooling, channels-last; the same results as the book's im2col + max
(`reference.max_pool2d`), the gradient going to the first maximum of each window.

Non-overlapping windows (stride == pool size, no padding) are the max of pool_h*pool_w strided
views of the input, split by images among dlscratch's threads; other windows are gathered as
a strided view and reduced with argmax.
"""

from __future__ import annotations

import numpy as np

from dlscratch.kernels.layout import col2im_nhwc, image_chunks, pad_nhwc, windows_nhwc
from dlscratch.kernels.pool import run_chunks


def max_pool2d(x, pool_h, pool_w, stride, pad, train_flg=True):
    """(N, C, H, W) -> ((N, C, OH, OW), cache for `max_pool2d_backward`)."""
    x_nhwc = x.transpose(0, 2, 3, 1)
    if stride == pool_h == pool_w and pad == 0:
        cache = TiledPool(x_nhwc, pool_h, pool_w, train_flg)
    else:
        cache = WindowPool(x_nhwc, pool_h, pool_w, stride, pad)
    return cache.out.transpose(0, 3, 1, 2), cache


def max_pool2d_backward(dout, cache):
    """dL/dx (N, C, H, W) from dout (N, C, OH, OW): each window's gradient to its first max."""
    return cache.backward(dout.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


class TiledPool:
    """Non-overlapping windows: x (N, OH*ph, OW*pw, C) viewed as tiles (N, OH, ph, OW, pw, C)."""

    def __init__(self, x_nhwc, ph, pw, train_flg):
        N, H, W, C = x_nhwc.shape
        oh, ow = H // ph, W // pw
        self.x_shape, self.ph, self.pw = x_nhwc.shape, ph, pw
        self.tiles = x_nhwc[:, :oh * ph, :ow * pw, :].reshape(N, oh, ph, ow, pw, C)
        self.out = np.empty((N, oh, ow, C), dtype=x_nhwc.dtype)
        self.which = np.empty(self.out.shape, self._index_dtype()) if train_flg else None

        def forward_part(s):
            views = self._views(self.tiles[s])
            out = self.out[s]
            np.copyto(out, views[0])
            for v in views[1:]:
                np.maximum(out, v, out=out)
            if self.which is not None:
                _first_max_index(views, out, self.which[s])

        run_chunks(forward_part, self._parts())

    def _views(self, tiles):
        return [tiles[:, :, i, :, j, :] for i in range(self.ph) for j in range(self.pw)]

    def _parts(self):
        return image_chunks(len(self.out), self.tiles[0].size * self.tiles.itemsize, 1 << 22)

    def _index_dtype(self):
        return np.uint8 if self.ph * self.pw <= 256 else np.intp

    def backward(self, dout_nhwc):
        if self.which is None:  # the forward pass was in inference mode
            self.which = np.empty(self.out.shape, self._index_dtype())
            _first_max_index(self._views(self.tiles), self.out, self.which)
        dout_nhwc = np.ascontiguousarray(dout_nhwc)  # read four times below: in order
        dtiles = np.empty(self.tiles.shape, dtype=dout_nhwc.dtype)

        def backward_part(s):
            for k, dview in enumerate(self._views(dtiles[s])):
                np.multiply(dout_nhwc[s], self.which[s] == k, out=dview)

        run_chunks(backward_part, self._parts())
        n, oh, ph, ow, pw, c = dtiles.shape
        dx = dtiles.reshape(n, oh * ph, ow * pw, c)
        if dx.shape != self.x_shape:  # rows/columns no window covered get no gradient
            full = np.zeros(self.x_shape, dtype=dx.dtype)
            full[:, :oh * ph, :ow * pw, :] = dx
            dx = full
        return dx


def _first_max_index(views, out, which):
    """which[...] = k, the first view k that holds the maximum `out`.

    Branch-free: with ne_k = 1 where view k is not the maximum, the first maximum is
    ne_0 (1 + ne_1 (1 + ne_2 (...))).
    """
    which.fill(0)
    for v in reversed(views[:-1]):
        which += 1
        which *= np.not_equal(v, out).view(np.uint8)  # bool as 0/1, no conversion


class WindowPool:
    """Any windows: gather (N, OH, OW, ph*pw, C) from a strided view, take the argmax."""

    def __init__(self, x_nhwc, ph, pw, stride, pad):
        xp = pad_nhwc(x_nhwc, pad, value=-np.inf)  # padding is never the maximum
        win = windows_nhwc(xp, ph, pw, stride)
        N, oh, ow, _, _, C = win.shape
        cols = win.reshape(N, oh, ow, ph * pw, C)
        self.arg = cols.argmax(axis=3)[:, :, :, None, :]
        self.out = np.take_along_axis(cols, self.arg, axis=3)[:, :, :, 0, :]
        self.x_shape, self.xp_shape = x_nhwc.shape, xp.shape
        self.ph, self.pw, self.stride, self.pad = ph, pw, stride, pad

    def backward(self, dout_nhwc):
        N, oh, ow, C = dout_nhwc.shape
        dcols = np.zeros((N, oh, ow, self.ph * self.pw, C), dtype=dout_nhwc.dtype)
        np.put_along_axis(dcols, self.arg, dout_nhwc[:, :, :, None, :], axis=3)
        dxp = col2im_nhwc(dcols.reshape(N * oh * ow, -1), self.xp_shape, self.ph, self.pw,
                          self.stride)
        p, (_, H, W, _) = self.pad, self.x_shape
        return dxp[:, p:p + H, p:p + W, :]
