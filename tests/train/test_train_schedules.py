"""Learning-rate schedules: the formulas by hand, and the lr the Trainer records per iteration."""

from __future__ import annotations

import math

import pytest

from dlscratch.optim import Constant, Cosine, StepDecay, get_schedule


def test_constant():
    assert [Constant()(e) for e in (0, 0.5, 100)] == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("epoch, factor", [
    (0, 1.0), (1.99, 1.0), (2, 0.5), (3.5, 0.5), (4, 0.25), (5.999, 0.25), (6, 0.125),
    (2 - 1e-12, 0.5),  # iteration / iter_per_epoch may land just below an integer
])
def test_step_decay_formula(epoch, factor):
    assert StepDecay(step=2, gamma=0.5)(epoch) == factor


def test_step_decay_defaults_are_the_usual_ones():
    s = StepDecay()
    assert (s.step, s.gamma) == (10.0, 0.1)
    assert s(9.9) == 1.0 and s(10) == pytest.approx(0.1) and s(25) == pytest.approx(0.01)


@pytest.mark.parametrize("epoch", [0, 1, 2.5, 5, 7.5, 9, 10, 12])
def test_cosine_formula(epoch):
    expected = 0.5 * (1 + math.cos(math.pi * min(epoch, 10) / 10))
    assert Cosine(total=10)(epoch) == pytest.approx(expected, abs=1e-12)
    low = Cosine(total=10, min_factor=0.1)(epoch)
    assert low == pytest.approx(0.1 + 0.9 * expected, abs=1e-12)


def test_cosine_landmarks():
    c = Cosine(total=10)
    assert c(0) == 1.0 and c(5) == pytest.approx(0.5) and c(10) == pytest.approx(0.0, abs=1e-15)
    assert c(20) == c(10)  # clamped after the end
    assert Cosine(total=10, min_factor=0.2)(10) == pytest.approx(0.2)


def test_cosine_warmup_is_linear_then_cosine_over_the_rest():
    c = Cosine(total=10, warmup=2)
    warm = [c(e) for e in (0, 0.5, 1, 1.5, 1.999)]
    assert all(0 < a < b <= 1 for a, b in zip(warm, warm[1:], strict=False))
    assert warm[0] < 0.01 and c(1) == pytest.approx(0.5, abs=1e-3)
    assert c(2) == 1.0
    assert c(6) == pytest.approx(0.5)  # half-way through the 8 cosine epochs
    assert c(10) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("make, values", [
    (lambda: StepDecay(step=0), ["step=0"]),
    (lambda: StepDecay(step=-1, gamma=0.5), ["step=-1", "gamma=0.5"]),
    (lambda: StepDecay(step=float("nan")), ["step=nan"]),
    (lambda: StepDecay(gamma=0), ["gamma=0"]),
    (lambda: StepDecay(gamma=1.5), ["gamma=1.5"]),
    (lambda: Cosine(total=0), ["total=0"]),
    (lambda: Cosine(total=5, warmup=5), ["total=5", "warmup=5"]),
    (lambda: Cosine(total=5, warmup=-1), ["warmup=-1"]),
    (lambda: Cosine(total=5, min_factor=2), ["min_factor=2"]),
    (lambda: Cosine(total=float("nan")), ["total=nan"]),
])
def test_bad_schedule_arguments_name_the_values(make, values):
    with pytest.raises(ValueError) as info:
        make()
    assert all(v in str(info.value) for v in values), str(info.value)


def test_get_schedule_by_name_and_config_round_trip():
    assert isinstance(get_schedule(None), Constant)
    assert isinstance(get_schedule("constant"), Constant)
    assert isinstance(get_schedule("step"), StepDecay)
    assert isinstance(get_schedule("StepDecay"), StepDecay)
    for schedule in (StepDecay(3, 0.3), Cosine(12, warmup=1.5, min_factor=0.05), Constant()):
        again = get_schedule(schedule.config())
        assert type(again) is type(schedule) and vars(again) == vars(schedule)
    with pytest.raises(ValueError, match="unknown schedule 'exponential'"):
        get_schedule("exponential")
    with pytest.raises(ValueError, match="schedule 'cosine': bad arguments"):
        get_schedule("cosine")  # total is required
    with pytest.raises(ValueError, match="'bogus'"):
        get_schedule({"name": "step", "bogus": 1})


@pytest.mark.parametrize("schedule", [
    {"name": "step", "step": 1, "gamma": 0.5},
    {"name": "cosine", "total": 3, "warmup": 1, "min_factor": 0.1},
    {"name": "cosine", "total": 3},
])
def test_trainer_records_the_scheduled_learning_rate(make_trainer, schedule):
    _, trainer = make_trainer(epochs=3, optimizer="Momentum", optimizer_param={"lr": 0.05},
                              schedule=schedule)
    h = trainer.train()
    s = get_schedule(schedule)
    assert h["lr"] == [0.05 * s(i / 7) for i in range(21)]
    assert len(set(h["lr"])) > 1
    assert trainer.optimizer.lr == h["lr"][-1]  # the optimizer really used it


def test_step_decay_changes_exactly_at_epoch_boundaries(make_trainer):
    _, trainer = make_trainer(epochs=3, schedule=StepDecay(step=1, gamma=0.1))
    lr = trainer.train()["lr"]
    assert lr[:7] == [0.1] * 7
    assert lr[7:14] == [pytest.approx(0.01)] * 7 and lr[14:] == [pytest.approx(0.001)] * 7


def test_a_plain_function_works_as_a_schedule(make_trainer):
    _, trainer = make_trainer(epochs=2, schedule=lambda epoch: 1.0 / (1.0 + epoch))
    lr = trainer.train()["lr"]
    assert lr[0] == 0.1 and lr[7] == pytest.approx(0.05)
