"""The book's `common/util.py`: smoothing, shuffling, sizes, im2col / col2im.

im2col and col2im are dlscratch's reference kernels (`dlscratch.kernels`), given float64 as the
book's always return.
"""

import numpy as np

from dlscratch import kernels


def smooth_curve(x):
    """The book's smoothing of a loss curve (used for its plots), same length as x (>= 11).

    A Kaiser window of 11 points (beta 2), normalised; the series is extended by 10 mirrored
    values at each end - without x[0] on the left, with the last value on the right, as the book
    does - convolved ('valid'), and 5 values are trimmed from each end.
    """
    x = np.asarray(x, dtype=float)
    window_len = 11
    s = np.r_[x[window_len - 1:0:-1], x, x[-1:-window_len:-1]]
    w = np.kaiser(window_len, 2)
    y = np.convolve(w / w.sum(), s, mode="valid")
    return y[5:len(y) - 5]


def shuffle_dataset(x, t):
    """x and t reordered by one `np.random.permutation` (the global random state)."""
    permutation = np.random.permutation(x.shape[0])
    return x[permutation], t[permutation]


def conv_output_size(input_size, filter_size, stride=1, pad=0):
    """(input_size + 2*pad - filter_size) / stride + 1 with true division: a float (book)."""
    return (input_size + 2 * pad - filter_size) / stride + 1


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """(N, C, H, W) -> (N*OH*OW, C*filter_h*filter_w), float64."""
    x = np.asarray(input_data, dtype=np.float64)
    return kernels.im2col(x, filter_h, filter_w, stride, pad)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """The adjoint of im2col (overlapping contributions summed): float64 `input_shape`."""
    col = np.asarray(col, dtype=np.float64)
    return kernels.col2im(col, input_shape, filter_h, filter_w, stride, pad)
