"""Callbacks: the hooks' order and logs, History, NaNGuard, EarlyStopping, Checkpoint, ProgressBar,
the book's lists and Trainer.from_config."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from dlscratch.data.augment import augment_batch
from dlscratch.optim import Cosine, Momentum, StepDecay
from dlscratch.train import (
    Callback,
    Checkpoint,
    EarlyStopping,
    History,
    NaNGuard,
    ProgressBar,
    RunConfig,
    Trainer,
    TrainingDiverged,
)
from dlscratch.train.checkpoint import read_checkpoint


class Recorder(Callback):
    """Keeps (hook, trainer.iteration, logs) of every call."""

    def __init__(self):
        self.calls = []

    def on_train_begin(self, trainer):
        self.calls.append(("on_train_begin", trainer.iteration, None))

    def on_gradient(self, trainer, logs):
        self.calls.append(("on_gradient", trainer.iteration, logs))

    def on_step_end(self, trainer, logs):
        self.calls.append(("on_step_end", trainer.iteration, logs))

    def on_epoch_end(self, trainer, logs):
        self.calls.append(("on_epoch_end", trainer.iteration, logs))

    def on_train_end(self, trainer):
        self.calls.append(("on_train_end", trainer.iteration, None))


def test_hooks_are_called_in_order_with_their_logs(make_trainer):
    recorder = Recorder()
    net, trainer = make_trainer(epochs=2, callbacks=[recorder])
    trainer.train()
    hooks = [(hook, it) for hook, it, _ in recorder.calls]
    steps = [h for i in range(14) for h in
             [("on_gradient", i), ("on_step_end", i + 1)]
             + ([("on_epoch_end", i + 1)] if i + 1 in (7, 14) else [])]
    assert hooks == [("on_train_begin", 0), ("on_epoch_end", 0), *steps, ("on_train_end", 14)]

    gradient = recorder.calls[2][2]
    assert set(gradient) == {"x", "t", "loss", "grads"}
    assert gradient["x"].shape == (8, 8) and gradient["t"].shape == (8,)
    assert set(gradient["grads"]) == set(net.params) and math.isfinite(gradient["loss"])
    step_logs = [logs for hook, _, logs in recorder.calls if hook == "on_step_end"]
    assert [s["iteration"] for s in step_logs] == list(range(1, 15))
    assert [s["epoch_end"] for s in step_logs] == [i in (7, 14) for i in range(1, 15)]
    assert all(s["lr"] == 0.1 and s["batch_size"] == 8 for s in step_logs)
    assert [s["loss"] for s in step_logs] == trainer.history["loss"]
    epoch_logs = [logs for hook, _, logs in recorder.calls if hook == "on_epoch_end"]
    assert set(epoch_logs[0]) == {"epoch", "iteration", "epoch_loss", "train_acc", "test_acc",
                                  "val_acc", "elapsed_s"}
    assert [e["epoch"] for e in epoch_logs] == trainer.history["epoch"] == [0.0, 1.0, 2.0]
    assert [e["test_acc"] for e in epoch_logs] == trainer.history["test_acc"]


def test_the_books_lists_fill_as_training_goes(make_trainer):
    seen = []

    class Peek(Callback):
        def on_epoch_end(self, trainer, logs):
            seen.append((len(trainer.train_loss_list), len(trainer.train_acc_list),
                         len(trainer.test_acc_list)))

    _, trainer = make_trainer(epochs=2, callbacks=[Peek()])
    history = trainer.train()
    assert seen == [(0, 1, 1), (7, 2, 2), (14, 3, 3)]
    assert trainer.train_loss_list == history["loss"] and len(history["loss"]) == 14
    assert trainer.train_acc_list == history["train_acc"]
    assert trainer.test_acc_list == history["test_acc"]
    assert all(0 <= a <= 1 for a in trainer.train_acc_list + trainer.test_acc_list)


def test_history_callback_is_the_trainers_record(make_trainer):
    history = History()
    _, trainer = make_trainer(epochs=1, callbacks=[history])
    assert trainer.train() is history.history is trainer.history
    assert [type(c) for c in trainer.callbacks] == [History, NaNGuard]  # none added twice
    assert repr(EarlyStopping(3)) == "EarlyStopping(patience=3, best=None)"


def test_a_callback_can_stop_the_run(make_trainer):
    class StopAt5(Callback):
        def on_step_end(self, trainer, logs):
            if logs["iteration"] == 5:
                trainer.stop_training = True

    recorder = Recorder()
    _, trainer = make_trainer(epochs=3, callbacks=[StopAt5(), recorder])
    history = trainer.train()
    assert trainer.iteration == 5 and len(history["loss"]) == 5 and trainer.stopped_early
    assert recorder.calls[-1][0] == "on_train_end"


def test_on_train_end_is_not_called_after_an_exception(make_trainer):
    class Boom(Callback):
        def on_gradient(self, trainer, logs):
            if trainer.iteration == 3:
                raise RuntimeError("boom")

    recorder = Recorder()
    _, trainer = make_trainer(epochs=1, callbacks=[Boom(), recorder])
    with pytest.raises(RuntimeError, match="boom"):
        trainer.train()
    assert "on_train_end" not in [hook for hook, _, _ in recorder.calls]
    assert trainer.iteration == 3  # the update of step 4 never happened


# -- NaNGuard --------------------------------------------------------------------------------


def test_nan_guard_checks_the_loss_before_the_update(make_trainer, data, helpers):
    net, trainer = make_trainer(epochs=1)
    guard = trainer.find_callback(NaNGuard)
    x, t = data["train"]
    logs = {"x": x[:8], "t": t[:8], "loss": float("nan"), "grads": {}}
    with pytest.raises(TrainingDiverged) as info:
        guard.on_gradient(trainer, logs)
    assert str(info.value) == (
        "loss became nan at iteration 1 (epoch 1); non-finite values first appear in the loss "
        "layer; no checkpoint was written yet. Try a smaller learning rate (now 0.1).")
    guard.on_gradient(trainer, {**logs, "loss": 1.5})  # a finite loss passes


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_guard_checks_the_weights_at_an_epochs_end_only(make_trainer, tmp_path):
    net, trainer = make_trainer(epochs=1, checkpoint_path=tmp_path / "ck.npz")
    guard = trainer.find_callback(NaNGuard)
    net.params["b2"][0] = np.inf
    guard.on_step_end(trainer, {"epoch_end": False})  # mid-epoch: not looked at
    trainer.iteration = 7
    with pytest.raises(TrainingDiverged) as info:
        guard.on_step_end(trainer, {"epoch_end": True})
    assert str(info.value).startswith(
        "the weights became non-finite at iteration 7 (epoch 1); non-finite values first appear "
        "in Affine2 (parameter b2); no checkpoint was written yet.")


# -- EarlyStopping ---------------------------------------------------------------------------


def test_early_stopping_callback_equals_the_keyword(make_trainer, data, helpers):
    x_val, t_val = data["val"]
    options = dict(epochs=20, x_val=x_val, t_val=t_val, schedule=lambda e: 1 if e < 3 else -1,
                   optimizer_param={"lr": 0.2})
    net_a, a = make_trainer(early_stopping_patience=2, **options)
    stopper = EarlyStopping(patience=2)
    net_b, b = make_trainer(callbacks=[stopper], **options)
    assert helpers.comparable(a.train()) == helpers.comparable(b.train())
    assert b.stopped_early and helpers.same_weights(net_a, net_b)
    best_acc, best_epoch, best_weights = stopper.best
    assert best_acc == max(b.history["val_acc"]) == net_b.accuracy(x_val, t_val)
    assert all(np.array_equal(best_weights[k], v) for k, v in helpers.weights(net_b).items())


@pytest.mark.parametrize("patience", [0, -1, 1.5, True, "3"])
def test_early_stopping_patience_must_be_a_whole_number(patience):
    with pytest.raises(ValueError) as info:
        EarlyStopping(patience)
    assert str(info.value) == (f"patience must be >= 1 (a whole number of epochs), got "
                               f"{patience!r}")


def test_early_stopping_needs_a_validation_set(make_trainer):
    with pytest.raises(ValueError) as info:
        make_trainer(callbacks=[EarlyStopping(2)])
    assert str(info.value) == "early stopping watches validation accuracy: pass x_val and t_val"


# -- Checkpoint ------------------------------------------------------------------------------


def test_checkpoint_runs_last_and_saves_after_each_trained_epoch(make_trainer, data, tmp_path):
    ck = tmp_path / "ck.npz"
    written = []

    class Watch(Callback):
        def on_epoch_end(self, trainer, logs):
            written.append(read_checkpoint(ck)[0]["iteration"] if ck.exists() else None)

    x_val, t_val = data["val"]
    checkpoint, stopper = Checkpoint(ck), EarlyStopping(5)
    _, trainer = make_trainer(epochs=2, x_val=x_val, t_val=t_val,
                              callbacks=[checkpoint, Watch(), stopper])
    assert [type(c) for c in trainer.callbacks] == [History, NaNGuard, Watch, EarlyStopping,
                                                    Checkpoint]
    assert trainer.checkpoint_path == ck
    trainer.train()
    assert written == [None, None, 7]  # Watch runs before the checkpoint; none at iteration 0
    meta, groups = read_checkpoint(ck)
    assert meta["iteration"] == 14 and meta["best"] == list(stopper.best[:2])
    assert meta["history"] == trainer.history


def test_checkpoint_callback_resumes_like_the_keyword(make_trainer, helpers, tmp_path):
    straight_net, straight = make_trainer(epochs=3, optimizer="Adam",
                                          optimizer_param={"lr": 0.01})
    straight.train()
    make_trainer(epochs=1, optimizer="Adam", optimizer_param={"lr": 0.01},
                 callbacks=[Checkpoint(tmp_path / "ck.npz")])[1].train()
    net, resumed = make_trainer(epochs=3, optimizer="Adam", optimizer_param={"lr": 0.01})
    resumed.resume(tmp_path / "ck.npz")
    assert resumed.iteration == 7
    assert helpers.comparable(resumed.train()) == helpers.comparable(straight.history)
    assert helpers.same_weights(net, straight_net)


# -- ProgressBar -----------------------------------------------------------------------------


def test_progress_bar_shows_epoch_loss_and_images_per_second(make_trainer, capsys):
    _, trainer = make_trainer(iterations=10, callbacks=[ProgressBar()])
    trainer.train()
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "10/10" in err
    assert re.search(r"loss=\d\.\d{4}", err) and re.search(r"img/s=\d+", err)
    assert "train_acc@" in err and "test_acc@" in err and "val_acc" not in err
    # accuracies are labelled with the epoch they were measured at (the run's end: 10 of 7
    # iterations per epoch)
    assert re.search(r"test_acc@1\.4286=\d\.\d{4}", err)


def test_progress_bar_of_a_resumed_run_starts_where_it_stopped(make_trainer, tmp_path, capsys):
    make_trainer(epochs=1, checkpoint_path=tmp_path / "ck.npz")[1].train()
    _, trainer = make_trainer(epochs=3, progress=True)
    trainer.resume(tmp_path / "ck.npz")
    trainer.train()
    err = capsys.readouterr().err
    assert "7/21" in err and "21/21" in err and "epoch 3/3" in err


# -- Trainer.from_config ---------------------------------------------------------------------


def from_config(data, make_net, config, **kwargs):
    sets = (data["train"], data["test"], data["val"] if config.val_fraction else (None, None))
    return Trainer.from_config(make_net(), sets, config, **kwargs)


def test_from_config_builds_the_trainer_the_config_describes(data, make_net, tmp_path):
    config = RunConfig(model="multi-layer", optimizer="momentum", lr=0.05, momentum=0.8,
                       iterations=10, batch_size=8, schedule="cosine", warmup=0.5,
                       sampling="replacement", val_fraction=0.2, patience=2, eval_limit=20,
                       seed=4)
    trainer = from_config(data, make_net, config, checkpoint_path=tmp_path / "ck.npz")
    assert trainer.config is config and trainer.max_iter == 10 and trainer.iter_per_epoch == 7
    assert isinstance(trainer.optimizer, Momentum) and trainer.optimizer.momentum == 0.8
    assert trainer.base_lr == 0.05 and trainer.sampling == "replacement" and trainer.seed == 4
    assert isinstance(trainer.schedule, Cosine)  # its length is the run's, known at once
    assert (trainer.schedule.total, trainer.schedule.warmup) == (10 / 7, 0.5)
    assert trainer.eval_limit == 20 and trainer.augment is None
    assert trainer.find_callback(EarlyStopping).patience == 2
    assert trainer.checkpoint_path == tmp_path / "ck.npz"
    history = trainer.train()
    assert history["lr"][0] < history["lr"][4] > history["lr"][-1]  # warm-up, then down


def test_from_config_schedules_and_augmentation(data, make_net):
    step = from_config(data, make_net, RunConfig(epochs=2, batch_size=8, schedule="step",
                                                 step_size=1, gamma=0.5))
    assert isinstance(step.schedule, StepDecay) and (step.schedule.step,
                                                     step.schedule.gamma) == (1.0, 0.5)
    assert step.max_iter == 14 and step.find_callback(ProgressBar) is None
    cnn_config = RunConfig(model="simple-cnn", augment=True, epochs=1)
    cnn = from_config(data, make_net, cnn_config, augment=augment_batch, progress=True)
    assert cnn.augment is augment_batch and cnn.find_callback(ProgressBar) is not None
    plain = from_config(data, make_net, RunConfig(epochs=1), augment=augment_batch)
    assert plain.augment is None  # only when the config asks for it
    with pytest.raises(ValueError) as info:
        from_config(data, make_net, cnn_config)
    assert str(info.value) == ("config.augment is True: pass augment=fn(x_batch, rng), e.g. "
                               "dlscratch.data.augment.augment_batch")
