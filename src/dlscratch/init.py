"""Weight initialisation (chapter 6): a fixed standard deviation, Xavier or He.

std = 0.01 (the course's small constant), Xavier: 1 / sqrt(n), He: sqrt(2 / n),
with n the fan-in: the inputs one output unit sees (Affine: rows of W; conv: C * FH * FW).
"""

from __future__ import annotations

import numpy as np

SCHEMES = ("xavier", "he", "sigmoid", "relu")


def init_std(weight_init_std: float | str, fan_in: int) -> float:
    """The standard deviation for a scheme name or a number.

    'xavier' / 'sigmoid' -> 1/sqrt(fan_in); 'he' / 'relu' -> sqrt(2/fan_in); a number -> itself.
    (The book maps 'relu' to He and 'sigmoid' to Xavier; both spellings are accepted.)
    """
    if isinstance(weight_init_std, str):
        scheme = weight_init_std.lower()
        if scheme in ("xavier", "sigmoid"):
            return float(np.sqrt(1.0 / fan_in))
        if scheme in ("he", "relu"):
            return float(np.sqrt(2.0 / fan_in))
        raise ValueError(
            f"unknown weight init {weight_init_std!r}: use a number or one of {SCHEMES}")
    std = float(weight_init_std)
    if not np.isfinite(std) or std < 0:
        raise ValueError(f"weight init std must be a finite number >= 0, got {weight_init_std!r}")
    return std


def fan_in(shape: tuple[int, ...]) -> int:
    """Inputs per output unit: Affine W (in, out) -> in; conv W (FN, C, FH, FW) -> C*FH*FW."""
    return int(shape[0]) if len(shape) == 2 else int(np.prod(shape[1:]))


def init_weight(
    shape: tuple[int, ...],
    weight_init_std: float | str = 0.01,
    rng: np.random.Generator | None = None,
    dtype=np.float32,
) -> np.ndarray:
    """A Gaussian weight array N(0, std^2) of `shape`, std chosen by `init_std`."""
    rng = np.random.default_rng() if rng is None else rng
    std = init_std(weight_init_std, fan_in(shape))
    return (std * rng.standard_normal(shape)).astype(dtype)
