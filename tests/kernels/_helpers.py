"""Helpers shared by the kernel tests: the twins' agreement measure, naive loop kernels, and a
spy on the chunks a kernel hands to the threads."""

from __future__ import annotations

import numpy as np

TWIN_RTOL = 1e-10  # max |fast - twin| <= TWIN_RTOL * max |twin| (float64)


def assert_twins(fast, twin, what=""):
    """fast and twin have the same shape and dtype and agree to TWIN_RTOL of twin's scale."""
    fast, twin = np.asarray(fast), np.asarray(twin)
    assert fast.shape == twin.shape, (what, fast.shape, twin.shape)
    assert fast.dtype == twin.dtype, (what, fast.dtype, twin.dtype)
    scale = float(np.abs(twin).max()) if twin.size else 0.0
    err = float(np.abs(fast - twin).max()) if twin.size else 0.0
    assert err <= TWIN_RTOL * scale, f"{what}: max|fast - twin| = {err:.3g}, scale {scale:.3g}"


def naive_conv(x, W, b, stride, pad):
    """Cross-correlation by nested loops over (n, f, i, j)."""
    N, C, H, Wd = x.shape
    FN, _, FH, FW = W.shape
    xp = np.zeros((N, C, H + 2 * pad, Wd + 2 * pad))
    xp[:, :, pad:pad + H, pad:pad + Wd] = x
    OH, OW = (H + 2 * pad - FH) // stride + 1, (Wd + 2 * pad - FW) // stride + 1
    out = np.zeros((N, FN, OH, OW))
    for n in range(N):
        for f in range(FN):
            for i in range(OH):
                for j in range(OW):
                    window = xp[n, :, i * stride:i * stride + FH, j * stride:j * stride + FW]
                    out[n, f, i, j] = np.sum(window * W[f]) + b[f]
    return out


def naive_conv_backward(dout, x, W, stride, pad):
    """(dx, dW, db) of naive_conv by the same loops: every output touched its window."""
    N, C, H, Wd = x.shape
    FN, _, FH, FW = W.shape
    xp = np.zeros((N, C, H + 2 * pad, Wd + 2 * pad))
    xp[:, :, pad:pad + H, pad:pad + Wd] = x
    dxp, dW = np.zeros_like(xp), np.zeros_like(W)
    _, _, OH, OW = dout.shape
    for n in range(N):
        for f in range(FN):
            for i in range(OH):
                for j in range(OW):
                    rows = slice(i * stride, i * stride + FH)
                    cols = slice(j * stride, j * stride + FW)
                    dW[f] += dout[n, f, i, j] * xp[n, :, rows, cols]
                    dxp[n, :, rows, cols] += dout[n, f, i, j] * W[f]
    return dxp[:, :, pad:pad + H, pad:pad + Wd], dW, dout.sum(axis=(0, 2, 3))


def naive_max_pool(x, ph, pw, stride, pad, dout=None):
    """Window maxima by loops (padding -inf); with dout also dx, each window's gradient to its
    first maximum in row-major order."""
    N, C, H, W = x.shape
    xp = np.full((N, C, H + 2 * pad, W + 2 * pad), -np.inf)
    xp[:, :, pad:pad + H, pad:pad + W] = x
    OH, OW = (H + 2 * pad - ph) // stride + 1, (W + 2 * pad - pw) // stride + 1
    out, dxp = np.empty((N, C, OH, OW)), np.zeros_like(xp)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    window = xp[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    out[n, c, i, j] = window.max()
                    if dout is not None:
                        r, s = np.unravel_index(np.argmax(window), window.shape)
                        dxp[n, c, i * stride + r, j * stride + s] += dout[n, c, i, j]
    return out, dxp[:, :, pad:pad + H, pad:pad + W]


def record_chunks(monkeypatch, module) -> list:
    """Wrap `module.run_chunks`; the returned list gets the number of chunks of every call."""
    seen, real = [], module.run_chunks

    def recording(work, chunks):
        seen.append(len(chunks))
        return real(work, chunks)

    monkeypatch.setattr(module, "run_chunks", recording)
    return seen
