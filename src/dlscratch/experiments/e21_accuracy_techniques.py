"""Experiment 21: three ways to raise a CNN's accuracy (chapter 8), each measured.

The baseline is SimpleConvNet trained with Adam (lr 0.001, batches of 100). Each technique
changes one thing and keeps the budget (same network, epochs and seed):

- data augmentation: every mini-batch is shifted (up to 2 pixels) and rotated (up to 10
  degrees) at random, a new version each time (`dlscratch.data.augment.augment_batch`);
- learning-rate decay: the learning rate follows a cosine from 0.001 down to 0 at the end;
- an ensemble: several networks with different seeds (initial weights and batch order), their
  softmax outputs averaged. The baseline is its first member; each member costs a full run.

The gains are differences of single runs (test accuracy on 10,000 images: about +-0.1% of
noise), so a small gain is a hint, not a proof; with the quick settings they mean little.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.data.augment import augment_batch
from dlscratch.experiments.base import Context, CourseValue, ExperimentInfo, Result
from dlscratch.experiments.common_cnn import mnist_images, train_cnn
from dlscratch.functions import softmax
from dlscratch.nets import SimpleConvNet
from dlscratch.optim import Cosine

INFO = ExperimentInfo(21, "accuracy-techniques", "Ensembles, learning-rate decay, augmentation",
                      "정확도를 높일 수 있는 기술 (앙상블 학습, 학습률 감소, 데이터 확장)",
                      "each technique adds a little accuracy; the book's best MNIST results "
                      "combine them (99.7%+)",
                      course_value=CourseValue(
                          ("test_acc", "baseline"), 0.9868,
                          "our full run at the course's settings, 5 epochs"))

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"test accuracy: baseline {}; gains: augmentation {}, lr decay {}, ensemble of {} {}":
          "시험 정확도: 기준 {}; 향상 폭: 데이터 확장 {}, 학습률 감소 {}, 앙상블 ({}개) {}",
      INFO.course_result:
          "기술마다 정확도가 조금씩 오름; 책의 MNIST 최고 결과는 이 기술들을 함께 씀 (99.7% 이상)",
      INFO.course_value.source: "강의 설정으로 돌린 전체 실행, 5에폭",
      # the figure
      "baseline": "기준", "augmentation": "데이터 확장", "lr decay": "학습률 감소",
      "ensemble of {}": "앙상블 ({}개)", "ensemble members, alone": "앙상블의 각 신경망",
      "test accuracy on {} images": "이미지 {}장의 시험 정확도", "during training": "학습 중",
      "SimpleConvNet, {} epochs on {} images, Adam lr 0.001":
          "SimpleConvNet, 이미지 {1}장으로 {0}에폭, Adam lr 0.001"}

AUGMENT = {"max_shift": 2, "max_angle": 10}


def augment(x, rng):
    return augment_batch(x, rng, **AUGMENT)


def run(ctx: Context) -> Result:
    params = {"network": "SimpleConvNet conv30x5x5-relu-pool-affine100-relu-affine10",
              "optimizer": "Adam", "lr": 0.001, "batch_size": 100,
              "epochs": ctx.pick(2, 5), "train_size": ctx.pick(600, 60000),
              "test_size": ctx.pick(300, 10000), "eval_limit_per_epoch": ctx.pick(200, 1000),
              "augmentation": AUGMENT, "lr_decay": "cosine to 0 over the run",
              "ensemble_size": ctx.pick(3, 5), "seed": ctx.seed}
    (x_train, t_train), (x_test, t_test) = mnist_images(ctx, params["train_size"],
                                                        params["test_size"])

    def train(seed, label, **technique):
        net, history = train_cnn(ctx, lambda: SimpleConvNet(seed=seed), x_train, t_train,
                                 x_test, t_test, epochs=params["epochs"], seed=seed,
                                 eval_limit=params["eval_limit_per_epoch"], **technique)
        ctx.log(f"  {label} (seed {seed}): test accuracy "
                f"{net.accuracy(x_test, t_test):.4f}")
        return net, history

    runs = {"baseline": train(ctx.seed, "baseline"),
            "augmentation": train(ctx.seed, "augmentation", augment=augment,
                                  augment_settings=AUGMENT),
            "lr decay": train(ctx.seed, "lr decay", schedule=Cosine(total=params["epochs"]))}
    members = [runs["baseline"][0]] + [train(ctx.seed + i, f"ensemble member {i + 1}")[0]
                                       for i in range(1, params["ensemble_size"])]
    probs = [softmax(net.predict(x_test, batch_size=1000)) for net in members]
    member_acc = [float(np.mean(p.argmax(axis=1) == t_test)) for p in probs]
    ensemble_acc = float(np.mean(np.mean(probs, axis=0).argmax(axis=1) == t_test))

    acc = {name: net.accuracy(x_test, t_test) for name, (net, _) in runs.items()}
    acc["ensemble"] = ensemble_acc
    gain = {name: acc[name] - acc["baseline"] for name in acc if name != "baseline"}

    fig, (ax_bar, ax_curve) = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
    labels = ["baseline", "augmentation", "lr decay", f"ensemble of {len(members)}"]
    bars = ax_bar.bar(labels, list(acc.values()), color=["gray", "tab:blue", "tab:orange",
                                                         "tab:green"])
    ax_bar.bar_label(bars, fmt="%.4f", label_type="center", color="white")
    ax_bar.plot(3 + np.linspace(-0.3, 0.3, len(member_acc)), member_acc, "k_", ms=12,
                label="ensemble members, alone")
    low = min(min(acc.values()), min(member_acc))
    ax_bar.set_ylim(max(0.0, low - 0.5 * (1 - low)), 1.0)
    ax_bar.set_ylabel("test accuracy")
    ax_bar.set_title(f"test accuracy on {len(x_test)} images")
    ax_bar.legend(loc="upper left", fontsize=8)
    for name, (_, history) in runs.items():
        ax_curve.plot(history["epoch"], history["test_acc"], "o-", label=name)
    ax_curve.set_xlabel("epoch")
    ax_curve.set_ylabel(f"test accuracy (first {params['eval_limit_per_epoch']} images)")
    ax_curve.set_title("during training")
    ax_curve.legend(loc="lower right")
    for ax in (ax_bar, ax_curve):
        ax.grid(alpha=0.3)
    fig.suptitle(f"SimpleConvNet, {params['epochs']} epochs on {len(x_train)} images, "
                 "Adam lr 0.001")

    numbers = {"test_acc": acc, "gain_over_baseline": gain,
               "ensemble_member_acc": member_acc,
               "ensemble_gain_over_mean_member": ensemble_acc - float(np.mean(member_acc)),
               "train_acc_last_epoch": {n: h["train_acc"][-1] for n, (_, h) in runs.items()},
               "test_acc_per_epoch": {n: h["test_acc"] for n, (_, h) in runs.items()},
               "train_time_s": {n: h["elapsed_s"][-1] for n, (_, h) in runs.items()},
               "trainings": len(runs) + len(members) - 1}
    summary = (f"test accuracy: baseline {acc['baseline']:.4f}; gains: augmentation "
               f"{gain['augmentation']:+.4f}, lr decay {gain['lr decay']:+.4f}, ensemble of "
               f"{len(members)} {gain['ensemble']:+.4f}")
    return Result(fig, params, numbers, summary)
