"""Experiment 9: training the two-layer network with mini-batch SGD (chapter 4).

TwoLayerNet 784 -> 50 -> 10 (sigmoid), weights N(0, 0.01^2); each iteration draws 100 random
training images (with replacement, as the book does), computes the gradient and takes one SGD
step with lr 0.1. The loss falls and the train and test accuracies rise together, epoch after
epoch (an epoch = 60,000 / 100 = 600 iterations): the network is not overfitting.

Why backprop: the book trains this network with `numerical_gradient`, two loss evaluations per
parameter - 39,760 parameters, so 79,520 forward passes per step. Here one numerical gradient
is timed on a random sample of parameter entries and extrapolated to all of them, against one
backprop gradient (one forward and one backward pass). The training itself uses backprop.
"""

from __future__ import annotations

import time

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.experiments.base import Context, CourseValue, ExperimentInfo, Result
from dlscratch.experiments.cache import train_or_load
from dlscratch.gradient import numerical_gradient
from dlscratch.nets import TwoLayerNet
from dlscratch.train.trainer import Trainer

INFO = ExperimentInfo(9, "train-two-layer", "Training a two-layer network with SGD",
                      "학습 알고리즘 구현하기 – 확률적 경사 하강법(SGD)",
                      "after 10,000 iterations: train accuracy 94.7%, test 94.65%",
                      course_value=CourseValue(
                          ("final_test_acc",), 0.9465, "the book, 10,000 iterations"))

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"train acc {}, test acc {} after {} iterations; one gradient: backprop {} ms, numerical "
      "~{} s ({} of {} entries timed)":
          "{2}회 반복 후 훈련 정확도 {0}, 시험 정확도 {1}; 기울기 1회 계산: 오차역전파법 {3} ms, "
          "수치 미분 약 {4}초 (매개변수 {6}개 중 {5}개만 재어 추정)",
      INFO.course_result: "10,000회 반복 후: 훈련 정확도 94.7%, 시험 정확도 94.65%",
      INFO.course_value.source: "책, 10,000회 반복",
      # the figure
      "loss, all {} iterations": "손실, 전체 {}회 반복",
      "loss, the first {} iterations": "손실, 처음 {}회 반복",
      "backprop": "오차역전파법", "numerical": "수치 미분", "(extrapolated)": "(외삽)",
      "seconds for one gradient (batch of 100)": "기울기 1회 계산 시간 (초, 배치 100)",
      "numerical / backprop = {}x": "수치 미분 / 오차역전파법 = {}배"}


def time_gradients(net, x, t, entries: int, rng) -> dict:
    """Seconds for one backprop gradient and (extrapolated) one numerical gradient."""
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        net.gradient(x, t)
        runs.append(time.perf_counter() - start)
    backprop_s = float(np.median(runs))

    params = net.params
    total = sum(p.size for p in params.values())
    picked = np.sort(rng.choice(total, size=entries, replace=False))
    offsets = np.cumsum([0] + [p.size for p in params.values()])
    start = time.perf_counter()
    for param, lo, hi in zip(params.values(), offsets[:-1], offsets[1:], strict=True):
        flat = picked[(picked >= lo) & (picked < hi)] - lo
        if len(flat):
            indices = list(zip(*np.unravel_index(flat, param.shape), strict=True))
            numerical_gradient(lambda _: net.loss(x, t, train_flg=True), param, indices=indices)
    sampled_s = time.perf_counter() - start
    numerical_s = sampled_s / entries * total
    return {"backprop_s": backprop_s, "entries_timed": entries, "parameters": total,
            "numerical_s_sampled": sampled_s, "numerical_s_extrapolated": numerical_s,
            "numerical_over_backprop": numerical_s / backprop_s}


def run(ctx: Context) -> Result:
    (x_train, t_train), (x_test, t_test) = ctx.mnist(flatten=True)
    params = {"hidden_size": 50, "activation": "sigmoid", "weight_init_std": 0.01,
              "mini_batch_size": 100, "lr": 0.1, "sampling": "replacement", "seed": ctx.seed,
              "iterations": ctx.pick(600, 10000), "train_size": ctx.pick(6000, len(x_train)),
              "evaluate_sample_num_per_epoch": ctx.pick(1000, None)}
    x_train, t_train = x_train[:params["train_size"]], t_train[:params["train_size"]]

    def build_and_train():
        net = TwoLayerNet(784, 50, 10, weight_init_std=0.01, activation="sigmoid", seed=ctx.seed)
        trainer = Trainer(net, x_train, t_train, x_test, t_test,
                          iterations=params["iterations"], mini_batch_size=100, optimizer="SGD",
                          optimizer_param={"lr": 0.1}, sampling="replacement", seed=ctx.seed,
                          evaluate_sample_num_per_epoch=params["evaluate_sample_num_per_epoch"])
        return net, trainer.train()

    net, history = train_or_load(ctx, {"experiment": INFO.name, **params}, build_and_train)
    timing = time_gradients(net, x_train[:100], t_train[:100], ctx.pick(100, 200), ctx.rng(1))

    loss = np.array(history["loss"])
    fig, axes = plt.subplots(2, 2, figsize=(12, 8), layout="constrained")
    axes[0, 0].plot(loss, lw=0.5)
    axes[0, 0].set_title(f"loss, all {len(loss)} iterations")
    zoom = min(1000, len(loss))
    axes[0, 1].plot(loss[:zoom], lw=0.7)
    axes[0, 1].set_title(f"loss, the first {zoom} iterations")
    for ax in axes[0]:
        ax.set_xlabel("iteration")
        ax.set_ylabel("loss")
    axes[1, 0].plot(history["epoch"], history["train_acc"], "o-", label="train")
    axes[1, 0].plot(history["epoch"], history["test_acc"], "s--", label="test")
    axes[1, 0].set_xlabel("epoch")
    axes[1, 0].set_ylabel("accuracy")
    axes[1, 0].set_ylim(0, 1)
    axes[1, 0].legend(loc="lower right")
    axes[1, 0].set_title("accuracy per epoch")
    axes[1, 1].bar(["backprop", "numerical\n(extrapolated)"],
                   [timing["backprop_s"], timing["numerical_s_extrapolated"]],
                   color=["tab:blue", "tab:red"])
    axes[1, 1].set_yscale("log")
    axes[1, 1].set_ylabel("seconds for one gradient (batch of 100)")
    axes[1, 1].set_title(f"numerical / backprop = {timing['numerical_over_backprop']:.0f}x")
    for ax in axes.flat:
        ax.grid(alpha=0.3)

    numbers = {"final_train_acc": history["train_acc"][-1],
               "final_test_acc": history["test_acc"][-1],
               "epochs": history["epoch"], "train_acc": history["train_acc"],
               "test_acc": history["test_acc"], "loss_first": float(loss[0]),
               "loss_mean_first_100": float(loss[:100].mean()),
               "loss_mean_last_100": float(loss[-100:].mean()), **timing}
    summary = (f"train acc {numbers['final_train_acc']:.4f}, test acc "
               f"{numbers['final_test_acc']:.4f} after {len(loss)} iterations; one gradient: "
               f"backprop {timing['backprop_s'] * 1e3:.1f} ms, numerical ~"
               f"{timing['numerical_s_extrapolated']:.0f} s ({timing['entries_timed']} of "
               f"{timing['parameters']} entries timed)")
    return Result(fig, params, numbers, summary)
