"""Callbacks: the side jobs of a training run, each a small object the Trainer calls.

    trainer = Trainer(net, x, t, x_test, t_test, epochs=5,
                      callbacks=[EarlyStopping(patience=3), Checkpoint("run/checkpoint.npz")])

A callback overrides the hooks it needs; the Trainer calls them in this order:

    on_train_begin(trainer)
    on_gradient(trainer, logs)    every step, after backprop, before the update:
                                  logs = {"x", "t": the batch, "loss", "grads"}
    on_step_end(trainer, logs)    every step, after the update:
                                  logs = {"iteration", "loss", "lr", "batch_size", "epoch_end"}
    on_epoch_end(trainer, logs)   after each evaluation (every epoch's end, the run's last
                                  iteration, and iteration 0 unless evaluate_initial=False):
                                  logs = {"epoch", "iteration", "epoch_loss", "train_acc",
                                          "test_acc", "val_acc", "elapsed_s"}
    on_train_end(trainer)         when the run ends normally (not on an exception)

A callback may stop the run by setting `trainer.stop_training = True`. Checkpoint lives in
`dlscratch.train.checkpoint`.
"""

from __future__ import annotations

import math
import time

import numpy as np

from dlscratch.io.serialize import load_state, state_arrays
from dlscratch.train.history import EPOCH_COLUMNS, new_history


class TrainingDiverged(RuntimeError):
    """The loss, a weight or a statistic became NaN or Inf."""


class Callback:
    """A hook for each moment of the run; every one does nothing here."""

    def on_train_begin(self, trainer) -> None:
        pass

    def on_gradient(self, trainer, logs: dict) -> None:
        pass

    def on_step_end(self, trainer, logs: dict) -> None:
        pass

    def on_epoch_end(self, trainer, logs: dict) -> None:
        pass

    def on_train_end(self, trainer) -> None:
        pass

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class History(Callback):
    """The run's record, a dict of lists (`history`), as history.json and history.csv hold it:
    loss and lr once per iteration; epoch, iteration, epoch_loss, train_acc, test_acc,
    val_acc and elapsed_s once per evaluation (see train.history)."""

    def __init__(self):
        self.history = new_history()

    def on_step_end(self, trainer, logs):
        self.history["loss"].append(logs["loss"])
        self.history["lr"].append(logs["lr"])

    def on_epoch_end(self, trainer, logs):
        for column in (*EPOCH_COLUMNS, "epoch_loss"):
            if column not in ("loss", "lr"):
                self.history[column].append(logs[column])


class NaNGuard(Callback):
    """Stop with TrainingDiverged at the first NaN/Inf, naming the layer where it appears.

    The loss is checked every step before the update (so a blown-up gradient is never
    applied); the parameters and buffers at every epoch's end, before the weights are
    evaluated, kept as the best or checkpointed: the last checkpoint stays a good one.
    """

    def on_gradient(self, trainer, logs):
        loss = logs["loss"]
        if not math.isfinite(loss):
            where = trainer.network.first_nonfinite(logs["x"]) or "the loss layer"
            raise diverged(trainer, f"loss became {loss}", trainer.iteration + 1, where)

    def on_step_end(self, trainer, logs):
        if logs["epoch_end"] and (where := nonfinite_state(trainer.network)) is not None:
            raise diverged(trainer, "the weights became non-finite", trainer.iteration, where)


def nonfinite_state(network) -> str | None:
    """'Affine1 (parameter W1)': the first parameter or buffer holding NaN/Inf, else None."""
    stack = getattr(network, "stack", None)
    refs = ([(key, layer.name, kind) for kind, table in
             (("parameter", stack.param_refs), ("buffer", stack.buffer_refs))
             for key, layer, _ in table] if stack is not None else
            [(key, key, "array") for key in state_arrays(network)])
    arrays = state_arrays(network)
    for key, owner, kind in refs:
        if not np.all(np.isfinite(arrays[key])):
            return f"{owner} ({kind} {key})"
    return None


def diverged(trainer, what: str, iteration: int, where: str) -> TrainingDiverged:
    path = trainer.checkpoint_path
    kept = (f"the last good checkpoint is {path}" if path is not None and path.exists()
            else "no checkpoint was written yet")
    return TrainingDiverged(
        f"{what} at iteration {iteration} (epoch {(iteration - 1) // trainer.iter_per_epoch + 1});"
        f" non-finite values first appear in {where}; {kept}. Try a smaller learning rate "
        f"(now {trainer.optimizer.lr:g})."
    )


class EarlyStopping(Callback):
    """Stop when the validation accuracy has not improved for `patience` epochs; then (and at
    any normal end of the run) put the best weights back.

    `best` = (val_acc, epoch, copies of the parameters and buffers). The first evaluation
    (epoch 0, the initial weights) is a candidate too. The Trainer refuses it without a
    validation set (x_val, t_val).
    """

    def __init__(self, patience: int):
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) \
                or patience < 1:
            raise ValueError(f"patience must be >= 1 (a whole number of epochs), got "
                             f"{patience!r}")
        self.patience = int(patience)
        self.best = None

    def on_epoch_end(self, trainer, logs):
        acc, epoch = logs["val_acc"], logs["epoch"]
        if self.best is None or acc > self.best[0]:
            arrays = {k: v.copy() for k, v in state_arrays(trainer.network).items()}
            self.best = (acc, epoch, arrays)
        elif epoch - self.best[1] >= self.patience:
            trainer.stop_training = True

    def on_train_end(self, trainer):
        if self.best is not None:
            load_state(trainer.network, self.best[2], "best weights")


class ProgressBar(Callback):
    """A live tqdm bar on stderr: iterations done of the run, the epoch (x/y), the last loss,
    images per second and the last evaluation's accuracies, labelled with the epoch they were
    measured at (`test_acc@2=0.9712`: after epoch 2); redrawn at most 10 times a second.
    """

    def __init__(self):
        self._bar = None

    def on_train_begin(self, trainer):
        from tqdm.auto import tqdm

        self._bar = tqdm(total=trainer.max_iter, initial=trainer.iteration, unit="it",
                         dynamic_ncols=True, desc=self._epoch(trainer))
        self._start, self._first = time.perf_counter(), trainer.iteration
        self._step, self._accs = {}, {}

    def on_step_end(self, trainer, logs):
        seconds = max(time.perf_counter() - self._start, 1e-9)
        images = (trainer.iteration - self._first) * logs["batch_size"]
        self._step = {"loss": f"{logs['loss']:.4f}", "img/s": f"{images / seconds:.0f}"}
        self._bar.set_description(self._epoch(trainer), refresh=False)
        self._bar.set_postfix({**self._step, **self._accs}, refresh=False)  # drawn by update()
        self._bar.update(1)

    def on_epoch_end(self, trainer, logs):
        at = f"{logs['epoch']:g}"
        self._accs = {f"{name}_acc@{at}": f"{logs[f'{name}_acc']:.4f}" for name in
                      ("train", "test", "val") if logs[f"{name}_acc"] is not None}
        self._bar.set_postfix({**self._step, **self._accs}, refresh=False)

    def on_train_end(self, trainer):
        self.close()

    def close(self) -> None:
        """End the bar's line (also for an interrupted run, before its message)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    @staticmethod
    def _epoch(trainer) -> str:
        epochs = math.ceil(trainer.max_iter / trainer.iter_per_epoch)
        current = min(trainer.iteration // trainer.iter_per_epoch + 1, epochs)
        return f"epoch {current}/{epochs}"
