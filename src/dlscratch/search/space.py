"""The ranges a search draws from (step 0 of the course's recipe) and the drawing (step 1).

    lr=1e-6:1e-2:log       a float, log-uniform: 10 ** U(-6, -2)
    dropout=0:0.5          a float, uniform
    hidden=50:200          an integer (the field is one), uniform; add :log for log-uniform
    activation=relu,sigmoid    a choice (any field), each equally likely

A trial's values come from (seed, index) alone, `draw_values`: numpy's generator seeded with
[seed, index] draws the parameters in the order given, then two seeds (the network's and the
batches'). So trial k is the same whichever worker or machine runs it, and experiment 18 (the
course's plain random search) draws its trials with the same function.
Step 3, `narrowed`: the ranges spanned by the best trials' values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dlscratch.search.errors import SearchError

# the RunConfig fields a search may vary, and their type
SEARCHABLE = {"lr": float, "weight_decay": float, "dropout": float, "momentum": float,
              "batch_size": int, "hidden": int, "activation": str, "optimizer": str}
SEED_RANGE = 2**31


@dataclass(frozen=True)
class Param:
    """One searched setting: a float or integer range (log-uniform when `log`), or choices."""

    name: str
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    choices: tuple | None = None

    @property
    def kind(self) -> str:
        if self.choices is not None:
            return "choice"
        return "int" if SEARCHABLE[self.name] is int else "float"

    def spec(self) -> str:
        """The --param text that gives this parameter ('lr=1e-06:0.01:log')."""
        if self.choices is not None:
            return f"{self.name}={','.join(map(str, self.choices))}"
        return f"{self.name}={self.low:g}:{self.high:g}{':log' if self.log else ''}"

    def draw(self, rng: np.random.Generator):
        """One value: 10 ** U(log10 low, log10 high) for a log float (the course's formula),
        U(low, high) for a float, a uniform integer, or one of the choices."""
        if self.choices is not None:
            return self.choices[int(rng.integers(len(self.choices)))]
        if self.kind == "int":
            if not self.log:
                return int(rng.integers(self.low, self.high + 1))
            value = math.floor(math.exp(rng.uniform(math.log(self.low), math.log(self.high + 1))))
            return int(min(max(value, self.low), self.high))
        if self.log:
            value = 10 ** rng.uniform(math.log10(self.low), math.log10(self.high))
        else:
            value = rng.uniform(self.low, self.high)
        return float(min(max(value, self.low), self.high))  # rounding never leaves the range

    def to_dict(self) -> dict:
        return {"name": self.name, "low": self.low, "high": self.high, "log": self.log,
                "choices": None if self.choices is None else list(self.choices)}

    @classmethod
    def from_dict(cls, d: dict) -> Param:
        choices = d.get("choices")
        return cls(d["name"], d.get("low"), d.get("high"), bool(d.get("log")),
                   None if choices is None else tuple(choices))


def parse_param(text: str) -> Param:
    """A Param from --param's text; SearchError naming the flag and what is wrong."""
    where = f"--param {text}"
    name, sep, spec = text.partition("=")
    name = name.strip()
    if not sep or not name or not spec.strip():
        raise SearchError(f"{where}: expected NAME=LOW:HIGH[:log] or NAME=A,B,C "
                          "(e.g. lr=1e-6:1e-2:log)")
    if name not in SEARCHABLE:
        raise SearchError(f"{where}: unknown parameter {name!r}; one of "
                          f"{', '.join(SEARCHABLE)}")
    kind = SEARCHABLE[name]
    if "," in spec:
        items = [item.strip() for item in spec.split(",")]
        if not all(items):
            raise SearchError(f"{where}: an empty choice")
        choices = tuple(_number(kind, item, where) for item in items)
        if len(set(choices)) != len(choices):
            raise SearchError(f"{where}: a choice is given twice")
        return Param(name, choices=choices)
    if kind is str:
        raise SearchError(f"{where}: {name} takes choices, e.g. {name}=A,B")
    parts = [part.strip() for part in spec.split(":")]
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "log"):
        raise SearchError(f"{where}: expected {name}=LOW:HIGH or {name}=LOW:HIGH:log")
    low, high = (_number(kind, part, where) for part in parts[:2])
    log = len(parts) == 3
    if low == high:
        raise SearchError(f"{where}: the range is empty (low = high = {low:g}); give one "
                          f"value as a flag instead")
    if low > high:
        raise SearchError(f"{where}: the range is inverted (low {low:g} > high {high:g})")
    if log and low <= 0:
        raise SearchError(f"{where}: a log range needs low > 0, got {low:g}")
    return Param(name, low, high, log)


def _number(kind, text: str, where: str):
    if kind is str:
        return text
    try:
        value = kind(text)
    except ValueError:
        raise SearchError(f"{where}: {text!r} is not {'an integer' if kind is int else 'a number'}"
                          ) from None
    if not math.isfinite(value):
        raise SearchError(f"{where}: {text!r} is not a finite number")
    return value


def draw_values(space, seed: int, index: int) -> tuple[dict, tuple[int, int]]:
    """Trial `index`'s values ({name: value}, in the order of `space`) and its two seeds
    (network, batches), from (seed, index) only."""
    rng = np.random.default_rng([seed, index])
    values = {param.name: param.draw(rng) for param in space}
    seeds = int(rng.integers(SEED_RANGE)), int(rng.integers(SEED_RANGE))
    return values, seeds


def narrowed(space, best: list[dict]) -> tuple[Param, ...]:
    """Step 3: each range cut to the values the best trials took (min..max, log kept; the
    choices they used, in the given order). `best`: those trials' {name: value}."""
    out = []
    for param in space:
        values = [trial[param.name] for trial in best if param.name in trial]
        if not values:
            out.append(param)
        elif param.choices is not None:
            out.append(Param(param.name, choices=tuple(c for c in param.choices if c in values)))
        else:
            out.append(Param(param.name, min(values), max(values), param.log))
    return tuple(out)


__all__ = ["SEARCHABLE", "Param", "draw_values", "narrowed", "parse_param"]
