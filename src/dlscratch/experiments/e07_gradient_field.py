"""Experiment 7: the gradient - the vector of all partial derivatives, computed numerically.

For f(x0, x1) = x0^2 + x1^2 the gradient is (2 x0, 2 x1). Drawn as arrows, -grad f points
towards the minimum at (0, 0) from everywhere, and the arrows grow with the distance from it:
the negative gradient is the direction in which f decreases fastest.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.experiments.base import Context, ExperimentInfo, Result
from dlscratch.gradient import numerical_gradient

INFO = ExperimentInfo(7, "gradient-field", "The gradient", "기울기",
                      "numerical_gradient at (3, 4): [6, 8]; (0, 2): [0, 4]; (3, 0): [6, 0]")

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"grad at {}: {}; grad at {}: {}; grad at {}: {}":
          "{}에서의 기울기: {}; {}에서의 기울기: {}; {}에서의 기울기: {}",
      INFO.course_result:
          "numerical_gradient로 구한 기울기: (3, 4)에서 [6, 8]; (0, 2)에서 [0, 4]; (3, 0)에서 "
          "[6, 0]",
      # the figure
      "minimum (0, 0)": "최솟값 (0, 0)",
      "-grad f for f(x0, x1) = x0^2 + x1^2 (numerical_gradient)":
          "f(x0, x1) = x0^2 + x1^2의 기울기에 음수를 붙인 벡터 (numerical_gradient)"}


def function_2(x: np.ndarray) -> float:
    return float(np.sum(x**2))


def run(ctx: Context) -> Result:
    probes = [(3.0, 4.0), (0.0, 2.0), (3.0, 0.0)]
    grads = [numerical_gradient(function_2, np.array(p)) for p in probes]

    axis = np.arange(-2.0, 2.5, 0.25)
    X0, X1 = np.meshgrid(axis, axis)
    points = np.stack([X0.ravel(), X1.ravel()], axis=1)
    field = np.array([numerical_gradient(function_2, p.copy()) for p in points])

    fig, ax = plt.subplots(figsize=(6.5, 6.5))
    ax.quiver(points[:, 0], points[:, 1], -field[:, 0], -field[:, 1], angles="xy",
              color="#666666")
    ax.plot(0, 0, "r*", markersize=12, label="minimum (0, 0)")
    ax.set_xlim(-2, 2)
    ax.set_ylim(-2, 2)
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    ax.set_aspect("equal")
    ax.set_title("-grad f for f(x0, x1) = x0^2 + x1^2 (numerical_gradient)")
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)

    numbers = {"points": probes, "gradients": grads, "grid_points": len(points),
               "max_abs_error_vs_2x": float(np.max(np.abs(field - 2 * points)))}
    summary = "; ".join(f"grad at {p}: {np.array2string(g, precision=6)}"
                        for p, g in zip(probes, grads, strict=True))
    return Result(fig, {"grid": [-2.0, 2.5, 0.25], "h": 1e-4}, numbers, summary)
