"""Experiment 17: overfitting, and two cures: weight decay and dropout.

A big net (784, six hidden layers of 100, 10; ReLU, He init) on only 300 MNIST training images
memorises them: train accuracy goes to 1.0 while test accuracy stays far below. Then the same
training with L2 weight decay (lambda 0.1) and with dropout (ratio 0.2). SGD lr 0.01, batches
of 100, 200 epochs for all three (the book runs its dropout figure for 301 epochs).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.experiments.base import Context, CourseValue, ExperimentInfo, Result
from dlscratch.nets import MultiLayerNet, MultiLayerNetExtend
from dlscratch.train import Trainer

INFO = ExperimentInfo(17, "overfitting", "Overfitting, weight decay and dropout",
                      "올바른 학습을 위해 (오버피팅, 가중치 감소, 드롭아웃)",
                      "without regularisation train accuracy reaches 1.0 with a large gap to test "
                      "accuracy; weight decay and dropout shrink the gap",
                      course_value=CourseValue(
                          ("final_train_acc", "plain"), 1.0,
                          "the course: train accuracy reaches 1.0"))

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"train/test accuracy gap: plain {} (train {}), weight decay 0.1 {} (train {}), dropout 0.2 "
      "{} (train {})":
          "훈련·시험 정확도 차이: 규제 없음 {} (훈련 {}), 가중치 감소 0.1 {} (훈련 {}), 드롭아웃 "
          "0.2 {} (훈련 {})",
      INFO.course_result:
          "규제가 없으면 훈련 정확도가 1.0에 이르고 시험 정확도와의 차이가 큼; 가중치 감소와 "
          "드롭아웃이 그 차이를 줄임",
      INFO.course_value.source: "강의: 훈련 정확도가 1.0에 이름",
      # the figure
      "plain": "규제 없음", "weight decay 0.1": "가중치 감소 0.1", "dropout 0.2": "드롭아웃 0.2",
      "{} training images, 784-[100]*6-10, SGD lr 0.01":
          "훈련 이미지 {}장, 784-[100]*6-10, SGD lr 0.01"}

HIDDEN = [100] * 6
VARIANTS = {  # name -> a function building the network from a seed
    "plain": lambda seed: MultiLayerNet(784, HIDDEN, 10, seed=seed),
    "weight decay 0.1": lambda seed: MultiLayerNet(784, HIDDEN, 10, weight_decay_lambda=0.1,
                                                   seed=seed),
    "dropout 0.2": lambda seed: MultiLayerNetExtend(784, HIDDEN, 10, use_dropout=True,
                                                    dropout_ratio=0.2, seed=seed),
}


def run(ctx: Context) -> Result:
    (x_train, t_train), (x_test, t_test) = ctx.mnist(flatten=True)
    train_size = 300
    epochs = ctx.pick(60, 200)
    test_size = ctx.pick(1000, len(x_test))  # test accuracy measured on this many test images
    x, t = x_train[:train_size], t_train[:train_size]

    histories = {}
    for name, build in VARIANTS.items():
        trainer = Trainer(build(ctx.seed), x, t, x_test[:test_size], t_test[:test_size],
                          epochs=epochs, mini_batch_size=100, optimizer="SGD",
                          optimizer_param={"lr": 0.01}, sampling="replacement",
                          seed=ctx.seed + 1)
        histories[name] = trainer.train()
        h = histories[name]
        ctx.log(f"  {name:17s} train {h['train_acc'][-1]:.3f}  test {h['test_acc'][-1]:.3f}")

    fig, axes = plt.subplots(1, len(VARIANTS), figsize=(14, 4), sharey=True)
    for ax, (name, h) in zip(axes, histories.items(), strict=True):
        ax.plot(h["epoch"], h["train_acc"], label="train")
        ax.plot(h["epoch"], h["test_acc"], label="test")
        ax.set_title(name)
        ax.set_xlabel("epochs")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("accuracy")
    axes[0].legend(loc="lower right")
    fig.suptitle(f"{train_size} training images, 784-[100]*6-10, SGD lr 0.01")
    fig.tight_layout()

    numbers = {"final_train_acc": {}, "final_test_acc": {}, "final_gap": {},
               "mean_gap_last_10_epochs": {}, "train_acc": {}, "test_acc": {}}
    for name, h in histories.items():
        train_acc, test_acc = np.array(h["train_acc"]), np.array(h["test_acc"])
        numbers["final_train_acc"][name] = float(train_acc[-1])
        numbers["final_test_acc"][name] = float(test_acc[-1])
        numbers["final_gap"][name] = float(train_acc[-1] - test_acc[-1])
        numbers["mean_gap_last_10_epochs"][name] = float(np.mean(train_acc[-10:] - test_acc[-10:]))
        numbers["train_acc"][name] = h["train_acc"]
        numbers["test_acc"][name] = h["test_acc"]
    params = {"network": "784-[100]*6-10, ReLU, He init", "train_size": train_size,
              "test_size": test_size, "epochs": epochs, "batch_size": 100, "optimizer": "SGD",
              "lr": 0.01, "weight_decay_lambda": 0.1, "dropout_ratio": 0.2,
              "dropout": "the course's (scale by 1 - ratio at test time)",
              "sampling": "with replacement"}
    gap = numbers["final_gap"]
    summary = ("train/test accuracy gap: "
               + ", ".join(f"{n} {g:.3f} (train {numbers['final_train_acc'][n]:.3f})"
                           for n, g in gap.items()))
    return Result(fig, params, numbers, summary)
