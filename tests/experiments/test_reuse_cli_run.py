"""Experiments reuse a `dlscratch train` run only when it is exactly the same training."""

import json
import shutil

import numpy as np
import pytest

from dlscratch.cli.main import main
from dlscratch.experiments.base import Context
from dlscratch.experiments.common_cnn import mnist_images, train_cnn
from dlscratch.nets import SimpleConvNet
from dlscratch.train import Trainer

pytestmark = pytest.mark.usefixtures("needs_mnist")


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "--model", "simple-cnn", "--limit", "200", "--epochs", "1",
                 "--eval-limit", "50", "--out", str(out), "--quiet"]) == 0
    return out


def _train(ctx, epochs=1):
    (x, t), (xt, tt) = mnist_images(ctx, 200, 100)
    return train_cnn(ctx, lambda: SimpleConvNet(seed=0), x, t, xt, tt, epochs=epochs, seed=0)


def test_same_training_reuses_the_run_and_equals_retraining(cli_run, tmp_path, monkeypatch):
    fresh, _ = _train(Context(quick=False, out_dir=tmp_path))  # trains (no cache, no reuse)
    monkeypatch.setattr(Trainer, "train", lambda self: pytest.fail("should have been reused"))
    reused, history = _train(Context(quick=False, out_dir=tmp_path, reuse_runs=[cli_run]))
    assert history["iteration"][-1] == 2
    for key, value in fresh.params.items():
        np.testing.assert_array_equal(reused.params[key], value)


def test_different_training_is_not_reused(cli_run, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(Trainer, "train", lambda self: calls.append(1) or {"iteration": [0]})
    _train(Context(quick=False, out_dir=tmp_path, reuse_runs=[cli_run]), epochs=2)
    _train(Context(quick=True, out_dir=tmp_path, reuse_runs=[cli_run]))
    assert len(calls) == 2


def test_a_run_with_an_old_config_json_is_reused_too(cli_run, tmp_path, monkeypatch):
    """config.json as `dlscratch train` wrote it before RunConfig: {"settings": {...}}."""
    old = shutil.copytree(cli_run, tmp_path / "old-run")
    record = json.loads((old / "config.json").read_text())
    (old / "config.json").write_text(json.dumps({"settings": record["settings"]}))
    monkeypatch.setattr(Trainer, "train", lambda self: pytest.fail("should have been reused"))
    _, history = _train(Context(quick=False, out_dir=tmp_path, reuse_runs=[old]))
    assert history["iteration"][-1] == 2


def test_a_broken_config_json_is_skipped(cli_run, tmp_path, monkeypatch):
    broken = shutil.copytree(cli_run, tmp_path / "broken")
    record = json.loads((broken / "config.json").read_text())
    record["settings"]["batch_size"] = "100"
    (broken / "config.json").write_text(json.dumps(record))
    calls = []
    monkeypatch.setattr(Trainer, "train", lambda self: calls.append(1) or {"iteration": [0]})
    _train(Context(quick=False, out_dir=tmp_path, reuse_runs=[broken]))
    assert calls == [1]
