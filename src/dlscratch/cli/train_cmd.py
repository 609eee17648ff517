"""`dlscratch train`: train a course network on MNIST or Fashion-MNIST.

Writes into --out: model.npz, checkpoint.npz (after every epoch), history.json, history.csv,
curves.png and config.json (the run's RunConfig), and ends with the line
`test accuracy: 0.9701`.

One run at a time in a folder: the run holds its lock (train.run_lock) from before the data is
read to the end, so an unwritable --out, or one in use by another live run, is refused at once.
Ctrl-C, SIGTERM and SIGHUP stop the run cleanly (cli.failures): the last checkpoint stays
valid, no temporary file is left, and the message says whether --resume can continue it.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np

from dlscratch.cli import failures
from dlscratch.cli.train_flags import (  # noqa: F401  (flag_message: part of this module's API)
    FIELDS,
    add_run_flags,
    check_batch,
    check_flags,
    check_length,
    check_warmup,
    flag_message,
    flags_in_errors,
    run_config,
    show_length,
    show_model,
)
from dlscratch.errors import RunError
from dlscratch.nets.factory import CONV_MODELS
from dlscratch.train.run_config import RunConfig
from dlscratch.train.run_lock import open_run_folder


def add_parser(sub):
    p = sub.add_parser("train", help="train a network; prints 'test accuracy: 0.9701'",
                       description=__doc__)
    add_run_flags(p)
    a = p.add_argument
    a("--config", metavar="FILE",
      help="read the run's settings from a config.json/best.json (a RunConfig); flags given "
           "beside it override its values")
    a("--out", default="runs/latest", help="output folder (default runs/latest)")
    a("--resume", action="store_true",
      help="continue the run in OUT from its checkpoint.npz, with its saved settings; "
           "--epochs/--iterations may change its length (not with --schedule cosine, which "
           "spans the whole run) and --data-dir where the data is; any other changed setting "
           "is refused")
    a("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def load_data(config: RunConfig):
    """((x_train, t_train), (x_test, t_test), (x_val, t_val)) for the run: the dataset (flat
    vectors (N, 784) for the multi-layer networks, images (N, 1, 28, 28) for the CNNs), its
    first `limit` training images, less `val_fraction` of them held out for validation
    (x_val, t_val: None without)."""
    from dlscratch.data import load_dataset, train_val_split

    (x_train, t_train), (x_test, t_test) = load_dataset(
        config.dataset, flatten=config.model not in CONV_MODELS, data_dir=config.data_dir)
    if config.limit is not None:
        if config.limit > len(x_train):
            raise ValueError(f"--limit {config.limit} is more than the {len(x_train)} training "
                             f"images of {config.dataset}")
        x_train, t_train = x_train[:config.limit], t_train[:config.limit]
    x_val = t_val = None
    if config.val_fraction:
        with flags_in_errors():
            (x_train, t_train), (x_val, t_val) = train_val_split(
                x_train, t_train, config.val_fraction, seed=config.seed)
    return (x_train, t_train), (x_test, t_test), (x_val, t_val)


RUN_FILES = ("model.npz", "checkpoint.npz", "config.json", "history.json", "history.csv",
             "curves.png")


def run(args) -> int:
    config = run_config(args)
    check_flags(config)
    out = Path(args.out)
    session = {}  # what the interrupt message may tell: the trainer, once there is one
    with failures.signals_interrupt():
        try:
            failures.doing(f"preparing the run folder {out}")
            with open_run_folder(out, RUN_FILES):
                return train(args, config, out, session)
        except KeyboardInterrupt as exc:
            stop = failures.as_interrupted(exc)
            stop.message = interrupted_message(stop, out, session.get("trainer"))
            raise stop from None


def train(args, config: RunConfig, out: Path, session: dict) -> int:
    """The run, in its locked folder."""
    from dlscratch.data.augment import augment_batch
    from dlscratch.io.atomic import atomic_write_text
    from dlscratch.io.serialize import save
    from dlscratch.train import Trainer, TrainingDiverged, save_history

    checkpoint = out / "checkpoint.npz"
    if args.resume and not checkpoint.exists():
        raise RunError(f"--resume: {out} has no checkpoint.npz (the run stopped before its "
                       "first epoch ended): start it again without --resume")
    if not args.resume and checkpoint.exists():
        raise RunError(f"{out} already holds a run: add --resume to continue it, or choose "
                       "another --out")
    failures.doing(f"loading {config.dataset}")
    data = load_data(config)
    check_batch(config, data)
    check_warmup(config, len(data[0][0]))
    failures.doing(f"building the network ({show_model(config)})")
    with flags_in_errors():
        net = config.build_model()
    trainer = Trainer.from_config(net, data, config, augment=augment_batch,
                                  checkpoint_path=checkpoint, progress=not args.quiet)
    check_length(config, trainer)
    session["trainer"] = trainer
    if args.resume:  # before config.json is rewritten: a refused resume must not change the run
        trainer.resume(checkpoint)
        if trainer.iteration > trainer.max_iter:
            raise RunError(f"{checkpoint}: the run is at iteration {trainer.iteration} already; "
                           f"the {show_length(config)} given would end it at {trainer.max_iter}")
        print(f"resuming at iteration {trainer.iteration} of {trainer.max_iter}")
    atomic_write_text(out / "config.json", config.to_json())
    failures.doing("training")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            history = trainer.train()  # a blow-up ends in TrainingDiverged, not numpy warnings
        except TrainingDiverged as exc:  # the library's advice, in the command line's words
            raise TrainingDiverged(str(exc).replace("a smaller learning rate", "a smaller --lr")) \
                from None
    failures.doing(f"writing the results into {out}")
    save(net, out / "model.npz")
    save_history(history, out)
    from dlscratch.plots import plot_history  # matplotlib only now: it writes a font cache

    plot_history(history, out / "curves.png", f"{config.model} on {config.dataset}")
    failures.doing("measuring the test accuracy")
    (_, _), (x_test, t_test), _ = data
    accuracy = trainer.model.accuracy(x_test, t_test)
    if args.quiet is False:
        print(f"wrote {out}/: model.npz checkpoint.npz config.json history.json history.csv "
              "curves.png")
    print(f"test accuracy: {accuracy:.4f}")
    return 0


def interrupted_message(stop, out: Path, trainer) -> str:
    """What an interrupted run says: where it stopped and whether --resume can continue it."""
    from dlscratch.train import ProgressBar

    where = ""
    if trainer is not None:
        if (bar := trainer.find_callback(ProgressBar)) is not None:
            bar.close()  # the message goes on a line of its own, not after the bar
        where = f" at iteration {trainer.iteration} of {trainer.max_iter}"
    checkpoint = out / "checkpoint.npz"
    if checkpoint.is_file():
        return (f"interrupted by {stop.signal_name}{where}; the last checkpoint is "
                f"{checkpoint}: continue with 'dlscratch train --resume --out {out}'")
    return (f"interrupted by {stop.signal_name}{where}, before the first checkpoint: nothing "
            f"to resume; run the same command again to start over")


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
