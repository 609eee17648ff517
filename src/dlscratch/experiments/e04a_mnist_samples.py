"""Experiment 4a: the MNIST data set - 60,000 training and 10,000 test images of digits 0-9.

Each image is 28 x 28 grey pixels stored as bytes 0..255; `load_mnist(normalize=True)` turns
them into float32 in [0, 1] and `flatten=True` into rows of 784 values (the book's layout).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.data import load_dataset
from dlscratch.experiments.base import Context, ExperimentInfo, Result

INFO = ExperimentInfo(4, "mnist-samples", "The MNIST data set",
                      "MNIST 데이터셋 / 손글씨 숫자 인식 (배치 처리)",
                      "x_train (60000, 784), t_train (60000,), x_test (10000, 784), "
                      "t_test (10000,); pixels 0..255")

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"train {}, test {}, raw {} {}, normalized {} {}":
          "훈련 {}, 시험 {}, 원본 {} {}, 정규화 후 {} {}",
      INFO.course_result:
          "x_train (60000, 784), t_train (60000,), x_test (10000, 784), t_test (10000,); 픽셀 값 "
          "0..255",
      # the figure
      "the first {} MNIST training images with their labels":
          "MNIST 훈련 이미지 처음 {}장과 그 레이블"}


def run(ctx: Context) -> Result:
    (x_train, t_train), (x_test, t_test) = ctx.mnist(flatten=True)
    (raw_train, _), _ = load_dataset("mnist", normalize=False, flatten=False,
                                     data_dir=ctx.data_dir)
    rows, cols = 5, 10

    fig, axes = plt.subplots(rows, cols, figsize=(10, 5.6))
    for i, ax in enumerate(axes.flat):
        ax.imshow(x_train[i].reshape(28, 28), cmap="gray_r")
        ax.set_title(f"{t_train[i]}", fontsize=10)
        ax.axis("off")
    fig.suptitle(f"the first {rows * cols} MNIST training images with their labels")

    numbers = {
        "x_train_shape": x_train.shape, "t_train_shape": t_train.shape,
        "x_test_shape": x_test.shape, "t_test_shape": t_test.shape,
        "raw_shape": raw_train.shape, "raw_dtype": str(raw_train.dtype),
        "raw_range": [int(raw_train.min()), int(raw_train.max())],
        "normalized_dtype": str(x_train.dtype),
        "normalized_range": [float(x_train.min()), float(x_train.max())],
        "label_dtype": str(t_train.dtype),
        "train_label_counts": np.bincount(t_train, minlength=10),
        "test_label_counts": np.bincount(t_test, minlength=10),
        "first_labels": t_train[:rows * cols],
    }
    summary = (f"train {x_train.shape}, test {x_test.shape}, raw {raw_train.dtype} "
               f"{numbers['raw_range']}, normalized {x_train.dtype} {numbers['normalized_range']}")
    return Result(fig, {"grid": [rows, cols], "normalize": True, "flatten": True},
                  numbers, summary)
