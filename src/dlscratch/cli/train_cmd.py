"""`dlscratch train`: train a course network on MNIST or Fashion-MNIST.

Writes into --out: model.npz, checkpoint.npz (after every epoch), history.json, history.csv,
curves.png and config.json, and ends with the line `test accuracy: 0.9712`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from dlscratch.nets.factory import CONV_MODELS, MODELS

PRESETS = {  # the course's settings per model; any flag overrides
    "two-layer": {"optimizer": "sgd", "lr": 0.1, "iterations": 10000},
    "multi-layer": {"optimizer": "adam", "lr": 0.001, "epochs": 10},
    "simple-cnn": {"optimizer": "adam", "lr": 0.001, "epochs": 20},
    "deep-cnn": {"optimizer": "adam", "lr": 0.001, "epochs": 20},
}
DEFAULTS = {"model": "two-layer", "dataset": "mnist", "batch_size": 100, "weight_decay": 0.0,
            "dropout": 0.0, "batchnorm": False, "activation": "relu", "seed": 0, "limit": None,
            "val_fraction": 0.0, "patience": None, "schedule": "constant", "step_size": 10.0,
            "gamma": 0.1, "warmup": 0.0, "eval_limit": 10000, "sampling": "shuffle",
            "augment": False, "dtype": "float32", "hidden": None, "epochs": None,
            "iterations": None, "momentum": None, "data_dir": None}


def add_parser(sub):
    p = sub.add_parser("train", help="train a network; prints 'test accuracy: 0.9712'",
                       description=__doc__)
    a = p.add_argument
    a("--model", choices=MODELS, help="network (default two-layer)")
    a("--dataset", choices=("mnist", "fashion-mnist"), help="default mnist")
    a("--optimizer", choices=("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"))
    a("--lr", type=float, help="learning rate (model's preset by default)")
    a("--momentum", type=float, help="momentum for momentum/nesterov (default 0.9)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--epochs", type=float, help="number of epochs")
    group.add_argument("--iterations", type=int, help="number of mini-batch updates")
    a("--batch-size", type=int, help="mini-batch size (default 100)")
    a("--weight-decay", type=float, help="L2 lambda (multi-layer)")
    a("--dropout", type=float, help="dropout ratio (multi-layer, deep-cnn)")
    a("--batchnorm", action="store_true", default=None, help="batch norm (multi-layer)")
    a("--activation", choices=("relu", "sigmoid"), help="hidden activation (default relu)")
    a("--hidden", type=int, nargs="+", help="hidden layer sizes")
    a("--schedule", choices=("constant", "step", "cosine"), help="learning-rate schedule")
    a("--step-size", type=float, help="epochs between decays for --schedule step (10)")
    a("--gamma", type=float, help="decay factor for --schedule step (0.1)")
    a("--warmup", type=float, help="warm-up epochs for --schedule cosine (0)")
    a("--sampling", choices=("shuffle", "replacement"),
      help="shuffled epochs (default) or the book's sampling with replacement")
    a("--augment", action="store_true", default=None, help="random shifts/rotations (CNNs)")
    a("--val-fraction", type=float, help="hold out this fraction of training data")
    a("--patience", type=int, help="early stopping: epochs without val improvement")
    a("--eval-limit", type=int, help="samples per per-epoch accuracy (default 10000)")
    a("--limit", type=int, help="use only the first N training images")
    a("--seed", type=int, help="seed for init, sampling and dropout (default 0)")
    a("--dtype", choices=("float32", "float64"))
    a("--data-dir", help="folder holding mnist/ and fashion-mnist/")
    a("--out", default="runs/latest", help="output folder (default runs/latest)")
    a("--resume", action="store_true",
      help="continue the run in OUT from its checkpoint.npz, with its saved settings; "
           "--epochs/--iterations may lengthen it (not with --schedule cosine, which spans "
           "the whole run); other changed settings are refused")
    a("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def resolve_settings(args) -> dict:
    """Explicit flags > the saved config of a resumed run > the model's preset > defaults."""
    given = {k: getattr(args, k) for k in DEFAULTS if getattr(args, k, None) is not None}
    saved = {}
    config_path = Path(args.out) / "config.json"
    if args.resume:
        if not config_path.exists():
            raise ValueError(f"--resume: {config_path} not found (nothing to resume in {args.out})")
        saved = json.loads(config_path.read_text())["settings"]
    for key in ("optimizer", "lr"):
        if getattr(args, key) is not None:
            given[key] = getattr(args, key)
    model = given.get("model") or saved.get("model") or DEFAULTS["model"]
    settings = {**DEFAULTS, **PRESETS[model], **saved, **given, "model": model}
    if "epochs" in given or "iterations" in given:  # one length flag replaces the other
        settings["epochs" if "iterations" in given else "iterations"] = None
    elif settings.get("epochs") is not None and settings.get("iterations") is not None:
        settings["epochs"] = None
    _validate(settings)
    _check_combinations(settings, given)
    return settings


def _check_combinations(s: dict, given: dict) -> None:
    """Flags that would be silently ignored with the other settings are errors instead."""
    if s["momentum"] is not None and s["optimizer"] not in ("momentum", "nesterov"):
        raise ValueError("--momentum is for --optimizer momentum or nesterov, not "
                         f"{s['optimizer']}")
    for flag, key, schedule in (("--step-size", "step_size", "step"), ("--gamma", "gamma", "step"),
                                ("--warmup", "warmup", "cosine")):
        if key in given and s["schedule"] != schedule:
            raise ValueError(f"{flag} is for --schedule {schedule}, not {s['schedule']}")


def _validate(s: dict) -> None:
    checks = (("--lr", s["lr"], s["lr"] > 0),
              ("--batch-size", s["batch_size"], s["batch_size"] >= 1),
              ("--dropout", s["dropout"], 0 <= s["dropout"] < 1),
              ("--weight-decay", s["weight_decay"], s["weight_decay"] >= 0),
              ("--val-fraction", s["val_fraction"], 0 <= s["val_fraction"] < 1),
              ("--limit", s["limit"], s["limit"] is None or s["limit"] >= 1),
              ("--epochs", s["epochs"], s["epochs"] is None or 0 < s["epochs"] < math.inf),
              ("--patience", s["patience"], s["patience"] is None or s["patience"] >= 1),
              ("--eval-limit", s["eval_limit"], s["eval_limit"] is None or s["eval_limit"] >= 1),
              ("--iterations", s["iterations"], s["iterations"] is None or s["iterations"] >= 1))
    for flag, value, ok in checks:
        if not ok:
            raise ValueError(f"{flag} has an invalid value: {value!r}")
    if s["patience"] is not None and not s["val_fraction"]:
        raise ValueError("--patience needs a validation set: add --val-fraction (e.g. 0.1)")


def make_trainer(s: dict, net, data, checkpoint):
    from dlscratch.train import Trainer

    (x_train, t_train), (x_test, t_test), (x_val, t_val) = data
    opt_param = {"lr": s["lr"]}
    if s["optimizer"] in ("momentum", "nesterov") and s["momentum"] is not None:
        opt_param["momentum"] = s["momentum"]
    schedule = {"constant": None,
                "step": {"name": "step", "step": s["step_size"], "gamma": s["gamma"]},
                "cosine": {"name": "cosine", "total": None, "warmup": s["warmup"]}}[s["schedule"]]
    augment = None
    if s["augment"]:
        if s["model"] not in CONV_MODELS:
            raise ValueError("--augment works on images: use it with simple-cnn or deep-cnn")
        from dlscratch.data.augment import augment_batch
        augment = augment_batch
    trainer = Trainer(net, x_train, t_train, x_test, t_test, epochs=s["epochs"],
                      iterations=s["iterations"], mini_batch_size=s["batch_size"],
                      optimizer=s["optimizer"], optimizer_param=opt_param,
                      evaluate_sample_num_per_epoch=s["eval_limit"], x_val=x_val, t_val=t_val,
                      sampling=s["sampling"], seed=s["seed"], checkpoint_path=checkpoint,
                      early_stopping_patience=s["patience"], augment=augment,
                      progress=not s.get("quiet"))
    if schedule is not None and schedule["name"] == "cosine":
        schedule["total"] = trainer.max_iter / trainer.iter_per_epoch
    if schedule is not None:
        from dlscratch.optim import get_schedule
        trainer.schedule = get_schedule(schedule)
    return trainer


def load_data(s: dict):
    from dlscratch.data import load_dataset, train_val_split

    (x_train, t_train), (x_test, t_test) = load_dataset(
        s["dataset"], flatten=s["model"] not in CONV_MODELS, data_dir=s["data_dir"])
    if s["limit"] is not None:
        x_train, t_train = x_train[:s["limit"]], t_train[:s["limit"]]
    x_val = t_val = None
    if s["val_fraction"]:
        (x_train, t_train), (x_val, t_val) = train_val_split(x_train, t_train, s["val_fraction"],
                                                             seed=s["seed"])
    return (x_train, t_train), (x_test, t_test), (x_val, t_val)


def run(args) -> int:
    from dlscratch.io.atomic import atomic_write_text
    from dlscratch.io.serialize import save
    from dlscratch.nets.factory import build_model
    from dlscratch.plots import plot_history
    from dlscratch.train import save_history

    s = resolve_settings(args)
    s["quiet"] = args.quiet
    out = Path(args.out)
    checkpoint = out / "checkpoint.npz"
    if not args.resume and checkpoint.exists():
        raise ValueError(f"{out} already holds a run: add --resume to continue it, or choose "
                         "another --out")
    data = load_data(s)
    net = build_model(s["model"], s["activation"], s["dropout"], s["batchnorm"],
                      s["weight_decay"], s["hidden"], dtype=np.dtype(s["dtype"]), seed=s["seed"])
    trainer = make_trainer(s, net, data, checkpoint)
    if args.resume:  # before config.json is rewritten: a refused resume must not change the run
        trainer.resume(checkpoint)
        print(f"resuming at iteration {trainer.iteration} of {trainer.max_iter}")
    out.mkdir(parents=True, exist_ok=True)
    saved = {k: v for k, v in s.items() if k != "quiet"}
    atomic_write_text(out / "config.json", json.dumps({"settings": saved}, indent=1))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        history = trainer.train()  # a blow-up ends in TrainingDiverged, not numpy warnings
    save(net, out / "model.npz")
    save_history(history, out)
    plot_history(history, out / "curves.png", f"{s['model']} on {s['dataset']}")
    (_, _), (x_test, t_test), _ = data
    accuracy = net.accuracy(x_test, t_test)
    if args.quiet is False:
        print(f"wrote {out}/: model.npz checkpoint.npz history.json history.csv curves.png")
    print(f"test accuracy: {accuracy:.4f}")
    return 0
