"""Experiment 14: how the initial weight scale shapes the hidden activations.

1,000 random inputs (100 features, N(0, 1)) pass through 5 layers of 100 units, no training.
Each row of the figure is one (activation, weight init) pair, each column one layer's
histogram of activation values:

- sigmoid, std 1: values pile up at 0 and 1, where the gradient vanishes;
- sigmoid, std 0.01: every value is near 0.5, so all units say the same thing;
- sigmoid, Xavier (1/sqrt(n)): spread out in every layer;
- ReLU, std 0.01: shrinks towards 0 layer by layer;
- ReLU, Xavier: shrinks more slowly; ReLU, He (sqrt(2/n)): the same spread in every layer.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.experiments.base import Context, ExperimentInfo, Result
from dlscratch.functions import relu, sigmoid
from dlscratch.init import init_weight

INFO = ExperimentInfo(14, "init-activations", "Distribution of hidden-layer activations",
                      "은닉층의 활성화값 분포",
                      "sigmoid + std 1: values at 0 and 1; std 0.01: all near 0.5; Xavier: spread. "
                      "ReLU + std 0.01: collapse to 0; He keeps the spread in every layer")

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"ReLU 5th-layer std: He {} (1st {}), std 0.01 {}; sigmoid std 1: {}+ of values below 0.05 "
      "or above 0.95":
          "ReLU, 5번째 층 활성화값의 표준편차: He 초기값 {} (1번째 층 {}), 표준편차 0.01 초기값 "
          "{}; 시그모이드 + 표준편차 1 초기값: 값의 {} 이상이 0.05 미만이거나 0.95 초과",
      INFO.course_result:
          "시그모이드 + 표준편차 1: 값이 0과 1에 몰림; 표준편차 0.01: 모두 0.5 근처; Xavier: "
          "고르게 퍼짐. ReLU + 표준편차 0.01: 0으로 쏠림; He 초기값은 모든 층에서 퍼짐을 유지",
      # the figure
      "{}-layer": "{}층", "sigmoid, std 1": "시그모이드, std 1",
      "sigmoid, std 0.01": "시그모이드, std 0.01", "sigmoid, Xavier": "시그모이드, Xavier",
      "Activation histograms: 1000 inputs, 5 layers of 100 units":
          "활성화값 히스토그램: 입력 1000개, 뉴런 100개인 층 5개"}

# (label, activation, weight init: a std or a scheme name for dlscratch.init)
CONFIGS = [("sigmoid, std 1", "sigmoid", 1.0), ("sigmoid, std 0.01", "sigmoid", 0.01),
           ("sigmoid, Xavier", "sigmoid", "xavier"), ("ReLU, std 0.01", "relu", 0.01),
           ("ReLU, Xavier", "relu", "xavier"), ("ReLU, He", "relu", "he")]
ACTIVATIONS = {"sigmoid": sigmoid, "relu": relu}


def forward_activations(x, activation, weight_init, layers, rng) -> list[np.ndarray]:
    """The activations of each layer: a_k = h(a_{k-1} @ W_k), W_k from init_weight, no bias."""
    h = ACTIVATIONS[activation]
    outs, a = [], x
    for _ in range(layers):
        w = init_weight((a.shape[1], a.shape[1]), weight_init, rng, dtype=np.float64)
        a = h(a @ w)
        outs.append(a)
    return outs


def run(ctx: Context) -> Result:
    n_samples, n_units, n_layers = 1000, 100, 5  # tiny: the same in quick and full mode
    x = ctx.rng(0).standard_normal((n_samples, n_units))

    fig, axes = plt.subplots(len(CONFIGS), n_layers, figsize=(13, 2.1 * len(CONFIGS)))
    numbers = {}
    for row, (label, activation, weight_init) in enumerate(CONFIGS):
        # The same weight draws for every config (seeded alike), only their scale differs.
        acts = forward_activations(x, activation, weight_init, n_layers, ctx.rng(1))
        numbers[label] = {
            "mean": [float(a.mean()) for a in acts],
            "std": [float(a.std()) for a in acts],
            "frac_below_0.05": [float(np.mean(a < 0.05)) for a in acts],
            "frac_above_0.95": [float(np.mean(a > 0.95)) for a in acts],
            "frac_within_0.1_of_0.5": [float(np.mean(np.abs(a - 0.5) < 0.1)) for a in acts],
        }
        for k, a in enumerate(acts):
            ax = axes[row, k]
            ax.hist(a.ravel(), 30, range=(0, 1))  # as the book: 30 bins on [0, 1]
            if activation == "relu":
                ax.set_ylim(0, 7000)  # the bar at 0 (the switched-off half) is cut, as in the book
            ax.set_title(f"{k + 1}-layer" if row == 0 else "", fontsize=9)
            ax.tick_params(labelsize=7)
            if k == 0:
                ax.set_ylabel(label, fontsize=9)
            else:
                ax.set_yticks([])
    fig.suptitle("Activation histograms: 1000 inputs, 5 layers of 100 units")
    fig.tight_layout()

    he, small = numbers["ReLU, He"]["std"], numbers["ReLU, std 0.01"]["std"]
    sig1 = numbers["sigmoid, std 1"]
    edge = [b + a for b, a in zip(sig1["frac_below_0.05"], sig1["frac_above_0.95"], strict=True)]
    params = {"samples": n_samples, "units": n_units, "layers": n_layers, "bias": 0,
              "inputs": "N(0, 1)", "configs": [[c[0], c[1], c[2]] for c in CONFIGS]}
    summary = (f"ReLU 5th-layer std: He {he[-1]:.3f} (1st {he[0]:.3f}), std 0.01 {small[-1]:.1e}; "
               f"sigmoid std 1: {min(edge):.0%}+ of values below 0.05 or above 0.95")
    return Result(fig, params, numbers, summary)
