"""RunConfig: everything that describes one training run, in one dataclass.

    config = RunConfig(model="multi-layer", batchnorm=True, epochs=5)   # the rest: presets
    net = config.build_model()
    trainer = Trainer.from_config(net, data, config)   # data: as the CLI's load_data gives it
    Path("config.json").write_text(config.to_json())   # RunConfig.read(path) reads it back

`dlscratch train` builds it from its flags, the Trainer is built from it, a run's config.json
is it written out (`{"format": ..., "version": 2, "settings": {field: value}}`; files of
version 1 or without a version, `{"settings": {...}}`, read with the defaults of the fields
added since), `--resume` compares the saved one
with the one the flags give, and the experiments' reuse cache reads it.

Fields left at None take the model's preset (PRESETS: the course's optimizer, learning rate
and run length); `momentum=None` is the optimizer's default (0.9). Every value is checked when
the object is made; a bad one raises ValueError naming the field
(`batch_size must be an integer >= 1, got 0`). Sizes have upper bounds too (MAX_HIDDEN units
in a hidden layer, MAX_WEIGHTS in the fully connected layers, MAX_ITERATIONS, MAX_EPOCHS), so
that a typo is an error rather than a run that exhausts memory or never ends. The thread
count is not part of a run: it changes the speed, never the result.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlscratch.nets.factory import CONV_MODELS, MODELS, build_model, check_model_options

PRESETS = {  # the course's settings per model; any field given overrides them
    "two-layer": {"optimizer": "sgd", "lr": 0.1, "iterations": 10000},
    "multi-layer": {"optimizer": "adam", "lr": 0.001, "epochs": 10},
    "simple-cnn": {"optimizer": "adam", "lr": 0.001, "epochs": 20},
    "deep-cnn": {"optimizer": "adam", "lr": 0.001, "epochs": 20},
    "fast-cnn": {"optimizer": "adam", "lr": 0.002, "epochs": 3},
    "bn-cnn": {"optimizer": "adam", "lr": 0.002, "epochs": 10},
    "record-cnn": {"optimizer": "adam", "lr": 0.002, "epochs": 15},
}
CHOICES = {"model": MODELS, "dataset": ("mnist", "fashion-mnist"),
           "optimizer": ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"),
           "activation": ("relu", "sigmoid"), "schedule": ("constant", "step", "cosine"),
           "sampling": ("shuffle", "replacement"), "dtype": ("float32", "float64")}
FORMAT, VERSION = "dlscratch-run-config", 2
AUGMENT_FIELDS = ("augment_shift", "augment_angle", "augment_scale", "elastic_alpha",
                  "elastic_sigma")  # what augment=True uses
# fields new in version 2: a version-1 file reads as if it held their defaults
ADDED_IN_2 = ("augment_shift", "augment_angle", "augment_scale", "elastic_alpha",
              "elastic_sigma", "holdout", "members", "recipe")
MAX_MEMBERS = 100
# fields a resumed run may change: how long it runs (and not with a cosine schedule)
RESUMABLE_CHANGES = ("epochs", "iterations")
# Upper bounds, so that a typo is an error instead of a run that exhausts memory or never ends:
MAX_HIDDEN = 65_536            # units in one hidden layer
MAX_WEIGHTS = 100_000_000      # weights of the fully connected layers together (400 MB float32)
MAX_ITERATIONS = 10_000_000    # updates in one run (its history holds a loss for each)
MAX_EPOCHS = 100_000
MAX_SEED = 2**63 - 1             # numpy's generators take any integer; a model file keeps it
MAX_CONFIG_BYTES = 1_000_000   # a config.json is a few hundred bytes
# the inputs of the first fully connected layer, per model (the CNNs': their last feature map)
DENSE_INPUTS = {"two-layer": 784, "multi-layer": 784, "simple-cnn": 30 * 12 * 12,
                "deep-cnn": 64 * 4 * 4, "fast-cnn": 32 * 7 * 7, "bn-cnn": 48 * 7 * 7,
                "record-cnn": 64 * 7 * 7}


@dataclass(frozen=True)
class RunConfig:
    """One training run: network, data, optimizer, schedule, length and seed."""

    model: str = "two-layer"
    dataset: str = "mnist"
    optimizer: str | None = None       # None: the model's preset
    lr: float | None = None            # None: the model's preset
    momentum: float | None = None      # momentum/nesterov only; None: 0.9
    epochs: float | None = None        # the run's length: epochs or iterations, not both;
    iterations: int | None = None      # both None: the model's preset
    batch_size: int = 100
    weight_decay: float = 0.0          # L2 lambda (multi-layer)
    dropout: float = 0.0               # dropout ratio (multi-layer, deep-cnn)
    batchnorm: bool = False            # (multi-layer)
    activation: str = "relu"           # hidden activation (two-layer, multi-layer)
    hidden: tuple[int, ...] | None = None  # hidden layer sizes; None: the model's own
    schedule: str = "constant"
    step_size: float = 10.0            # schedule "step": epochs between decays
    gamma: float = 0.1                 # schedule "step": decay factor
    warmup: float = 0.0                # schedule "cosine": warm-up epochs
    sampling: str = "shuffle"          # shuffled epochs, or the book's draws with replacement
    augment: bool = False              # random shifts and rotations (CNNs) ...
    augment_shift: float = 2.0         # ... of up to this many pixels,
    augment_angle: float = 10.0        # ... this many degrees,
    augment_scale: float = 0.0         # zooms by up to this fraction,
    elastic_alpha: float = 0.0         # elastic distortions of this strength (0: none)
    elastic_sigma: float = 4.0         # ... smoothed over this many pixels
    val_fraction: float = 0.0          # training data held out for validation (at random)
    holdout: int = 0                   # or: the last `holdout` training images held out
    patience: int | None = None        # early stopping: epochs without val improvement
    eval_limit: int | None = 10000     # samples per per-epoch accuracy (None: all)
    limit: int | None = None           # use only the first `limit` training images
    seed: int = 0                      # initial weights, sampling, dropout, augmentation
    members: int = 1                   # an ensemble of this many networks (seeds seed, seed+1..)
    recipe: str | None = None          # the recipe the settings came from (a record)
    dtype: str = "float32"
    data_dir: str | None = None        # folder holding mnist/ and fashion-mnist/

    def __post_init__(self):
        if isinstance(self.model, str) and self.model in PRESETS:
            preset = PRESETS[self.model]
            for key in ("optimizer", "lr"):
                if getattr(self, key) is None:
                    object.__setattr__(self, key, preset[key])
            if self.epochs is None and self.iterations is None:
                length = "epochs" if "epochs" in preset else "iterations"
                object.__setattr__(self, length, preset[length])
        if isinstance(self.hidden, list):  # JSON and argparse give lists
            object.__setattr__(self, "hidden", tuple(self.hidden))
        for name, check in _CHECKS.items():
            value = check(name, getattr(self, name))
            object.__setattr__(self, name, value)
        _check_combinations(self)

    # -- reading and writing ---------------------------------------------------------------
    def to_dict(self) -> dict:
        """{field: value}, plain JSON types (hidden as a list)."""
        d = dataclasses.asdict(self)
        d["hidden"] = None if self.hidden is None else list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, settings: dict) -> RunConfig:
        """The inverse of `to_dict`: every field must be there, and nothing else."""
        if not isinstance(settings, dict):
            raise ValueError(f"settings must be a JSON object, got {settings!r}")
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(settings) - set(names))
        if unknown:
            raise ValueError(f"settings: unknown field {unknown[0]!r}")
        missing = [name for name in names if name not in settings]
        if missing:
            raise ValueError(f"settings: missing field {missing[0]!r}")
        return cls(**settings)

    def to_json(self) -> str:
        """The text of a run's config.json."""
        return json.dumps({"format": FORMAT, "version": VERSION, "settings": self.to_dict()},
                          indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        """A RunConfig from `to_json`'s text, or from a config.json of an earlier version
        (`{"settings": {...}}`, the same fields); ValueError naming what is wrong."""
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not JSON: {exc}") from None
        if not isinstance(record, dict) or "settings" not in record:
            raise ValueError("not a run config: no 'settings' record")
        extra = sorted(set(record) - {"format", "version", "settings"})
        version = record.get("version", 1)
        if extra or record.get("format", FORMAT) != FORMAT or version not in (1, VERSION):
            raise ValueError(f"not a run config of format {FORMAT!r} version 1 or {VERSION}: "
                             f"format={record.get('format')!r}, "
                             f"version={record.get('version')!r}, other keys {extra}")
        settings = record["settings"]
        if version == 1 and isinstance(settings, dict):
            defaults = {f.name: f.default for f in dataclasses.fields(cls)}
            settings = {**{name: defaults[name] for name in ADDED_IN_2}, **settings}
        return cls.from_dict(settings)

    @classmethod
    def read(cls, path) -> RunConfig:
        """RunConfig.from_json of a file; a bad file's ValueError starts with its path."""
        path = Path(path)
        try:
            if path.stat().st_size > MAX_CONFIG_BYTES:
                raise ValueError(f"{path.stat().st_size:,} bytes is far too large for a run "
                                 "config")
            return cls.from_json(path.read_text(encoding="utf-8"))
        except ValueError as exc:  # UnicodeDecodeError too
            raise ValueError(f"{path}: {exc}") from None

    # -- using it ----------------------------------------------------------------------------
    def replace(self, **changes) -> RunConfig:
        """A copy with `changes`; setting epochs or iterations clears the other one."""
        if "epochs" in changes and "iterations" not in changes:
            changes["iterations"] = None
        elif "iterations" in changes and "epochs" not in changes:
            changes["epochs"] = None
        return dataclasses.replace(self, **changes)

    def differences(self, other: RunConfig) -> dict[str, tuple]:
        """{field: (self's value, other's value)} for every field that differs."""
        pairs = {f.name: (getattr(self, f.name), getattr(other, f.name))
                 for f in dataclasses.fields(self)}
        return {name: pair for name, pair in pairs.items() if pair[0] != pair[1]}

    def augment_settings(self) -> dict:
        """The keyword arguments of data.augment.augment_batch this run's augmentation uses."""
        return {"max_shift": self.augment_shift, "max_angle": self.augment_angle,
                "max_scale": self.augment_scale, "elastic_alpha": self.elastic_alpha,
                "elastic_sigma": self.elastic_sigma}

    def build_model(self):
        """The network this run trains (nets.factory.build_model), initialised with `seed`."""
        return build_model(self.model, self.activation, self.dropout, self.batchnorm,
                           self.weight_decay, None if self.hidden is None else list(self.hidden),
                           dtype=np.dtype(self.dtype), seed=self.seed)


# -- checks: each returns the value (numbers as float/int), or raises naming the field ---------


def _choice(name, value):
    if value not in CHOICES[name]:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, CHOICES[name]))}, "
                         f"got {value!r}")
    return value


def _integer(low, optional=False, high=None):
    def check(name, value):
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if high is not None and value > high:
            raise ValueError(f"{name} must be at most {high:,}, got {value!r}")
        return int(value)
    return check


def _number(test, rule, optional=False):
    def check(name, value):
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not math.isfinite(value) or not test(value):
            raise ValueError(f"{name} must be {rule}, got {value!r}")
        return float(value)
    return check


def _at_most(high, check):
    def bounded(name, value):
        value = check(name, value)
        if value is not None and value > high:
            raise ValueError(f"{name} must be at most {high:,}, got {value!r}")
        return value
    return bounded


def _flag(name, value):
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def _hidden(name, value):
    if value is None:
        return None
    if not isinstance(value, tuple) or not value or \
            not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        shown = list(value) if isinstance(value, tuple) else value
        raise ValueError(f"{name} must be a non-empty list of integers or None, got {shown!r}")
    if min(value) < 1:
        raise ValueError(f"{name} sizes must be >= 1, got {list(value)}")
    if max(value) > MAX_HIDDEN:
        raise ValueError(f"{name} sizes must be at most {MAX_HIDDEN}, got {list(value)}")
    return value


def _path(name, value):
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name} must be a string or None, got {value!r}")
    return value


def _positive(optional=False):
    return _number(lambda v: v > 0, "a finite number > 0", optional)


_CHECKS = {
    "model": _choice, "dataset": _choice, "optimizer": _choice,
    "lr": _positive(), "momentum": _number(lambda v: 0 <= v < 1, "in [0, 1)", optional=True),
    "epochs": _at_most(MAX_EPOCHS, _positive(optional=True)),
    "iterations": _integer(1, optional=True, high=MAX_ITERATIONS),
    "batch_size": _integer(1), "weight_decay": _number(lambda v: v >= 0, "a finite number >= 0"),
    "dropout": _number(lambda v: 0 <= v < 1, "in [0, 1)"), "batchnorm": _flag,
    "activation": _choice, "hidden": _hidden, "schedule": _choice,
    "step_size": _positive(), "gamma": _number(lambda v: 0 < v <= 1, "in (0, 1]"),
    "warmup": _number(lambda v: v >= 0, "a finite number >= 0"), "sampling": _choice,
    "augment": _flag, "augment_shift": _number(lambda v: 0 <= v <= 14, "in [0, 14]"),
    "augment_angle": _number(lambda v: 0 <= v <= 180, "in [0, 180]"),
    "augment_scale": _number(lambda v: 0 <= v < 1, "in [0, 1)"),
    "elastic_alpha": _number(lambda v: 0 <= v <= 1000, "in [0, 1000]"),
    "elastic_sigma": _number(lambda v: 0.5 <= v <= 28, "in [0.5, 28]"),
    "val_fraction": _number(lambda v: 0 <= v < 1, "in [0, 1)"), "holdout": _integer(0),
    "patience": _integer(1, optional=True), "eval_limit": _integer(1, optional=True),
    "limit": _integer(1, optional=True), "seed": _integer(0, high=MAX_SEED), "dtype": _choice,
    "members": _integer(1, high=MAX_MEMBERS), "recipe": _path, "data_dir": _path,
}


def _check_combinations(c: RunConfig) -> None:
    """Settings that would be silently ignored with the others are errors instead."""
    if c.epochs is not None and c.iterations is not None:
        raise ValueError(f"give epochs or iterations, not both: got epochs={c.epochs!r}, "
                         f"iterations={c.iterations!r}")
    if c.momentum is not None and c.optimizer not in ("momentum", "nesterov"):
        raise ValueError(f"momentum is for optimizer='momentum' or 'nesterov', "
                         f"not {c.optimizer!r}")
    defaults = {f.name: f.default for f in dataclasses.fields(RunConfig)}
    for name, schedule in (("step_size", "step"), ("gamma", "step"), ("warmup", "cosine")):
        if getattr(c, name) != defaults[name] and c.schedule != schedule:
            raise ValueError(f"{name} is for schedule={schedule!r}, not {c.schedule!r}")
    if c.val_fraction and c.holdout:
        raise ValueError(f"give val_fraction or holdout, not both: got "
                         f"val_fraction={c.val_fraction!r}, holdout={c.holdout!r}")
    if c.patience is not None and not (c.val_fraction or c.holdout):
        raise ValueError("patience needs a validation set: add val_fraction (e.g. 0.1)")
    if c.patience is not None and c.members > 1:
        raise ValueError("patience stops one network early; it cannot be used with members > 1")
    if c.augment and c.model not in CONV_MODELS:
        raise ValueError(f"augment=True works on images: use it with "
                         f"{', '.join(map(repr, CONV_MODELS))}, not model={c.model!r}")
    for name in AUGMENT_FIELDS:
        if getattr(c, name) != defaults[name] and not c.augment:
            raise ValueError(f"{name} sets the augmentation: it needs augment=True")
    check_model_options(c.model, c.activation, c.dropout, c.batchnorm, c.weight_decay,
                        None if c.hidden is None else list(c.hidden))
    if c.hidden is not None:
        used = list(c.hidden) if c.model == "multi-layer" else list(c.hidden[:1])
        sizes = [DENSE_INPUTS[c.model], *used, 10]
        weights = sum(a * b for a, b in zip(sizes, sizes[1:], strict=False))
        if weights > MAX_WEIGHTS:
            raise ValueError(f"hidden={used} gives model={c.model!r} {weights:,} weights in its "
                             f"fully connected layers; at most {MAX_WEIGHTS:,} are allowed")
