"""Experiment 16: batch normalisation against the initial weight scale.

A deep net (784, five hidden layers of 100, 10; ReLU) is trained on 1,000 MNIST images with
SGD (lr 0.01, batches of 100) for each initial weight std w in logspace(0, -4, 16), once with
a BatchNorm layer after every hidden Affine and once without. Both nets of a panel start from
the same weights and see the same batches. The curves are training accuracy per epoch.
Without batch norm a scale as large as w = 1 can overflow float32; the Trainer then stops that
run (TrainingDiverged), the panel shows the epochs before it, and `diverged_plain` says so.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.experiments.base import Context, CourseValue, ExperimentInfo, Result
from dlscratch.nets import MultiLayerNetExtend
from dlscratch.train import Trainer, TrainingDiverged

INFO = ExperimentInfo(16, "batchnorm", "Batch normalisation", "배치 정규화",
                      "with batch norm the net learns faster, and at almost every weight scale; "
                      "without it, small (and very large) scales learn nothing",
                      course_value=CourseValue(
                          ("mean_final_train_acc_bn",), 0.783,
                          "our full run at the course's settings, 16 scales x 20 epochs"))

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"batch norm ends higher at {} of {} weight scales; mean final train acc {} with BN vs {} "
      "without":
          "가중치 초기값의 표준편차 {1}가지 중 {0}가지에서 배치 정규화를 쓴 쪽이 더 높게 끝남; "
          "최종 훈련 정확도 평균: 배치 정규화 사용 {2}, 미사용 {3}",
      "{} ({} run(s) diverged)": "{} (발산한 학습 {}회)",
      INFO.course_result:
          "배치 정규화를 쓰면 더 빨리 학습하고, 가중치 초기값의 표준편차가 거의 어떤 값이든 "
          "학습됨; 쓰지 않으면 작은 (그리고 아주 큰) 표준편차에서는 전혀 학습하지 못함",
      INFO.course_value.source: "강의 설정으로 돌린 전체 실행, 표준편차 16가지 x 20에폭",
      # the figure
      "Batch Normalization": "배치 정규화", "Normal (without BN)": "일반 (배치 정규화 없음)",
      "Train accuracy, {} MNIST images, 784-[100]*5-10, SGD lr 0.01":
          "훈련 정확도, MNIST 이미지 {}장, 784-[100]*5-10, SGD lr 0.01"}


def train_accuracy(use_batchnorm: bool, w: float, x, t, epochs: int, seed: int) -> dict:
    """Train one net; its train accuracy per epoch (epoch 0 = before training)."""
    net = MultiLayerNetExtend(784, [100] * 5, 10, weight_init_std=w,
                              use_batchnorm=use_batchnorm, seed=seed)
    trainer = Trainer(net, x, t, epochs=epochs, mini_batch_size=100, optimizer="SGD",
                      optimizer_param={"lr": 0.01}, sampling="replacement", seed=seed + 1)
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # the Trainer checks the loss
            trainer.train()
        diverged = False
    except TrainingDiverged:  # w = 1 overflows float32 without batch norm: keep the curve so far
        diverged = True
    return {"acc": trainer.history["train_acc"], "diverged": diverged}


def run(ctx: Context) -> Result:
    (x_train, t_train), _ = ctx.mnist(flatten=True)
    train_size = 1000  # the book's; quick mode trains fewer epochs at fewer scales
    epochs = ctx.pick(10, 20)
    scales = np.logspace(0, -4, ctx.pick(4, 16))
    x, t = x_train[:train_size], t_train[:train_size]

    runs = {}
    for i, w in enumerate(scales):
        seed = ctx.seed + 10 * i
        runs[i] = {"bn": train_accuracy(True, w, x, t, epochs, seed),
                   "plain": train_accuracy(False, w, x, t, epochs, seed)}
        ctx.log(f"  w={w:.2e}: with BN {runs[i]['bn']['acc'][-1]:.3f}, "
                f"without {runs[i]['plain']['acc'][-1]:.3f}")

    cols = 4
    rows = int(np.ceil(len(scales) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(12, 2.6 * rows), squeeze=False)
    for i, w in enumerate(scales):
        ax = axes.flat[i]
        ax.plot(runs[i]["bn"]["acc"], label="Batch Normalization", markevery=2)
        ax.plot(runs[i]["plain"]["acc"], "--", label="Normal (without BN)", markevery=2)
        ax.set_title(f"W: {w:.3g}", fontsize=9)
        ax.set_ylim(0, 1)
        if i % cols:
            ax.set_yticks([])
        else:
            ax.set_ylabel("train accuracy")
        if i >= len(scales) - cols:
            ax.set_xlabel("epochs")
    for ax in axes.flat[len(scales):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"Train accuracy, {train_size} MNIST images, 784-[100]*5-10, SGD lr 0.01")
    fig.tight_layout()

    bn_final = [r["bn"]["acc"][-1] for r in runs.values()]
    plain_final = [r["plain"]["acc"][-1] for r in runs.values()]
    numbers = {
        "weight_scales": scales,
        "final_train_acc_bn": bn_final,
        "final_train_acc_plain": plain_final,
        "mean_final_train_acc_bn": float(np.mean(bn_final)),
        "mean_final_train_acc_plain": float(np.mean(plain_final)),
        "diverged_bn": [r["bn"]["diverged"] for r in runs.values()],
        "diverged_plain": [r["plain"]["diverged"] for r in runs.values()],
        "train_acc_curves_bn": [r["bn"]["acc"] for r in runs.values()],
        "train_acc_curves_plain": [r["plain"]["acc"] for r in runs.values()],
    }
    params = {"network": "MultiLayerNetExtend 784-[100]*5-10, ReLU", "train_size": train_size,
              "epochs": epochs, "batch_size": 100, "optimizer": "SGD", "lr": 0.01,
              "weight_scales": f"logspace(0, -4, {len(scales)})",
              "sampling": "with replacement"}
    diverged = sum(numbers["diverged_plain"]) + sum(numbers["diverged_bn"])
    better = sum(b > p for b, p in zip(bn_final, plain_final, strict=True))
    summary = (f"batch norm ends higher at {better} of {len(scales)} weight scales; "
               f"mean final train acc {numbers['mean_final_train_acc_bn']:.3f} with BN vs "
               f"{numbers['mean_final_train_acc_plain']:.3f} without"
               + (f" ({diverged} run(s) diverged)" if diverged else ""))
    return Result(fig, params, numbers, summary)
