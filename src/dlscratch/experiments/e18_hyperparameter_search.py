"""Experiment 18: random search for the learning rate and the weight-decay strength.

As the course describes: take 500 training images, hold out 20% as validation data (never the
test data), then try random hyperparameters drawn on a log scale,
    lr = 10 ** U(-6, -2),   weight decay = 10 ** U(-8, -4),
each for 50 epochs (784-[100]*6-10, SGD, batches of 100), and rank them by final validation
accuracy. The best trials show where to narrow the ranges for the next round.

Trials run in parallel processes. Each trial's hyperparameters and its network and batch seeds
come from (seed, trial index) alone, so the number of workers never changes a result. The
drawing and the figure are `dlscratch search`'s (dlscratch.search.space, .figures): this is the
course's algorithm in a few lines, that command the tool (Optuna, resumable, many machines).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from dlscratch.data import train_val_split
from dlscratch.experiments.base import Context, CourseValue, ExperimentInfo, Result
from dlscratch.nets import MultiLayerNet
from dlscratch.search.figures import CURVES_SHOWN, curves_figure
from dlscratch.search.space import Param, draw_values
from dlscratch.train import Trainer

INFO = ExperimentInfo(18, "hyperparameter-search", "Random hyperparameter search",
                      "하이퍼파라미터 최적화",
                      "the best trials have lr about 0.001 to 0.01 and weight decay about 1e-8 "
                      "to 1e-6; narrow the ranges to those and search again",
                      course_value=CourseValue(
                          ("best_val_acc",), 0.82,
                          "our full run at the course's settings, 100 trials x 50 epochs"))

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"best val acc {} (lr {}); best 5: lr {} to {}, weight decay {} to {}":
          "최고 검증 정확도 {} (학습률 {}); 상위 5개: 학습률 {} ~ {}, 가중치 감소 {} ~ {}",
      INFO.course_result:
          "가장 좋은 시도들은 학습률 약 0.001 ~ 0.01, 가중치 감소 약 1e-8 ~ 1e-6; 범위를 그만큼 "
          "좁혀 다시 탐색",
      INFO.course_value.source: "강의 설정으로 돌린 전체 실행, 시도 100회 x 50에폭",
      # the figure
      "Best-{}: lr {}, wd {}": "{}위: lr {}, wd {}",
      "Random search: best {} of {} trials (solid: validation, dashed: train), {} epochs":
          "무작위 탐색: 시도 {1}회 중 상위 {0}개 (실선: 검증, 점선: 훈련), {2}에폭"}


# the course's ranges: lr = 10 ** U(-6, -2), weight decay = 10 ** U(-8, -4)
SPACE = (Param("lr", 1e-6, 1e-2, log=True), Param("weight_decay", 1e-8, 1e-4, log=True))


def draw_trial(seed: int, trial: int) -> dict:
    """The hyperparameters and seeds of one trial, from (seed, trial) only."""
    values, (net_seed, batch_seed) = draw_values(SPACE, seed, trial)
    return {"trial": trial, **values, "net_seed": net_seed, "batch_seed": batch_seed}


def run_trial(hp: dict, x_train, t_train, x_val, t_val, epochs: int) -> dict:
    """Train one network with the trial's hyperparameters; its accuracy curves per epoch."""
    net = MultiLayerNet(784, [100] * 6, 10, weight_decay_lambda=hp["weight_decay"],
                        seed=hp["net_seed"])
    trainer = Trainer(net, x_train, t_train, x_val=x_val, t_val=t_val, epochs=epochs,
                      mini_batch_size=100, optimizer="SGD", optimizer_param={"lr": hp["lr"]},
                      sampling="replacement", seed=hp["batch_seed"])
    history = trainer.train()
    return {**hp, "train_acc": history["train_acc"], "val_acc": history["val_acc"]}


def run_all_trials(trials: list[dict], data: tuple, epochs: int, workers: int) -> list[dict]:
    """run_trial for every trial, in `workers` fresh processes (or here when workers is 1)."""
    if workers <= 1:
        return [run_trial(hp, *data, epochs) for hp in trials]
    spawn = multiprocessing.get_context("spawn")  # a fresh Python per worker, on every OS
    with ProcessPoolExecutor(max_workers=workers, mp_context=spawn) as pool:
        futures = [pool.submit(run_trial, hp, *data, epochs) for hp in trials]
        return [f.result() for f in futures]  # in trial order, whichever worker ran it


def run(ctx: Context) -> Result:
    (x_all, t_all), _ = ctx.mnist(flatten=True)
    n_trials = ctx.pick(6, 100)
    epochs = ctx.pick(5, 50)
    (x_train, t_train), (x_val, t_val) = train_val_split(x_all[:500], t_all[:500],
                                                         val_fraction=0.2, seed=ctx.seed)
    workers = max(1, min(ctx.workers or os.cpu_count() or 1, n_trials))

    trials = [draw_trial(ctx.seed, i) for i in range(n_trials)]
    results = run_all_trials(trials, (x_train, t_train, x_val, t_val), epochs, workers)
    ranked = sorted(results, key=lambda r: (-r["val_acc"][-1], r["trial"]))
    for rank, r in enumerate(ranked[:5], 1):
        ctx.log(f"  Best-{rank}: val acc {r['val_acc'][-1]:.3f}  lr {r['lr']:.2e}  "
                f"weight decay {r['weight_decay']:.2e}")

    shown = ranked[:CURVES_SHOWN]
    fig = curves_figure(
        shown, [f"Best-{i + 1}: lr {r['lr']:.1e}, wd {r['weight_decay']:.1e}"
                for i, r in enumerate(shown)],
        f"Random search: best {len(shown)} of {n_trials} trials "
        f"(solid: validation, dashed: train), {epochs} epochs")

    top = ranked[:5]
    narrowed = {"lr": [min(r["lr"] for r in top), max(r["lr"] for r in top)],
                "weight_decay": [min(r["weight_decay"] for r in top),
                                 max(r["weight_decay"] for r in top)]}
    numbers = {
        "best_val_acc": ranked[0]["val_acc"][-1],
        "narrowed_ranges_best_5": narrowed,
        "ranked": [{"trial": r["trial"], "lr": r["lr"], "weight_decay": r["weight_decay"],
                    "val_acc": r["val_acc"][-1], "train_acc": r["train_acc"][-1]}
                   for r in ranked],
        "curves_best_20": [{"trial": r["trial"], "val_acc": r["val_acc"],
                            "train_acc": r["train_acc"]} for r in shown],
    }
    params = {"network": "MultiLayerNet 784-[100]*6-10, ReLU, He init", "images": 500,
              "val_fraction": 0.2, "train_size": len(x_train), "val_size": len(x_val),
              "trials": n_trials, "epochs": epochs, "batch_size": 100, "optimizer": "SGD",
              "lr_range": "10 ** U(-6, -2)", "weight_decay_range": "10 ** U(-8, -4)",
              "workers": workers, "sampling": "with replacement"}
    summary = (f"best val acc {ranked[0]['val_acc'][-1]:.3f} (lr {ranked[0]['lr']:.1e}); "
               f"best 5: lr {narrowed['lr'][0]:.1e} to {narrowed['lr'][1]:.1e}, weight decay "
               f"{narrowed['weight_decay'][0]:.1e} to {narrowed['weight_decay'][1]:.1e}")
    return Result(fig, params, numbers, summary)
