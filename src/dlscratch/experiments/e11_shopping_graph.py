"""Experiment 11: computational graphs - buying apples (and oranges), forward and backward.

Forward (black, above each edge): the prices flow left to right through multiply and add
nodes. Backward (red, below each edge): starting from 1 at the price, each node passes the
upstream derivative times its local derivative back - a multiply node swaps its inputs, an add
node passes the value through. The red number on an input's edge is d(price)/d(input): one
more yen per apple raises the price by 2.2 yen.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.experiments.base import Context, ExperimentInfo, Result
from dlscratch.graph import buy_apples, buy_apples_and_oranges

INFO = ExperimentInfo(11, "shopping-graph", "Computational graph: the shopping example",
                      "계산 그래프 (역전파)",
                      "apples: price 220; d/d apple 2.2, d/d apple num 110, d/d tax 200. "
                      "apples and oranges: price 715; 110, 2.2, 3.3, 165, d/d tax 650")

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"apples: price {}, d_apple {}, d_apple_num {}, d_tax {}; apples and oranges: price {}, "
      "d_apple_num {}, d_apple {}, d_orange {}, d_orange_num {}, d_tax {}":
          "사과: 지불 금액 {}, 미분 – 사과 가격 {}, 사과 개수 {}, 소비세 {}; 사과와 귤: "
          "지불 금액 {}, 미분 – 사과 개수 {}, 사과 가격 {}, 귤 가격 {}, 귤 개수 {}, 소비세 {}",
      INFO.course_result:
          "사과: 지불 금액 220; 미분 – 사과 가격 2.2, 사과 개수 110, 소비세 200. 사과와 귤: 지불 "
          "금액 715; 미분 – 사과 개수 110, 사과 가격 2.2, 귤 가격 3.3, 귤 개수 165, 소비세 650",
      # the figure
      "apple": "사과", "apple num": "사과 개수", "orange": "귤", "orange num": "귤 개수",
      "tax": "소비세", "price": "지불 금액",
      "2 apples at 100 with 10% tax (black: forward, red: backward)":
          "100원짜리 사과 2개, 소비세 10% (검정: 순전파, 빨강: 역전파)",
      "2 apples at 100 and 3 oranges at 150 with 10% tax":
          "100원짜리 사과 2개와 150원짜리 귤 3개, 소비세 10%"}


def draw_graph(ax, nodes: dict, edges: list) -> None:
    """nodes: name -> (x, y, label); an operator label ('x', '+') is drawn in a circle.
    edges: (from, to, forward value, backward value)."""
    for src, dst, fwd, bwd in edges:
        (x0, y0, _), (x1, y1, _) = nodes[src], nodes[dst]
        ax.annotate("", (x1, y1), (x0, y0), arrowprops={"arrowstyle": "->", "lw": 1.2,
                                                         "shrinkA": 22, "shrinkB": 22})
        normal = np.array([-(y1 - y0), x1 - x0]) / np.hypot(x1 - x0, y1 - y0)
        if normal[1] < 0:
            normal = -normal
        mid = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        ax.text(*(mid + 0.28 * normal), f"{fwd:g}", ha="center", va="center", fontsize=11)
        ax.text(*(mid - 0.28 * normal), f"{bwd:g}", ha="center", va="center", fontsize=11,
                color="tab:red")
    for x, y, label in nodes.values():
        if label in ("x", "+"):
            ax.add_patch(plt.Circle((x, y), 0.35, facecolor="white", edgecolor="black", lw=1.5))
            ax.text(x, y, label, ha="center", va="center", fontsize=15)
        else:
            ax.text(x, y, label, ha="center", va="center", fontsize=11)
    xs, ys = [n[0] for n in nodes.values()], [n[1] for n in nodes.values()]
    ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.set_aspect("equal")
    ax.axis("off")


def run(ctx: Context) -> Result:
    a = buy_apples(apple=100, apple_num=2, tax=1.1)
    ao = buy_apples_and_oranges(apple=100, apple_num=2, orange=150, orange_num=3, tax=1.1)

    fig, axes = plt.subplots(2, 1, figsize=(11, 11), gridspec_kw={"height_ratios": [4.0, 7.4]})
    draw_graph(axes[0],
               {"apple": (0, 2.2, "apple"), "num": (0, -0.2, "apple num"), "mul": (2.5, 1, "x"),
                "tax": (3.5, -0.6, "tax"), "mul_tax": (5, 1, "x"), "price": (7.5, 1, "price")},
               [("apple", "mul", 100, a["d_apple"]), ("num", "mul", 2, a["d_apple_num"]),
                ("mul", "mul_tax", a["apple_price"], a["d_apple_price"]),
                ("tax", "mul_tax", 1.1, a["d_tax"]), ("mul_tax", "price", a["price"], 1)])
    axes[0].set_title("2 apples at 100 with 10% tax (black: forward, red: backward)")
    draw_graph(axes[1],
               {"apple": (0, 5.2, "apple"), "anum": (0, 3, "apple num"),
                "amul": (2.5, 4.1, "x"), "orange": (0, 1.4, "orange"),
                "onum": (0, -0.8, "orange num"), "omul": (2.5, 0.3, "x"), "add": (5, 2.2, "+"),
                "tax": (6, 0.2, "tax"), "mul_tax": (7.5, 2.2, "x"),
                "price": (10, 2.2, "price")},
               [("apple", "amul", 100, ao["d_apple"]), ("anum", "amul", 2, ao["d_apple_num"]),
                ("orange", "omul", 150, ao["d_orange"]),
                ("onum", "omul", 3, ao["d_orange_num"]),
                ("amul", "add", ao["apple_price"], ao["d_total"]),
                ("omul", "add", ao["orange_price"], ao["d_total"]),
                ("add", "mul_tax", ao["total"], ao["d_total"]),
                ("tax", "mul_tax", 1.1, ao["d_tax"]), ("mul_tax", "price", ao["price"], 1)])
    axes[1].set_title("2 apples at 100 and 3 oranges at 150 with 10% tax")
    axes[0].set_xlim(axes[1].get_xlim())  # the same scale in both drawings

    numbers = {"apples": {k: round(v, 10) for k, v in a.items()},
               "apples_and_oranges": {k: round(v, 10) for k, v in ao.items()}}
    summary = (f"apples: price {a['price']:g}, d_apple {a['d_apple']:g}, d_apple_num "
               f"{a['d_apple_num']:g}, d_tax {a['d_tax']:g}; apples and oranges: price "
               f"{ao['price']:g}, d_apple_num {ao['d_apple_num']:g}, d_apple {ao['d_apple']:g}, "
               f"d_orange {ao['d_orange']:g}, d_orange_num {ao['d_orange_num']:g}, "
               f"d_tax {ao['d_tax']:g}")
    return Result(fig, {"apple": 100, "apple_num": 2, "orange": 150, "orange_num": 3,
                        "tax": 1.1}, numbers, summary)
