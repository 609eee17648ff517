"""Fast Adam update: the book's three lines on cache-sized pieces of the flattened arrays,
without temporaries of the whole array (small arrays, already in cache, take the three lines).
The pieces run one after another: each NumPy call on a piece is too short to share among
threads (benchmarks/NOTES.md, round 6).

Every value goes through the same float operations in the same order as in
`reference.adam_update` (elementwise, so the pieces do not matter): the results are the twin's
bit for bit, at any thread count.
"""

from __future__ import annotations

import numpy as np

from dlscratch.kernels import reference

PIECE = 1 << 15  # values per piece: its 6 arrays (4 given, 2 scratch) fit in L2


def adam_update(param, grad, m, v, lr_t, beta1, beta2) -> None:
    """In place: m += (1 - beta1)(grad - m);  v += (1 - beta2)(grad^2 - v);
    param -= lr_t m / (sqrt(v) + 1e-7).  Any shape, the four arrays alike."""
    arrays = (param, grad, m, v)
    if param.size < 2 * PIECE or len({(a.shape, a.dtype) for a in arrays}) > 1 or \
            not all(a.flags.c_contiguous for a in arrays):
        reference.adam_update(param, grad, m, v, lr_t, beta1, beta2)
        return
    flat = [a.reshape(-1) for a in arrays]
    scratch_full, step_full = np.empty(PIECE, param.dtype), np.empty(PIECE, param.dtype)
    for start in range(0, param.size, PIECE):
        p, g, mp, vp = (a[start:start + PIECE] for a in flat)
        scratch, step = scratch_full[:p.size], step_full[:p.size]
        np.subtract(g, mp, out=scratch)
        scratch *= 1 - beta1
        mp += scratch
        np.multiply(g, g, out=scratch)
        scratch -= vp
        scratch *= 1 - beta2
        vp += scratch
        np.multiply(mp, lr_t, out=step)
        np.sqrt(vp, out=scratch)
        scratch += 1e-7
        step /= scratch
        p -= step
