"""Experiment 10: gradient check - backprop against the numerical gradient.

Backprop is fast but easy to get wrong; the numerical gradient (central differences) is slow
but simple enough to trust. On TwoLayerNet(784, 50, 10) in float64 and 3 training images, the
two are compared entry by entry: the mean absolute difference per parameter is around 1e-13 ..
1e-10 - rounding error, so the backward passes are correct. (--quick compares a random sample
of the entries of each parameter instead of all 39,760.)
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.experiments.base import Context, ExperimentInfo, Result
from dlscratch.gradient import gradient_check, numerical_gradient
from dlscratch.nets import TwoLayerNet

INFO = ExperimentInfo(10, "gradient-check", "Gradient check", "오차역전파법 (기울기 확인)",
                      "tiny differences; the book prints W1 2.2e-13, b1 9.7e-13, W2 8.4e-13, "
                      "b2 1.2e-10")

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"mean |backprop - numerical|: {}": "평균 |오차역전파법 - 수치 미분|: {}",
      INFO.course_result:
          "차이가 아주 작음; 책의 출력은 W1 2.2e-13, b1 9.7e-13, W2 8.4e-13, b2 1.2e-10",
      # the figure
      "mean |backprop - numerical|": "평균 |오차역전파법 - 수치 미분|",
      "gradient check, TwoLayerNet 784-50-10, 3 images, float64":
          "기울기 확인, TwoLayerNet 784-50-10, 이미지 3장, float64"}


def run(ctx: Context) -> Result:
    (x_train, t_train), _ = ctx.mnist(flatten=True)
    x_batch, t_batch = x_train[:3].astype(np.float64), t_train[:3]
    net = TwoLayerNet(784, 50, 10, dtype=np.float64, seed=ctx.seed)
    sample = ctx.pick(300, None)  # entries compared per parameter (None: all)

    grad_backprop = net.gradient(x_batch, t_batch)
    rng = ctx.rng(1)
    mean_diff, entries = {}, {}
    for key, param in net.params.items():
        if sample is None or param.size <= sample:
            flat = np.arange(param.size)
        else:
            flat = rng.choice(param.size, size=sample, replace=False)
        index = np.unravel_index(flat, param.shape)
        numeric = numerical_gradient(lambda _: net.loss(x_batch, t_batch, train_flg=True), param,
                                     indices=list(zip(*index, strict=True)))
        mean_diff[key] = float(np.mean(np.abs(grad_backprop[key][index] - numeric[index])))
        entries[key] = len(flat)
    max_relative_error = gradient_check(net, x_batch, t_batch)

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.bar(list(mean_diff), list(mean_diff.values()), color="tab:blue")
    for i, value in enumerate(mean_diff.values()):
        ax.text(i, value * 1.3, f"{value:.1e}", ha="center")
    ax.set_yscale("log")
    ax.set_ylim(1e-15, 1e-6)
    ax.set_ylabel("mean |backprop - numerical|")
    ax.set_title("gradient check, TwoLayerNet 784-50-10, 3 images, float64")
    ax.grid(alpha=0.3, axis="y")

    numbers = {"mean_abs_diff": mean_diff, "entries_compared": entries,
               "gradient_check_max_relative_error": max_relative_error}
    summary = "mean |backprop - numerical|: " + ", ".join(
        f"{k} {v:.1e}" for k, v in mean_diff.items())
    return Result(fig, {"sizes": [784, 50, 10], "activation": "relu", "weight_init_std": 0.01,
                        "dtype": "float64", "images": 3, "h": 1e-4,
                        "entries_per_parameter": sample or "all", "seed": ctx.seed},
                  numbers, summary)
