"""The ranges of a search (--param) and the drawing of trial k's values from (seed, k)."""

import math

import numpy as np
import pytest

from dlscratch.search.errors import SearchError
from dlscratch.search.space import Param, draw_values, narrowed, parse_param


def test_the_kinds_of_param():
    lr = parse_param("lr=1e-6:1e-2:log")
    assert (lr.kind, lr.low, lr.high, lr.log) == ("float", 1e-6, 1e-2, True)
    hidden = parse_param("hidden=50:200")
    assert (hidden.kind, hidden.low, hidden.high) == ("int", 50, 200)
    assert isinstance(hidden.low, int)
    act = parse_param("activation=relu,sigmoid")
    assert (act.kind, act.choices) == ("choice", ("relu", "sigmoid"))
    drop = parse_param("dropout=0,0.25,0.5")
    assert drop.choices == (0.0, 0.25, 0.5)
    for param in (lr, hidden, act, drop):  # the text it shows gives it back
        assert parse_param(param.spec()) == param
        assert Param.from_dict(param.to_dict()) == param


@pytest.mark.parametrize("text, words", [
    ("lr", "expected NAME=LOW:HIGH"),
    ("=1:2", "expected NAME=LOW:HIGH"),
    ("lr=", "expected NAME=LOW:HIGH"),
    ("lr=1:2:3", "expected lr=LOW:HIGH or lr=LOW:HIGH:log"),
    ("lr=1e-3:1e-2:lin", "expected lr=LOW:HIGH or lr=LOW:HIGH:log"),
    ("lr=a:1", "'a' is not a number"),
    ("lr=1e-3:inf", "not a finite number"),
    ("hidden=1.5:20", "'1.5' is not an integer"),
    ("lr=0.1:0.1", "the range is empty"),
    ("lr=0.1:0.01", "the range is inverted (low 0.1 > high 0.01)"),
    ("lr=0:0.1:log", "a log range needs low > 0"),
    ("foo=1:2", "unknown parameter 'foo'"),
    ("activation=relu:sigmoid", "activation takes choices"),
    ("lr=0.1,,0.2", "an empty choice"),
    ("lr=0.1,0.1", "a choice is given twice"),
])
def test_malformed_param_names_the_flag_and_the_problem(text, words):
    with pytest.raises(SearchError) as caught:
        parse_param(text)
    message = str(caught.value)
    assert message.startswith(f"--param {text}: ")
    assert words in message
    assert "\n" not in message


def test_values_depend_on_seed_and_index_only_and_stay_in_range():
    space = (parse_param("lr=1e-6:1e-2:log"), parse_param("dropout=0:0.5"),
             parse_param("hidden=16:512:log"), parse_param("batch_size=10:20"),
             parse_param("activation=relu,sigmoid"))
    first = [draw_values(space, 7, k) for k in range(300)]
    assert first == [draw_values(space, 7, k) for k in range(300)]
    assert first[0] != draw_values(space, 8, 0)
    assert len({v["lr"] for v, _ in first}) == 300
    for values, seeds in first:
        assert 1e-6 <= values["lr"] <= 1e-2 and 0 <= values["dropout"] <= 0.5
        assert 16 <= values["hidden"] <= 512 and isinstance(values["hidden"], int)
        assert 10 <= values["batch_size"] <= 20
        assert values["activation"] in ("relu", "sigmoid")
        assert all(isinstance(s, int) and 0 <= s < 2**31 for s in seeds)
    # log-uniform: log10(lr) spread evenly over [-6, -2] (mean -4), unlike a uniform lr
    logs = np.log10([v["lr"] for v, _ in first])
    assert abs(logs.mean() + 4) < 0.25 and logs.min() < -5.5 and logs.max() > -2.5
    # every integer end can come up
    assert {v["batch_size"] for v, _ in first} == set(range(10, 21))


def test_narrowed_ranges_span_the_best_values():
    space = (parse_param("lr=1e-6:1e-2:log"), parse_param("hidden=10:100"),
             parse_param("activation=relu,sigmoid"))
    best = [{"lr": 3e-3, "hidden": 40, "activation": "relu"},
            {"lr": 8e-4, "hidden": 70, "activation": "relu"}]
    lr, hidden, act = narrowed(space, best)
    assert (lr.low, lr.high, lr.log) == (8e-4, 3e-3, True)
    assert (hidden.low, hidden.high) == (40, 70)
    assert act.choices == ("relu",)
    assert math.isclose(lr.low, min(b["lr"] for b in best))
