"""Experiment 23: a deeper stack of small filters needs fewer parameters (chapter 8).

One 5x5 convolution and two stacked 3x3 convolutions (with a ReLU between) see the same 5x5
window of their input: each 3x3 output of the first layer sees 3x3 inputs, and a 3x3 window of
those spans 5x5. Per pair of input and output channels the 5x5 filter has 25 weights, the two
3x3 filters 2 x 9 = 18; and the stack adds a ReLU, one more non-linearity.

Both blocks sit in the same small network, trained the same way on MNIST:

    stem   Conv(C filters 3x3, pad 1) -> ReLU -> Pool 2x2           28x28 -> 14x14
    block  Conv(C, 5x5, pad 2)  or  Conv(C, 3x3, pad 1) -> ReLU -> Conv(C, 3x3, pad 1)
    head   ReLU -> Pool 2x2 -> Affine(C*7*7 -> 10)                 14x14 -> 7x7

The receptive field and the weight counts are computed from the layers themselves.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.experiments.base import Context, ExperimentInfo, Result
from dlscratch.experiments.common_cnn import mnist_images, train_cnn
from dlscratch.experiments.common_deep import param_count, receptive_field
from dlscratch.layers import Affine, Convolution, Pooling, Relu
from dlscratch.nets import Sequential

INFO = ExperimentInfo(23, "deeper-fewer-params", "Deeper stacks need fewer parameters",
                      "층을 깊게 할 때의 이점",
                      "two 3x3 convolutions see the same 5x5 window as one 5x5 convolution "
                      "with 18 instead of 25 weights per channel pair")

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"receptive field {} for both; weights per channel pair {} (one 5x5) vs {} (two 3x3); test "
      "accuracy {} vs {} in {} s vs {} s of training":
          "수용 영역은 둘 다 {}; 채널 쌍당 가중치 {} (5x5 한 번) 대 {} (3x3 두 번); 시험 정확도 "
          "{} 대 {}, 훈련 시간 {}초 대 {}초",
      INFO.course_result:
          "3x3 합성곱 두 번은 5x5 합성곱 한 번과 같은 5x5 영역을 보면서 채널 쌍당 가중치가 "
          "25개가 아닌 18개",
      # the figure
      "one 5x5": "5x5 한 번", "two 3x3": "3x3 두 번",
      "weights per channel pair": "채널 쌍당 가중치 수",
      "receptive field {}x{} for both": "수용 영역은 둘 다 {}x{}",
      "block parameters {} vs {}": "블록의 매개변수 {} 대 {}",
      "test accuracy and training time": "시험 정확도와 훈련 시간",
      "{} (test acc {})": "{} (시험 정확도 {})",
      "one 5x5 convolution vs two 3x3 ({} channels), {} epochs on {} MNIST images":
          "5x5 합성곱 한 번 대 3x3 두 번 (채널 {0}개), MNIST 이미지 {2}장으로 {1}에폭"}

CHANNELS = 16
BLOCKS = {"one 5x5": ((5, 2),), "two 3x3": ((3, 1), (3, 1))}  # (filter size, pad) per conv


def block_layers(kind: str, channels: int, rng) -> list:
    """The block's layers: its convolutions (C -> C channels) with ReLUs between them."""
    layers = []
    for size, pad in BLOCKS[kind]:
        if layers:
            layers.append(Relu())
        layers.append(Convolution.create(channels, channels, size, pad=pad,
                                         weight_init_std="he", rng=rng))
    return layers


def build(kind: str, seed: int, channels: int = CHANNELS) -> Sequential:
    """The network around the block; the same seed gives both the same stem."""
    rng = np.random.default_rng(seed)
    stem = [Convolution.create(1, channels, 3, pad=1, weight_init_std="he", rng=rng), Relu(),
            Pooling(2, 2, stride=2)]
    block = block_layers(kind, channels, np.random.default_rng([seed, 1]))
    head = [Relu(), Pooling(2, 2, stride=2),
            Affine.create(channels * 7 * 7, 10, "he", np.random.default_rng([seed, 2]))]
    return Sequential(stem + block + head)


def block_numbers(kind: str, channels: int) -> dict:
    """Receptive field and weight counts of one block, computed from its layers."""
    layers = block_layers(kind, channels, np.random.default_rng(0))
    convs = [layer for layer in layers if isinstance(layer, Convolution)]
    weights = sum(conv.W.size for conv in convs)
    return {"receptive_field": receptive_field(layers), "convolutions": len(convs),
            "weights_per_channel_pair": weights // (channels * channels),
            "block_params": sum(param_count(layer) for layer in layers)}


def run(ctx: Context) -> Result:
    params = {"channels": CHANNELS, "optimizer": "Adam", "lr": 0.001, "batch_size": 100,
              "epochs": ctx.pick(2, 5), "train_size": ctx.pick(2000, 60000),
              "test_size": ctx.pick(500, 10000), "eval_limit_per_epoch": ctx.pick(500, 1000),
              "seed": ctx.seed}
    (x_train, t_train), (x_test, t_test) = mnist_images(ctx, params["train_size"],
                                                        params["test_size"])
    runs = {}
    for kind in BLOCKS:
        net, history = train_cnn(ctx, lambda k=kind: build(k, ctx.seed), x_train, t_train,
                                 x_test, t_test, epochs=params["epochs"], seed=ctx.seed,
                                 eval_limit=params["eval_limit_per_epoch"])
        runs[kind] = {**block_numbers(kind, CHANNELS), "history": history,
                      "test_acc": net.accuracy(x_test, t_test),
                      "net_params": sum(p.size for p in net.params.values()),
                      "train_time_s": history["elapsed_s"][-1]}
        ctx.log(f"  {kind}: test accuracy {runs[kind]['test_acc']:.4f} in "
                f"{runs[kind]['train_time_s']:.1f} s")

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.3), layout="constrained")
    kinds, colors = list(runs), ["tab:orange", "tab:blue"]
    weights = [runs[k]["weights_per_channel_pair"] for k in kinds]
    bars = axes[0].bar(kinds, weights, color=colors)
    axes[0].bar_label(bars)
    fields = {runs[k]["receptive_field"] for k in kinds}
    field = fields.pop() if len(fields) == 1 else "?"
    axes[0].set(ylabel="weights per channel pair", title=f"receptive field {field}x{field} "
                                                         "for both")
    for kind, color in zip(kinds, colors, strict=True):
        h = runs[kind]["history"]
        axes[1].plot(h["epoch"], h["test_acc"], "o-", color=color,
                     label=f"{kind} (test acc {runs[kind]['test_acc']:.4f})")
    axes[1].set(xlabel="epoch", ylabel=f"test accuracy (first {params['eval_limit_per_epoch']} "
                                      "images)", ylim=(0, 1),
                title=f"block parameters {runs[kinds[0]]['block_params']} vs "
                      f"{runs[kinds[1]]['block_params']}")
    axes[1].set_xticks(runs[kinds[0]]["history"]["epoch"])
    axes[1].legend(loc="lower right")
    bars = axes[2].bar(kinds, [runs[k]["train_time_s"] for k in kinds], color=colors)
    axes[2].bar_label(bars, labels=[f"{runs[k]['train_time_s']:.1f} s\n"
                                    f"{runs[k]['test_acc']:.4f}" for k in kinds])
    axes[2].margins(y=0.25)  # room for the labels
    axes[2].set(ylabel="training time (s)", title="test accuracy and training time")
    for ax in axes:
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(f"one 5x5 convolution vs two 3x3 ({CHANNELS} channels), {params['epochs']} "
                 f"epochs on {len(x_train)} MNIST images")

    keys = ("receptive_field", "convolutions", "weights_per_channel_pair", "block_params",
            "net_params", "test_acc", "train_time_s")
    numbers = {key: {k: runs[k][key] for k in kinds} for key in keys}
    numbers["test_acc_per_epoch"] = {k: runs[k]["history"]["test_acc"] for k in kinds}
    summary = (f"receptive field {runs['one 5x5']['receptive_field']} for both; weights per "
               f"channel pair {weights[0]} (one 5x5) vs {weights[1]} (two 3x3); test accuracy "
               f"{runs['one 5x5']['test_acc']:.4f} vs {runs['two 3x3']['test_acc']:.4f} in "
               f"{runs['one 5x5']['train_time_s']:.1f} s vs "
               f"{runs['two 3x3']['train_time_s']:.1f} s of training")
    return Result(fig, params, numbers, summary)
