"""RunConfig: presets, every validation message, the JSON round trip and old config.json files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from dlscratch.nets.factory import build_model, check_model_options
from dlscratch.train import PRESETS, RunConfig
from dlscratch.train.run_config import ADDED_IN_2

OLD_RUNS = Path(__file__).parent / "data"

# -- defaults and presets --------------------------------------------------------------------


def test_defaults_take_the_models_preset():
    c = RunConfig()
    assert (c.model, c.optimizer, c.lr, c.iterations, c.epochs) == ("two-layer", "sgd", 0.1,
                                                                    10000, None)
    for model, preset in PRESETS.items():
        c = RunConfig(model=model)
        assert {k: getattr(c, k) for k in preset} == preset
    assert RunConfig(model="multi-layer", iterations=50).epochs is None  # one length only
    c = RunConfig(model="simple-cnn", optimizer="momentum", momentum=0.5)
    assert (c.optimizer, c.lr, c.momentum, c.epochs) == ("momentum", 0.001, 0.5, 20.0)


def test_values_are_normalised():
    c = RunConfig(epochs=3, lr=1, hidden=[20, 30], step_size=2, schedule="step")
    assert isinstance(c.epochs, float) and isinstance(c.lr, float)
    assert c.hidden == (20, 30) and c.step_size == 2.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.lr = 0.5  # a RunConfig is a value: make a changed copy with replace()


def test_replace_one_length_replaces_the_other():
    c = RunConfig(model="multi-layer")
    assert c.replace(iterations=7).to_dict() | {"iterations": None, "epochs": 10.0} == c.to_dict()
    assert c.replace(iterations=7).epochs is None
    assert c.replace(iterations=7).replace(epochs=2).iterations is None
    assert c.replace(lr=0.01).epochs == 10.0
    assert c.differences(c.replace(lr=0.01, seed=3)) == {"lr": (0.001, 0.01), "seed": (0, 3)}
    assert c.differences(c) == {}


# -- validation: every message names the field -----------------------------------------------


@pytest.mark.parametrize("kwargs, message", [
    (dict(model="resnet"), "model must be one of 'two-layer', 'multi-layer', 'simple-cnn', "
                           "'deep-cnn', 'fast-cnn', 'bn-cnn', 'record-cnn', got 'resnet'"),
    (dict(dataset="cifar10"), "dataset must be one of 'mnist', 'fashion-mnist', got 'cifar10'"),
    (dict(optimizer="lbfgs"), "optimizer must be one of 'sgd', 'momentum', 'nesterov', "
                              "'adagrad', 'rmsprop', 'adam', got 'lbfgs'"),
    (dict(lr=0), "lr must be a finite number > 0, got 0"),
    (dict(lr=float("nan")), "lr must be a finite number > 0, got nan"),
    (dict(lr="0.1"), "lr must be a finite number > 0, got '0.1'"),
    (dict(optimizer="momentum", momentum=1.0), "momentum must be in [0, 1), got 1.0"),
    (dict(epochs=0), "epochs must be a finite number > 0, got 0"),
    (dict(epochs=float("inf")), "epochs must be a finite number > 0, got inf"),
    (dict(iterations=0), "iterations must be an integer >= 1, got 0"),
    (dict(iterations=2.5), "iterations must be an integer >= 1, got 2.5"),
    (dict(batch_size=0), "batch_size must be an integer >= 1, got 0"),
    (dict(batch_size=True), "batch_size must be an integer >= 1, got True"),
    (dict(batch_size=None), "batch_size must be an integer >= 1, got None"),
    (dict(weight_decay=-0.1), "weight_decay must be a finite number >= 0, got -0.1"),
    (dict(dropout=1), "dropout must be in [0, 1), got 1"),
    (dict(batchnorm=1), "batchnorm must be True or False, got 1"),
    (dict(activation="tanh"), "activation must be one of 'relu', 'sigmoid', got 'tanh'"),
    (dict(hidden=[]), "hidden must be a non-empty list of integers or None, got []"),
    (dict(hidden=[10, "5"]), "hidden must be a non-empty list of integers or None, got [10, '5']"),
    (dict(hidden=50), "hidden must be a non-empty list of integers or None, got 50"),
    (dict(hidden=[10, 0]), "hidden sizes must be >= 1, got [10, 0]"),
    (dict(schedule="exponential"), "schedule must be one of 'constant', 'step', 'cosine', "
                                   "got 'exponential'"),
    (dict(schedule="step", step_size=0), "step_size must be a finite number > 0, got 0"),
    (dict(schedule="step", gamma=0), "gamma must be in (0, 1], got 0"),
    (dict(schedule="cosine", warmup=-1), "warmup must be a finite number >= 0, got -1"),
    (dict(sampling="bootstrap"), "sampling must be one of 'shuffle', 'replacement', "
                                 "got 'bootstrap'"),
    (dict(augment="yes"), "augment must be True or False, got 'yes'"),
    (dict(val_fraction=1.0), "val_fraction must be in [0, 1), got 1.0"),
    (dict(val_fraction=0.1, patience=0), "patience must be an integer >= 1, got 0"),
    (dict(eval_limit=0), "eval_limit must be an integer >= 1, got 0"),
    (dict(limit=-1), "limit must be an integer >= 1, got -1"),
    (dict(seed=-1), "seed must be an integer >= 0, got -1"),
    (dict(seed=None), "seed must be an integer >= 0, got None"),
    (dict(dtype="float16"), "dtype must be one of 'float32', 'float64', got 'float16'"),
    (dict(data_dir=3), "data_dir must be a string or None, got 3"),
    # combinations that would silently ignore a setting
    (dict(epochs=2, iterations=5), "give epochs or iterations, not both: got epochs=2.0, "
                                   "iterations=5"),
    (dict(momentum=0.5), "momentum is for optimizer='momentum' or 'nesterov', not 'sgd'"),
    (dict(step_size=2), "step_size is for schedule='step', not 'constant'"),
    (dict(schedule="cosine", gamma=0.5), "gamma is for schedule='step', not 'cosine'"),
    (dict(schedule="step", warmup=1), "warmup is for schedule='cosine', not 'step'"),
    (dict(patience=3), "patience needs a validation set: add val_fraction (e.g. 0.1)"),
    (dict(augment=True), "augment=True works on images: use it with 'simple-cnn', "
                         "'deep-cnn', 'fast-cnn', 'bn-cnn', 'record-cnn', not "
                         "model='two-layer'"),
    (dict(batchnorm=True), "batchnorm=True cannot be used with model='two-layer'"),
    (dict(model="deep-cnn", activation="sigmoid", weight_decay=0.1),
     "weight_decay=0.1, activation='sigmoid' cannot be used with model='deep-cnn'"),
])
def test_bad_settings_name_the_field(kwargs, message):
    with pytest.raises(ValueError) as info:
        RunConfig(**kwargs)
    assert str(info.value) == message


def test_build_model_errors_name_its_arguments():
    with pytest.raises(ValueError) as info:
        build_model("simple-cnn", batchnorm=True, dropout=0.5)
    assert str(info.value) == "batchnorm=True, dropout=0.5 cannot be used with model='simple-cnn'"
    with pytest.raises(ValueError, match=r"^model must be one of .* got 'resnet'$"):
        build_model("resnet")
    with pytest.raises(ValueError, match=r"^hidden sizes must be >= 1, got \[0\]$"):
        check_model_options("two-layer", hidden=[0])
    check_model_options("deep-cnn", dropout=0.3, hidden=[64])  # allowed: no error


def test_build_model_follows_the_config():
    net = RunConfig(model="multi-layer", hidden=[12, 8], batchnorm=True, dropout=0.2,
                    dtype="float64", seed=3).build_model()
    assert net.config["hidden_size_list"] == [12, 8] and net.config["use_batchnorm"]
    assert net.config["dropout_ratio"] == 0.2 and str(net.dtype) == "float64"


# -- JSON -------------------------------------------------------------------------------------


def test_json_round_trip_of_every_field():
    c = RunConfig(model="multi-layer", dataset="fashion-mnist", optimizer="nesterov", lr=0.02,
                  momentum=0.8, iterations=123, batch_size=32, weight_decay=1e-4, dropout=0.1,
                  batchnorm=True, activation="sigmoid", hidden=[40, 30], schedule="cosine",
                  warmup=0.5, sampling="replacement", val_fraction=0.1, patience=2,
                  eval_limit=None, limit=5000, seed=7, dtype="float64", data_dir="/data")
    text = c.to_json()
    record = json.loads(text)
    assert record["format"] == "dlscratch-run-config" and record["version"] == 2
    assert record["settings"] == c.to_dict() and record["settings"]["hidden"] == [40, 30]
    assert list(record["settings"]) == [f.name for f in dataclasses.fields(RunConfig)]
    assert text.count("\n") > 20  # readable: one field a line
    assert RunConfig.from_json(text) == c
    assert RunConfig.from_dict(c.to_dict()) == c


@pytest.mark.parametrize("name", ["two-layer", "multi-layer"])
def test_config_json_of_the_earlier_version_reads(name):
    """config.json as `dlscratch train` wrote it before RunConfig: {"settings": {...}}."""
    path = OLD_RUNS / f"old-run-{name}" / "config.json"
    old = json.loads(path.read_text())
    assert list(old) == ["settings"]
    config = RunConfig.read(path)
    added = {name: getattr(RunConfig(), name) for name in ADDED_IN_2}  # their defaults
    assert config.to_dict() == {**added, **old["settings"], "hidden": old["settings"]["hidden"]}
    assert RunConfig.from_json(config.to_json()) == config


def settings(**changes) -> str:
    return json.dumps({"settings": {**RunConfig().to_dict(), **changes}})


@pytest.mark.parametrize("text, message", [
    ("{not json", "not JSON: "),
    ("[1, 2]", "not a run config: no 'settings' record"),
    ('{"config": {}}', "not a run config: no 'settings' record"),
    ('{"settings": [1]}', "settings must be a JSON object, got [1]"),
    (json.dumps({"format": "other", "settings": {}}),
     "not a run config of format 'dlscratch-run-config' version 1 or 2: format='other'"),
    (json.dumps({"version": 3, "settings": {}}), "version=3"),
    (json.dumps({"version": 2, "settings": {k: v for k, v in RunConfig().to_dict().items()
                                            if k != "members"}}),
     "settings: missing field 'members'"),  # only a version-1 file may lack the new fields
    (json.dumps({"settings": {}, "extra": 1}), "other keys ['extra']"),
    (settings(threads=4), "settings: unknown field 'threads'"),
    (json.dumps({"settings": {k: v for k, v in RunConfig().to_dict().items() if k != "seed"}}),
     "settings: missing field 'seed'"),
    (settings(batch_size="100"), "batch_size must be an integer >= 1, got '100'"),
    (settings(batch_size=100.0), "batch_size must be an integer >= 1, got 100.0"),
    (settings(batchnorm="false"), "batchnorm must be True or False, got 'false'"),
    (settings(lr=None, optimizer="adam"), None),  # None takes the preset: valid
])
def test_from_json_names_what_is_wrong(text, message):
    if message is None:
        assert RunConfig.from_json(text).lr == 0.1
        return
    with pytest.raises(ValueError) as info:
        RunConfig.from_json(text)
    assert message in str(info.value)


def test_read_puts_the_path_first(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(settings(seed=-2))
    with pytest.raises(ValueError) as info:
        RunConfig.read(path)
    assert str(info.value) == f"{path}: seed must be an integer >= 0, got -2"
    with pytest.raises(OSError):
        RunConfig.read(tmp_path / "missing.json")
