"""Training recipes: named RunConfigs (`dlscratch train --recipe NAME`), their networks, and the
RunConfig fields they brought (augmentation strengths, holdout, members)."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from dlscratch.cli.train_flags import add_run_flags, run_config
from dlscratch.nets.factory import build_model
from dlscratch.train import RunConfig
from dlscratch.train.recipes import RECIPES, describe_recipes, recipe_config


@pytest.mark.parametrize("name", list(RECIPES))
def test_each_recipe_is_a_valid_config_that_records_its_name(name):
    config = recipe_config(name)
    assert config.recipe == name
    assert RunConfig.from_json(config.to_json()) == config
    changed = recipe_config(name, epochs=1, seed=3)
    assert changed.epochs == 1 and changed.seed == 3 and changed.model == config.model


def test_the_listed_flags_give_the_recipe_back():
    """--list-recipes prints each recipe as flags: parsed by train's parser they make the same
    RunConfig (but for the recorded name)."""
    parser = argparse.ArgumentParser()
    add_run_flags(parser)
    lines = describe_recipes().splitlines()
    for name in RECIPES:
        flags = lines[lines.index(next(x for x in lines if x.startswith(f"{name}:"))) + 1]
        args = parser.parse_args(flags.split())
        args.resume, args.out = False, "unused"
        assert run_config(args) == recipe_config(name).replace(recipe=None)


def test_no_augment_turns_a_recipes_augmentation_off():
    """--no-augment beside --recipe record: no augmentation, and none of the recipe's
    augmentation settings left behind; an augmentation flag given with it is refused."""
    from dlscratch.train.run_config import AUGMENT_FIELDS

    parser = argparse.ArgumentParser()
    add_run_flags(parser)
    parser.add_argument("--recipe")

    def config(*flags):
        args = parser.parse_args(["--recipe", "record", *flags])
        args.resume, args.out = False, "unused"
        return run_config(args)

    off = config("--no-augment")
    assert off.augment is False and off.model == "record-cnn"
    assert all(getattr(off, name) == getattr(RunConfig, name) for name in AUGMENT_FIELDS)
    assert config().elastic_alpha == RECIPES["record"]["elastic_alpha"]
    with pytest.raises(ValueError, match="--elastic-alpha sets the augmentation: it cannot be "
                                       "used with --no-augment"):
        config("--no-augment", "--elastic-alpha", "3")


def test_unknown_recipe():
    with pytest.raises(ValueError, match="recipe must be one of 'fast', 'accurate', 'record', "
                                         "got 'best'"):
        recipe_config("best")


def count(shape) -> int:
    return int(np.prod(shape))


@pytest.mark.parametrize("model, layers", [
    # (weights, bias) shapes per layer with parameters, from the architecture in the docstring
    ("fast-cnn", [(16, 1, 5, 5), 16, (32, 16, 5, 5), 32, (32 * 7 * 7, 128), 128, (128, 10), 10]),
    ("bn-cnn", [(24, 1, 5, 5), 24, 24, 24, (48, 24, 5, 5), 48, 48, 48, (48 * 7 * 7, 128), 128,
                128, 128, (128, 10), 10]),
    ("record-cnn", [(32, 1, 3, 3), 32, 32, 32, (32, 32, 3, 3), 32, 32, 32, (64, 32, 3, 3), 64,
                    64, 64, (64, 64, 3, 3), 64, 64, 64, (64 * 7 * 7, 256), 256, 256, 256,
                    (256, 10), 10]),
])
def test_recipe_networks_have_the_documented_layers(model, layers):
    net = build_model(model, seed=0)
    assert [count(p.shape) for p in net.params.values()] == [count(s) for s in layers]
    x = np.random.default_rng(0).random((3, 1, 28, 28)).astype(np.float32)
    assert net.predict(x).shape == (3, 10)


def test_recipe_networks_check_their_gradients():
    """One float64 gradient check of the largest recipe network on a tiny batch (its layers
    are checked one by one elsewhere; this checks their wiring)."""
    net = build_model("record-cnn", hidden=[8], dtype=np.float64, seed=1)
    rng = np.random.default_rng(0)
    x, t = rng.random((2, 1, 28, 28)), np.array([3, 7])
    state = net.get_rng_state()  # every loss below draws the same dropout mask
    analytic = net.gradient(x, t)

    def loss():
        net.set_rng_state(state)
        return net.loss(x, t, train_flg=True)

    for key in ("W1", "gamma1", "W5"):  # first conv, first BN, the dense layer
        p = net.params[key]
        flat = p.reshape(-1)
        for i in rng.choice(flat.size, 3, replace=False):
            old = flat[i]
            flat[i] = old + 1e-5
            up = loss()
            flat[i] = old - 1e-5
            down = loss()
            flat[i] = old
            numeric = (up - down) / 2e-5
            assert abs(numeric - analytic[key].reshape(-1)[i]) <= 1e-6 + 1e-4 * abs(numeric)


@pytest.mark.parametrize("kwargs, message", [
    (dict(augment_scale=0.1), "augment_scale sets the augmentation: it needs augment=True"),
    (dict(model="simple-cnn", elastic_alpha=5), "elastic_alpha sets the augmentation"),
    (dict(model="simple-cnn", augment=True, elastic_sigma=0.1),
     "elastic_sigma must be in [0.5, 28], got 0.1"),
    (dict(model="simple-cnn", augment=True, augment_angle=200),
     "augment_angle must be in [0, 180], got 200"),
    (dict(holdout=100, val_fraction=0.1), "give val_fraction or holdout, not both"),
    (dict(holdout=-1), "holdout must be an integer >= 0, got -1"),
    (dict(members=0), "members must be an integer >= 1, got 0"),
    (dict(members=101), "members must be at most 100, got 101"),
    (dict(members=2, holdout=100, patience=2), "patience stops one network early"),
])
def test_new_fields_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        RunConfig(**kwargs)


def test_augment_settings_feed_augment_batch():
    from dlscratch.data.augment import augment_batch, augmenter

    config = RunConfig(model="simple-cnn", augment=True, augment_scale=0.1, elastic_alpha=20)
    x = np.random.default_rng(0).random((4, 1, 28, 28)).astype(np.float32)
    fn = augmenter(config)
    np.testing.assert_array_equal(
        fn(x, np.random.default_rng(1)),
        augment_batch(x, np.random.default_rng(1), 2, 10, 0.1, 20, 4))
    assert augmenter(RunConfig()) is None
    # the defaults are augment_batch's own: a run made before the settings existed is unchanged
    plain = augmenter(RunConfig(model="simple-cnn", augment=True))
    np.testing.assert_array_equal(plain(x, np.random.default_rng(2)),
                                  augment_batch(x, np.random.default_rng(2)))
