"""Experiment 24: DeepConvNet is a small VGG (chapter 8).

VGG stacks 3x3 convolutions two to four at a time, halves the image with a 2x2 pooling after
each stack, and ends in fully connected layers. The course's DeepConvNet is built the same
way, with three blocks of two 3x3 convolutions (16, 32, 64 filters) on 28x28 MNIST images:

    block 1  conv 3x3 16, conv 3x3 16, pool     28x28 -> 14x14
    block 2  conv 3x3 32, conv 3x3 32, pool     14x14 -> 8x8 (the 4th conv pads 2: 16x16)
    block 3  conv 3x3 64, conv 3x3 64, pool     8x8 -> 4x4
    head     affine 1024 -> 50, ReLU, dropout, affine 50 -> 10, dropout

The table is the network the library builds: every output shape comes from a forward pass,
every parameter count from the layer's arrays, every multiply-add count from the weights'
shapes and the output sizes (a conv: FN*C*FH*FW per output position). Nothing is trained.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.experiments.base import Context, ExperimentInfo, Result
from dlscratch.experiments.common_deep import layer_table
from dlscratch.layers import Convolution, Pooling
from dlscratch.nets import DeepConvNet

INFO = ExperimentInfo(24, "vgg", "DeepConvNet as VGG blocks", "VGG",
                      "VGG: 3x3 convolutions stacked 2-4 times between poolings, then fully "
                      "connected layers (16 or 19 weighted layers)")

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"{} VGG blocks of {} 3x3 convs + head: {} weighted layers, {} parameters, {} multiply-adds "
      "per image":
          "VGG 블록 {}개 (블록별 3x3 합성곱 {}개) + 완전연결 계층: 가중치가 있는 계층 {}개, "
          "매개변수 {}개, 이미지 한 장당 곱셈-덧셈 {}번",
      INFO.course_result:
          "VGG: 풀링 사이에 3x3 합성곱을 2~4번 쌓고 그 뒤에 완전연결 계층 (가중치가 있는 계층 "
          "16개 또는 19개)",
      # the figure
      "block": "블록", "layer": "계층", "output": "출력", "head": "완전연결",
      "block {}": "블록 {}", "{} ({})": "{} ({})",
      "DeepConvNet's layers as VGG blocks: {} parameters, {} multiply-adds per image":
          "VGG 블록으로 본 DeepConvNet의 계층: 매개변수 {}개, 이미지 한 장당 곱셈-덧셈 {}번",
      "per layer (log scale)": "계층별 (로그 눈금)"}

COLORS = ["#dbe9f6", "#fde2c8", "#d8f0d2", "#eeeeee"]  # blocks 1-3, the head


def vgg_blocks(net) -> list[str]:
    """Each layer's VGG block: "block 1", ... up to and including each pooling, then "head"."""
    names, block = [], 1
    pools = sum(isinstance(layer, Pooling) for layer in net.stack.layers)
    for layer in net.stack.layers:
        names.append(f"block {block}" if block <= pools else "head")
        if isinstance(layer, Pooling):
            block += 1
    return names


def run(ctx: Context) -> Result:
    input_shape = (1, 28, 28)
    net = DeepConvNet(seed=ctx.seed)
    rows = layer_table(net, input_shape)
    blocks = vgg_blocks(net)
    for row, block in zip(rows, blocks, strict=True):
        row["block"] = block
    total_params = sum(r["params"] for r in rows)
    total_macs = sum(r["multiply_adds"] for r in rows)

    fig, (ax_table, ax_bars) = plt.subplots(1, 2, figsize=(15, 6.5), layout="constrained",
                                            gridspec_kw={"width_ratios": [1.35, 1]})
    ax_table.axis("off")
    cells = [[r["block"], r["layer"], "x".join(map(str, r["output"])), f"{r['params']:,}",
              f"{r['multiply_adds']:,}"] for r in rows]
    order = sorted(set(blocks), key=blocks.index)
    colors = [[COLORS[min(order.index(b), len(COLORS) - 1)]] * 5 for b in blocks]
    table = ax_table.table(cellText=cells, cellColours=colors, loc="center",
                           colLabels=["block", "layer", "output", "parameters", "multiply-adds"])
    table.auto_set_font_size(False)
    table.set_fontsize(8.5)
    table.scale(1, 1.25)
    weighted = [r for r in rows if r["params"]]
    y = np.arange(len(weighted))
    ax_bars.barh(y - 0.2, [r["params"] for r in weighted], 0.4, label="parameters")
    ax_bars.barh(y + 0.2, [r["multiply_adds"] for r in weighted], 0.4, label="multiply-adds")
    ax_bars.set_yticks(y, [f"{r['layer']} ({r['block']})" for r in weighted])
    ax_bars.invert_yaxis()
    ax_bars.set_xscale("log")
    ax_bars.set_title("per layer (log scale)")
    ax_bars.legend(loc="lower right")
    ax_bars.grid(alpha=0.3, axis="x")
    fig.suptitle(f"DeepConvNet's layers as VGG blocks: {total_params:,} parameters, "
                 f"{total_macs:,} multiply-adds per image")

    per_block = {b: {"params": sum(r["params"] for r in rows if r["block"] == b),
                     "multiply_adds": sum(r["multiply_adds"] for r in rows if r["block"] == b),
                     "convolutions": sum(r["layer"].startswith("Convolution")
                                         for r in rows if r["block"] == b)}
                 for b in order}
    numbers = {"layers": rows, "total_params": total_params, "total_multiply_adds": total_macs,
               "blocks": per_block, "weighted_layers": len(weighted),
               "filter_sizes": sorted({f"{layer.W.shape[2]}x{layer.W.shape[3]}"
                                       for layer in net.stack.layers
                                       if isinstance(layer, Convolution)})}
    summary = (f"{len(order) - 1} VGG blocks of "
               f"{', '.join(str(per_block[b]['convolutions']) for b in order[:-1])} "
               f"{'/'.join(numbers['filter_sizes'])} convs "
               f"+ head: {len(weighted)} weighted layers, {total_params:,} parameters, "
               f"{total_macs:,} multiply-adds per image")
    return Result(fig, {"network": "DeepConvNet", "input_shape": input_shape}, numbers, summary)
