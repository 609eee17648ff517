"""Classification metrics: confusion matrix and per-class accuracy."""

from __future__ import annotations

import numpy as np


def confusion_matrix(t: np.ndarray, y: np.ndarray, num_classes: int) -> np.ndarray:
    """C[i, j] = number of samples of true class i predicted as class j."""
    t, y = np.asarray(t).astype(np.intp), np.asarray(y).astype(np.intp)
    if t.shape != y.shape:
        raise ValueError(f"labels and predictions differ in shape: {t.shape} vs {y.shape}")
    for name, v in (("labels", t), ("predictions", y)):
        if v.size and (v.min() < 0 or v.max() >= num_classes):
            raise ValueError(f"{name} must lie in [0, {num_classes}), got values in "
                             f"[{v.min()}, {v.max()}]")
    return np.bincount(t * num_classes + y, minlength=num_classes**2).reshape(num_classes,
                                                                               num_classes)


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Recall per class: C[i, i] / sum_j C[i, j] (NaN for a class with no samples)."""
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / totals, np.nan)


def accuracy(scores: np.ndarray, t: np.ndarray) -> float:
    """Fraction of rows of scores (N, K) whose largest entry is at the label t (indices (N,)
    or one-hot (N, K)); NaN for no samples."""
    t = np.asarray(t)
    if t.ndim != 1:
        t = t.argmax(axis=1)
    if len(scores) == 0:
        return float("nan")
    return float(np.mean(np.argmax(scores, axis=1) == t))
