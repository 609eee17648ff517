"""Checkpoints and resume: an interrupted and resumed run ends bit-identical to a straight one."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import numpy as np
import pytest

from dlscratch.io.serialize import ModelFileError, save
from dlscratch.train.checkpoint import META_KEY, read_checkpoint

# (network, trainer options) per case; every case runs with both sampling modes.
CASES = {
    "adam": ("two-layer", dict(optimizer="Adam", optimizer_param={"lr": 0.01})),
    "momentum": ("two-layer", dict(optimizer="Momentum",
                                   optimizer_param={"lr": 0.05, "momentum": 0.9})),
    "nesterov": ("two-layer", dict(optimizer="Nesterov", optimizer_param={"lr": 0.05})),
    "rmsprop": ("two-layer", dict(optimizer="RMSprop", optimizer_param={"lr": 0.01})),
    "cosine": ("two-layer", dict(schedule={"name": "cosine", "total": 4, "warmup": 1})),
    "step": ("two-layer", dict(optimizer="Momentum", schedule={"name": "step", "step": 1,
                                                                "gamma": 0.5})),
    "dropout": ("dropout", dict(optimizer="Adam", optimizer_param={"lr": 0.01})),
    "batchnorm": ("batchnorm", dict(optimizer="Adam", optimizer_param={"lr": 0.01})),
    "dropout+batchnorm+cosine": ("dropout+batchnorm", dict(
        optimizer="Momentum", schedule={"name": "cosine", "total": 4})),
    "early-stopping": ("dropout", dict(optimizer="Adam", optimizer_param={"lr": 0.01},
                                       early_stopping_patience=3, x_val="val")),
}


def interrupt_at(trainer, iteration: int) -> None:
    """Make the trainer's gradient raise KeyboardInterrupt on its `iteration`-th call (a
    Ctrl-C). The Trainer runs the network through its DataParallel wrapper, trainer.model."""
    gradient, calls = trainer.model.gradient, [0]

    def interrupted(x, t):
        calls[0] += 1
        if calls[0] == iteration:
            raise KeyboardInterrupt
        return gradient(x, t)

    trainer.model.gradient = interrupted


@pytest.fixture
def run(make_trainer, data):
    """run(kind, options, ...) -> (net, trainer) with x_val="val" replaced by the val set."""

    def make(kind, options, **more):
        options = {**options, **more}
        if options.get("x_val") == "val":
            options["x_val"], options["t_val"] = data["val"]
        return make_trainer(kind=kind, **options)

    return make


@pytest.mark.parametrize("sampling", ["shuffle", "replacement"])
@pytest.mark.parametrize("case", list(CASES))
def test_resume_after_interrupt_equals_straight_run(run, helpers, tmp_path, case, sampling):
    kind, options = CASES[case]
    ck = tmp_path / "checkpoint.npz"
    straight_net, straight = run(kind, options, epochs=4, sampling=sampling)
    expected = straight.train()

    net, trainer = run(kind, options, epochs=4, sampling=sampling, checkpoint_path=ck)
    interrupt_at(trainer, 2 * 7 + 3)  # in epoch 3: epochs 1 and 2 are checkpointed
    with pytest.raises(KeyboardInterrupt):
        trainer.train()
    assert read_checkpoint(ck)[0]["iteration"] == 14

    fresh_net, resumed = run(kind, options, epochs=4, sampling=sampling, checkpoint_path=ck)
    resumed.resume(ck)
    assert resumed.iteration == 14 and len(resumed.history["loss"]) == 14
    history = resumed.train()
    assert helpers.same_weights(fresh_net, straight_net)
    assert history["loss"] == expected["loss"] and history["lr"] == expected["lr"]
    assert helpers.comparable(history) == helpers.comparable(expected)
    assert read_checkpoint(ck)[0]["iteration"] == 28


@pytest.mark.parametrize("sampling", ["shuffle", "replacement"])
def test_resume_with_iterations_ending_mid_epoch(run, helpers, tmp_path, sampling):
    kind, options = CASES["dropout+batchnorm+cosine"]
    ck = tmp_path / "ck.npz"
    straight_net, straight = run(kind, options, iterations=23, sampling=sampling)
    expected = straight.train()
    assert expected["iteration"] == [0, 7, 14, 21, 23]

    # a run of 23 iterations interrupted at iteration 22 (last checkpoint: epoch 3)
    net, trainer = run(kind, options, iterations=23, sampling=sampling, checkpoint_path=ck)
    interrupt_at(trainer, 22)
    with pytest.raises(KeyboardInterrupt):
        trainer.train()
    fresh_net, resumed = run(kind, options, iterations=23, sampling=sampling, checkpoint_path=ck)
    resumed.resume(ck)
    assert helpers.comparable(resumed.train()) == helpers.comparable(expected)
    assert helpers.same_weights(fresh_net, straight_net)

    # a shorter run that ended mid-epoch (iteration 10), continued to 23: same weights and
    # losses; its history keeps the extra evaluation it made when it ended
    ck2 = tmp_path / "ck2.npz"
    run(kind, options, iterations=10, sampling=sampling, checkpoint_path=ck2)[1].train()
    assert read_checkpoint(ck2)[0]["iteration"] == 10
    longer_net, longer = run(kind, options, iterations=23, sampling=sampling)
    longer.resume(ck2)
    history = longer.train()
    assert helpers.same_weights(longer_net, straight_net)
    assert history["loss"] == expected["loss"] and history["lr"] == expected["lr"]
    assert history["iteration"] == [0, 7, 10, 14, 21, 23]


def test_resuming_a_finished_run_changes_nothing(run, helpers, tmp_path):
    kind, options = CASES["adam"]
    ck = tmp_path / "ck.npz"
    net, trainer = run(kind, options, epochs=2, checkpoint_path=ck)
    expected = trainer.train()
    before = ck.read_bytes()
    fresh_net, again = run(kind, options, epochs=2, checkpoint_path=ck)
    again.resume(ck)
    assert helpers.comparable(again.train()) == helpers.comparable(expected)
    assert helpers.same_weights(fresh_net, net)
    assert ck.read_bytes() == before  # nothing trained, nothing written


# -- the checkpoint file ---------------------------------------------------------------------


def test_checkpoint_is_npz_with_json_meta_and_no_pickle(run, tmp_path):
    ck = tmp_path / "ck.npz"
    net, trainer = run("dropout+batchnorm", CASES["adam"][1], epochs=2, checkpoint_path=ck)
    trainer.train()
    with np.load(ck, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays.pop(META_KEY)))
    assert {k for k in arrays if k.startswith("net/")} == {
        f"net/{k}" for k in [*net.params, *net.buffers]}
    assert "net/running_mean1" in arrays and "net/running_var2" in arrays
    for key, param in net.params.items():  # Adam's two moments for every parameter
        assert np.array_equal(arrays[f"net/{key}"], param)
        assert arrays[f"opt/m/{key}"].shape == arrays[f"opt/v/{key}"].shape == param.shape
    assert all(v.dtype != object for v in arrays.values())
    assert meta["optimizer"] == {"type": "Adam", "iter": 14, "lr": 0.01, "beta1": 0.9,
                                 "beta2": 0.999}
    assert meta["iteration"] == 14
    assert meta["settings"]["batch_size"] == 8 and meta["settings"]["sampling"] == "shuffle"
    assert meta["architecture"]["model"] == "MultiLayerNetExtend"
    assert meta["rng"]["bit_generator"] == "PCG64"
    assert len(meta["network_rng"]) == 2  # the two dropout layers' generators
    assert sorted(meta["order"]) == list(range(60))  # the current epoch's permutation
    assert len(meta["history"]["loss"]) == 14 and meta["history"]["epoch"] == [0.0, 1.0, 2.0]


def test_momentum_velocity_is_in_the_checkpoint(run, tmp_path):
    ck = tmp_path / "ck.npz"
    net, trainer = run("two-layer", CASES["momentum"][1], epochs=1, checkpoint_path=ck)
    trainer.train()
    meta, groups = read_checkpoint(ck)
    assert set(groups["opt"]) == {f"v/{k}" for k in net.params}
    assert all(np.array_equal(groups["opt"][f"v/{k}"], trainer.optimizer.state["v"][k])
               for k in net.params)
    assert meta["optimizer"]["momentum"] == 0.9


def listing(folder) -> list[str]:
    return sorted(os.listdir(folder))


def test_checkpoint_write_is_atomic(run, tmp_path, monkeypatch):
    ck = tmp_path / "ck.npz"
    _, trainer = run("two-layer", CASES["adam"][1], epochs=1, checkpoint_path=ck)
    trainer.train()
    good = ck.read_bytes()

    def savez_then_fail(file, *args, **kwargs):
        file.write(b"PK\x03\x04 half a zip file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", savez_then_fail)
    with pytest.raises(OSError, match="No space left"):
        trainer.save_checkpoint(ck)
    assert ck.read_bytes() == good and listing(tmp_path) == ["ck.npz"]

    # the same failure at the end of an epoch inside train(): the run stops, epoch 1 stays
    _, longer = run("two-layer", CASES["adam"][1], epochs=3, checkpoint_path=ck)
    longer.resume(ck)
    with pytest.raises(OSError, match="No space left"):
        longer.train()
    assert ck.read_bytes() == good and listing(tmp_path) == ["ck.npz"]
    monkeypatch.undo()
    assert read_checkpoint(ck)[0]["iteration"] == 7


@pytest.mark.parametrize("change, message", [
    (dict(mini_batch_size=10), "batch_size: checkpoint 8 vs now 10"),
    (dict(sampling="replacement"), "sampling"),
    (dict(seed=1), "seed"),
    (dict(optimizer_param={"lr": 0.02}), "base_lr"),
    (dict(optimizer="Momentum"), "optimizer"),
    (dict(schedule={"name": "step", "step": 1}), "schedule"),
    (dict(kind="dropout"), "the network differs"),
])
def test_resume_with_different_settings_is_refused(run, tmp_path, helpers, change, message):
    ck = tmp_path / "ck.npz"
    run("two-layer", CASES["adam"][1], epochs=1, checkpoint_path=ck)[1].train()
    change = dict(change)
    kind = change.pop("kind", "two-layer")
    net, other = run(kind, {**CASES["adam"][1], **change}, epochs=2)
    before = helpers.weights(net)
    with pytest.raises(ValueError, match="cannot resume a different run") as info:
        other.resume(ck)
    assert message in str(info.value)
    assert other.iteration == 0
    assert all(np.array_equal(v, before[k]) for k, v in helpers.weights(net).items())


def test_resume_with_a_differently_shaped_network_is_refused(run, make_trainer, tmp_path):
    from dlscratch.nets import TwoLayerNet

    ck = tmp_path / "ck.npz"
    run("two-layer", CASES["adam"][1], epochs=1, checkpoint_path=ck)[1].train()
    _, other = make_trainer(net=TwoLayerNet(8, 12, 3, seed=0), **CASES["adam"][1])
    with pytest.raises(ValueError, match="the network differs"):
        other.resume(ck)


def test_resume_may_change_the_length_of_the_run(run, tmp_path):
    ck = tmp_path / "ck.npz"
    run("two-layer", CASES["adam"][1], epochs=1, checkpoint_path=ck)[1].train()
    _, longer = run("two-layer", CASES["adam"][1], epochs=3)
    longer.resume(ck)
    assert longer.iteration == 7 and longer.train()["epoch"][-1] == 3.0


def test_corrupted_checkpoints_raise_model_file_error(run, tmp_path):
    ck = tmp_path / "ck.npz"
    net, trainer = run("two-layer", CASES["adam"][1], epochs=1, checkpoint_path=ck)
    trainer.train()
    data = ck.read_bytes()
    _, fresh = run("two-layer", CASES["adam"][1], epochs=2)

    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 2])
    garbage = tmp_path / "garbage.npz"
    garbage.write_text("not a checkpoint at all\n")
    model = save(net, tmp_path / "model.npz")  # a model file is not a checkpoint
    bad_json = tmp_path / "bad_json.npz"
    np.savez(bad_json, **{META_KEY: np.array("{not json")})
    no_settings = tmp_path / "no_settings.npz"
    np.savez(no_settings, **{META_KEY: np.array(json.dumps({"iteration": 3}))})
    for path, message in [(truncated, "unreadable checkpoint"), (garbage, "unreadable checkpoint"),
                          (model, "not a dlscratch checkpoint"), (bad_json, "unreadable"),
                          (no_settings, "not a training checkpoint"),
                          (tmp_path / "missing.npz", "checkpoint not found")]:
        with pytest.raises(ModelFileError, match=message) as info:
            fresh.resume(path)
        assert str(path) in str(info.value)
    assert fresh.iteration == 0


def test_checkpoint_with_missing_records_raises_model_file_error(run, tmp_path, helpers):
    ck = tmp_path / "ck.npz"
    run("two-layer", CASES["adam"][1], epochs=1, checkpoint_path=ck)[1].train()
    meta, groups = read_checkpoint(ck)
    del meta["rng"]
    from dlscratch.train.checkpoint import write_checkpoint

    write_checkpoint(ck, meta, groups)
    _, fresh = run("two-layer", CASES["adam"][1], epochs=2)
    before = helpers.weights(fresh.network)
    with pytest.raises(ModelFileError, match="incomplete checkpoint.*rng"):
        fresh.resume(ck)
    assert helpers.same_weights(fresh.network, SimpleNamespace(params=before, buffers={}))
    assert fresh.iteration == 0 and fresh.history["loss"] == []


def test_resume_into_a_network_initialised_with_another_seed(run, make_trainer, make_net,
                                                            helpers, tmp_path):
    """The weights come from the checkpoint, so the fresh network's init seed does not matter."""
    kind, options = CASES["dropout"]
    ck = tmp_path / "ck.npz"
    straight_net, straight = run(kind, options, epochs=3)
    straight.train()
    run(kind, options, epochs=1, checkpoint_path=ck)[1].train()
    other_net, resumed = make_trainer(net=make_net(kind, seed=99), epochs=3, **options)
    resumed.resume(ck)
    resumed.train()
    assert helpers.same_weights(other_net, straight_net)
