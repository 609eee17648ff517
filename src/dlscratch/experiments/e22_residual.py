"""Experiment 22: skip connections (ResNet, chapter 8) let a deep, narrow CNN learn.

Two networks with the same layers and the same initial weights:

    stem  Conv(16 filters 3x3, pad 1) -> ReLU -> Pool 2x2             28x28 -> 14x14
    body  5 blocks: Conv(16, 3x3, pad 1) -> ReLU -> Conv(16, 3x3, pad 1), then ReLU
    head  Pool 2x2 -> Affine(16*7*7 -> 10)                            14x14 -> 7x7

In the plain net a block is just its two convs; in the residual net the block is
Residual([conv, relu, conv]), so its output is relu(x + F(x)): a skip connection around the
two convs. Every weight starts as N(0, 0.01^2) (the book's default std) and both nets are
trained with SGD + momentum on the same mini-batches. (`--quick`: 8 channels instead of 16,
and 60 iterations on batches of 32: see QUICK.)

With std 0.01 each conv layer shrinks the signal about tenfold, so after 11 of them the plain
net's output hardly depends on its input. A layer's gradient is the product of the signal
coming in and the gradient coming back through the layers above, together shrunk by every
other layer: each conv layer, the first one too, gets a gradient of ~1e-12, and the net stalls
at the loss of guessing, ln 10 = 2.30. In the residual net the identity path carries the signal
forward and the gradient backward past every block (dL/dx = dL/dy + dF/dx^T dL/dy); its first
layer gets a gradient ~1e10 times larger, and it learns.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.experiments.base import Context, CourseValue, ExperimentInfo, Result
from dlscratch.experiments.common_cnn import mnist_images
from dlscratch.layers import Affine, Convolution, Pooling, Relu, Residual
from dlscratch.nets import Sequential
from dlscratch.plots import moving_average
from dlscratch.train import Trainer

INFO = ExperimentInfo(22, "residual", "Skip connections (ResNet)", "ResNet (스킵 연결)",
                      "with skip connections very deep networks still train: the gradient "
                      "flows back through the shortcut",
                      course_value=CourseValue(
                          ("test_acc", "residual"), 0.972,
                          "our full run at the course's settings, 800 iterations"))

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"after {} iterations: plain loss {} (test acc {}), residual {} (test acc {}); first-conv "
      "gradient at init {} times larger with skip connections":
          "{}회 반복 후: 일반 신경망 손실 {} (시험 정확도 {}), 잔차 신경망 손실 {} (시험 정확도 "
          "{}); 초기화 직후 첫 합성곱 계층의 기울기가 스킵 연결이 있을 때 {}배 큼",
      INFO.course_result:
          "스킵 연결이 있으면 아주 깊은 신경망도 학습됨: 기울기가 지름길을 통해 역방향으로 전달됨",
      INFO.course_value.source: "강의 설정으로 돌린 전체 실행, 800회 반복",
      # the figure
      "plain": "일반 신경망", "residual": "잔차 신경망",
      "ln 10 (guessing)": "ln 10 (무작위 추측)",
      "loss (moving average of 10)": "손실 (10회 이동 평균)",
      "conv layer (1 = next to the input)": "합성곱 계층 (1 = 입력 쪽)",
      "||dL/dW|| at init": "초기화 직후 ||dL/dW||",
      "gradient reaching each conv layer": "각 합성곱 계층에 도달하는 기울기",
      "{} conv layers, {} channels, init std {}, SGD momentum 0.9 lr 0.1, batch {}":
          "합성곱 계층 {}개, 채널 {}개, 초기화 std {}, SGD 모멘텀 0.9 lr 0.1, 배치 {}"}

CHANNELS, BLOCKS, INIT_STD = 16, 5, 0.01

# The course's setting, and the quick one: the same depth (the point is a deep net), but half
# the channels (a conv costs ~channels^2), fewer and smaller mini-batches and lighter
# evaluations, so that `experiment all --quick` does not spend most of its time here. The plain
# net still stalls at ln 10 and the residual one still learns (tests/experiments/test_e22_*).
FULL = {"channels": CHANNELS, "batch_size": 100, "iterations": 800, "train_size": 60000,
        "test_size": 10000, "eval_limit_per_epoch": 1000, "final_loss_over_last": 100}
QUICK = {"channels": 8, "batch_size": 32, "iterations": 60, "train_size": 1000,
         "test_size": 300, "eval_limit_per_epoch": 200, "final_loss_over_last": 20}


def build(residual: bool, seed: int, channels: int = CHANNELS) -> Sequential:
    """The plain or the residual net; the same seed gives both the same weights."""
    rng = np.random.default_rng(seed)

    def conv(in_channels):
        return Convolution.create(in_channels, channels, 3, stride=1, pad=1,
                                  weight_init_std=INIT_STD, rng=rng)

    layers = [conv(1), Relu(), Pooling(2, 2, stride=2)]
    for _ in range(BLOCKS):
        first, second = conv(channels), conv(channels)
        if residual:
            layers += [Residual([first, Relu(), second]), Relu()]
        else:
            layers += [first, Relu(), second, Relu()]
    layers += [Pooling(2, 2, stride=2), Affine.create(channels * 7 * 7, 10, INIT_STD, rng)]
    return Sequential(layers)


def conv_gradient_norms(net, x, t) -> list[float]:
    """||dL/dW|| of every conv layer, input side first (one mini-batch, current weights)."""
    grads = net.gradient(x, t)
    return [float(np.linalg.norm(g)) for g in grads.values() if g.ndim == 4]


def run(ctx: Context) -> Result:
    setting = ctx.pick(QUICK, FULL)
    channels = setting["channels"]
    params = {"network": f"stem conv + {BLOCKS} blocks of 2 conv ({channels} ch, 3x3, pad 1) "
                         "+ pool + affine", "conv_layers": 2 * BLOCKS + 1,
              "weight_init_std": INIT_STD, "optimizer": "Momentum", "lr": 0.1, "momentum": 0.9,
              **setting, "seed": ctx.seed}
    (x_train, t_train), (x_test, t_test) = mnist_images(ctx, params["train_size"],
                                                        params["test_size"])
    last = setting["final_loss_over_last"]  # "final loss" = mean loss of the last iterations

    runs = {}
    for name in ("plain", "residual"):
        net = build(name == "residual", ctx.seed, channels)
        norms = conv_gradient_norms(net, x_train[:params["batch_size"]],
                                    t_train[:params["batch_size"]])
        trainer = Trainer(net, x_train, t_train, x_test, t_test,
                          iterations=params["iterations"], mini_batch_size=params["batch_size"],
                          optimizer="Momentum", optimizer_param={"lr": 0.1, "momentum": 0.9},
                          evaluate_sample_num_per_epoch=params["eval_limit_per_epoch"],
                          seed=ctx.seed + 1)
        history = trainer.train()
        runs[name] = {"norms": norms, "history": history,
                      "final_loss": float(np.mean(history["loss"][-last:])),
                      "test_acc": net.accuracy(x_test, t_test)}
        ctx.log(f"  {name}: first-conv gradient {norms[0]:.2e}, final loss "
                f"{runs[name]['final_loss']:.3f}, test accuracy {runs[name]['test_acc']:.4f}")

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.3), layout="constrained")
    for name, style in (("plain", "tab:red"), ("residual", "tab:blue")):
        r, h = runs[name], runs[name]["history"]
        steps = np.arange(1, len(h["loss"]) + 1)
        axes[0].plot(steps, h["loss"], color=style, alpha=0.25, lw=0.6)
        axes[0].plot(steps, moving_average(h["loss"], 10), color=style, label=name)
        axes[1].semilogy(np.arange(1, len(r["norms"]) + 1), r["norms"], "o-", color=style,
                         label=name)
        axes[2].plot(h["iteration"], h["test_acc"], "o-", color=style, label=name)
    axes[0].axhline(np.log(10), color="gray", ls=":", label="ln 10 (guessing)")
    axes[0].set(xlabel="iteration", ylabel="training loss", title="loss (moving average of 10)")
    axes[1].set(xlabel="conv layer (1 = next to the input)", ylabel="||dL/dW|| at init",
                title="gradient reaching each conv layer")
    axes[2].set(xlabel="iteration", ylabel="test accuracy", ylim=(0, 1),
                title=f"test accuracy (first {params['eval_limit_per_epoch']} images)")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"{2 * BLOCKS + 1} conv layers, {channels} channels, init std {INIT_STD}, "
                 f"SGD momentum 0.9 lr 0.1, batch {params['batch_size']}")

    numbers = {"final_loss": {n: r["final_loss"] for n, r in runs.items()},
               "final_loss_over_last": last,
               "first_loss": {n: r["history"]["loss"][0] for n, r in runs.items()},
               "test_acc": {n: r["test_acc"] for n, r in runs.items()},
               "first_conv_grad_norm_at_init": {n: r["norms"][0] for n, r in runs.items()},
               "conv_grad_norms_at_init": {n: r["norms"] for n, r in runs.items()},
               "train_time_s": {n: r["history"]["elapsed_s"][-1] for n, r in runs.items()},
               "loss_curve": {n: np.round(r["history"]["loss"], 4) for n, r in runs.items()}}
    ratio = runs["residual"]["norms"][0] / runs["plain"]["norms"][0]
    summary = (f"after {params['iterations']} iterations: plain loss "
               f"{runs['plain']['final_loss']:.3f} (test acc {runs['plain']['test_acc']:.3f}), "
               f"residual {runs['residual']['final_loss']:.3f} (test acc "
               f"{runs['residual']['test_acc']:.3f}); first-conv gradient at init "
               f"{ratio:.1e} times larger with skip connections")
    return Result(fig, params, numbers, summary)
