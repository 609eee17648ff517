"""`dlscratch train`: train a course network on MNIST or Fashion-MNIST.

Writes into --out: model.npz, checkpoint.npz (after every epoch), history.json, history.csv,
curves.png and config.json (the run's RunConfig), and ends with the line
`test accuracy: 0.9701` - with --holdout N, a design run, `validation accuracy: ...`: its
history and its last line score the held-out images, never the test set. With --members K
(the record recipe) it trains an ensemble instead: see cli.train_members. --recipe NAME
starts from a named RunConfig (train.recipes).

One run at a time in a folder: the run holds its lock (train.run_lock) from before the data is
read to the end, so an unwritable --out, or one in use by another live run, is refused at once.
Ctrl-C, SIGTERM and SIGHUP stop the run cleanly (cli.failures): the last checkpoint stays
valid, no temporary file is left, and the message says whether --resume can continue it.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

from dlscratch.cli import failures
from dlscratch.cli.train_flags import (  # noqa: F401  (flag_message: part of this module's API)
    FIELDS,
    add_run_flags,
    check_flags,
    flag_message,
    run_config,
)
from dlscratch.cli.train_run import ENSEMBLE_FILES, RUN_FILES, load_checked_data, train_one
from dlscratch.errors import RunError
from dlscratch.train.recipes import RECIPES, describe_recipes
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
    a("--recipe", choices=tuple(RECIPES),
      help="start from a training recipe's settings (see --list-recipes); flags given beside "
           "it override them; config.json records the recipe")
    a("--list-recipes", action="store_true", help="list the training recipes and exit")
    a("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args) -> int:
    if args.list_recipes:
        print(describe_recipes())
        return 0
    config = run_config(args)
    check_flags(config)
    out = Path(args.out)
    session = {}  # what the interrupt message may tell: the trainer, once there is one
    with failures.signals_interrupt():
        try:
            failures.doing(f"preparing the run folder {out}")
            with open_run_folder(out, RUN_FILES + ENSEMBLE_FILES):
                if config.members > 1:
                    from dlscratch.cli.train_members import train_members

                    return train_members(args, config, out, session)
                return train(args, config, out, session)
        except KeyboardInterrupt as exc:
            stop = failures.as_interrupted(exc)
            stop.message = interrupted_message(stop, out, session)
            raise stop from None


def train(args, config: RunConfig, out: Path, session: dict) -> int:
    """The run, in its locked folder."""
    checkpoint = out / "checkpoint.npz"
    if args.resume and not checkpoint.exists():
        raise RunError(f"--resume: {out} has no checkpoint.npz (the run stopped before its "
                       "first epoch ended): start it again without --resume")
    if not args.resume and checkpoint.exists():
        raise RunError(f"{out} already holds a run: add --resume to continue it, or choose "
                       "another --out")
    train, test, val = load_checked_data(config)
    if config.holdout:  # a design run: validation only, the test set is never scored
        test = (None, None)
    trainer = train_one(config, (train, test, val), out, args.resume, args.quiet, session)
    name, (x, t) = ("validation", val) if config.holdout else ("test", test)
    failures.doing(f"measuring the {name} accuracy")
    accuracy = trainer.model.accuracy(x, t)
    if args.quiet is False:
        print(f"wrote {out}/: model.npz checkpoint.npz config.json history.json history.csv "
              "curves.png")
    print(f"{name} accuracy: {accuracy:.4f}")
    return 0


def interrupted_message(stop, out: Path, session: dict) -> str:
    """What an interrupted run says: where it stopped and whether --resume can continue it."""
    from dlscratch.train import ProgressBar

    where = ""
    if (trainer := session.get("trainer")) is not None:
        if (bar := trainer.find_callback(ProgressBar)) is not None:
            bar.close()  # the message goes on a line of its own, not after the bar
        where = f" at iteration {trainer.iteration} of {trainer.max_iter}"
        if "member" in session:
            where += f" of member {session['member']}"
    checkpoint = session.get("checkpoint", out / "checkpoint.npz")
    resume = f"continue with 'dlscratch train --resume --out {out}'"
    if checkpoint.is_file():
        return (f"interrupted by {stop.signal_name}{where}; the last checkpoint is "
                f"{checkpoint}: {resume}")
    if done := session.get("members_done"):
        return (f"interrupted by {stop.signal_name}{where}; {done} member"
                f"{'s are' if done > 1 else ' is'} finished: {resume}")
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
