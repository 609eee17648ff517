"""Trainer: mini-batch gradient descent as the course describes it (the book's `Trainer`).

    trainer = Trainer(net, x_train, t_train, x_test, t_test, epochs=20, mini_batch_size=100,
                      optimizer="Adam", optimizer_param={"lr": 0.001})
    history = trainer.train()
    trainer.train_loss_list, trainer.train_acc_list, trainer.test_acc_list  # the book's lists

Each iteration (`train_step`): draw a mini-batch (`sampling`: shuffled epochs by default, or
with replacement as the book's code does; see train.sampling), compute the gradient by
backprop, update the parameters with the learning rate base_lr * schedule(epoch). At every
epoch's end, and at the run's last iteration: accuracies on at most
`evaluate_sample_num_per_epoch` samples of each data set. Everything else is a callback
(train.callbacks): History (always), NaNGuard (always: a NaN/Inf stops the run with
`TrainingDiverged`), and on request ProgressBar, EarlyStopping and Checkpoint — also asked for
with `progress=True`, `early_stopping_patience=n` and `checkpoint_path=path`.

The network runs through `dlscratch.DataParallel` (`self.model`), which may split a batch among
worker processes (stopped when `train` returns) or dlscratch's threads; `self.network` is the
network itself (saving, RNG states, NaN forensics).
`Trainer.from_config(net, data, RunConfig(...))` builds the Trainer a RunConfig describes.
"""

from __future__ import annotations

import math
import time

import numpy as np

from dlscratch.kernels.data_parallel import DataParallel
from dlscratch.optim import get_optimizer, get_schedule
from dlscratch.train.callbacks import (
    Callback,
    EarlyStopping,
    History,
    NaNGuard,
    ProgressBar,
    TrainingDiverged,
)
from dlscratch.train.checkpoint import Checkpoint, load_training_state, save_training_state
from dlscratch.train.sampling import BatchSampler


class Trainer:
    """The book's Trainer (network, data, epochs, mini_batch_size, optimizer by name with its
    optimizer_param, evaluate_sample_num_per_epoch, verbose), plus keyword-only: iterations
    (instead of epochs), x_val/t_val, sampling, schedule (a Schedule, its config or a function
    epoch -> factor), seed, augment (fn(x_batch, rng) -> x_batch), evaluate_initial and
    callbacks; progress, early_stopping_patience and checkpoint_path add those callbacks."""

    def __init__(self, network, x_train, t_train, x_test=None, t_test=None, epochs=20,
                 mini_batch_size=100, optimizer="SGD", optimizer_param=None,
                 evaluate_sample_num_per_epoch=None, verbose=False, *, iterations=None,
                 x_val=None, t_val=None, sampling="shuffle", schedule=None, seed=0,
                 augment=None, evaluate_initial=True, callbacks: list[Callback] = (),
                 checkpoint_path=None, early_stopping_patience=None, progress=False):
        _check_data(x_train, t_train, x_test, t_test, x_val, t_val)
        limit = evaluate_sample_num_per_epoch
        if limit is not None and int(limit) < 1:
            raise ValueError(f"evaluate_sample_num_per_epoch must be >= 1 or None, got {limit!r}")
        self.network, self.model = network, DataParallel(network)
        self.x_train, self.t_train = x_train, t_train
        self.eval_sets = {name: (x, t) for name, x, t in
                          (("train", x_train, t_train), ("test", x_test, t_test),
                           ("val", x_val, t_val)) if x is not None}
        self.batch_size, self.iter_per_epoch, self.max_iter = run_length(
            len(x_train), mini_batch_size, epochs, iterations)
        self.optimizer = (get_optimizer(optimizer, **(optimizer_param or {}))
                          if isinstance(optimizer, str) else optimizer)
        self.base_lr = self.optimizer.lr
        self.schedule = schedule if callable(schedule) else get_schedule(schedule)
        self.seed, self.rng = seed, np.random.default_rng(seed)
        self.sampler = BatchSampler(len(x_train), self.batch_size, sampling, self.rng)
        self.eval_limit, self.augment = limit, augment
        self.verbose, self.evaluate_initial = verbose, evaluate_initial
        self.callbacks = _arrange(list(callbacks), progress, early_stopping_patience,
                                  checkpoint_path)
        if self.find_callback(EarlyStopping) is not None and x_val is None:
            raise ValueError("early stopping watches validation accuracy: pass x_val and t_val")
        self.config = None  # the RunConfig, when built by from_config
        self.iteration, self.stop_training, self.elapsed_s, self._t0 = 0, False, 0.0, None

    @classmethod
    def from_config(cls, network, data, config, *, augment=None, checkpoint_path=None,
                    progress=False, callbacks: list[Callback] = (), verbose=False) -> Trainer:
        """The Trainer `config` (a RunConfig) describes, on data = ((x_train, t_train),
        (x_test, t_test), (x_val, t_val)) (x_val, t_val may be None). A cosine schedule spans
        the whole run: its length in epochs is max_iter / iter_per_epoch. `augment`,
        fn(x_batch, rng) -> x_batch, is used when config.augment is True (the CLI passes
        data.augment.augment_batch; the training wing does not import the data package).
        """
        (x_train, t_train), (x_test, t_test), (x_val, t_val) = data
        _, per_epoch, max_iter = run_length(len(x_train), config.batch_size, config.epochs,
                                            config.iterations)
        schedule = {"constant": None,
                    "step": {"name": "step", "step": config.step_size, "gamma": config.gamma},
                    "cosine": {"name": "cosine", "total": max_iter / per_epoch,
                               "warmup": config.warmup}}[config.schedule]
        opt_param = {"lr": config.lr}
        if config.momentum is not None:
            opt_param["momentum"] = config.momentum
        if config.augment and augment is None:
            raise ValueError("config.augment is True: pass augment=fn(x_batch, rng), e.g. "
                             "dlscratch.data.augment.augment_batch")
        trainer = cls(network, x_train, t_train, x_test, t_test, epochs=config.epochs,
                      iterations=config.iterations, mini_batch_size=config.batch_size,
                      optimizer=config.optimizer, optimizer_param=opt_param,
                      evaluate_sample_num_per_epoch=config.eval_limit, x_val=x_val, t_val=t_val,
                      sampling=config.sampling, schedule=schedule, seed=config.seed,
                      augment=augment if config.augment else None,
                      early_stopping_patience=config.patience,
                      checkpoint_path=checkpoint_path, progress=progress, callbacks=callbacks,
                      verbose=verbose)
        trainer.config = config
        return trainer

    # -- the loop --------------------------------------------------------------------------
    def train(self) -> dict:
        """Run to max_iter iterations (or until a callback stops it); return the history."""
        self._t0 = time.perf_counter() - self.elapsed_s
        try:
            self._call("on_train_begin")
            if self.iteration == 0 and self.evaluate_initial and not self.history["epoch"]:
                self._call("on_epoch_end", self.evaluate(epoch_loss=None))
            while self.iteration < self.max_iter and not self.stop_training:
                self.train_step()
        finally:
            self.model.close()  # the worker processes, if the steps were split
        self._call("on_train_end")
        self.elapsed_s, self._t0 = self.elapsed(), None
        return self.history

    def train_step(self) -> None:
        """One iteration: mini-batch, gradient, update; at an epoch's end, evaluate."""
        idx = self.sampler.batch(self.iteration)
        x, t = self.x_train[idx], self.t_train[idx]
        if self.augment is not None:
            x = self.augment(x, self.rng)
        self.optimizer.lr = lr = self.base_lr * self.schedule(self.iteration / self.iter_per_epoch)
        grads = self.model.gradient(x, t)
        loss = self.model.last_loss
        self._call("on_gradient", {"x": x, "t": t, "loss": loss, "grads": grads})
        self.optimizer.update(self.model.params, grads)
        self.iteration += 1
        epoch_end = self.iteration % self.iter_per_epoch == 0 or self.iteration == self.max_iter
        self._call("on_step_end", {"iteration": self.iteration, "loss": loss, "lr": lr,
                                   "batch_size": len(idx), "epoch_end": epoch_end})
        if epoch_end:
            n = self.iteration % self.iter_per_epoch or self.iter_per_epoch
            self._call("on_epoch_end", self.evaluate(float(np.mean(self.train_loss_list[-n:]))))

    def evaluate(self, epoch_loss: float | None = None) -> dict:
        """Accuracy on each data set (its first eval_limit samples; None for a set not given),
        with the epoch, iteration and elapsed time: the logs of `on_epoch_end`."""
        logs = {"epoch": round(self.iteration / self.iter_per_epoch, 4),
                "iteration": self.iteration, "epoch_loss": epoch_loss}
        for name in ("train", "test", "val"):
            logs[f"{name}_acc"] = None
            if name in self.eval_sets:
                x, t = self.eval_sets[name]
                if self.eval_limit:
                    x, t = x[:self.eval_limit], t[:self.eval_limit]
                logs[f"{name}_acc"] = self.model.accuracy(x, t)
        logs["elapsed_s"] = round(self.elapsed(), 3)
        if self.verbose:
            accs = ", ".join(f"{name}_acc {logs[f'{name}_acc']:.4f}" for name in
                             ("train", "test", "val") if logs[f"{name}_acc"] is not None)
            print(f"epoch {logs['epoch']:g} (iteration {self.iteration}): {accs}")
        return logs

    def _call(self, hook: str, *logs) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(self, *logs)

    # -- the record: the book's lists are views of the History's ---------------------------
    @property
    def history(self) -> dict:
        return self.find_callback(History).history

    @history.setter
    def history(self, value: dict) -> None:
        self.find_callback(History).history = value

    @property
    def train_loss_list(self) -> list[float]:
        """The loss of every iteration."""
        return self.history["loss"]

    @property
    def train_acc_list(self) -> list[float]:
        """Training accuracy at every evaluation (epoch 0, then each epoch's end)."""
        return self.history["train_acc"]

    @property
    def test_acc_list(self) -> list[float | None]:
        """Test accuracy at every evaluation (None entries without a test set)."""
        return self.history["test_acc"]

    def elapsed(self) -> float:
        """Seconds of training so far, earlier sessions of a resumed run included."""
        return self.elapsed_s if self._t0 is None else time.perf_counter() - self._t0

    def find_callback(self, cls) -> Callback | None:
        return next((c for c in self.callbacks if isinstance(c, cls)), None)

    @property
    def stopped_early(self) -> bool:
        return self.stop_training

    @property
    def sampling(self) -> str:
        return self.sampler.sampling

    @property
    def checkpoint_path(self):
        checkpoint = self.find_callback(Checkpoint)
        return None if checkpoint is None else checkpoint.path

    # -- checkpoint and resume (train.checkpoint) ------------------------------------------
    def settings(self) -> dict:
        """What must match for a resumed run to continue the same run."""
        return {"batch_size": self.batch_size, "iter_per_epoch": self.iter_per_epoch,
                "max_iter": self.max_iter, "sampling": self.sampling, "seed": self.seed,
                "base_lr": self.base_lr, "optimizer": type(self.optimizer).__name__,
                "schedule": _schedule_id(self.schedule), "train_size": len(self.x_train),
                "patience": getattr(self.find_callback(EarlyStopping), "patience", None)}

    def save_checkpoint(self, path) -> None:
        save_training_state(self, path)

    def resume(self, path) -> None:
        """Restore the state of a checkpoint (see train.checkpoint); `train()` then continues
        from there, to this Trainer's max_iter."""
        load_training_state(self, path)


def run_length(n: int, batch_size, epochs, iterations) -> tuple[int, int, int]:
    """(batch_size, iter_per_epoch, max_iter) for n training samples: the batch clamped to n,
    n // batch iterations per epoch, and `iterations`, else round(epochs * iter_per_epoch)
    (at least one update)."""
    if int(batch_size) < 1:
        raise ValueError(f"mini_batch_size must be >= 1, got {batch_size!r}")
    batch = min(int(batch_size), n)
    per_epoch = max(n // batch, 1)
    if iterations is None:
        if epochs is None or not 0 < epochs < math.inf:
            raise ValueError(f"epochs must be a finite number > 0, got {epochs!r}")
        return batch, per_epoch, max(1, int(round(epochs * per_epoch)))
    if int(iterations) < 1:
        raise ValueError(f"iterations must be >= 1, got {iterations!r}")
    return batch, per_epoch, int(iterations)


def _check_data(x_train, t_train, x_test, t_test, x_val, t_val) -> None:
    if len(x_train) != len(t_train) or len(x_train) == 0:
        raise ValueError(f"x_train and t_train must have the same non-zero length, got "
                         f"{len(x_train)} and {len(t_train)}")
    for name, x, t in (("test", x_test, t_test), ("val", x_val, t_val)):
        if (x is None) != (t is None):
            raise ValueError(f"pass both x_{name} and t_{name}, or neither")
        if x is not None and (len(x) != len(t) or len(x) == 0):
            raise ValueError(f"x_{name} and t_{name} must have the same non-zero length, "
                             f"got {len(x)} and {len(t)}")


def _arrange(callbacks: list, progress, patience, checkpoint_path) -> list[Callback]:
    """The callbacks asked for, plus a History and a NaNGuard unless given; History first
    (the others read the record), Checkpoint last (it saves what the others did)."""
    if progress:
        callbacks.append(ProgressBar())
    if patience is not None:
        callbacks.append(EarlyStopping(patience))
    if checkpoint_path is not None:
        callbacks.append(Checkpoint(checkpoint_path))
    for cls in (NaNGuard, History):
        if not any(isinstance(c, cls) for c in callbacks):
            callbacks.insert(0, cls())
    return sorted(callbacks, key=lambda c: (not isinstance(c, History)) + isinstance(c, Checkpoint))


def _schedule_id(schedule) -> dict | str:
    """A schedule's config, or for a plain function its qualified name (a repr holds an address,
    which would differ between the interrupted and the resumed process)."""
    if hasattr(schedule, "config"):
        return schedule.config()
    return f"{getattr(schedule, '__module__', '?')}.{getattr(schedule, '__qualname__', '?')}"


__all__ = ["Trainer", "TrainingDiverged", "run_length"]
