"""The registry holds every experiment in course order; report.html embeds figures and titles."""

import json
import re

from dlscratch.cli.main import main
from dlscratch.experiments.base import Context
from dlscratch.experiments.registry import EXPERIMENTS, names
from dlscratch.experiments.runner import run_all

COURSE = ["activations", "softmax-overflow", "three-layer-forward", "mnist-samples",
          "batch-inference", "loss-functions", "numerical-diff", "gradient-field",
          "gradient-descent", "train-two-layer", "gradient-check", "shopping-graph",
          "optimizer-paths", "optimizer-mnist", "init-activations", "init-mnist", "batchnorm",
          "overfitting", "hyperparameter-search", "simple-cnn", "deep-cnn",
          "accuracy-techniques", "accuracy-record", "residual", "deeper-fewer-params", "vgg",
          "inception"]


def test_every_experiment_is_registered_in_course_order():
    assert names() == COURSE
    numbers = [m.INFO.number for m in EXPERIMENTS]
    assert numbers == sorted(numbers) and numbers[-1] == len(COURSE) - 2  # 4a/4b, 21/21b
    for module in EXPERIMENTS:
        assert module.INFO.title_ko and not re.match(r"\d+ ", module.INFO.title_ko)
        assert module.INFO.title.isascii()


def test_report_embeds_each_figure_with_english_and_korean_titles(tmp_path):
    records = run_all(Context(quick=True, out_dir=tmp_path, log=lambda *_: None),
                      names=["activations", "softmax-overflow", "shopping-graph"])
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert [r["name"] for r in records] == ["activations", "softmax-overflow", "shopping-graph"]
    for record in records:
        assert record["title"] in page and record["title_ko"] in page
        assert json.loads((tmp_path / f"{record['name']}.json").read_text())["seed"] == 0
    assert page.count("data:image/png;base64,") == 3
    assert "활성화 함수" in page and "계산 그래프 (역전파)" in page
    table = (tmp_path / "summary.md").read_text(encoding="utf-8").splitlines()
    assert len(table) == 2 + len(records) and table[2].startswith("| 1 | `activations`")


def test_cli_lists_experiments_and_rejects_unknown_names(capsys):
    assert main(["experiment", "--list"]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in COURSE)
    assert main(["experiment", "no-such-thing", "--quick"]) == 1
    assert "unknown experiment 'no-such-thing'" in capsys.readouterr().err


def test_report_command_rebuilds_from_saved_results(tmp_path, capsys):
    run_all(Context(quick=True, out_dir=tmp_path, log=lambda *_: None), names=["activations"])
    (tmp_path / "report.html").unlink()
    assert main(["experiment", "report", "--out", str(tmp_path)]) == 0
    assert "1 experiments" in capsys.readouterr().out
    assert "활성화 함수" in (tmp_path / "report.html").read_text(encoding="utf-8")
    assert main(["experiment", "report", "--out", str(tmp_path / "empty")]) == 1
