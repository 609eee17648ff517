"""Experiment 20: the deep CNN of chapter 8, the test images it gets wrong, and float16 weights.

DeepConvNet: three times conv-relu-conv-relu-pool (16, 16 | 32, 32 | 64, 64 filters of 3x3,
He init), then Affine(50) -> ReLU -> Dropout -> Affine(10) -> Dropout; trained as in the book
with Adam (lr 0.001), mini-batches of 100, 20 epochs. About 99.3% of the test images are
recognised; the few it misses are often hard for a person too.

Half precision: deep learning does not need 64 or even 32 bits per number. Every weight is
rounded to float16 (and back to float32 for the arithmetic); the accuracy hardly moves, and
only a handful of the 10,000 predictions change.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.experiments.base import Context, CourseValue, ExperimentInfo, Result
from dlscratch.experiments.common_cnn import image_grid, mnist_images, train_cnn
from dlscratch.nets import DeepConvNet

INFO = ExperimentInfo(20, "deep-cnn", "A deep CNN and the images it gets wrong",
                      "딥러닝 (모델이 인식하지 못한 이미지들)",
                      "DeepConvNet, 20 epochs: test accuracy about 99.3-99.4%; "
                      "float16 weights give the same accuracy",
                      course_value=CourseValue(("test_acc",), 0.993, "the book, 20 epochs"))

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"test accuracy {} ({} of {} wrong); with float16 weights {}, {} predictions change":
          "시험 정확도 {0} (이미지 {2}장 중 {1}장 오답); float16 가중치로는 {3}, 예측이 바뀐 "
          "이미지 {4}장",
      INFO.course_result:
          "DeepConvNet, 20에폭: 시험 정확도 약 99.3-99.4%; float16 가중치로도 정확도가 같음",
      INFO.course_value.source: "책, 20에폭",
      # the figure
      "true {} / pred {}": "정답 {} / 예측 {}",
      "DeepConvNet: {} of {} test images misclassified (test accuracy {}); the first {} shown":
          "DeepConvNet: 시험 이미지 {1}장 중 {0}장을 잘못 인식 (시험 정확도 {2}); "
          "처음 {3}장"}

SHOWN = 40  # misclassified images drawn (all are counted)


def predict_with_float16_weights(net, x) -> np.ndarray:
    """Scores with every parameter rounded to float16 (computed in float32); weights restored."""
    saved = {key: p.copy() for key, p in net.params.items()}
    try:
        for p in net.params.values():
            p[...] = p.astype(np.float16)  # the assignment casts back to float32
        return net.predict(x, batch_size=500)
    finally:
        for key, p in net.params.items():
            p[...] = saved[key]


def run(ctx: Context) -> Result:
    params = {"network": "DeepConvNet (6 conv 3x3, 3 pool, affine 50, dropout 0.5)",
              "optimizer": "Adam", "lr": 0.001, "batch_size": 100,
              "epochs": ctx.pick(1, 20), "train_size": ctx.pick(1000, 60000),
              "test_size": ctx.pick(300, 10000), "eval_limit_per_epoch": ctx.pick(200, 1000),
              "seed": ctx.seed}
    (x_train, t_train), (x_test, t_test) = mnist_images(ctx, params["train_size"],
                                                        params["test_size"])
    net, history = train_cnn(ctx, lambda: DeepConvNet(seed=ctx.seed), x_train, t_train,
                             x_test, t_test, epochs=params["epochs"], seed=ctx.seed,
                             eval_limit=params["eval_limit_per_epoch"])

    y32 = net.predict(x_test, batch_size=500).argmax(axis=1)
    y16 = predict_with_float16_weights(net, x_test).argmax(axis=1)
    acc32, acc16 = float(np.mean(y32 == t_test)), float(np.mean(y16 == t_test))
    wrong = np.flatnonzero(y32 != t_test)
    weights = np.concatenate([p.ravel() for p in net.params.values()])
    rounding = np.abs(weights.astype(np.float16).astype(np.float32) - weights)
    normal = np.abs(weights) >= np.finfo(np.float16).tiny  # smaller ones keep fewer bits

    fig = plt.figure(figsize=(12, 7.5), layout="constrained")
    shown = wrong[:SHOWN]
    image_grid(fig, x_test[shown, 0], 4, 10,
               titles=[f"true {t_test[i]} / pred {y32[i]}" for i in shown], fontsize=7)
    fig.suptitle(f"DeepConvNet: {len(wrong)} of {len(x_test)} test images misclassified "
                 f"(test accuracy {acc32:.4f}); the first {len(shown)} shown")

    numbers = {"test_acc": acc32, "test_acc_float16_weights": acc16,
               "float16_acc_change": acc16 - acc32,
               "predictions_changed_by_float16": int(np.sum(y16 != y32)),
               "misclassified_count": len(wrong), "test_size": len(x_test),
               "misclassified_shown": len(shown), "misclassified_index": wrong,
               "misclassified_true": t_test[wrong], "misclassified_pred": y32[wrong],
               "train_acc_last_epoch": history["train_acc"][-1],
               "epoch": history["epoch"], "test_acc_per_epoch": history["test_acc"],
               "train_time_s": history["elapsed_s"][-1], "parameters": weights.size,
               "weight_bytes_float32": weights.size * 4, "weight_bytes_float16": weights.size * 2,
               "float16_max_abs_rounding": float(rounding.max()),
               "float16_max_rel_rounding_normal_range": float(np.max(
                   rounding[normal] / np.abs(weights[normal]), initial=0.0)),
               "weights_below_float16_normal_range": int(np.sum(~normal))}
    summary = (f"test accuracy {acc32:.4f} ({len(wrong)} of {len(x_test)} wrong); with float16 "
               f"weights {acc16:.4f}, {numbers['predictions_changed_by_float16']} predictions "
               f"change")
    return Result(fig, params, numbers, summary)
