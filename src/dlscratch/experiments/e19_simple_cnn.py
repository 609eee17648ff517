"""Experiment 19: SimpleConvNet on MNIST, and what its first-layer filters learn (chapter 7).

SimpleConvNet = Conv(30 filters 5x5) -> ReLU -> Pool 2x2 -> Affine(100) -> ReLU -> Affine(10),
trained as in the book: Adam (lr 0.001), mini-batches of 100, 20 epochs of all 60,000 images.

Before training the 30 filters are random noise (std 0.01); after training many have smooth
light-to-dark patterns: edge and blob detectors. Applying two of them to a test image shows
it: the "vertical" filter answers to the vertical strokes of the digit, the "horizontal" one to
the horizontal strokes. The two are chosen by their shape: the filter whose weights change most
from left to right (relative to top to bottom), and the other way round.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.experiments.base import Context, CourseValue, ExperimentInfo, Result
from dlscratch.experiments.common_cnn import image_grid, mnist_images, train_cnn
from dlscratch.layers import Convolution
from dlscratch.nets import SimpleConvNet

INFO = ExperimentInfo(19, "simple-cnn", "A simple CNN and its learned filters", "합성곱 계층",
                      "SimpleConvNet, 20 epochs: test accuracy about 98.9% (train 99.8%); "
                      "learned first-layer filters respond to edges and blobs",
                      course_value=CourseValue(("test_acc",), 0.989, "the book, 20 epochs"))

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"test accuracy {}, train {} after {} epochs on {} images ({} s of training); most "
      "vertical-edge filter {}, most horizontal {}":
          "이미지 {3}장으로 {2}에폭 학습한 뒤 시험 정확도 {0}, 훈련 정확도 {1} (학습 {4}초); "
          "세로 에지에 가장 강하게 반응하는 필터 {5}, 가로 에지는 필터 {6}",
      INFO.course_result:
          "SimpleConvNet, 20에폭: 시험 정확도 약 98.9% (훈련 99.8%); 학습된 첫 번째 층의 필터는 "
          "에지와 얼룩에 반응함",
      INFO.course_value.source: "책, 20에폭",
      # the figure
      "the 30 first-layer filters (5x5), {}": "첫 번째 층의 필터 30개 (5x5), {}",
      "before training (random, std 0.01)": "학습 전 (무작위, std 0.01)",
      "after training ({} epochs)": "학습 후 ({}에폭)",
      "test image 0 (label {})": "시험 이미지 0 (레이블 {})",
      "filter {} (vertical edges)": "필터 {} (세로 에지)",
      "filter {} (horizontal edges)": "필터 {} (가로 에지)",
      "response of filter {}": "필터 {}의 응답",
      "what two trained filters do to a test image (conv output, before ReLU; dark = large)":
          "학습된 필터 두 개를 시험 이미지에 적용한 결과 (합성곱 출력, ReLU 전; 어두울수록 큼)"}


def edge_direction(filters: np.ndarray) -> np.ndarray:
    """Per filter (FN, 1, FH, FW): change along x / change along y (> 1: a vertical-edge
    detector, < 1: a horizontal-edge detector)."""
    along_x = np.abs(np.diff(filters, axis=3)).sum(axis=(1, 2, 3))
    along_y = np.abs(np.diff(filters, axis=2)).sum(axis=(1, 2, 3))
    return along_x / along_y


def filter_response(net, k: int, image: np.ndarray) -> np.ndarray:
    """The output of the trained first conv layer's filter k alone on one (1, H, W) image."""
    conv = net.layers["Convolution1"]
    single = Convolution(conv.W[k:k + 1], conv.b[k:k + 1], conv.stride, conv.pad)
    return single.forward(image[None], train_flg=False)[0, 0]


def run(ctx: Context) -> Result:
    params = {"network": "SimpleConvNet conv30x5x5-relu-pool-affine100-relu-affine10",
              "weight_init_std": 0.01, "optimizer": "Adam", "lr": 0.001, "batch_size": 100,
              "epochs": ctx.pick(2, 20), "train_size": ctx.pick(1000, 60000),
              "test_size": ctx.pick(500, 10000), "eval_limit_per_epoch": ctx.pick(500, 1000),
              "seed": ctx.seed}
    (x_train, t_train), (x_test, t_test) = mnist_images(ctx, params["train_size"],
                                                        params["test_size"])

    def make_net():
        return SimpleConvNet(weight_init_std=0.01, seed=ctx.seed)

    before = make_net().params["W1"].copy()  # the same seed gives the same initial filters
    net, history = train_cnn(ctx, make_net, x_train, t_train, x_test, t_test,
                             epochs=params["epochs"], seed=ctx.seed,
                             eval_limit=params["eval_limit_per_epoch"])
    after = net.params["W1"]
    test_acc = net.accuracy(x_test, t_test)
    train_acc = net.accuracy(x_train, t_train)
    train_time = history["elapsed_s"][-1]

    direction = edge_direction(after)
    vertical, horizontal = int(np.argmax(direction)), int(np.argmin(direction))
    image = x_test[0]
    responses = {k: filter_response(net, k, image) for k in (vertical, horizontal)}

    fig = plt.figure(figsize=(12, 9.5), layout="constrained")
    top, middle, bottom = fig.subfigures(3, 1, height_ratios=[1, 1, 1.3])
    for sub, filters, label in ((top, before, "before training (random, std 0.01)"),
                                (middle, after, f"after training ({params['epochs']} epochs)")):
        image_grid(sub, filters[:, 0], 3, 10, titles=[str(k) for k in range(len(filters))])
        sub.suptitle(f"the 30 first-layer filters (5x5), {label}")
    axes = bottom.subplots(1, 5)
    axes[0].imshow(image[0], cmap="gray_r")
    axes[0].set_title(f"test image 0 (label {t_test[0]})", fontsize=9)
    for ax_filter, ax_response, k, name in ((axes[1], axes[2], vertical, "vertical"),
                                            (axes[3], axes[4], horizontal, "horizontal")):
        ax_filter.imshow(after[k, 0], cmap="gray_r", interpolation="nearest")
        ax_filter.set_title(f"filter {k} ({name} edges)", fontsize=9)
        ax_response.imshow(responses[k], cmap="gray_r")
        ax_response.set_title(f"response of filter {k}", fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    bottom.suptitle("what two trained filters do to a test image (conv output, before ReLU; "
                    "dark = large)")

    numbers = {"test_acc": test_acc, "train_acc": train_acc, "epochs": params["epochs"],
               "train_time_s": train_time,  # of the run that trained it (also when cached)
               "epoch": history["epoch"], "train_acc_per_epoch": history["train_acc"],
               "test_acc_per_epoch": history["test_acc"],
               "vertical_filter": vertical, "horizontal_filter": horizontal,
               "edge_direction_ratio": direction.astype(float).round(3),
               "filters_before": before[:, 0].astype(float).round(5),
               "filters_after": after[:, 0].astype(float).round(5),
               "response_shape": responses[vertical].shape}
    summary = (f"test accuracy {test_acc:.4f}, train {train_acc:.4f} after {params['epochs']} "
               f"epochs on {len(x_train)} images ({train_time:.0f} s of training); most "
               f"vertical-edge filter {vertical}, most horizontal {horizontal}")
    return Result(fig, params, numbers, summary)
