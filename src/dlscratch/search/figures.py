"""The course's figures of a search (shared by `dlscratch search` and experiment 18).

- `curves_figure`: one small plot per trial, best first, validation accuracy per epoch (solid)
  and training accuracy (dashed), as the course shows the best 20 trials.
- `scatter_figure`: one trial per point, two parameters on log (or linear) axes, coloured by
  validation accuracy: where the good region lies, before narrowing the ranges.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

CURVES_SHOWN = 20


def curves_figure(ranked: list[dict], labels: list[str], title: str, cols: int = 5):
    """ranked: trials best first, each with 'val_acc' and 'train_acc' (one value per
    evaluation); labels: each plot's title."""
    shown = ranked[:CURVES_SHOWN]
    rows = max(1, int(np.ceil(len(shown) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(13, 2.3 * rows), squeeze=False)
    for i, r in enumerate(shown):
        ax = axes.flat[i]
        ax.plot(r["val_acc"], label="validation")
        ax.plot(r["train_acc"], "--", label="train")
        ax.set_title(labels[i], fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_xticks([])
        if i % cols:
            ax.set_yticks([])
    for ax in axes.flat[len(shown):]:
        ax.axis("off")
    if shown:
        axes.flat[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def scatter_figure(x, y, accuracy, names: tuple[str, str], logs: tuple[bool, bool], title: str):
    """Each trial at (x, y), coloured by its validation accuracy (the best ringed)."""
    fig, ax = plt.subplots(figsize=(6.5, 5))
    x, y, accuracy = (np.asarray(v, dtype=float) for v in (x, y, accuracy))
    points = ax.scatter(x, y, c=accuracy, cmap="viridis", s=28, edgecolors="none")
    if len(accuracy):
        best = int(np.argmax(accuracy))
        ax.scatter([x[best]], [y[best]], s=120, facecolors="none", edgecolors="red",
                   label=f"best: {accuracy[best]:.3f}")
        ax.legend(fontsize=8, loc="best")
    ax.set_xscale("log" if logs[0] else "linear")
    ax.set_yscale("log" if logs[1] else "linear")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    fig.colorbar(points, ax=ax, label="validation accuracy")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


__all__ = ["CURVES_SHOWN", "curves_figure", "scatter_figure"]
