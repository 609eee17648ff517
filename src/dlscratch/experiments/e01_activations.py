"""Experiment 1: the step, sigmoid and ReLU activation functions on [-5, 5]."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.experiments.base import Context, ExperimentInfo, Result
from dlscratch.functions import relu, sigmoid, step_function

INFO = ExperimentInfo(1, "activations", "Activation functions", "활성화 함수",
                      "step jumps 0 -> 1 at 0; sigmoid(0) = 0.5; ReLU = max(0, x)")

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"sigmoid(0) = {}, step(0) = 0, ReLU(-1) = 0":
          "시그모이드·계단·ReLU 함수의 값: sigmoid(0) = {}, step(0) = 0, ReLU(-1) = 0",
      INFO.course_result: "계단 함수는 x = 0에서 0 -> 1로 바뀜; sigmoid(0) = 0.5; ReLU = max(0, x)",
      # the figure
      "step": "계단 함수", "sigmoid": "시그모이드 함수", "ReLU": "ReLU 함수",
      "step vs sigmoid": "계단 함수와 시그모이드 함수"}


def run(ctx: Context) -> Result:
    x = np.arange(-5.0, 5.0, 0.1)
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
    axes[0].plot(x, step_function(x), "--", label="step")
    axes[0].plot(x, sigmoid(x), label="sigmoid")
    axes[0].set_title("step vs sigmoid")
    axes[1].plot(x, sigmoid(x))
    axes[1].set_title("sigmoid")
    axes[2].plot(x, relu(x))
    axes[2].set_title("ReLU")
    for ax in axes:
        ax.set_xlabel("x")
        ax.grid(alpha=0.3)
    axes[0].legend()
    probes = [-5.0, -1.0, 0.0, 1.0, 5.0]
    numbers = {"x": probes,
               "step": step_function(np.array(probes)).tolist(),
               "sigmoid": sigmoid(np.array(probes)).round(6).tolist(),
               "relu": relu(np.array(probes)).tolist()}
    return Result(fig, {"x_range": [-5.0, 5.0], "step": 0.1}, numbers,
                  f"sigmoid(0) = {sigmoid(np.array(0.0)):.1f}, step(0) = 0, ReLU(-1) = 0")
