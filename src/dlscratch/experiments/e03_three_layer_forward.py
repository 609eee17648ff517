"""Experiment 3: the forward pass of the course's 3-layer network (2 -> 3 -> 2 -> 2).

Each layer is a = x W + b (a weighted sum) followed by an activation: sigmoid in the two hidden
layers, the identity at the output. The weights are the book's; x = [1.0, 0.5].
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.experiments.base import Context, ExperimentInfo, Result
from dlscratch.functions import identity, sigmoid

INFO = ExperimentInfo(3, "three-layer-forward", "Three-layer network forward pass",
                      "3층 신경망 구현하기", "y = [0.3168, 0.6963]")

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"y = {}": "출력 y = {}",  # the summary and the course's result
      # the figure
      "input x": "입력 x", "y = a3 (identity)": "y = a3 (항등 함수)",
      "3-layer network 2-3-2-2, forward pass on x = [1.0, 0.5]":
          "3층 신경망 2-3-2-2, x = [1.0, 0.5]의 순전파"}


def init_network() -> dict[str, np.ndarray]:
    """The book's weights and biases."""
    return {"W1": np.array([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]), "b1": np.array([0.1, 0.2, 0.3]),
            "W2": np.array([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]), "b2": np.array([0.1, 0.2]),
            "W3": np.array([[0.1, 0.3], [0.2, 0.4]]), "b3": np.array([0.1, 0.2])}


def forward(network: dict[str, np.ndarray], x: np.ndarray) -> dict[str, np.ndarray]:
    """Every intermediate value: a (weighted sums) and z (activations) of each layer."""
    a1 = x @ network["W1"] + network["b1"]
    z1 = sigmoid(a1)
    a2 = z1 @ network["W2"] + network["b2"]
    z2 = sigmoid(a2)
    a3 = z2 @ network["W3"] + network["b3"]
    y = identity(a3)
    return {"a1": a1, "z1": z1, "a2": a2, "z2": z2, "a3": a3, "y": y}


def draw_network(ax, layers: list[tuple[str, np.ndarray, np.ndarray | None]]) -> None:
    """Circles for the neurons (output inside, weighted sum a below), an arrow per weight."""
    positions = []
    for col, (_, values, _) in enumerate(layers):
        ys = ((len(values) - 1) / 2 - np.arange(len(values))) * 1.6
        positions.append([(col * 3.0, y) for y in ys])
    for left, right in zip(positions[:-1], positions[1:], strict=True):
        for x0, y0 in left:
            for x1, y1 in right:
                ax.annotate("", (x1 - 0.45, y1), (x0 + 0.45, y0),
                            arrowprops={"arrowstyle": "->", "color": "0.6", "lw": 0.8})
    for (name, values, sums), points in zip(layers, positions, strict=True):
        for i, (x, y) in enumerate(points):
            ax.add_patch(plt.Circle((x, y), 0.45, facecolor="white", edgecolor="black"))
            ax.text(x, y, f"{values[i]:.4f}", ha="center", va="center", fontsize=9)
            if sums is not None:
                ax.text(x, y - 0.7, f"a = {sums[i]:.4f}", ha="center", fontsize=8, color="0.4")
        ax.text(points[0][0], 2.3, name, ha="center", fontsize=10)
    ax.set_xlim(-0.8, 3.0 * (len(layers) - 1) + 0.8)
    ax.set_ylim(-2.6, 2.7)
    ax.set_aspect("equal")
    ax.axis("off")


def run(ctx: Context) -> Result:
    network = init_network()
    x = np.array([1.0, 0.5])
    values = forward(network, x)

    fig, ax = plt.subplots(figsize=(10, 5))
    draw_network(ax, [("input x", x, None), ("z1 = sigmoid(a1)", values["z1"], values["a1"]),
                      ("z2 = sigmoid(a2)", values["z2"], values["a2"]),
                      ("y = a3 (identity)", values["y"], values["a3"])])
    ax.set_title("3-layer network 2-3-2-2, forward pass on x = [1.0, 0.5]")

    numbers = {"x": x, **{k: v.round(8) for k, v in values.items()}}
    params = {k: v for k, v in network.items()}
    summary = f"y = {np.array2string(values['y'], precision=4)}"
    return Result(fig, params, numbers, summary)
