"""NumPy's global random state in the shape of a `np.random.Generator`, for dlscratch's objects.

dlscratch draws from its own generators; the book draws from `np.random` (`randn` for weights,
`rand` for dropout masks, `choice` for mini-batches), so `np.random.seed(s)` fixes a run. This
adapter lets dlscratch's `init_weight` and `Dropout` draw from that global state, in the book's
order.
"""

from __future__ import annotations

import numpy as np


class GlobalRandom:
    """The two Generator methods dlscratch's objects call, served by `np.random`."""

    def standard_normal(self, shape):
        return np.random.standard_normal(shape)  # the stream of np.random.randn(*shape)

    def random(self, shape, dtype=np.float64):
        return np.random.rand(*shape)  # float64 always, as the book's masks are drawn


GLOBAL_RANDOM = GlobalRandom()
