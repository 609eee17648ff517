"""Trainer: determinism, sampling, evaluation, progress bar, early stopping, argument checks."""

from __future__ import annotations

import numpy as np
import pytest

from dlscratch.optim import Adam, Momentum
from dlscratch.train import Trainer

# -- determinism -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["two-layer", "dropout+batchnorm"])
@pytest.mark.parametrize("sampling", ["shuffle", "replacement"])
def test_same_seed_same_run(make_trainer, helpers, kind, sampling):
    runs = [make_trainer(kind=kind, sampling=sampling, seed=7, optimizer="Adam",
                         optimizer_param={"lr": 0.01}) for _ in range(2)]
    histories = [trainer.train() for _, trainer in runs]
    assert helpers.comparable(histories[0]) == helpers.comparable(histories[1])
    assert helpers.same_weights(runs[0][0], runs[1][0])


@pytest.mark.parametrize("sampling", ["shuffle", "replacement"])
def test_different_seed_different_run(make_trainer, helpers, sampling):
    (net_a, a), (net_b, b) = (make_trainer(sampling=sampling, seed=s) for s in (1, 2))
    assert a.train()["loss"] != b.train()["loss"]
    assert not helpers.same_weights(net_a, net_b)


def test_history_shape_and_iterations(make_trainer, data):
    _, trainer = make_trainer(epochs=3)
    assert trainer.batch_size == 8 and trainer.iter_per_epoch == 60 // 8 == 7
    h = trainer.train()
    assert trainer.iteration == trainer.max_iter == 21
    assert len(h["loss"]) == len(h["lr"]) == 21
    assert all(np.isfinite(h["loss"]))
    assert h["epoch"] == [0.0, 1.0, 2.0, 3.0] and h["iteration"] == [0, 7, 14, 21]
    assert h["epoch_loss"][0] is None
    assert h["epoch_loss"][1:] == [pytest.approx(np.mean(h["loss"][i:i + 7])) for i in (0, 7, 14)]
    assert all(0.0 <= a <= 1.0 for a in h["train_acc"] + h["test_acc"])
    assert h["val_acc"] == [None] * 4  # no validation set given
    assert h["test_acc"][-1] > 0.7  # it learns (3 overlapping classes; chance is 1/3)


def test_iterations_override_epochs_and_end_mid_epoch(make_trainer):
    _, trainer = make_trainer(epochs=100, iterations=10)
    h = trainer.train()
    assert trainer.iteration == 10
    assert h["iteration"] == [0, 7, 10]
    assert h["epoch"] == [0.0, 1.0, round(10 / 7, 4)]
    assert h["epoch_loss"][-1] == pytest.approx(np.mean(h["loss"][7:10]))


def test_fractional_epochs_round_to_iterations_but_never_to_zero(make_trainer):
    assert make_trainer(epochs=1.5)[1].max_iter == round(1.5 * 7)
    _, trainer = make_trainer(epochs=0.01)
    assert trainer.max_iter == 1
    assert len(trainer.train()["loss"]) == 1


def test_optimizer_by_name_with_hyperparameters_or_as_object(make_trainer):
    _, trainer = make_trainer(optimizer="momentum", optimizer_param={"lr": 0.05, "momentum": 0.8})
    assert isinstance(trainer.optimizer, Momentum)
    assert (trainer.optimizer.lr, trainer.optimizer.momentum) == (0.05, 0.8)
    opt = Adam(lr=0.002, beta1=0.8)
    _, trainer = make_trainer(optimizer=opt)
    assert trainer.optimizer is opt and trainer.base_lr == 0.002
    trainer.train()
    assert opt.iter == trainer.max_iter and set(opt.state["m"]) == {"W1", "b1", "W2", "b2"}


def test_evaluate_initial_can_be_switched_off(make_trainer):
    _, trainer = make_trainer(epochs=2, evaluate_initial=False)
    assert trainer.train()["epoch"] == [1.0, 2.0]


def test_evaluation_sample_limit(make_trainer, data):
    net, trainer = make_trainer(epochs=2, evaluate_sample_num_per_epoch=10,
                                x_val=data["val"][0], t_val=data["val"][1])
    calls = []
    accuracy = trainer.model.accuracy  # the Trainer evaluates through its DataParallel model
    trainer.model.accuracy = lambda x, t: calls.append(len(x)) or accuracy(x, t)
    h = trainer.train()
    assert calls == [10] * 9  # train, test and val, 3 evaluations
    for name in ("train", "test", "val"):
        assert all(round(a * 10) == pytest.approx(a * 10) for a in h[f"{name}_acc"])
    x, t = data["val"]
    assert h["val_acc"][-1] == accuracy(x[:10], t[:10])


def test_verbose_prints_one_line_per_evaluation(make_trainer, capsys):
    make_trainer(epochs=2, verbose=True)[1].train()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[-1].startswith("epoch 2 (iteration 14): ")
    assert "test_acc" in lines[-1] and "train_acc" in lines[-1]


def test_progress_bar_shows_live_loss_and_accuracy(make_trainer, capsys):
    make_trainer(epochs=2, progress=True)[1].train()
    err = capsys.readouterr().err
    assert "14/14" in err and "it" in err
    assert "loss=" in err and "test_acc@" in err and "train_acc@" in err


def test_no_progress_output_by_default(make_trainer, capsys):
    make_trainer(epochs=1)[1].train()
    assert capsys.readouterr() == ("", "")


# -- sampling --------------------------------------------------------------------------------


def record_batches(trainer) -> list[np.ndarray]:
    """Wrap trainer.sampler.batch so every drawn index array is kept."""
    drawn = []
    batch = trainer.sampler.batch

    def spy(iteration):
        idx = batch(iteration)
        drawn.append(np.array(idx))
        return idx

    trainer.sampler.batch = spy
    return drawn


def test_shuffle_uses_each_sample_at_most_once_per_epoch(make_trainer):
    _, trainer = make_trainer(epochs=3)
    drawn = record_batches(trainer)
    trainer.train()
    assert len(drawn) == 21 and all(len(b) == 8 for b in drawn)
    epochs = [np.concatenate(drawn[i:i + 7]) for i in (0, 7, 14)]
    for used in epochs:
        assert len(np.unique(used)) == 56  # 7 batches of 8, no repeats; 4 samples sit out
        assert used.min() >= 0 and used.max() < 60
    assert not np.array_equal(epochs[0], epochs[1])  # a new permutation every epoch
    assert not np.array_equal(np.sort(epochs[0]), np.sort(epochs[1]))  # other ones sit out


def test_replacement_draws_with_replacement(make_trainer):
    _, trainer = make_trainer(epochs=3, sampling="replacement")
    drawn = record_batches(trainer)
    trainer.train()
    assert len(drawn) == 21 and all(len(b) == 8 for b in drawn)
    everything = np.concatenate(drawn)
    assert everything.min() >= 0 and everything.max() < 60
    # 56 draws from 60 per "epoch": with replacement repeats are (almost) certain - here, seed 0
    assert len(np.unique(np.concatenate(drawn[:7]))) < 56
    assert any(len(np.unique(b)) < len(b) for b in drawn)  # even inside a batch, sometimes


def test_batch_larger_than_dataset_is_clamped(make_trainer):
    _, trainer = make_trainer(mini_batch_size=1000, epochs=2)
    drawn = record_batches(trainer)
    trainer.train()
    assert trainer.batch_size == 60 and trainer.iter_per_epoch == 1 and trainer.max_iter == 2
    assert [sorted(b.tolist()) for b in drawn] == [list(range(60))] * 2


# -- early stopping --------------------------------------------------------------------------


def ascent_after(epoch: float):
    """A schedule that turns gradient descent into ascent after `epoch`: val accuracy drops."""

    def schedule(e):
        return 1.0 if e < epoch else -1.0

    return schedule


def test_early_stopping_stops_and_restores_best_weights(make_trainer, data, helpers, tmp_path):
    x_val, t_val = data["val"]
    net, trainer = make_trainer(epochs=20, x_val=x_val, t_val=t_val, early_stopping_patience=2,
                                schedule=ascent_after(3), optimizer_param={"lr": 0.2},
                                checkpoint_path=tmp_path / "ck.npz")
    h = trainer.train()
    assert trainer.stopped_early
    assert trainer.iteration < trainer.max_iter
    best = max(h["val_acc"])
    best_epoch = h["epoch"][h["val_acc"].index(best)]
    assert h["epoch"][-1] == best_epoch + 2  # patience: 2 epochs without improvement
    assert h["val_acc"][-1] < best  # the last weights are worse ...
    assert net.accuracy(x_val, t_val) == best  # ... and the best ones are back
    from dlscratch.train.checkpoint import read_checkpoint

    meta, groups = read_checkpoint(tmp_path / "ck.npz")
    assert meta["stopped_early"] and meta["best"] == [best, best_epoch]
    assert all(np.array_equal(groups["best"][k], v) for k, v in helpers.weights(net).items())


def test_early_stopping_counts_the_initial_weights(make_trainer, data):
    x_val, t_val = data["val"]
    net, trainer = make_trainer(epochs=20, x_val=x_val, t_val=t_val, early_stopping_patience=2,
                                schedule=ascent_after(0))  # it only gets worse
    initial = net.accuracy(x_val, t_val)
    h = trainer.train()
    assert trainer.stopped_early and h["epoch"] == [0.0, 1.0, 2.0]
    assert h["val_acc"][0] == initial == max(h["val_acc"]) > h["val_acc"][-1]
    assert net.accuracy(x_val, t_val) == initial


def test_without_early_stopping_the_last_weights_are_kept(make_trainer, data):
    x_val, t_val = data["val"]
    net, trainer = make_trainer(epochs=5, x_val=x_val, t_val=t_val, schedule=ascent_after(3),
                                optimizer_param={"lr": 0.2})
    h = trainer.train()
    assert not trainer.stopped_early and trainer.iteration == trainer.max_iter
    assert net.accuracy(x_val, t_val) == h["val_acc"][-1]


# -- argument checks -------------------------------------------------------------------------


VAL = "use the validation set"  # stands for x_val / t_val in the table below


@pytest.mark.parametrize("kwargs, message", [
    (dict(t_train=np.zeros(59, np.int64)), "same non-zero length, got 60 and 59"),
    (dict(x_train=np.zeros((0, 8), np.float32), t_train=np.zeros(0, np.int64)), "non-zero"),
    (dict(t_test=np.zeros(39, np.int64)), "x_test and t_test must have the same"),
    (dict(t_test=None), "pass both x_test and t_test"),
    (dict(x_val=VAL), "pass both x_val and t_val"),
    (dict(sampling="bootstrap"), "sampling must be 'shuffle' or 'replacement', got 'bootstrap'"),
    (dict(mini_batch_size=0), "mini_batch_size must be >= 1, got 0"),
    (dict(epochs=0), "epochs must be"),
    (dict(epochs=-1), "epochs must be"),
    (dict(epochs=float("inf")), "epochs must be"),
    (dict(epochs=float("nan")), "epochs must be"),
    (dict(epochs=None), "epochs must be"),
    (dict(iterations=0), "iterations must be >= 1, got 0"),
    (dict(early_stopping_patience=3), "early stopping watches validation accuracy"),
    (dict(early_stopping_patience=0, x_val=VAL, t_val=VAL), "patience must be >= 1"),
    (dict(evaluate_sample_num_per_epoch=0), "evaluate_sample_num_per_epoch must be >= 1"),
    (dict(optimizer="lbfgs"), "unknown optimizer 'lbfgs'"),
    (dict(optimizer_param={"lr": -1}), "lr must be a finite number > 0"),
    (dict(schedule="warmup-restarts"), "unknown schedule 'warmup-restarts'"),
    (dict(schedule="cosine"), "schedule 'cosine': bad arguments"),  # needs total
])
def test_bad_arguments_raise_clear_errors(data, make_net, kwargs, message):
    (x, t), (xt, tt), (xv, tv) = data["train"], data["test"], data["val"]
    args = dict(x_train=x, t_train=t, x_test=xt, t_test=tt, epochs=1, mini_batch_size=8)
    args.update(kwargs)
    if args.get("x_val") is VAL:
        args["x_val"] = xv
    if args.get("t_val") is VAL:
        args["t_val"] = tv
    with pytest.raises(ValueError, match=message):
        Trainer(make_net(), **args)
