"""Experiment 8: gradient descent - step against the gradient, over and over.

x <- x - lr * grad f(x) on f(x0, x1) = x0^2 + x1^2 from (-3, 4), 100 steps. The learning rate
decides everything: 0.1 walks to the minimum (0, 0); 10 overshoots further every step and
diverges to huge numbers; 1e-10 hardly moves at all. (Once x is about 1e13, x^2 is so large
that f(x + h) - f(x - h) is lost to rounding: the numerical gradient becomes 0 and the diverged
point stops where it is - the book's -2.58e13 comes from that.)
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.experiments.base import Context, ExperimentInfo, Result
from dlscratch.gradient import gradient_descent

INFO = ExperimentInfo(8, "gradient-descent", "Gradient descent", "경사 하강법",
                      "lr 0.1: (-6.1e-10, 8.1e-10); lr 10: (-2.58e13, -1.29e12); "
                      "lr 1e-10: (-2.99999994, 3.99999992)")

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"lr {}: {}; lr {}: {}; lr {}: {}":
          "경사 하강법의 도착점 – 학습률 {}: {}; 학습률 {}: {}; 학습률 {}: {}",
      INFO.course_result:
          "경사 하강법의 도착점 – 학습률 0.1: (-6.1e-10, 8.1e-10); 학습률 10: (-2.58e13, "
          "-1.29e12); 학습률 1e-10: (-2.99999994, 3.99999992)",
      # the figure
      "lr = 0.1 (100 steps)": "lr = 0.1 (100단계)", "start (-3, 4)": "시작점 (-3, 4)",
      "gradient descent on f = x0^2 + x1^2": "f = x0^2 + x1^2의 경사 하강법",
      "distance from the minimum |x|": "최솟값까지의 거리 |x|",
      "too large lr diverges, too small lr stalls": "학습률이 너무 크면 발산, 너무 작으면 정체"}


def function_2(x: np.ndarray) -> float:
    return float(np.sum(x**2))


def run(ctx: Context) -> Result:
    init_x, step_num = [-3.0, 4.0], 100
    results = {lr: gradient_descent(function_2, init_x, lr=lr, step_num=step_num)
               for lr in (0.1, 10.0, 1e-10)}

    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    grid = np.linspace(-4.5, 4.5, 200)
    X0, X1 = np.meshgrid(grid, grid)
    axes[0].contour(X0, X1, X0**2 + X1**2, levels=15, colors="0.75")
    path = results[0.1][1]
    axes[0].plot(path[:, 0], path[:, 1], "o-", ms=3, label="lr = 0.1 (100 steps)")
    axes[0].plot(*init_x, "ks", label="start (-3, 4)")
    axes[0].set_xlabel("x0")
    axes[0].set_ylabel("x1")
    axes[0].set_aspect("equal")
    axes[0].legend(loc="lower left")
    axes[0].set_title("gradient descent on f = x0^2 + x1^2")
    for lr, (_, path) in results.items():
        axes[1].semilogy(np.linalg.norm(path, axis=1) + 1e-300, label=f"lr = {lr:g}")
    axes[1].set_xlabel("step")
    axes[1].set_ylabel("distance from the minimum |x|")
    axes[1].set_title("too large lr diverges, too small lr stalls")
    axes[1].legend()
    for ax in axes:
        ax.grid(alpha=0.3)

    numbers = {}
    for lr, (final, _) in results.items():
        numbers[f"final_lr_{lr:g}"] = final
        numbers[f"norm_lr_{lr:g}"] = float(np.linalg.norm(final))
    norms_10 = np.linalg.norm(results[10.0][1], axis=1)
    numbers["lr_10_steps_until_stuck"] = int(np.argmax(norms_10 == norms_10[-1]))
    numbers["moved_lr_1e-10"] = float(np.linalg.norm(results[1e-10][0] - np.array(init_x)))
    summary = "; ".join(f"lr {lr:g}: {np.array2string(final, precision=4)}"
                        for lr, (final, _) in results.items())
    return Result(fig, {"init_x": init_x, "step_num": step_num, "lrs": list(results)},
                  numbers, summary)
