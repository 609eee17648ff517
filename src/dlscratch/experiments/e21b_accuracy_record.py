"""Experiment 21 (record): the course's leaderboard techniques at full strength, read from the
record run - nothing is trained here.

The record run (`dlscratch train --recipe record`) is an ensemble of record-cnn networks (3x3
convolutions, batch norm, ReLU, He initialisation, dropout), each trained on all 60,000 images
with augmentation (shifts, rotations, zooms, elastic distortions), a cosine learning-rate decay
and Adam. Its member files are committed in docs/results/record/ with design.json, the
validation figures of the design runs (`python -m benchmarks.record_design`: the last 10,000
training images, never the test set). The figure shows

- the test error of the first k members together (the mean of their softmax outputs) against
  k, each member alone, and the training time the first k took (top axis), beside the slide's
  leaderboard, 0.21% to 0.32%;
- each design run's first member on validation: the recipe with all its techniques, and with
  one technique left out (the same seed and epochs), and the design runs' ensembles.

Quick mode scores the first 2,000 test images only. Another record folder (one written by
`dlscratch train --recipe record`, with a design.json beside its ensemble.json) is read from
$DLSCRATCH_RECORD.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from dlscratch.errors import ModelFileError
from dlscratch.experiments.base import Context, ExperimentInfo, Result
from dlscratch.experiments.common_cnn import mnist_images
from dlscratch.io.ensemble_file import ENSEMBLE_FILE, load_ensemble, read_ensemble
from dlscratch.kernels.data_parallel import split_predict
from dlscratch.nets.ensemble import first_k_accuracy, member_accuracy

RECORD_DIR = Path(__file__).resolve().parents[3] / "docs" / "results" / "record"
DESIGN_FILE = "design.json"
# test error (%), first and last of the slide "MNIST 데이터셋에 대한 각 기법의 순위"
LEADERBOARD = (0.21, 0.32)

INFO = ExperimentInfo(21, "accuracy-record",
                      "The accuracy record: the techniques at full strength",
                      "MNIST 데이터셋에 대한 각 기법의 순위 / 정확도를 높일 수 있는 기술",
                      "the leaderboard's best results, 0.21-0.32% test error, combine ensembles, "
                      "learning-rate decay and data augmentation")

# the report's texts (the summary, the course's result) and the figure's in Korean
# (--lang ko; see experiments/korean.py)
KO = {"{} members together: test error {}% ({} of {} wrong); each alone {}-{}%; {} h of "
      "training":
          "신경망 {0}개를 함께: 시험 오차 {1}% ({3}장 중 {2}장 틀림); 하나씩은 {4}-{5}%; "
          "학습 {6}시간",
      INFO.course_result:
          "순위표의 최고 결과(시험 오차 0.21-0.32%)는 앙상블, 학습률 감소, 데이터 확장을 함께 씀",
      # the figure
      "first k members together": "처음 k개 신경망을 함께", "member k alone": "k번째 신경망 하나",
      "the course's leaderboard": "강의의 순위표", "ensemble size k": "앙상블 크기 k",
      "test error (%), {} images": "시험 오차 (%), 이미지 {}장",
      "training time of the first k (hours)": "처음 k개의 학습 시간 (시간)",
      "validation error (%), last {} training images":
          "검증 오차 (%), 훈련 이미지의 마지막 {}장",
      "design runs: first member alone": "설계 실행: 첫 신경망 하나",
      "design runs: all members together": "설계 실행: 신경망을 모두 함께",
      "what each technique is worth (validation)": "기법마다의 효과 (검증)",
      "the record ensemble (test)": "기록 앙상블 (시험)",
      # the design runs' names (python -m benchmarks.record_design NAME=FOLDER)
      "all techniques, {} epochs": "모든 기법, {}에폭",
      "no elastic distortion, {} epochs": "탄성 변형 없이, {}에폭",
      "no augmentation, {} epochs": "데이터 확장 없이, {}에폭",
      "constant learning rate, {} epochs": "학습률 고정, {}에폭"}


def record_dir() -> Path:
    """$DLSCRATCH_RECORD, else the repository's docs/results/record/."""
    return Path(os.environ.get("DLSCRATCH_RECORD") or RECORD_DIR)


def read_design(folder: Path) -> list[dict]:
    """The design runs of folder/design.json (see benchmarks/record_design.py), checked."""
    path = folder / DESIGN_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFileError(f"{path}: missing (write it with python -m "
                             "benchmarks.record_design)", path) from None
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{path}: not JSON ({exc})", path) from None
    runs = record.get("runs") if isinstance(record, dict) else None
    if not isinstance(runs, list) or not runs:
        raise ModelFileError(f"{path}: runs must be a non-empty list", path, "runs")
    for i, run in enumerate(runs):
        if problem := _design_problem(run):
            raise ModelFileError(f"{path}: runs[{i}] {problem}", path, f"runs[{i}]")
    return runs


def _design_problem(run) -> str | None:
    """What is wrong with one design run's entry, or None."""
    if not isinstance(run, dict):
        return "must be an object"
    if not isinstance(run.get("name"), str):
        return "name must be a string"
    holdout = run.get("holdout")
    if not (type(holdout) is int and holdout > 0):
        return "holdout must be an integer > 0"
    for field in ("member_accuracy", "first_k_together"):
        values = run.get(field)
        if not (isinstance(values, list) and values and all(
                type(v) in (int, float) and 0 <= v <= 1 for v in values)):
            return f"{field} must be a non-empty list of accuracies in [0, 1]"
    if run.get("members") != len(run["member_accuracy"]):
        return "members must be the length of member_accuracy"
    return None


def run(ctx: Context) -> Result:
    folder = record_dir()
    if not (folder / ENSEMBLE_FILE).is_file():
        raise ModelFileError(f"{folder / ENSEMBLE_FILE}: missing - no record run in {folder} "
                             "(DLSCRATCH_RECORD names another folder)", folder)
    training = read_ensemble(folder)["training"]
    design = read_design(folder)
    _, (x_test, t_test) = mnist_images(ctx, 0, ctx.pick(2000, None))
    probs = load_ensemble(folder).member_probabilities(x_test, 1000, run=split_predict)
    alone = 100 * (1 - member_accuracy(probs, t_test))
    together = 100 * (1 - first_k_accuracy(probs, t_test))
    hours = np.cumsum([member["train_s"] for member in training]) / 3600
    k = np.arange(1, len(alone) + 1)

    fig, (ax_k, ax_design) = plt.subplots(1, 2, figsize=(13, 4.8), layout="constrained")
    ax_k.plot(k, together, "o-", label="first k members together")
    ax_k.plot(k, alone, "kx", label="member k alone")
    ax_k.axhspan(*LEADERBOARD, color="tab:green", alpha=0.2, label="the course's leaderboard")
    ax_k.set_xticks(k)
    ax_k.set_xlabel("ensemble size k")
    ax_k.set_ylabel(f"test error (%), {len(t_test)} images")
    ax_k.set_ylim(0, max(alone.max(), together.max()) * 1.15)
    if len(k) > 1:
        top = ax_k.secondary_xaxis("top", functions=(lambda x: np.interp(x, k, hours),
                                                     lambda h: np.interp(h, hours, k)))
        top.set_xticks(hours, [f"{h:.2f}" for h in hours])
        top.set_xlabel("training time of the first k (hours)")
    ax_k.legend(loc="upper right", fontsize=8)

    names = [run["name"] for run in design]
    first = [100 * (1 - run["member_accuracy"][0]) for run in design]
    pooled = [100 * (1 - run["first_k_together"][-1]) for run in design]
    rows = np.arange(len(design))
    ax_design.barh(rows, first, color="tab:blue", label="design runs: first member alone")
    several = [i for i, run in enumerate(design) if run["members"] > 1]
    ax_design.plot([pooled[i] for i in several], several, "D", color="tab:orange",
                   label="design runs: all members together")
    for row, error in zip(rows, first, strict=True):
        ax_design.text(error, row, f"{error:.2f} ", ha="right", va="center", color="white",
                       fontsize=8)
    ax_design.axvline(together[-1], color="tab:red", ls="--", label="the record ensemble (test)")
    ax_design.set_yticks(rows, names)
    ax_design.invert_yaxis()
    ax_design.set_xlabel(f"validation error (%), last {design[0]['holdout']} training images")
    ax_design.set_title("what each technique is worth (validation)")
    ax_design.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, fontsize=8)
    for ax in (ax_k, ax_design):
        ax.grid(alpha=0.3)

    wrong = int(round(together[-1] * len(t_test) / 100))
    params = {"record": os.environ.get("DLSCRATCH_RECORD") or "docs/results/record",
              "members": len(alone), "test_size": len(t_test),
              "member_seeds": [member["seed"] for member in training]}
    numbers = {"test_error_pct_first_k": [float(e) for e in together],
               "test_error_pct_member_alone": [float(e) for e in alone],
               "errors": wrong,
               "training_hours_first_k": [float(h) for h in hours],
               "cpus": sorted({member["cpu"] for member in training}),
               "design_validation_error_pct": dict(zip(names, first, strict=True)),
               "design_validation_error_pct_together": dict(zip(names, pooled, strict=True))}
    summary = (f"{len(alone)} members together: test error {together[-1]:.2f}% ({wrong} of "
               f"{len(t_test)} wrong); each alone {alone.min():.2f}-{alone.max():.2f}%; "
               f"{hours[-1]:.2f} h of training")
    return Result(fig, params, numbers, summary)
