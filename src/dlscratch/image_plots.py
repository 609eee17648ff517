"""Figures of images the command line writes: the test images a model gets wrong (the course's
"모델이 인식하지 못한 이미지들") and what augmentation does to a few training images."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlscratch.plots import plt, save_figure

SHOWN = 60  # misclassified images drawn (all are counted)


def plot_misclassified(images: np.ndarray, t: np.ndarray, pred: np.ndarray, class_names,
                       path: str | Path, title: str = "") -> Path:
    """A grid of the first SHOWN images whose prediction is wrong, each titled
    'true -> predicted'. images: (N, 28, 28) or (N, 784); t, pred: (N,) class indices."""
    wrong = np.flatnonzero(pred != t)
    shown = wrong[:SHOWN]
    cols = 10
    rows = max(1, -(-len(shown) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.2, rows * 1.35 + 0.6), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), shown, strict=False):
        ax.imshow(np.asarray(images[i]).reshape(28, 28), cmap="gray_r")
        ax.set_title(f"{class_names[t[i]]} -> {class_names[pred[i]]}", fontsize=7)
    fig.suptitle(f"{title}: {len(wrong)} of {len(t)} misclassified"
                 f"{f' (the first {len(shown)} shown)' if len(shown) < len(wrong) else ''}",
                 fontsize=10)
    return save_figure(fig, path)


def plot_augmentations(images: np.ndarray, versions: list[np.ndarray], labels: list[str],
                       path: str | Path, title: str = "") -> Path:
    """Row 0: the original images (N, 28, 28); row r: versions[r - 1] (N, 28, 28), labelled."""
    rows = [np.asarray(images), *map(np.asarray, versions)]
    names = ["original", *labels]
    n = len(images)
    fig, axes = plt.subplots(len(rows), n, figsize=(n * 1.1, len(rows) * 1.15 + 0.5),
                             squeeze=False)
    for r, (row, name) in enumerate(zip(rows, names, strict=True)):
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(row[c].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(name, fontsize=8, rotation=0, ha="right", va="center")
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)
