"""Learning-rate schedules: lr = base_lr * factor(epoch), epoch a float (iteration / per epoch).

    Constant()                   factor 1
    StepDecay(step=10, gamma=.1) factor gamma ** floor(epoch / step)
    Cosine(total=20, warmup=0)   linear warm-up, then 0.5 * (1 + cos(pi * progress)) down to
                                 `min_factor`
"""

from __future__ import annotations

import math


class Schedule:
    def __call__(self, epoch: float) -> float:
        raise NotImplementedError

    def config(self) -> dict:
        return {"name": type(self).__name__.lower(), **vars(self)}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    def __call__(self, epoch):
        return 1.0


class StepDecay(Schedule):
    def __init__(self, step: float = 10, gamma: float = 0.1):
        if not step > 0 or not 0 < gamma <= 1:  # `not x > 0` also rejects NaN
            raise ValueError(f"StepDecay needs step > 0 and 0 < gamma <= 1, got step={step!r}, "
                             f"gamma={gamma!r}")
        self.step, self.gamma = float(step), float(gamma)

    def __call__(self, epoch):
        return self.gamma ** math.floor(epoch / self.step + 1e-9)


class Cosine(Schedule):
    def __init__(self, total: float, warmup: float = 0.0, min_factor: float = 0.0):
        if total <= 0 or not 0 <= warmup < total or not 0 <= min_factor <= 1:
            raise ValueError(
                f"Cosine needs total > 0, 0 <= warmup < total and 0 <= min_factor <= 1, got "
                f"total={total!r}, warmup={warmup!r}, min_factor={min_factor!r}"
            )
        self.total, self.warmup, self.min_factor = float(total), float(warmup), float(min_factor)

    def __call__(self, epoch):
        if epoch < self.warmup:
            return (epoch + 1e-3) / self.warmup
        progress = min(1.0, (epoch - self.warmup) / (self.total - self.warmup))
        return self.min_factor + (1 - self.min_factor) * 0.5 * (1 + math.cos(math.pi * progress))


SCHEDULES = {"constant": Constant, "stepdecay": StepDecay, "step": StepDecay, "cosine": Cosine}


def get_schedule(config: dict | str | None) -> Schedule:
    """A schedule from a name or a `config()` dict; None gives Constant."""
    if config is None:
        return Constant()
    if isinstance(config, str):
        config = {"name": config}
    kwargs = dict(config)
    name = str(kwargs.pop("name", "constant")).lower()
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}: use one of {sorted(SCHEDULES)}")
    try:
        return SCHEDULES[name](**kwargs)
    except TypeError as exc:  # missing or unknown arguments
        raise ValueError(f"schedule {name!r}: bad arguments {kwargs!r} ({exc})") from None
