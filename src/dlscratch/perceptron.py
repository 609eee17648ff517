"""Perceptron logic gates of chapter 2: y = 1 if w . x + b > 0 else 0.

AND, NAND and OR are one perceptron each, differing only in weights and bias; XOR is not
linearly separable, so it needs two layers: XOR(x1, x2) = AND(NAND(x1, x2), OR(x1, x2)).
"""

from __future__ import annotations

import numpy as np


def perceptron(x1: float, x2: float, w: tuple[float, float], b: float) -> int:
    """One perceptron: 1 if w1*x1 + w2*x2 + b > 0 else 0."""
    return int(np.dot(w, (x1, x2)) + b > 0)


def AND(x1: float, x2: float) -> int:
    return perceptron(x1, x2, (0.5, 0.5), -0.7)


def NAND(x1: float, x2: float) -> int:
    return perceptron(x1, x2, (-0.5, -0.5), 0.7)


def OR(x1: float, x2: float) -> int:
    return perceptron(x1, x2, (0.5, 0.5), -0.2)


def XOR(x1: float, x2: float) -> int:
    """A two-layer perceptron: NAND and OR in the first layer, AND in the second."""
    return AND(NAND(x1, x2), OR(x1, x2))
