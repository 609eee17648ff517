"""Experiment 13: the update rules of chapter 6 training the same 5-layer network on MNIST.

Every optimizer starts from the same He-initialised weights (784-100-100-100-100-10, ReLU) and
sees the same mini-batches of 128; only the update rule differs. The loss of each iteration is
noisy, so the curves are smoothed with the book's moving window.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.experiments.base import Context, CourseValue, ExperimentInfo, Result
from dlscratch.experiments.common_mlp import curve_numbers, loss_curve, smooth_curve
from dlscratch.nets import MultiLayerNet

INFO = ExperimentInfo(13, "optimizer-mnist", "Update rules compared on MNIST",
                      "MNIST 데이터셋으로 본 갱신 방법 비교",
                      "SGD learns slowest; Momentum, AdaGrad and Adam lower the loss much faster",
                      course_value=CourseValue(
                          ("final_mean_loss", "Adam"), 0.052,
                          "our full run at the course's settings, 2,000 iterations",
                          higher_is_better=False))

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"final loss (mean of last {}): {}; slowest: {}":
          "최종 손실 (마지막 {}회의 평균): {}; 가장 느림: {}",
      INFO.course_result: "SGD가 가장 느리게 학습함; 모멘텀, AdaGrad, Adam은 손실을 훨씬 빨리 줄임",
      INFO.course_value.source: "강의 설정으로 돌린 전체 실행, 2,000회 반복",
      # the figure
      "MNIST, 5-layer ReLU net, batch 128": "MNIST, 5층 ReLU 신경망, 배치 128"}

# (name, learning rate): the book's four, plus RMSprop and Nesterov.
OPTIMIZERS = [("SGD", 0.01), ("Momentum", 0.01), ("AdaGrad", 0.01), ("Adam", 0.001),
              ("RMSprop", 0.001), ("Nesterov", 0.01)]


def run(ctx: Context) -> Result:
    (x_train, t_train), _ = ctx.mnist(flatten=True)
    iterations = ctx.pick(300, 2000)
    batch_size = 128
    last = ctx.pick(50, 100)  # "final loss" = mean of the last iterations' raw losses

    curves = {}
    for name, lr in OPTIMIZERS:
        net = MultiLayerNet(784, [100] * 4, 10, weight_init_std="he", seed=ctx.seed)
        curves[name] = loss_curve(net, x_train, t_train, iterations=iterations,
                                  batch_size=batch_size, optimizer=name, lr=lr,
                                  seed=ctx.seed + 1)
        ctx.log(f"  {name:9s} final loss {np.mean(curves[name][-last:]):.4f}")

    fig, ax = plt.subplots(figsize=(8, 5))
    steps = np.arange(1, iterations + 1)
    for name, lr in OPTIMIZERS:
        ax.plot(steps, smooth_curve(curves[name]), label=f"{name} (lr {lr:g})",
                lw=1.2 if name in ("SGD", "Momentum", "AdaGrad", "Adam") else 0.8)
    ax.set_xlabel("iterations")
    ax.set_ylabel("loss (smoothed)")
    ax.set_ylim(0, 1 if not ctx.quick else 2.5)
    ax.set_title("MNIST, 5-layer ReLU net, batch 128")
    ax.grid(alpha=0.3)
    ax.legend()

    numbers = curve_numbers(curves, last)
    final = numbers["final_mean_loss"]
    order = sorted(final, key=final.get)
    params = {"network": "MultiLayerNet 784-[100]*4-10, ReLU, He init",
              "optimizers": dict(OPTIMIZERS), "iterations": iterations,
              "batch_size": batch_size, "train_size": len(x_train),
              "sampling": "with replacement", "smoothing": "Kaiser window of 11"}
    summary = (f"final loss (mean of last {last}): "
               + ", ".join(f"{n} {final[n]:.3f}" for n in order)
               + f"; slowest: {order[-1]}")
    return Result(fig, params, numbers, summary)
