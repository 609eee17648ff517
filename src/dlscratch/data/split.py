"""Seeded, shuffled train/validation split."""

from __future__ import annotations

import math
import numbers

import numpy as np

Split = tuple[np.ndarray, np.ndarray]


def train_val_split(
    x: np.ndarray, t: np.ndarray, val_fraction: float = 0.2, seed: int | None = 0
) -> tuple[Split, Split]:
    """Shuffle N samples with `seed` and split off round(N * val_fraction) for validation.

    x: (N, ...), t: (N, ...). Returns (x_train, t_train), (x_val, t_val); both parts are
    non-empty, disjoint, and together hold every sample once. Outputs are copies.
    """
    if (
        isinstance(val_fraction, bool)
        or not isinstance(val_fraction, numbers.Real)
        or not 0.0 < float(val_fraction) < 1.0
    ):
        raise ValueError(f"val_fraction must be a number in (0, 1), got {val_fraction!r}")
    x, t = np.asarray(x), np.asarray(t)
    if x.ndim == 0 or t.ndim == 0:
        raise ValueError(f"x and t must have a sample axis, got shapes {x.shape} and {t.shape}")
    n = len(x)
    if len(t) != n:
        raise ValueError(f"x and t differ in length: len(x)={n}, len(t)={len(t)}")
    n_val = math.floor(n * float(val_fraction) + 0.5)
    if not 0 < n_val < n:
        raise ValueError(
            f"val_fraction={val_fraction!r} of {n} samples gives {n_val} validation samples; "
            "need at least one sample in each part"
        )
    order = np.random.default_rng(seed).permutation(n)
    val, train = order[:n_val], order[n_val:]
    return (x[train], t[train]), (x[val], t[val])
