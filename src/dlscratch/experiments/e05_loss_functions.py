"""Experiment 5: loss functions - mean squared error and cross-entropy error.

The network's output y (softmax probabilities) is compared with the one-hot label t (class 2).
When the largest probability sits on the right class (0.6 on class 2) both losses are small;
when it sits on a wrong class (0.6 on class 7) both grow. Cross-entropy only looks at the
probability of the correct class: E = -log y_t, which explodes as y_t -> 0.

MSE here is the course's definition, the mean over the 10 outputs; the book's code uses the
sum of squares times 0.5 (SSE) instead - both are shown.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.experiments.base import Context, ExperimentInfo, Result
from dlscratch.functions import cross_entropy_error, mean_squared_error, sum_squared_error

INFO = ExperimentInfo(5, "loss-functions", "Loss functions: MSE and cross-entropy",
                      "손실 함수 (평균 제곱 오차, 교차 엔트로피 오차)",
                      "class 2 right: MSE 0.0195 (SSE 0.0975), CE 0.5108; "
                      "0.6 on class 7: MSE 0.1195 (SSE 0.5975), CE 2.3026")

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"right: MSE {}, SSE {}, CE {}; wrong: MSE {}, SSE {}, CE {}":
          "맞힌 출력: MSE {}, SSE {}, CE {}; 틀린 출력: MSE {}, SSE {}, CE {}",
      INFO.course_result:
          "정답 클래스 2를 맞힌 출력: MSE 0.0195 (SSE 0.0975), CE 0.5108; 클래스 7에 0.6을 준 "
          "출력: MSE 0.1195 (SSE 0.5975), CE 2.3026",
      # the figure
      "right": "맞힌 출력", "wrong": "틀린 출력",
      "{}: 0.6 on class {}": "{}: 클래스 {}에 0.6",
      "{}: y_2 = {}": "{}: y_2 = {}",
      "class (green: the correct class 2)": "클래스 (초록: 정답 클래스 2)",
      "output y (probability)": "출력 y (확률)",
      "probability of the correct class y_t": "정답 클래스의 확률 y_t",
      "cross-entropy -log(y_t)": "교차 엔트로피 오차 -log(y_t)"}


def run(ctx: Context) -> Result:
    t = np.zeros(10)
    t[2] = 1.0  # one-hot: the correct class is 2
    outputs = {"right": np.array([.1, .05, .6, 0, .05, .1, 0, .1, 0, 0]),  # 0.6 on class 2
               "wrong": np.array([.1, .05, .1, 0, .05, .1, 0, .6, 0, 0])}  # 0.6 on class 7
    numbers = {"t": t}
    for case, y in outputs.items():
        numbers[f"y_{case}"] = y
        numbers[f"mse_{case}"] = mean_squared_error(y, t)
        numbers[f"sse_{case}"] = sum_squared_error(y, t)
        numbers[f"cross_entropy_{case}"] = cross_entropy_error(y, t)

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for ax, (case, y) in zip(axes[:2], outputs.items(), strict=True):
        ax.bar(range(10), y, color=["tab:green" if k == 2 else "tab:gray" for k in range(10)])
        ax.set_xticks(range(10))
        ax.set_xlabel("class (green: the correct class 2)")
        ax.set_ylim(0, 1)
        ax.set_title(f"{case}: 0.6 on class {y.argmax()}\nMSE {numbers[f'mse_{case}']:.4f}, "
                     f"SSE {numbers[f'sse_{case}']:.4f}, "
                     f"CE {numbers[f'cross_entropy_{case}']:.4f}", fontsize=10)
    axes[0].set_ylabel("output y (probability)")
    p = np.linspace(0.001, 1, 500)
    axes[2].plot(p, -np.log(p))
    for case, y in outputs.items():
        axes[2].plot(y[2], -np.log(y[2]), "o", label=f"{case}: y_2 = {y[2]}")
    axes[2].set_xlabel("probability of the correct class y_t")
    axes[2].set_ylabel("cross-entropy -log(y_t)")
    axes[2].set_ylim(0, 5)
    axes[2].legend()
    for ax in axes:
        ax.grid(alpha=0.3)

    summary = (f"right: MSE {numbers['mse_right']:.4f}, SSE {numbers['sse_right']:.4f}, "
               f"CE {numbers['cross_entropy_right']:.4f}; wrong: MSE {numbers['mse_wrong']:.4f}, "
               f"SSE {numbers['sse_wrong']:.4f}, CE {numbers['cross_entropy_wrong']:.4f}")
    return Result(fig, {"correct_class": 2, "cross_entropy_delta": 1e-7}, numbers, summary)
