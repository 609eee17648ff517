"""Training one network into a run folder, as `dlscratch train` does it (and each member of an
ensemble run): the run's data, checked against its settings; the network built, trained (or
continued from its checkpoint) and written out with its history and curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlscratch.cli import failures
from dlscratch.cli.train_flags import (
    check_batch,
    check_length,
    check_warmup,
    flags_in_errors,
    show_length,
    show_model,
)
from dlscratch.errors import RunError
from dlscratch.nets.factory import CONV_MODELS
from dlscratch.train.run_config import RunConfig

RUN_FILES = ("model.npz", "checkpoint.npz", "config.json", "history.json", "history.csv",
             "curves.png")
ENSEMBLE_FILES = ("ensemble.json", "augmentations.png")  # an ensemble run's own files


def load_data(config: RunConfig):
    """((x_train, t_train), (x_test, t_test), (x_val, t_val)) for the run: the dataset (flat
    vectors (N, 784) for the multi-layer networks, images (N, 1, 28, 28) for the CNNs), its
    first `limit` training images, less `val_fraction` of them held out for validation
    (x_val, t_val: None without) - or the last `holdout` of them."""
    from dlscratch.data import load_dataset, train_val_split

    (x_train, t_train), (x_test, t_test) = load_dataset(
        config.dataset, flatten=config.model not in CONV_MODELS, data_dir=config.data_dir)
    if config.limit is not None:
        if config.limit > len(x_train):
            raise ValueError(f"--limit {config.limit} is more than the {len(x_train)} training "
                             f"images of {config.dataset}")
        x_train, t_train = x_train[:config.limit], t_train[:config.limit]
    x_val = t_val = None
    if config.holdout:
        if config.holdout >= len(x_train):
            raise ValueError(f"--holdout {config.holdout} leaves no training image of the "
                             f"{len(x_train)}")
        x_train, x_val = x_train[:-config.holdout], x_train[-config.holdout:]
        t_train, t_val = t_train[:-config.holdout], t_train[-config.holdout:]
    if config.val_fraction:
        with flags_in_errors():
            (x_train, t_train), (x_val, t_val) = train_val_split(
                x_train, t_train, config.val_fraction, seed=config.seed)
    return (x_train, t_train), (x_test, t_test), (x_val, t_val)


def load_checked_data(config: RunConfig):
    """load_data(config), with the batch size and warm-up checked against it."""
    failures.doing(f"loading {config.dataset}")
    data = load_data(config)
    check_batch(config, data)
    check_warmup(config, len(data[0][0]))
    return data


def train_one(config: RunConfig, data, folder: Path, resume: bool, quiet: bool, session: dict):
    """Train one network into `folder` (its checkpoint, config.json, model.npz, history and
    curves), continuing its checkpoint if `resume`; the Trainer afterwards."""
    from dlscratch.data.augment import augmenter
    from dlscratch.io.atomic import atomic_write_text
    from dlscratch.io.serialize import save
    from dlscratch.train import Trainer, TrainingDiverged, save_history

    checkpoint = folder / "checkpoint.npz"
    failures.doing(f"building the network ({show_model(config)})")
    with flags_in_errors():
        net = config.build_model()
    trainer = Trainer.from_config(net, data, config, augment=augmenter(config),
                                  checkpoint_path=checkpoint, progress=not quiet)
    check_length(config, trainer)
    session.update(trainer=trainer, checkpoint=checkpoint)
    if resume:  # before config.json is rewritten: a refused resume must not change the run
        trainer.resume(checkpoint)
        if trainer.iteration > trainer.max_iter:
            raise RunError(f"{checkpoint}: the run is at iteration {trainer.iteration} already; "
                           f"the {show_length(config)} given would end it at {trainer.max_iter}")
        print(f"resuming at iteration {trainer.iteration} of {trainer.max_iter}")
    atomic_write_text(folder / "config.json", config.to_json())
    failures.doing("training")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            history = trainer.train()  # a blow-up ends in TrainingDiverged, not numpy warnings
        except TrainingDiverged as exc:  # the library's advice, in the command line's words
            raise TrainingDiverged(str(exc).replace("a smaller learning rate", "a smaller --lr")) \
                from None
    failures.doing(f"writing the results into {folder}")
    save(net, folder / "model.npz")
    save_history(history, folder)
    from dlscratch.plots import plot_history  # matplotlib only now: it writes a font cache

    plot_history(history, folder / "curves.png", f"{config.model} on {config.dataset}")
    return trainer
