"""Mini-batch sampling: which training samples each iteration uses.

"shuffle" (the default): each epoch a new permutation of the N samples, cut into
N // batch_size batches; the few samples left over sit out that epoch.
"replacement": every batch drawn independently, with replacement, as the book's code does
(`np.random.choice(train_size, batch_size)`).
"""

from __future__ import annotations

import numpy as np

SAMPLINGS = ("shuffle", "replacement")


class BatchSampler:
    """batch(iteration) -> the indices (batch_size,) of that iteration's mini-batch.

    Draws from `rng` (the Trainer's generator, shared with augmentation), so the sequence is
    fixed by the seed; `order` (the current epoch's permutation) is saved in checkpoints.
    """

    def __init__(self, n: int, batch_size: int, sampling: str, rng: np.random.Generator):
        if sampling not in SAMPLINGS:
            raise ValueError(f"sampling must be 'shuffle' or 'replacement', got {sampling!r}")
        self.n, self.batch_size, self.sampling, self.rng = n, batch_size, sampling, rng
        self.per_epoch = max(n // batch_size, 1)
        self.order = None

    def batch(self, iteration: int) -> np.ndarray:
        if self.sampling == "replacement":
            return self.rng.choice(self.n, self.batch_size)
        pos = iteration % self.per_epoch
        if pos == 0 or self.order is None:
            self.order = self.rng.permutation(self.n)
        return self.order[pos * self.batch_size:(pos + 1) * self.batch_size]
