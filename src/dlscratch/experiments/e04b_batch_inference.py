"""Experiment 4b: inference one image at a time vs in batches of 100 - same answers, faster.

The course's inference network is 784 -> 50 -> 100 -> 10 with sigmoid hidden layers. The book
ships its trained weights only as a pickle, so the network is trained briefly here (Adam) with
the library. Then the test set is classified twice: one (1, 784) row per call, and (100, 784)
batches per call. The predictions are the same; a batch turns 100 vector-matrix products into
one matrix-matrix product, which NumPy's BLAS does far faster per image.
"""

from __future__ import annotations

import time

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.experiments.base import Context, CourseValue, ExperimentInfo, Result
from dlscratch.experiments.cache import train_or_load
from dlscratch.nets import MultiLayerNet
from dlscratch.train.trainer import Trainer

INFO = ExperimentInfo(4, "batch-inference", "Batch inference",
                      "MNIST 데이터셋 / 손글씨 숫자 인식 (배치 처리)",
                      "the book's weights: accuracy 0.9352 one by one and in batches of 100",
                      course_value=CourseValue(("accuracy_batch",), 0.9352, "the book's weights"))

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"accuracy {} one by one = {} in batches of 100; {} s vs {} s ({}x faster)":
          "정확도: 한 장씩 {} = 100장씩 배치 {}; {}초 대 {}초 ({}배 빠름)",
      INFO.course_result: "책의 가중치: 한 장씩이든 100장씩 배치든 정확도 0.9352",
      INFO.course_value.source: "책의 가중치",
      # the figure
      "one by one": "한 장씩", "batch of 100": "100장씩 배치",
      "time to classify {} test images ({}x)": "시험 이미지 {}장의 분류 시간 ({}배)",
      "accuracy {} vs {}": "정확도 {} 대 {}"}


def predict_one_by_one(net, x: np.ndarray) -> np.ndarray:
    return np.array([net.predict(x[i:i + 1]).argmax() for i in range(len(x))])


def predict_in_batches(net, x: np.ndarray, batch_size: int) -> np.ndarray:
    return np.concatenate([net.predict(x[i:i + batch_size]).argmax(axis=1)
                           for i in range(0, len(x), batch_size)])


def timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def run(ctx: Context) -> Result:
    (x_train, t_train), (x_test, t_test) = ctx.mnist(flatten=True)
    params = {"sizes": [784, 50, 100, 10], "activation": "sigmoid", "weight_init_std": "xavier",
              "optimizer": "Adam", "lr": 0.001, "mini_batch_size": 100,
              "train_size": ctx.pick(3000, len(x_train)), "iterations": ctx.pick(300, 1800),
              "test_size": ctx.pick(1000, len(x_test)), "batch_size": 100, "seed": ctx.seed}
    x_train, t_train = x_train[:params["train_size"]], t_train[:params["train_size"]]
    x_test, t_test = x_test[:params["test_size"]], t_test[:params["test_size"]]

    def build_and_train():
        net = MultiLayerNet(784, [50, 100], 10, activation="sigmoid", weight_init_std="xavier",
                            seed=ctx.seed)
        trainer = Trainer(net, x_train, t_train, iterations=params["iterations"],
                          mini_batch_size=100, optimizer="Adam", optimizer_param={"lr": 0.001},
                          seed=ctx.seed, evaluate_initial=False)
        return net, trainer.train()

    net, _ = train_or_load(ctx, {"experiment": INFO.name, **params}, build_and_train)

    one, one_s = timed(predict_one_by_one, net, x_test)
    batch, batch_s = timed(predict_in_batches, net, x_test, params["batch_size"])
    acc_one, acc_batch = float(np.mean(one == t_test)), float(np.mean(batch == t_test))
    mismatches = int(np.sum(one != batch))

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    axes[0].bar(["one by one", "batch of 100"], [one_s, batch_s], color=["tab:red", "tab:blue"])
    axes[0].set_ylabel("seconds")
    axes[0].set_title(f"time to classify {len(x_test)} test images ({one_s / batch_s:.0f}x)")
    axes[1].bar(["one by one", "batch of 100"], [acc_one, acc_batch],
                color=["tab:red", "tab:blue"])
    axes[1].set_ylim(0, 1)
    axes[1].set_title(f"accuracy {acc_one:.4f} vs {acc_batch:.4f}")
    for ax in axes:
        ax.grid(alpha=0.3, axis="y")

    numbers = {"accuracy_one_by_one": acc_one, "accuracy_batch": acc_batch,
               "prediction_mismatches": mismatches, "seconds_one_by_one": one_s,
               "seconds_batch": batch_s, "speedup": one_s / batch_s,
               "test_images": len(x_test)}
    summary = (f"accuracy {acc_one:.4f} one by one = {acc_batch:.4f} in batches of 100; "
               f"{one_s:.3f} s vs {batch_s:.3f} s ({one_s / batch_s:.0f}x faster)")
    return Result(fig, params, numbers, summary)
