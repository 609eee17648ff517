"""The quick label: a --quick result worse than the course's value says 'quick mode:
illustration only' beside it (report.html, summary.md, the printed line) and points to the full
run's report. Each experiment's course value is data in its INFO and in its record."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import matplotlib.pyplot as plt
import pytest

from dlscratch.cli.main import main
from dlscratch.experiments import runner
from dlscratch.experiments.base import (
    FULL_REPORT,
    QUICK_LABEL,
    Context,
    CourseValue,
    ExperimentInfo,
    Result,
)
from dlscratch.experiments.records import RecordError, check_record, falls_short, quick_note
from dlscratch.experiments.registry import EXPERIMENTS
from dlscratch.experiments.report import markdown_table, render_report

FULL_RUN = Path(__file__).resolve().parents[2] / "docs" / "results" / "experiments-full"
TRAINED = {"batch-inference", "train-two-layer", "optimizer-mnist", "init-mnist", "batchnorm",
           "overfitting", "hyperparameter-search", "simple-cnn", "deep-cnn",
           "accuracy-techniques", "residual"}  # their quick runs train on less, for less long


def record(value, quick=True, higher_is_better=True) -> dict:
    return {"number": 22, "name": "residual", "title": "t", "title_ko": "k", "summary": "s",
            "quick": quick, "seed": 0, "elapsed_s": 1.0, "params": {},
            "numbers": {"test_acc": {"residual": value}},
            "course_value": CourseValue(("test_acc", "residual"), 0.972, "the full run",
                                        higher_is_better).as_record()}


@pytest.mark.parametrize(("value", "quick", "higher", "short"), [
    (0.5, True, True, True), (0.972, True, True, False), (0.99, True, True, False),
    (0.5, False, True, False),  # a full run is never labelled
    (2.0, True, False, True), (0.1, True, False, False),  # a loss: lower is better
    ("nan", True, True, True), ("inf", True, False, True), (10**400, True, True, False),
])
def test_falls_short_compares_the_keyed_number_with_the_course_value(value, quick, higher,
                                                                     short):
    rec = check_record(record(value, quick, higher), "r.json")
    assert falls_short(rec) is short
    assert (QUICK_LABEL in quick_note(rec)) is short


def test_a_record_without_course_value_is_never_labelled():
    rec = record(0.1)
    del rec["course_value"]
    assert not falls_short(check_record(rec, "r.json")) and quick_note(rec) == ""


def test_the_note_names_both_numbers_and_the_full_report():
    note = quick_note(record(0.74))
    assert note == (f"{QUICK_LABEL}: test_acc/residual = 0.74 here vs 0.972 (the full run); "
                    f"see the full run, {FULL_REPORT}")


def test_report_and_summary_put_the_label_beside_the_result(tmp_path):
    low, high = record(0.5), {**record(0.99), "number": 21, "name": "other"}
    html_text = render_report(tmp_path, [low, high])
    assert html_text.count(f"<span class='quick'>{QUICK_LABEL}</span>") == 2  # intro + 22
    section_22 = html_text[html_text.index('id="residual"'):]
    assert QUICK_LABEL in section_22 and FULL_REPORT in section_22
    assert QUICK_LABEL not in html_text[html_text.index('id="other"'):html_text.index(
        'id="residual"')]
    rows = markdown_table([low, high]).splitlines()
    assert QUICK_LABEL not in rows[2] and QUICK_LABEL in rows[3] and FULL_REPORT in rows[3]
    full = render_report(tmp_path, [record(0.5, quick=False)])
    assert QUICK_LABEL not in full and "(full mode)" in full


def test_every_training_experiment_carries_a_course_value():
    for module in EXPERIMENTS:
        course = module.INFO.course_value
        assert (course is not None) == (module.INFO.name in TRAINED), module.INFO.name
        if course is not None:
            assert course.key and all(isinstance(k, str) for k in course.key)
            assert 0 < course.value <= 1 or not course.higher_is_better
            assert course.source.startswith(("the book", "the course", "our full run"))


def test_full_run_values_are_what_the_full_run_measured():
    """A course value taken from our full run is that run's number, to the digits given."""
    for module in EXPERIMENTS:
        course = module.INFO.course_value
        if course is None or not course.source.startswith("our full run"):
            continue
        numbers = json.loads((FULL_RUN / f"{module.INFO.name}.json").read_text())["numbers"]
        if module.INFO.name == "batchnorm":  # the mean was added to the record after that run
            accs = numbers["final_train_acc_bn"]
            numbers["mean_final_train_acc_bn"] = sum(accs) / len(accs)
        value = numbers
        for part in course.key:
            value = value[part]
        assert math.isclose(value, course.value, abs_tol=5e-4), module.INFO.name


def test_the_runner_records_the_course_value_and_prints_the_label(tmp_path, monkeypatch):
    info = ExperimentInfo(99, "fake", "Fake", "가짜", "the course: 1.0",
                          CourseValue(("acc",), 0.9, "the book"))

    def run(ctx):
        return Result(plt.figure(figsize=(1, 1)), {}, {"acc": 0.25}, "acc 0.25")

    monkeypatch.setattr(runner, "get_experiment", lambda name: SimpleNamespace(INFO=info,
                                                                                run=run))
    lines = []
    rec = runner.run_experiment("fake", Context(quick=True, out_dir=tmp_path, log=lines.append))
    assert rec["course_value"] == {"key": ["acc"], "value": 0.9, "source": "the book",
                                   "higher_is_better": True}
    assert json.loads((tmp_path / "fake.json").read_text())["course_value"]["value"] == 0.9
    assert lines[-1] == (f"     [{QUICK_LABEL}: acc = 0.25 here vs 0.9 (the book); see the "
                         f"full run, {FULL_REPORT}]")
    lines.clear()
    runner.run_experiment("fake", Context(quick=False, out_dir=tmp_path, log=lines.append))
    assert not any(QUICK_LABEL in line for line in lines)


def test_a_course_value_key_that_leads_nowhere_is_an_error():
    rec = record(0.5)
    rec["course_value"]["key"] = ["test_acc", "residual", "deeper"]
    with pytest.raises(RecordError, match="'course_value.key': numbers has no"):
        check_record(rec, "r.json")


def test_report_command_ends_with_one_line_naming_the_labelled_results(tmp_path, capsys):
    (tmp_path / "residual.json").write_text(json.dumps(record(0.5)))
    (tmp_path / "deep-cnn.json").write_text(json.dumps({**record(0.99), "name": "deep-cnn"}))
    assert main(["experiment", "report", "--out", str(tmp_path)]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == (f"{QUICK_LABEL}: 1 quick result(s) below the course's value (residual); "
                    f"the full run: {FULL_REPORT}")
