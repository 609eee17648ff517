"""The kernel wing: the heavy steps of the course's layers, fast, behind a few named functions.

    out = kernels.conv2d(x, W, b, stride, pad)                    # (N, FN, OH, OW)
    dx, dW, db = kernels.conv2d_backward(dout, x, W, stride, pad)
    out, cache = kernels.max_pool2d(x, pool_h, pool_w, stride, pad)
    dx = kernels.max_pool2d_backward(dout, cache)
    y = kernels.relu(x);  s = kernels.sum_rows(a)                 # max(0, x);  a.sum(axis=0)
    xn, y = kernels.bn_scale(xc, std, gamma, beta)                # batch norm's elementwise
    dx = kernels.bn_input_grad(dout, xn, gamma, std, dbeta, dgamma, n)   # steps on (rows, D)
    kernels.adam_update(param, grad, m, v, lr_t, beta1, beta2)    # Adam's step, in place
    col = kernels.im2col(x, FH, FW, stride, pad)                  # the book's im2col / col2im

Every kernel has two implementations: the fast one (chunked channels-last columns, dlscratch's
threads; `fast.py`) and its reference twin, the book's plain NumPy (`reference.py`). The fast
ones are used unless `DLSCRATCH_KERNELS=reference` is set or `use("reference")` is called.
Threads: `set_num_threads`, `threads(n)`; data parallelism: `data_parallel.DataParallel(net)`
(not imported here: it knows the layers, which import this module).
"""

from __future__ import annotations

import contextlib
import os

from dlscratch.kernels import fast, reference
from dlscratch.kernels.hints import input_grad_unused, input_grad_wanted
from dlscratch.kernels.pool import (
    get_num_threads,
    hold_blas_at_one_thread,
    run_chunks,
    set_num_threads,
    threads,
)
from dlscratch.kernels.reference import col2im, im2col

IMPLEMENTATIONS = {"fast": fast, "reference": reference}
_active = {"name": None}


def in_use() -> str:
    """'fast' or 'reference': $DLSCRATCH_KERNELS until `use` is called, 'fast' by default."""
    if _active["name"] is None:
        name = os.environ.get("DLSCRATCH_KERNELS", "").strip().lower() or "fast"
        if name not in IMPLEMENTATIONS:
            raise ValueError(f"DLSCRATCH_KERNELS must be one of {sorted(IMPLEMENTATIONS)}, "
                             f"got {name!r}")
        _active["name"] = name
    return _active["name"]


@contextlib.contextmanager
def _restoring(before):
    try:
        yield
    finally:
        _active["name"] = before


def use(name: str):
    """Run the library on the 'fast' kernels or their 'reference' twins; also a context
    manager (`with kernels.use("reference"): ...`) that restores the previous choice."""
    if name not in IMPLEMENTATIONS:
        raise ValueError(f"kernels must be one of {sorted(IMPLEMENTATIONS)}, got {name!r}")
    before = in_use()
    _active["name"] = name
    return _restoring(before)


def _impl():
    return IMPLEMENTATIONS[in_use()]


def conv2d(x, W, b, stride=1, pad=0):
    """out[n, f] = sum_c W[f, c] (*) x[n, c] + b[f] (cross-correlation):
    x (N, C, H, W), W (FN, C, FH, FW), b (FN,) -> (N, FN, OH, OW)."""
    return _impl().conv2d(x, W, b, stride, pad)


def conv2d_backward(dout, x, W, stride=1, pad=0, need_dx=True):
    """(dx, dW, db) of conv2d from dout (N, FN, OH, OW); dx is None if need_dx is False."""
    return _impl().conv2d_backward(dout, x, W, stride, pad, need_dx)


def max_pool2d(x, pool_h, pool_w, stride, pad, train_flg=True):
    """((N, C, OH, OW) window maxima, cache for max_pool2d_backward)."""
    return _impl().max_pool2d(x, pool_h, pool_w, stride, pad, train_flg)


def max_pool2d_backward(dout, cache):
    """dL/dx: each window's gradient goes to its (first) maximum."""
    return cache.backward(dout) if isinstance(cache, reference.PoolCache) else \
        fast.max_pool2d_backward(dout, cache)


def relu(x):
    """max(0, x)."""
    return _impl().relu(x)


def sum_rows(a):
    """a.sum(axis=0) of a 2-D array."""
    return _impl().sum_rows(a)


def adam_update(param, grad, m, v, lr_t, beta1, beta2):
    """Adam's step in place: m += (1 - beta1)(grad - m);  v += (1 - beta2)(grad^2 - v);
    param -= lr_t m / (sqrt(v) + 1e-7)."""
    return _impl().adam_update(param, grad, m, v, lr_t, beta1, beta2)


def bn_scale(xc, std, gamma, beta):
    """(xn, y) = (xc / std, gamma * xn + beta); xc may be overwritten."""
    return _impl().bn_scale(xc, std, gamma, beta)


def bn_input_grad(dout, xn, gamma, std, dbeta, dgamma, n):
    """dx = gamma / std * (dout - dbeta / n - xn * (dgamma / n)) over n rows per feature."""
    return _impl().bn_input_grad(dout, xn, gamma, std, dbeta, dgamma, n)


hold_blas_at_one_thread()

__all__ = ["IMPLEMENTATIONS", "adam_update", "bn_input_grad", "bn_scale",
           "col2im", "conv2d", "conv2d_backward", "get_num_threads", "im2col", "in_use",
           "input_grad_unused", "input_grad_wanted", "max_pool2d", "max_pool2d_backward", "relu",
           "run_chunks", "set_num_threads", "sum_rows", "threads", "use"]
