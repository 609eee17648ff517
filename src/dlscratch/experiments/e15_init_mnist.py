"""Experiment 15: three weight initialisations training the same 5-layer ReLU net on MNIST.

784-100-100-100-100-10, SGD (lr 0.01), mini-batches of 128. Only the initial weight scale
differs: a fixed std of 0.01, Xavier (1/sqrt(n)) or He (sqrt(2/n)), n = fan-in. With std 0.01
the signal dies out layer by layer (experiment 14), so the gradients are ~0 and nothing is
learned; He keeps the signal alive and learns fastest.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.experiments.base import Context, CourseValue, ExperimentInfo, Result
from dlscratch.experiments.common_mlp import curve_numbers, loss_curve, smooth_curve
from dlscratch.nets import MultiLayerNet

INFO = ExperimentInfo(15, "init-mnist", "Weight initialisation compared on MNIST",
                      "MNIST 데이터셋으로 본 가중치 초기값 비교",
                      "std 0.01 does not learn at all (loss stays ~2.30); He learns fastest, "
                      "then Xavier",
                      course_value=CourseValue(
                          ("final_mean_loss", "He"), 0.230,
                          "our full run at the course's settings, 2,000 iterations",
                          higher_is_better=False))

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"final loss (mean of last {}): std=0.01 {}, Xavier {}, He {}":
          "최종 손실 (마지막 {}회의 평균): 표준편차 0.01 {}, Xavier {}, He {}",
      INFO.course_result:
          "표준편차 0.01은 전혀 학습하지 못함 (손실이 ~2.30에 머묾); He가 가장 빨리 학습하고 "
          "그다음이 Xavier",
      INFO.course_value.source: "강의 설정으로 돌린 전체 실행, 2,000회 반복",
      # the figure
      "MNIST, 5-layer ReLU net, SGD lr 0.01, batch 128":
          "MNIST, 5층 ReLU 신경망, SGD lr 0.01, 배치 128"}

INITS = {"std=0.01": 0.01, "Xavier": "xavier", "He": "he"}


def run(ctx: Context) -> Result:
    (x_train, t_train), _ = ctx.mnist(flatten=True)
    iterations = ctx.pick(200, 2000)
    batch_size, lr = 128, 0.01
    last = ctx.pick(50, 100)  # "final loss" = mean of the last iterations' raw losses

    curves = {}
    for i, (name, init) in enumerate(INITS.items()):
        net = MultiLayerNet(784, [100] * 4, 10, weight_init_std=init, seed=ctx.seed + i)
        curves[name] = loss_curve(net, x_train, t_train, iterations=iterations,
                                  batch_size=batch_size, optimizer="SGD", lr=lr,
                                  seed=ctx.seed + 100)  # the same batches for all three
        ctx.log(f"  {name:8s} final loss {np.mean(curves[name][-last:]):.4f}")

    fig, ax = plt.subplots(figsize=(8, 5))
    steps = np.arange(1, iterations + 1)
    for name, curve in curves.items():
        ax.plot(steps, smooth_curve(curve), label=name)
    ax.set_xlabel("iterations")
    ax.set_ylabel("loss (smoothed)")
    ax.set_ylim(0, 2.5)
    ax.set_title("MNIST, 5-layer ReLU net, SGD lr 0.01, batch 128")
    ax.grid(alpha=0.3)
    ax.legend()

    numbers = curve_numbers(curves, last)
    final = numbers["final_mean_loss"]
    params = {"network": "MultiLayerNet 784-[100]*4-10, ReLU", "inits": INITS,
              "optimizer": "SGD", "lr": lr, "iterations": iterations, "batch_size": batch_size,
              "train_size": len(x_train), "sampling": "with replacement",
              "smoothing": "Kaiser window of 11"}
    summary = ("final loss (mean of last " + str(last) + "): "
               + ", ".join(f"{n} {v:.3f}" for n, v in final.items()))
    return Result(fig, params, numbers, summary)
