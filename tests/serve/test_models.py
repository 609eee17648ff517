"""The catalogue (models by id, loaded once) and the forward pass with its activations."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from dlscratch.io.serialize import load
from dlscratch.serve import Catalogue, ModelNotFound
from dlscratch.serve.catalogue import newest_run
from dlscratch.serve.inference import classify, feature_map_values, forward_with_outputs


@pytest.fixture
def copied_runs(runs, tmp_path):
    """A copy of the session's runs folder that a test may change."""
    out = tmp_path / "runs"
    shutil.copytree(runs, out)
    return out


@pytest.mark.parametrize("model_id", ["two-layer", "simple-cnn"])
def test_the_forward_pass_gives_predicts_scores(runs, model_id):
    net = load(runs / model_id / "model.npz")
    rng = np.random.default_rng(1)
    x = rng.random((1, 1, 28, 28) if model_id == "simple-cnn" else (1, 784), dtype=np.float32)
    scores, outputs = forward_with_outputs(net, x)
    assert np.array_equal(scores, net.predict(x))
    assert [layer.name for layer, _ in outputs] == list(net.layers)


def test_classify_reports_the_layers_it_shows(runs):
    catalogue = Catalogue(runs, runs / "simple-cnn" / "model.npz")
    model = catalogue.get(None)
    image = np.zeros((28, 28), np.float32)
    image[4:24, 12:16] = 1.0
    answer = classify(model, image)
    _, outputs = forward_with_outputs(model.net, image[None, None])
    relu1 = outputs[1][1][0]
    maps = answer["activations"]["feature_maps"]
    assert maps["scale"] == relu1.max() > 0
    assert np.abs(feature_map_values(maps) - relu1).max() <= relu1.max() / 510 * 1.001
    relu2 = outputs[4][1][0]
    assert np.abs(np.array(answer["activations"]["hidden"][0]["values"]) - relu2).max() <= 5e-4


def test_a_model_is_loaded_once_and_shared(runs):
    catalogue = Catalogue(runs, runs / "two-layer" / "model.npz")
    first = catalogue.get("simple-cnn")
    assert catalogue.get("simple-cnn") is first
    assert catalogue.get(None) is catalogue.get("two-layer")


def test_ids_are_run_folder_names_and_the_start_model_comes_first(runs):
    catalogue = Catalogue(runs, runs / "simple-cnn" / "model.npz")
    ids = [e.id for e in catalogue.refresh()]
    assert ids[0] == "simple-cnn"
    assert sorted(ids) == ["ensemble", "fashion", "simple-cnn", "two-layer"]


def test_a_start_model_outside_the_runs_folder_gets_its_own_id(runs, tmp_path):
    elsewhere = tmp_path / "mine" / "two-layer"
    shutil.copytree(runs / "two-layer", elsewhere)
    catalogue = Catalogue(runs, elsewhere / "model.npz")
    ids = [e.id for e in catalogue.refresh()]
    assert ids[0] == "two-layer" and "two-layer-2" in ids  # the run folder's own is renamed
    assert catalogue.get("two-layer").entry.path == elsewhere / "model.npz"
    assert catalogue.get("two-layer-2").entry.path.parent.parent == runs


def test_unknown_ids_and_paths_are_not_models(runs):
    catalogue = Catalogue(runs, runs / "two-layer" / "model.npz")
    for wanted in ("nope", "../two-layer", str(runs / "two-layer" / "model.npz"), ""):
        with pytest.raises(ModelNotFound, match="no model has the id"):
            catalogue.get(wanted)


def test_a_run_trained_meanwhile_shows_up_and_a_deleted_one_goes(copied_runs):
    catalogue = Catalogue(copied_runs, copied_runs / "two-layer" / "model.npz")
    shutil.copytree(copied_runs / "simple-cnn", copied_runs / "later")
    assert "later" in [e.id for e in catalogue.refresh()]
    assert catalogue.get("later").entry.kind == "simple-cnn"
    shutil.rmtree(copied_runs / "fashion")
    assert "fashion" not in [e.id for e in catalogue.refresh()]


def test_a_broken_run_is_left_out_with_one_warning(copied_runs, capsys):
    (copied_runs / "fashion" / "config.json").write_text("{not json")
    catalogue = Catalogue(copied_runs, copied_runs / "two-layer" / "model.npz")
    catalogue.refresh()
    ids = [e.id for e in catalogue.refresh()]
    assert "fashion" not in ids and "simple-cnn" in ids
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and "fashion" in err and "left out" in err


def test_newest_run_is_the_most_recently_written_model(copied_runs):
    assert newest_run(copied_runs.parent / "nothing here") is None
    now = max(p.stat().st_mtime for p in copied_runs.glob("*/model.npz"))
    os.utime(copied_runs / "fashion" / "model.npz", (now + 10, now + 10))
    assert newest_run(copied_runs) == copied_runs / "fashion" / "model.npz"


def test_an_ensemble_folder_is_one_model_of_its_members_mean_probabilities(runs):
    """As `Ensemble.probabilities`: the mean of the members' softmax outputs, computed here
    from the member files loaded on their own."""
    from dlscratch.functions import softmax

    catalogue = Catalogue(runs, runs / "ensemble")
    assert catalogue.default == "ensemble" and catalogue.refresh()[0].members == 2
    model = catalogue.get(None)
    image = np.zeros((28, 28), np.float32)
    image[4:24, 12:16] = 1.0
    answer = classify(model, image)
    members = [load(runs / "ensemble" / f"member-{k}" / "model.npz") for k in (1, 2)]
    each = [softmax(net.predict(image.reshape(1, -1)).astype(np.float64))[0] for net in members]
    assert not np.allclose(each[0], each[1], atol=1e-3)  # two different networks
    assert np.allclose(answer["probabilities"], (each[0] + each[1]) / 2, rtol=1e-9, atol=1e-12)
    assert [(h["layer"], len(h["values"])) for h in answer["activations"]["hidden"]] == \
        [("Relu1", 100)]  # the first member's (hidden 100; the second has 30)
