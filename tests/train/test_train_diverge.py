"""A NaN/Inf loss or weight stops the run, names the layer and keeps the last good checkpoint."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dlscratch.train import TrainingDiverged
from dlscratch.train.checkpoint import read_checkpoint


def reference_state(make_trainer, epochs: int, **options) -> dict[str, np.ndarray]:
    """The weights after `epochs` of an undisturbed run with the same settings."""
    net, trainer = make_trainer(epochs=epochs, **options)
    trainer.train()
    return {k: v.copy() for k, v in {**net.params, **net.buffers}.items()}


def assert_checkpoint_is(ck, iteration: int, expected: dict[str, np.ndarray]) -> None:
    meta, groups = read_checkpoint(ck)
    assert meta["iteration"] == iteration
    assert len(meta["history"]["loss"]) == iteration
    assert all(np.all(np.isfinite(a)) for a in groups["net"].values())
    assert groups["net"].keys() == expected.keys()
    assert all(np.array_equal(groups["net"][k], expected[k]) for k in expected)


def lr_explodes_after(epoch: float, factor: float = 1e12):
    def schedule(e):
        return 1.0 if e < epoch else factor

    return schedule


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow in matmul etc.: the point here
def test_huge_learning_rate_stops_with_layer_and_checkpoint(make_trainer, tmp_path):
    ck = tmp_path / "ck.npz"
    options = dict(schedule=lr_explodes_after(2), optimizer_param={"lr": 0.1})
    _, trainer = make_trainer(epochs=5, checkpoint_path=ck, **options)
    with pytest.raises(TrainingDiverged) as info:
        trainer.train()
    message = str(info.value)
    assert re.search(r"non-finite values first appear in (Affine|Relu)\d", message), message
    assert f"the last good checkpoint is {ck}" in message
    assert "epoch 3" in message and "smaller learning rate" in message
    assert trainer.iteration < 3 * 7  # it stopped inside epoch 3
    assert_checkpoint_is(ck, 14, reference_state(make_trainer, 2, **options))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_huge_learning_rate_before_any_checkpoint(make_trainer, tmp_path):
    ck = tmp_path / "ck.npz"
    _, trainer = make_trainer(epochs=3, checkpoint_path=ck, optimizer_param={"lr": 1e30})
    with pytest.raises(TrainingDiverged, match="no checkpoint was written yet"):
        trainer.train()
    assert not ck.exists() and list(tmp_path.iterdir()) == []


def poison_after_update(trainer, update: int, key: str = "W1", value=np.inf) -> None:
    """After the optimizer's `update`-th step, write `value` into parameter `key`."""
    step = trainer.optimizer.update

    def poisoned(params, grads):
        step(params, grads)
        if trainer.optimizer.iter == update:
            params[key].flat[1] = value

    trainer.optimizer.update = poisoned


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("key, layer", [("W1", "Affine1"), ("b2", "Affine2")])
@pytest.mark.parametrize("value", [np.inf, np.nan])
def test_nonfinite_weight_mid_epoch_names_its_layer(make_trainer, tmp_path, key, layer, value):
    ck = tmp_path / "ck.npz"
    _, trainer = make_trainer(epochs=4, checkpoint_path=ck)
    poison_after_update(trainer, 10, key, value)
    with pytest.raises(TrainingDiverged) as info:
        trainer.train()
    message = str(info.value)
    assert f"{layer} (parameter {key})" in message
    assert "loss became nan at iteration 11 (epoch 2)" in message
    assert f"the last good checkpoint is {ck}" in message
    assert_checkpoint_is(ck, 7, reference_state(make_trainer, 1))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_weight_blown_up_by_an_epochs_last_update_is_not_checkpointed(make_trainer, tmp_path):
    """The loss of the last step is still finite; the check at the epoch's end must catch it."""
    ck = tmp_path / "ck.npz"
    _, trainer = make_trainer(epochs=4, checkpoint_path=ck)
    poison_after_update(trainer, 14)  # the last update of epoch 2
    with pytest.raises(TrainingDiverged) as info:
        trainer.train()
    message = str(info.value)
    assert "Affine1 (parameter W1)" in message and "iteration 14 (epoch 2)" in message
    assert f"the last good checkpoint is {ck}" in message
    assert_checkpoint_is(ck, 7, reference_state(make_trainer, 1))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_last_update_of_the_run_blowing_up_is_reported(make_trainer):
    _, trainer = make_trainer(epochs=2)
    poison_after_update(trainer, 14)
    with pytest.raises(TrainingDiverged, match="no checkpoint was written yet"):
        trainer.train()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nonfinite_batchnorm_statistics_are_reported(make_trainer, tmp_path):
    ck = tmp_path / "ck.npz"
    net, trainer = make_trainer(kind="batchnorm", epochs=3, checkpoint_path=ck)
    step = trainer.optimizer.update

    def poisoned(params, grads):
        step(params, grads)
        if trainer.optimizer.iter == 14:
            net.buffers["running_var1"][0] = np.inf

    trainer.optimizer.update = poisoned
    with pytest.raises(TrainingDiverged, match=r"BatchNormalization1 \(buffer running_var1\)"):
        trainer.train()
    assert read_checkpoint(ck)[0]["iteration"] == 7
