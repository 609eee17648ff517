"""`dlscratch train`: train a course network on MNIST or Fashion-MNIST.

Writes into --out: model.npz, checkpoint.npz (after every epoch), history.json, history.csv,
curves.png and config.json (the run's RunConfig), and ends with the line
`test accuracy: 0.9712`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import warnings
from pathlib import Path

import numpy as np

from dlscratch.nets.factory import CONV_MODELS
from dlscratch.train.run_config import CHOICES, RESUMABLE_CHANGES, RunConfig

FIELDS = tuple(f.name for f in dataclasses.fields(RunConfig))  # flag --x-y is field x_y


def add_parser(sub):
    p = sub.add_parser("train", help="train a network; prints 'test accuracy: 0.9712'",
                       description=__doc__)
    a = p.add_argument
    a("--model", choices=CHOICES["model"], help="network (default two-layer)")
    a("--dataset", choices=CHOICES["dataset"], help="default mnist")
    a("--optimizer", choices=CHOICES["optimizer"], help="the model's preset by default")
    a("--lr", type=float, help="learning rate (model's preset by default)")
    a("--momentum", type=float, help="momentum for momentum/nesterov (default 0.9)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--epochs", type=float, help="number of epochs")
    group.add_argument("--iterations", type=int, help="number of mini-batch updates")
    a("--batch-size", type=int, help="mini-batch size (default 100)")
    a("--weight-decay", type=float, help="L2 lambda (multi-layer)")
    a("--dropout", type=float, help="dropout ratio (multi-layer, deep-cnn)")
    a("--batchnorm", action="store_true", default=None, help="batch norm (multi-layer)")
    a("--activation", choices=CHOICES["activation"], help="hidden activation (default relu)")
    a("--hidden", type=int, nargs="+", help="hidden layer sizes")
    a("--schedule", choices=CHOICES["schedule"], help="learning-rate schedule")
    a("--step-size", type=float, help="epochs between decays for --schedule step (10)")
    a("--gamma", type=float, help="decay factor for --schedule step (0.1)")
    a("--warmup", type=float, help="warm-up epochs for --schedule cosine (0)")
    a("--sampling", choices=CHOICES["sampling"],
      help="shuffled epochs (default) or the book's sampling with replacement")
    a("--augment", action="store_true", default=None, help="random shifts/rotations (CNNs)")
    a("--val-fraction", type=float, help="hold out this fraction of training data")
    a("--patience", type=int, help="early stopping: epochs without val improvement")
    a("--eval-limit", type=int, help="samples per per-epoch accuracy (default 10000)")
    a("--limit", type=int, help="use only the first N training images")
    a("--seed", type=int, help="seed for init, sampling and dropout (default 0)")
    a("--dtype", choices=CHOICES["dtype"])
    a("--data-dir", help="folder holding mnist/ and fashion-mnist/")
    a("--out", default="runs/latest", help="output folder (default runs/latest)")
    a("--resume", action="store_true",
      help="continue the run in OUT from its checkpoint.npz, with its saved settings; "
           "--epochs/--iterations may lengthen it (not with --schedule cosine, which spans "
           "the whole run); other changed settings are refused")
    a("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run_config(args) -> RunConfig:
    """The run's RunConfig: explicit flags > the saved config of a resumed run > the model's
    preset > the defaults. A resumed run may change only its length (not with a cosine
    schedule), --eval-limit and --data-dir; other changes are refused, naming the flags."""
    given = {name: getattr(args, name) for name in FIELDS if getattr(args, name, None) is not None}
    if not args.resume:
        with flags_in_errors():
            return RunConfig(**given)
    config_path = Path(args.out) / "config.json"
    if not config_path.exists():
        raise ValueError(f"--resume: {config_path} not found (nothing to resume in {args.out})")
    saved = RunConfig.read(config_path)  # also a config.json of an earlier version
    with flags_in_errors():
        config = saved.replace(**given)
    changes = saved.differences(config)
    refused = [f"{_flag(k)}: saved {_show(a)} vs now {_show(b)}" for k, (a, b) in changes.items()
               if k not in RESUMABLE_CHANGES]
    if config.schedule == "cosine":
        refused += [f"{_flag(k)}: saved {_show(a)} vs now {_show(b)} (--schedule cosine spans "
                    f"the whole run)" for k, (a, b) in changes.items()
                    if k in ("epochs", "iterations")]
    if refused:
        raise ValueError(f"{config_path}: cannot resume a different run ({'; '.join(refused)})")
    return config


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


def load_data(config: RunConfig):
    """((x_train, t_train), (x_test, t_test), (x_val, t_val)) for the run: the dataset (flat
    vectors (N, 784) for the multi-layer networks, images (N, 1, 28, 28) for the CNNs), its
    first `limit` training images, less `val_fraction` of them held out for validation
    (x_val, t_val: None without)."""
    from dlscratch.data import load_dataset, train_val_split

    (x_train, t_train), (x_test, t_test) = load_dataset(
        config.dataset, flatten=config.model not in CONV_MODELS, data_dir=config.data_dir)
    if config.limit is not None:
        x_train, t_train = x_train[:config.limit], t_train[:config.limit]
    x_val = t_val = None
    if config.val_fraction:
        (x_train, t_train), (x_val, t_val) = train_val_split(
            x_train, t_train, config.val_fraction, seed=config.seed)
    return (x_train, t_train), (x_test, t_test), (x_val, t_val)


def run(args) -> int:
    from dlscratch.data.augment import augment_batch
    from dlscratch.io.atomic import atomic_write_text
    from dlscratch.io.serialize import save
    from dlscratch.plots import plot_history
    from dlscratch.train import Trainer, save_history

    config = run_config(args)
    out = Path(args.out)
    checkpoint = out / "checkpoint.npz"
    if not args.resume and checkpoint.exists():
        raise ValueError(f"{out} already holds a run: add --resume to continue it, or choose "
                         "another --out")
    data = load_data(config)
    with flags_in_errors():
        net = config.build_model()
    trainer = Trainer.from_config(net, data, config, augment=augment_batch,
                                  checkpoint_path=checkpoint, progress=not args.quiet)
    if args.resume:  # before config.json is rewritten: a refused resume must not change the run
        trainer.resume(checkpoint)
        print(f"resuming at iteration {trainer.iteration} of {trainer.max_iter}")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "config.json", config.to_json())
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        history = trainer.train()  # a blow-up ends in TrainingDiverged, not numpy warnings
    save(net, out / "model.npz")
    save_history(history, out)
    plot_history(history, out / "curves.png", f"{config.model} on {config.dataset}")
    (_, _), (x_test, t_test), _ = data
    accuracy = trainer.model.accuracy(x_test, t_test)
    if args.quiet is False:
        print(f"wrote {out}/: model.npz checkpoint.npz history.json history.csv curves.png")
    print(f"test accuracy: {accuracy:.4f}")
    return 0


def __getattr__(name: str):
    """Names of the settings dict this module used before RunConfig, kept for a while."""
    moved = {"DEFAULTS": "RunConfig's field defaults", "resolve_settings": "run_config(args)",
             "make_trainer": "Trainer.from_config(net, data, RunConfig(...))"}
    if name not in moved:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(f"dlscratch.cli.train_cmd.{name} is deprecated: use {moved[name]}",
                  DeprecationWarning, stacklevel=2)
    if name == "DEFAULTS":
        return {f.name: f.default for f in dataclasses.fields(RunConfig)}
    if name == "resolve_settings":
        return lambda args: run_config(args).to_dict()

    def make_trainer(s: dict, net, data, checkpoint):
        from dlscratch.data.augment import augment_batch
        from dlscratch.train import Trainer

        config = RunConfig(**{k: v for k, v in s.items() if k in FIELDS})
        return Trainer.from_config(net, data, config, augment=augment_batch,
                                   checkpoint_path=checkpoint, progress=not s.get("quiet"))

    return make_trainer
