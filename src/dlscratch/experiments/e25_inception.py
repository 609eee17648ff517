"""Experiment 25: GoogLeNet's inception block, in a small network trained on MNIST (chapter 8).

An inception block (`dlscratch.layers.Inception`) runs four branches side by side on the same
input and concatenates their outputs along the channels:

    1x1 conv | 1x1 conv -> 3x3 conv | 1x1 conv -> 5x5 conv | 3x3 max pool -> 1x1 conv

so one block looks at 1x1, 3x3 and 5x5 windows at once; the 1x1 convolutions in front of the
3x3 and 5x5 ones shrink the channels first, which keeps the block cheap. Its output has the sum
of the branches' channels. Against a plain convolution with the same output size, the block
holds a fraction of the parameters. The network:

    stem   Conv(8 filters 3x3, pad 1) -> ReLU -> Pool 2x2                     28x28 -> 14x14
    block  Inception(8 -> 4 | 4 -> 8 | 2 -> 4 | pool -> 4 = 20 channels) -> ReLU
    head   Pool 2x2 -> Affine(20*7*7 -> 10)                                   14x14 -> 7x7
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.experiments.base import Context, ExperimentInfo, Result
from dlscratch.experiments.common_cnn import mnist_images, train_cnn
from dlscratch.experiments.common_deep import param_count
from dlscratch.layers import Affine, Convolution, Inception, Pooling, Relu
from dlscratch.nets import Sequential

INFO = ExperimentInfo(25, "inception", "GoogLeNet's inception block", "GoogLeNet (인셉션 구조)",
                      "GoogLeNet: parallel 1x1, 3x3, 5x5 convolutions and pooling, their "
                      "outputs concatenated; 1x1 convolutions reduce the channels")

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"block {} = {} channels with {} parameters (a plain 3x3 conv: {}, 5x5: {}); test accuracy "
      "{} after {} epochs ({} s)":
          "인셉션 블록 {0} = {1}채널, 매개변수 {2}개 (일반 3x3 합성곱은 {3}개, 5x5는 {4}개); "
          "{6}에폭 후 시험 정확도 {5} ({7}초)",
      INFO.course_result:
          "GoogLeNet: 1x1, 3x3, 5x5 합성곱과 풀링을 나란히 적용한 뒤 출력을 채널 방향으로 연결; "
          "1x1 합성곱으로 채널 수를 줄임",
      # the figure
      "input {} channels": "입력 {}채널", "concatenate: {} channels": "채널 방향으로 연결: {}채널",
      "{}x{} conv, {} ch": "{}x{} 합성곱, {}채널", "3x3 max pool": "3x3 최대 풀링",
      "{} parameters": "매개변수 {}개", "inception block": "인셉션 블록",
      "the inception block in the network": "신경망 속 인셉션 블록",
      "plain 3x3 conv": "일반 3x3 합성곱", "plain 5x5 conv": "일반 5x5 합성곱",
      "parameters for {} -> {} channels": "{} -> {}채널에 필요한 매개변수",
      "test accuracy {} ({} s of training)": "시험 정확도 {} (훈련 {}초)",
      "small inception network on {} MNIST images, {} epochs":
          "MNIST 이미지 {}장으로 학습한 작은 인셉션 신경망, {}에폭"}

IN_CHANNELS = 8
BLOCK = {"c1": 4, "reduce3": 4, "c3": 8, "reduce5": 2, "c5": 4, "pool_proj": 4}


def build(seed: int) -> Sequential:
    rng = np.random.default_rng(seed)
    block = Inception.create(IN_CHANNELS, **BLOCK, rng=rng)
    return Sequential([
        Convolution.create(1, IN_CHANNELS, 3, pad=1, weight_init_std="he", rng=rng), Relu(),
        Pooling(2, 2, stride=2), block, Relu(), Pooling(2, 2, stride=2),
        Affine.create(block.out_channels * 7 * 7, 10, "he", rng)])


def plain_conv_params(in_channels: int, out_channels: int, size: int) -> int:
    """Parameters of one convolution with the block's input and output channels."""
    return param_count(Convolution.create(in_channels, out_channels, size, pad=size // 2))


def draw_block(ax, block: Inception) -> None:
    """The block as boxes: the input, the four branches side by side, the concatenation."""
    def box(x, y, text, color="#eeeeee"):
        ax.text(x, y, text, ha="center", va="center", fontsize=8.5,
                bbox={"boxstyle": "round", "fc": color, "ec": "0.4"})

    def arrow(x0, y0, x1, y1):
        ax.annotate("", (x1, y1 + 0.28), (x0, y0 - 0.28),
                    arrowprops={"arrowstyle": "->", "color": "0.4"})

    box(1.5, 4, f"input {IN_CHANNELS} channels", "#dbe9f6")
    for i, branch in enumerate(block.branches):
        steps = [layer for layer in branch if not isinstance(layer, Relu)]
        ys = np.linspace(2.7, 1.3, len(steps)) if len(steps) > 1 else [2.0]
        arrow(1.5, 4, i, ys[0])
        for k, (layer, y) in enumerate(zip(steps, ys, strict=True)):
            if isinstance(layer, Convolution):
                fn, _, fh, fw = layer.W.shape
                box(i, y, f"{fh}x{fw} conv, {fn} ch\n{param_count(layer)} parameters",
                    "#fde2c8")
            else:
                box(i, y, "3x3 max pool")
            if k:
                arrow(i, ys[k - 1], i, y)
        arrow(i, ys[-1], 1.5, 0)
    box(1.5, 0, f"concatenate: {block.out_channels} channels", "#d8f0d2")
    ax.set(xlim=(-0.7, 3.7), ylim=(-0.5, 4.5))
    ax.axis("off")


def run(ctx: Context) -> Result:
    params = {"block": BLOCK, "in_channels": IN_CHANNELS, "optimizer": "Adam", "lr": 0.001,
              "batch_size": 100, "epochs": ctx.pick(2, 5), "train_size": ctx.pick(2000, 60000),
              "test_size": ctx.pick(500, 10000), "eval_limit_per_epoch": ctx.pick(500, 1000),
              "seed": ctx.seed}
    (x_train, t_train), (x_test, t_test) = mnist_images(ctx, params["train_size"],
                                                        params["test_size"])
    net, history = train_cnn(ctx, lambda: build(ctx.seed), x_train, t_train, x_test, t_test,
                             epochs=params["epochs"], seed=ctx.seed,
                             eval_limit=params["eval_limit_per_epoch"])
    block = net.layers["Inception1"]
    out = block.forward(np.zeros((1, IN_CHANNELS, 14, 14), net.dtype), train_flg=False)
    branch_channels = [int(c) for c in block.channels]  # measured by that forward pass
    counts = {"inception block": param_count(block),
              "plain 3x3 conv": plain_conv_params(IN_CHANNELS, block.out_channels, 3),
              "plain 5x5 conv": plain_conv_params(IN_CHANNELS, block.out_channels, 5)}
    test_acc = net.accuracy(x_test, t_test)
    train_time = history["elapsed_s"][-1]

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8), layout="constrained",
                             gridspec_kw={"width_ratios": [1.6, 1, 1]})
    draw_block(axes[0], block)
    axes[0].set_title("the inception block in the network")
    bars = axes[1].bar(list(counts), list(counts.values()),
                       color=["tab:green", "tab:gray", "tab:gray"])
    axes[1].bar_label(bars)
    axes[1].set(ylabel="parameters", title=f"parameters for {IN_CHANNELS} -> "
                                           f"{block.out_channels} channels")
    axes[2].plot(history["epoch"], history["test_acc"], "o-")
    axes[2].set_xticks(history["epoch"])
    axes[2].set(xlabel="epoch", ylabel=f"test accuracy (first {params['eval_limit_per_epoch']} "
                                      "images)", ylim=(0, 1),
                title=f"test accuracy {test_acc:.4f} ({train_time:.1f} s of training)")
    for ax in axes[1:]:
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(f"small inception network on {len(x_train)} MNIST images, "
                 f"{params['epochs']} epochs")

    numbers = {"branch_channels": branch_channels, "out_channels": block.out_channels,
               "block_output_shape": list(out.shape[1:]), "params": counts,
               "network_params": sum(p.size for p in net.params.values()),
               "test_acc": test_acc, "train_time_s": train_time, "epoch": history["epoch"],
               "test_acc_per_epoch": history["test_acc"]}
    summary = (f"block {' + '.join(map(str, branch_channels))} = {block.out_channels} channels "
               f"with {counts['inception block']} parameters (a plain 3x3 conv: "
               f"{counts['plain 3x3 conv']}, 5x5: {counts['plain 5x5 conv']}); test accuracy "
               f"{test_acc:.4f} after {params['epochs']} epochs ({train_time:.1f} s)")
    return Result(fig, params, numbers, summary)
