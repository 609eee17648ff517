"""`dlscratch train`'s flags: the RunConfig they make, a resumed run's refused changes, the
ranges RunConfig alone cannot check, and library messages told in flags.

A resumed run (--resume) keeps its config.json; a flag that changes a setting is refused,
naming each changed flag, except a run length (--epochs/--iterations: longer, or shorter but
not before the checkpoint; not with --schedule cosine, which spans the whole run) and
--data-dir (where the same dataset is found). --out, --threads, --quiet and --debug are not
settings of the run.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import re
from pathlib import Path

from dlscratch.errors import RunError
from dlscratch.train.run_config import (
    AUGMENT_FIELDS,
    CHOICES,
    MAX_HIDDEN,
    MAX_ITERATIONS,
    RESUMABLE_CHANGES,
    RunConfig,
)

FIELDS = tuple(f.name for f in dataclasses.fields(RunConfig))  # flag --x-y is field x_y


def add_run_flags(p) -> None:
    """The flags that set a RunConfig's fields (shared by `train` and `search`)."""
    a = p.add_argument
    a("--model", choices=CHOICES["model"], help="network (default two-layer)")
    a("--dataset", choices=CHOICES["dataset"], help="default mnist")
    a("--optimizer", choices=CHOICES["optimizer"], help="the model's preset by default")
    a("--lr", type=float, help="learning rate (model's preset by default)")
    a("--momentum", type=float, help="momentum for momentum/nesterov (default 0.9)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--epochs", type=float, help="number of epochs")
    group.add_argument("--iterations", type=int, help="number of mini-batch updates")
    a("--batch-size", type=int, help="mini-batch size (default 100; at most the training set)")
    a("--weight-decay", type=float, help="L2 lambda (multi-layer)")
    a("--dropout", type=float,
      help="dropout ratio (multi-layer, deep-cnn, bn-cnn, record-cnn)")
    a("--batchnorm", action="store_true", default=None, help="batch norm (multi-layer)")
    a("--activation", choices=CHOICES["activation"], help="hidden activation (default relu)")
    a("--hidden", type=int, nargs="+",
      help=f"hidden layer sizes, each at most {MAX_HIDDEN:,} (one size but for multi-layer)")
    a("--schedule", choices=CHOICES["schedule"], help="learning-rate schedule")
    a("--step-size", type=float, help="epochs between decays for --schedule step (10)")
    a("--gamma", type=float, help="decay factor for --schedule step (0.1)")
    a("--warmup", type=float, help="warm-up epochs for --schedule cosine (0)")
    a("--sampling", choices=CHOICES["sampling"],
      help="shuffled epochs (default) or the book's sampling with replacement")
    a("--augment", action=argparse.BooleanOptionalAction, default=None,
      help="random shifts and rotations of every batch (CNNs); the flags below tune it "
           "(--no-augment: none, also where a recipe or a --config file turns it on)")
    a("--augment-shift", type=float, help="--augment: shifts of up to this many pixels (2)")
    a("--augment-angle", type=float, help="--augment: rotations of up to this many degrees (10)")
    a("--augment-scale", type=float, help="--augment: zooms by up to this fraction (0: none)")
    a("--elastic-alpha", type=float,
      help="--augment: elastic distortions of this strength (Simard et al. 2003; 0: none)")
    a("--elastic-sigma", type=float,
      help="--augment: the elastic distortions' smoothness in pixels (4)")
    a("--val-fraction", type=float, help="hold out this fraction of training data, at random")
    a("--holdout", type=int,
      help="hold out the last N training images for validation instead (e.g. 10000): a "
           "design run, which scores them and never the test set")
    a("--patience", type=int, help="early stopping: epochs without val improvement")
    a("--eval-limit", type=int,
      help="at most this many samples per per-epoch accuracy (default 10000)")
    a("--limit", type=int, help="use only the first N training images")
    a("--seed", type=int, help="seed for init, sampling and dropout (default 0)")
    a("--members", type=int,
      help="train an ensemble of this many networks (seeds SEED, SEED+1, ...; default 1)")
    a("--dtype", choices=CHOICES["dtype"])
    a("--data-dir", help="folder holding mnist/ and fashion-mnist/")


def run_config(args) -> RunConfig:
    """The run's RunConfig: explicit flags > the saved config of a resumed run or the --config
    file > the model's preset > the defaults. A resumed run may change only its length (not
    with a cosine schedule) and --data-dir; other changes are refused, naming each changed
    flag."""
    given = {name: getattr(args, name) for name in FIELDS
             if name != "recipe" and getattr(args, name, None) is not None}
    config_file, recipe = getattr(args, "config", None), getattr(args, "recipe", None)
    for flag, value in (("--config", config_file), ("--recipe", recipe)):
        if value is not None and args.resume:
            raise RunError(f"{flag} cannot be used with --resume: a resumed run keeps the "
                           "settings of its own config.json")
    if config_file is not None and recipe is not None:
        raise RunError("give --config or --recipe, not both")
    if given.get("augment") is False and (clash := [n for n in AUGMENT_FIELDS if n in given]):
        raise ValueError(f"{_flag(clash[0])} sets the augmentation: it cannot be used with "
                         "--no-augment")
    if config_file is not None or recipe is not None:  # those settings, the flags on top
        from dlscratch.train.recipes import recipe_config

        base = RunConfig.read(config_file) if config_file else recipe_config(recipe)
        if given.get("augment") is False:  # --no-augment: the base's augmentation settings go
            given = {**{name: getattr(RunConfig, name) for name in AUGMENT_FIELDS}, **given}
        with flags_in_errors():
            return base.replace(**given)
    if not args.resume:
        with flags_in_errors():
            return RunConfig(**given)
    config_path = Path(args.out) / "config.json"
    if not config_path.exists():
        raise RunError(f"--resume: {config_path} not found (nothing to resume in {args.out})")
    saved = RunConfig.read(config_path)  # also a config.json of an earlier version
    # compared flag by flag before the new config is made: a changed setting is refused as
    # such, not as a combination the saved settings do not allow
    refused = [f"{_flag(k)}: saved {_show(a)} vs now {_show(b)}"
               for k, (a, b) in _changed(saved, given).items() if k not in RESUMABLE_CHANGES]
    if not refused:
        with flags_in_errors():
            config = saved.replace(**given)
        if config.schedule == "cosine":
            refused = [f"{_flag(k)}: saved {_show(a)} vs now {_show(b)} (--schedule cosine "
                       f"spans the whole run)" for k, (a, b) in saved.differences(config).items()
                       if k in ("epochs", "iterations")]
    if refused:
        raise RunError(f"{config_path}: cannot resume a different run ({'; '.join(refused)})")
    return config


def _changed(saved: RunConfig, given: dict) -> dict[str, tuple]:
    """{field: (saved, given)} for the flags whose value differs from the saved one."""
    changed = {}
    for name, value in given.items():
        old = getattr(saved, name)
        new = tuple(value) if isinstance(value, list) else value
        if isinstance(old, float) and isinstance(new, int) and not isinstance(new, bool):
            new = float(new)
        if new != old:
            changed[name] = (old, new)
    return dict(sorted(changed.items(), key=lambda item: FIELDS.index(item[0])))


@contextlib.contextmanager
def flags_in_errors():
    """Re-raise the library's ValueErrors with flags for argument names (flag_message)."""
    try:
        yield
    except ValueError as exc:
        raise ValueError(flag_message(str(exc))) from None


_ARGUMENT = re.compile(
    r"(?<![\w'-])(" + "|".join(sorted(FIELDS, key=len, reverse=True)) + r")"
    r"(?:=(\[[^\]]*\]|\([^)]*\)|'[^']*'|[^\s,;:()]+))?(?![\w'=])")


def flag_message(message: str) -> str:
    """A library error about RunConfig/build_model arguments, told in flags:
    "batchnorm=True cannot be used with model='simple-cnn'" ->
    "--batchnorm cannot be used with --model simple-cnn"; quoted words lose their quotes."""
    def as_flag(match):
        name, value = match.groups()
        if value is None or value == "True":
            return _flag(name)
        return f"{_flag(name)} {value.strip(chr(39) + '[]()').replace(',', '')}"

    return re.sub(r"'([\w.+-]+)'", r"\1", _ARGUMENT.sub(as_flag, message))


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _show(value) -> str:
    if value is None:
        return "unset"
    return " ".join(map(str, value)) if isinstance(value, tuple) else str(value)


# -- the flags' ranges that RunConfig alone cannot check ---------------------------------------


def check_flags(config: RunConfig) -> None:
    """Before the data is read: --hidden's count for the model, and a --batch-size larger than
    --limit (a batch never exceeds the training set: see check_batch)."""
    if config.hidden is not None and config.model != "multi-layer" and len(config.hidden) > 1:
        raise ValueError(f"--hidden takes one size with --model {config.model} (its one hidden "
                         f"layer), got {_show(config.hidden)}")
    if config.limit is not None and config.batch_size > config.limit:
        raise ValueError(f"--batch-size {config.batch_size} is larger than the training set "
                         f"(--limit {config.limit} images)")


def check_batch(config: RunConfig, data) -> None:
    """A mini-batch larger than the training set is an error, not silently made smaller: the
    batch size config.json records is the one the run uses."""
    n = len(data[0][0])
    if config.batch_size > n:
        held = f", after --val-fraction {config.val_fraction:g}" if config.val_fraction else ""
        raise ValueError(f"--batch-size {config.batch_size} is larger than the training set "
                         f"({n} images{held})")


def check_length(config: RunConfig, trainer) -> None:
    if trainer.max_iter > MAX_ITERATIONS:
        raise ValueError(f"{show_length(config)} makes {trainer.max_iter:,} updates "
                         f"({trainer.iter_per_epoch} per epoch); at most {MAX_ITERATIONS:,} "
                         "are allowed")


def check_warmup(config: RunConfig, train_size: int) -> None:
    """--warmup must end before a cosine schedule does (the schedule spans the whole run)."""
    if config.schedule != "cosine" or not config.warmup:
        return
    per_epoch = max(train_size // config.batch_size, 1)
    total = config.epochs if config.epochs is not None else config.iterations / per_epoch
    if config.warmup >= total:
        epochs = f"{total:g} epoch{'' if total == 1 else 's'}"
        raise ValueError(f"--warmup {config.warmup:g} must be shorter than the run "
                         f"({show_length(config)}: {epochs}) with --schedule cosine")


def show_length(config: RunConfig) -> str:
    if config.iterations is not None:
        return f"--iterations {config.iterations}"
    return f"--epochs {config.epochs:g}"


def show_model(config: RunConfig) -> str:
    hidden = f" --hidden {_show(config.hidden)}" if config.hidden is not None else ""
    return f"--model {config.model}{hidden}"
