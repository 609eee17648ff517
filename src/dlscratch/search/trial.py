"""One trial (step 2 of the course's recipe): train a few epochs, score on validation data.

The data is read once per worker (`load_search_data`): the first `limit` training images, less
`val_fraction` of them held out with the search's seed, the same split for every trial. The
test set is never used by a search. A trial whose loss becomes NaN or Inf is a result, not an
error: it is complete with validation accuracy 0 and marked 'diverged'.
"""

from __future__ import annotations

import numpy as np

from dlscratch.train.run_config import RunConfig


def load_search_data(base: RunConfig):
    """((x_train, t_train), (None, None), (x_val, t_val)) for every trial of the search."""
    from dlscratch.cli.train_run import load_data

    train, _, val = load_data(base)
    return train, (None, None), val


def run_trial(config: RunConfig, data) -> dict:
    """Train `config` on `data`; {'val_acc': [...], 'train_acc': [...], 'value': final
    validation accuracy, 'diverged': message or None}."""
    from dlscratch.data.augment import augmenter
    from dlscratch.train import Trainer, TrainingDiverged

    net = config.build_model()
    trainer = Trainer.from_config(net, data, config, augment=augmenter(config))
    diverged = None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            trainer.train()
        except TrainingDiverged as exc:
            diverged = str(exc)
    history = trainer.history
    val_acc = [float(v) for v in history["val_acc"]]
    train_acc = [float(v) for v in history["train_acc"]]
    value = 0.0 if diverged or not val_acc else val_acc[-1]
    return {"val_acc": val_acc, "train_acc": train_acc, "value": value, "diverged": diverged}


__all__ = ["load_search_data", "run_trial"]
