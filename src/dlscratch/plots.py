"""Figures the command line writes: training curves and confusion matrices (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dlscratch.io.atomic import atomic_write  # noqa: E402


def save_figure(fig, path: str | Path, dpi: int = 100) -> Path:
    """Write a figure as PNG atomically and close it."""
    path = Path(path)
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def moving_average(values, window: int) -> np.ndarray:
    """Mean over a trailing window (shorter at the start), for noisy loss curves."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return values
    c = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    return (c[idx] - c[np.maximum(idx - window, 0)]) / np.minimum(idx, window)


def plot_history(history: dict, path: str | Path, title: str = "") -> Path:
    """Loss per iteration (raw and smoothed) and accuracy per epoch, side by side."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    loss = history["loss"]
    ax_loss.plot(np.arange(1, len(loss) + 1), loss, alpha=0.3, lw=0.7, label="loss")
    ax_loss.plot(np.arange(1, len(loss) + 1), moving_average(loss, 50), label="moving avg (50)")
    ax_loss.set(xlabel="iteration", ylabel="loss", title="training loss")
    ax_loss.legend()
    for name, style in (("train", "-o"), ("test", "--s"), ("val", ":^")):
        accs = history.get(f"{name}_acc", [])
        if accs and any(a is not None for a in accs):
            ax_acc.plot(history["epoch"], [np.nan if a is None else a for a in accs], style,
                        ms=3, label=name)
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(0, 1.0))
    ax_acc.legend(loc="lower right")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


def plot_confusion(matrix: np.ndarray, class_names, path: str | Path, title: str = "") -> Path:
    """Confusion matrix: rows are true classes, columns predictions; counts in each cell."""
    k = len(matrix)
    fig, ax = plt.subplots(figsize=(7, 6))
    im = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(im, ax=ax)
    ax.set(xticks=range(k), yticks=range(k), xlabel="predicted", ylabel="true", title=title)
    ax.set_xticklabels(class_names, rotation=45, ha="right")
    ax.set_yticklabels(class_names)
    threshold = matrix.max() / 2 if matrix.size else 0
    for i in range(k):
        for j in range(k):
            ax.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if matrix[i, j] > threshold else "black")
    return save_figure(fig, path)
