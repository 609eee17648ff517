"""Experiment 12: how the optimizers walk to the minimum of f(x, y) = x^2 / 20 + y^2.

The function is 20 times steeper in y than in x, so the gradient (x / 10, 2y) points mostly
along y, not at the minimum (0, 0). From (-7, 2), 30 steps each:
- SGD zig-zags: with lr 0.95 every step overshoots in y (y flips sign each step) while x
  crawls;
- Momentum and Nesterov roll like a ball: velocity builds up along x, the y swings damp out;
- AdaGrad divides each coordinate's step by the root of its summed squared gradients, so the
  steep y direction gets small steps quickly: y settles at once, x still moves;
- RMSprop does the same with a decaying average (it forgets old gradients); Adam combines
  momentum with RMSprop-style scaling.
The library's optimizers are used as they are; the gradient is the analytic (x / 10, 2y).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.experiments.base import Context, ExperimentInfo, Result
from dlscratch.optim import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop

INFO = ExperimentInfo(12, "optimizer-paths", "Optimizer paths on x^2/20 + y^2",
                      "매개변수 갱신 (SGD 단점, 모멘텀, AdaGrad, Adam)",
                      "SGD zig-zags in y; Momentum rolls; AdaGrad goes straight along x; "
                      "Adam rolls with smaller swings")

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"distance to (0, 0) after {} steps: {}; SGD's y flips sign at {} of {} steps":
          "{0}단계 후 (0, 0)까지의 거리: {1}; SGD는 {3}단계 중 {2}단계에서 y의 부호가 바뀜",
      INFO.course_result:
          "SGD는 y 방향으로 지그재그로 움직임; 모멘텀은 공이 구르듯 움직임; AdaGrad는 x 방향으로 "
          "곧게 나아감; Adam은 더 작게 흔들리며 구름",
      # the figure
      "end ({}, {})": "도착점 ({}, {})"}


def f(x, y):
    return x**2 / 20.0 + y**2


def df(x, y):
    return np.array([x / 10.0, 2.0 * y])


def descend(optimizer, start, steps: int) -> np.ndarray:
    """The points visited (steps + 1, 2), the start included."""
    params = {"xy": np.array(start, dtype=np.float64)}
    path = [params["xy"].copy()]
    for _ in range(steps):
        optimizer.update(params, {"xy": df(*params["xy"])})
        path.append(params["xy"].copy())
    return np.array(path)


def run(ctx: Context) -> Result:
    start, steps = (-7.0, 2.0), 30
    optimizers = {"SGD": SGD(lr=0.95), "Momentum": Momentum(lr=0.1, momentum=0.9),
                  "Nesterov": Nesterov(lr=0.1, momentum=0.9), "AdaGrad": AdaGrad(lr=1.5),
                  "RMSprop": RMSprop(lr=0.1, decay_rate=0.99), "Adam": Adam(lr=0.3)}
    paths = {name: descend(opt, start, steps) for name, opt in optimizers.items()}

    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5), layout="constrained")
    X, Y = np.meshgrid(np.linspace(-10, 10, 201), np.linspace(-5, 5, 101))
    Z = f(X, Y)
    for ax, (name, path) in zip(axes.flat, paths.items(), strict=True):
        ax.contour(X, Y, Z, levels=[0.1, 0.5, 1, 2, 4, 7, 10, 15], colors="0.7")
        ax.plot(path[:, 0], path[:, 1], "o-", color="tab:red", ms=3)
        ax.plot(0, 0, "+", color="black", ms=12)
        ax.set_xlim(-10, 10)
        ax.set_ylim(-5, 5)
        ax.set_title(f"{optimizers[name]!r}\nend ({path[-1, 0]:.3f}, {path[-1, 1]:.3f})",
                     fontsize=10)
        ax.set_xlabel("x")
        ax.set_ylabel("y")

    ys = paths["SGD"][:, 1]
    numbers = {name: {"final": path[-1], "distance_to_origin": float(np.hypot(*path[-1]))}
               for name, path in paths.items()}
    numbers["sgd_y_sign_flips"] = int(np.sum(np.sign(ys[1:]) != np.sign(ys[:-1])))
    numbers["sgd_y_transitions"] = len(ys) - 1
    summary = ", ".join(f"{name} {numbers[name]['distance_to_origin']:.3f}" for name in paths)
    summary = (f"distance to (0, 0) after {steps} steps: {summary}; SGD's y flips sign at "
               f"{numbers['sgd_y_sign_flips']} of {steps} steps")
    params = {"function": "x^2/20 + y^2", "start": start, "steps": steps,
              **{name: opt.hyperparameters() for name, opt in optimizers.items()}}
    return Result(fig, params, numbers, summary)
