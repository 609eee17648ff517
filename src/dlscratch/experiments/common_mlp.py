"""Helpers shared by the chapter-6 experiments (13-18): smoothing and a loss-curve run.

    losses = loss_curve(net, x_train, t_train, iterations=2000, batch_size=128,
                        optimizer="SGD", lr=0.01, seed=1)
    smooth_curve(losses)   # the book's moving-window smoothing, same length
"""

from __future__ import annotations

import numpy as np

from dlscratch.train import Trainer


def smooth_curve(values, window: int = 11) -> np.ndarray:
    """The book's smoothing of a noisy loss curve: a centred Kaiser window of `window` points.

    The ends are padded with mirrored values, so the result has the input's length.
    """
    values = np.asarray(values, dtype=float)
    if len(values) < window:
        return values.copy()
    half = window // 2
    padded = np.r_[values[half:0:-1], values, values[-2:-half - 2:-1]]
    weights = np.kaiser(window, 2)
    return np.convolve(padded, weights / weights.sum(), mode="valid")


def loss_curve(net, x, t, *, iterations: int, batch_size: int, optimizer: str, lr: float,
               seed: int) -> list[float]:
    """Train `net` for `iterations` mini-batches (drawn with replacement, as the book's code
    does) and return the loss of every iteration.

    The Trainer also measures accuracy each epoch; here on 1,000 samples only, to stay quick.
    """
    trainer = Trainer(net, x, t, iterations=iterations, mini_batch_size=batch_size,
                      optimizer=optimizer, optimizer_param={"lr": lr}, sampling="replacement",
                      evaluate_sample_num_per_epoch=1000, seed=seed)
    return trainer.train()["loss"]


def curve_numbers(curves: dict[str, np.ndarray], last: int) -> dict:
    """What experiments 13 and 15 report of their loss curves: the smoothed and the mean loss at
    the end, the smoothed loss at iterations 100/500/1000/1500/2000, the first loss."""
    iterations = len(next(iter(curves.values())))
    checkpoints = [i for i in (100, 500, 1000, 1500, 2000) if i <= iterations]
    return {
        "final_smoothed_loss": {n: float(smooth_curve(c)[-1]) for n, c in curves.items()},
        "final_mean_loss": {n: float(np.mean(c[-last:])) for n, c in curves.items()},
        "final_mean_over_last": last,
        "smoothed_loss_at": {n: {i: float(smooth_curve(c)[i - 1]) for i in checkpoints}
                             for n, c in curves.items()},
        "first_loss": {n: float(c[0]) for n, c in curves.items()},
    }
