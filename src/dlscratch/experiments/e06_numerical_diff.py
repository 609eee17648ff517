"""Experiment 6: numerical differentiation - slopes from tiny differences.

f'(x) ~ (f(x + h) - f(x - h)) / 2h (the central difference, `numerical_diff`) gives the slope
of y = 0.01x^2 + 0.1x: 0.2 at x = 5 and 0.3 at x = 10 (exactly 0.02x + 0.1).
Two pitfalls the book warns about:
- the forward difference (f(x + h) - f(x)) / h has an error proportional to h, the central
  one proportional to h^2 (for this quadratic f it is exact, up to rounding);
- h must not be too small: 1e-50 is 0.0 in float32, and even in float64 x + 1e-50 == x, so the
  difference becomes 0. h = 1e-4 is a good compromise.
A partial derivative is the same idea with every other variable held fixed.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.experiments.base import Context, ExperimentInfo, Result
from dlscratch.gradient import numerical_diff

INFO = ExperimentInfo(6, "numerical-diff", "Numerical differentiation", "수치 미분",
                      "slopes 0.1999999999990898 at x = 5 and 0.2999999999986347 at x = 10; "
                      "df/dx0 = 6.00000000000378, df/dx1 = 7.999999999999119 at (3, 4)")

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"slopes {} at x = 5, {} at x = 10 (forward difference errors {}, central {}); df/dx0 = {}, "
      "df/dx1 = {}":
          "접선의 기울기: x = 5에서 {}, x = 10에서 {} (x = 5에서의 오차: 전방 차분 {}, 중심 차분 "
          "{}); df/dx0 = {}, df/dx1 = {}",
      INFO.course_result:
          "접선의 기울기: x = 5에서 0.1999999999990898, x = 10에서 0.2999999999986347; (3, "
          "4)에서 df/dx0 = 6.00000000000378, df/dx1 = 7.999999999999119",
      # the figure
      "tangent at x = {}: slope {}": "x = {}에서의 접선: 기울기 {}",
      "numerical_diff: central difference, h = 1e-4": "numerical_diff: 중심 차분, h = 1e-4",
      "forward (f(x+h) - f(x)) / h": "전방 차분 (f(x+h) - f(x)) / h",
      "central (f(x+h) - f(x-h)) / 2h": "중심 차분 (f(x+h) - f(x-h)) / 2h",
      "|error| of the slope at x = 5": "x = 5에서 기울기의 |오차|",
      "too large h: formula error; too small h: rounding error":
          "h가 너무 크면 공식의 오차, 너무 작으면 반올림 오차"}


def function_1(x):
    return 0.01 * x**2 + 0.1 * x


def forward_diff(f, x, h=1e-4):
    """The naive difference the book warns against: error proportional to h."""
    return (f(x + h) - f(x)) / h


def tangent_line(f, x):
    """The line through (x, f(x)) with the numerical slope at x."""
    slope = numerical_diff(f, x)
    return lambda t: slope * t + (f(x) - slope * x)


def run(ctx: Context) -> Result:
    points = [5.0, 10.0]
    slopes = [numerical_diff(function_1, x) for x in points]
    exact = [0.02 * x + 0.1 for x in points]
    forward = [forward_diff(function_1, x) for x in points]

    # The error of each difference formula as h shrinks, at x = 5.
    hs = np.logspace(-14, -1, 53)
    err_forward = np.array([abs(forward_diff(function_1, 5.0, h) - 0.2) for h in hs])
    err_central = np.array([abs(numerical_diff(function_1, 5.0, h) - 0.2) for h in hs])

    # Partial derivatives of f(x0, x1) = x0^2 + x1^2 at (3, 4): fix the other variable.
    df_dx0 = numerical_diff(lambda x0: x0**2 + 4.0**2, 3.0)
    df_dx1 = numerical_diff(lambda x1: 3.0**2 + x1**2, 4.0)

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    x = np.arange(0.0, 20.0, 0.1)
    axes[0].plot(x, function_1(x), "k", label="y = 0.01x^2 + 0.1x")
    for x0, slope in zip(points, slopes, strict=True):
        axes[0].plot(x, tangent_line(function_1, x0)(x), "--", label=f"tangent at x = {x0:g}: "
                     f"slope {slope:.4f}")
        axes[0].plot(x0, function_1(x0), "o", color="k")
    axes[0].set_xlabel("x")
    axes[0].set_ylabel("y")
    axes[0].set_ylim(-1, 6)
    axes[0].legend()
    axes[0].set_title("numerical_diff: central difference, h = 1e-4")
    axes[1].loglog(hs, np.maximum(err_forward, 1e-17), label="forward (f(x+h) - f(x)) / h")
    axes[1].loglog(hs, np.maximum(err_central, 1e-17), label="central (f(x+h) - f(x-h)) / 2h")
    axes[1].axvline(1e-4, color="gray", ls=":", label="h = 1e-4")
    axes[1].set_xlabel("h")
    axes[1].set_ylabel("|error| of the slope at x = 5")
    axes[1].set_title("too large h: formula error; too small h: rounding error")
    axes[1].legend()
    for ax in axes:
        ax.grid(alpha=0.3)

    numbers = {
        "x": points, "slope_numerical": slopes, "slope_exact": exact,
        "slope_error_central": [abs(s - e) for s, e in zip(slopes, exact, strict=True)],
        "slope_forward": forward,
        "slope_error_forward": [abs(s - e) for s, e in zip(forward, exact, strict=True)],
        "float32_of_1e-50": float(np.float32(1e-50)),
        "forward_diff_h_1e-50_at_5": forward_diff(function_1, 5.0, 1e-50),
        "df_dx0_at_3_4": df_dx0, "df_dx1_at_3_4": df_dx1,
        "h_grid": hs, "error_forward_vs_h": err_forward, "error_central_vs_h": err_central,
    }
    summary = (f"slopes {slopes[0]:.10f} at x = 5, {slopes[1]:.10f} at x = 10 (forward "
               f"difference errors {numbers['slope_error_forward'][0]:.1e}, central "
               f"{numbers['slope_error_central'][0]:.1e}); df/dx0 = {df_dx0:.6f}, "
               f"df/dx1 = {df_dx1:.6f}")
    return Result(fig, {"h": 1e-4, "x_range": [0.0, 20.0]}, numbers, summary)
