"""Experiment 2: softmax overflows when written naively; subtracting the maximum fixes it.

exp(1010) does not fit in a float64 (the largest is about 1.8e308 = exp(709.8)), so the naive
formula exp(a) / sum(exp(a)) becomes inf / inf = nan. Softmax does not change when a constant
is subtracted from every input, so `dlscratch.functions.softmax` subtracts max(a) first.
"""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.experiments.base import Context, ExperimentInfo, Result
from dlscratch.functions import softmax

INFO = ExperimentInfo(2, "softmax-overflow", "Softmax overflow",
                      "소프트맥스 함수 구현 시 주의점 (오버플로 문제)",
                      "naive softmax([1010, 1000, 990]) = [nan, nan, nan]; with a - max(a): "
                      "[9.9995e-01, 4.5398e-05, 2.0611e-09]")

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"naive: {} ({} RuntimeWarnings); stable: {}, sum {}":
          "그대로 계산: {} (경고 RuntimeWarning {}번); 안정화한 계산: {}, 합 {}",
      INFO.course_result:
          "그대로 계산한 softmax([1010, 1000, 990]) = [nan, nan, nan]; a - max(a)로 계산하면 "
          "[9.9995e-01, 4.5398e-05, 2.0611e-09]",
      # the figure
      "probability (log scale)": "확률 (로그 눈금)",
      "softmax([1010, 1000, 990]) computed as softmax(a - max a)":
          "softmax([1010, 1000, 990])를 softmax(a - max a)로 계산",
      "naive exp(a)/sum(exp(a)) = {}": "그대로 계산한 exp(a)/sum(exp(a)) = {}"}


def naive_softmax(a: np.ndarray) -> np.ndarray:
    """The formula as written: exp(a_k) / sum_i exp(a_i). Overflows for large a."""
    return np.exp(a) / np.sum(np.exp(a))


def run(ctx: Context) -> Result:
    a = np.array([1010.0, 1000.0, 990.0])

    # Record the RuntimeWarnings numpy emits, instead of letting them scroll past.
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn"):
        warnings.simplefilter("always")
        naive = naive_softmax(a)
    warning_texts = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]

    stable = softmax(a)
    shifted = a - np.max(a)  # [0, -10, -20]: exp of these cannot overflow

    fig, ax = plt.subplots(figsize=(6, 4))
    labels = [f"a = {v:g}" for v in a]
    bars = ax.bar(labels, stable, color="tab:blue")
    for bar, p in zip(bars, stable, strict=True):
        ax.text(bar.get_x() + bar.get_width() / 2, p * 1.5, f"{p:.4e}", ha="center")
    ax.set_yscale("log")
    ax.set_ylim(1e-10, 10)
    ax.set_ylabel("probability (log scale)")
    ax.set_title("softmax([1010, 1000, 990]) computed as softmax(a - max a)")
    ax.text(0.98, 0.8, f"naive exp(a)/sum(exp(a)) = {naive}", transform=ax.transAxes,
            ha="right", color="tab:red")
    ax.grid(alpha=0.3, axis="y")

    numbers = {"a": a, "naive": naive, "naive_all_nan": bool(np.all(np.isnan(naive))),
               "naive_warnings": warning_texts, "a_minus_max": shifted,
               "stable": stable, "stable_sum": float(stable.sum()),
               "stable_all_finite": bool(np.all(np.isfinite(stable)))}
    summary = (f"naive: {naive.tolist()} ({len(warning_texts)} RuntimeWarnings); "
               f"stable: {np.array2string(stable, precision=4)}, sum {stable.sum():.6f}")
    return Result(fig, {"a": a}, numbers, summary)
