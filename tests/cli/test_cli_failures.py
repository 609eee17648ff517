"""Every failure is one line `dlscratch: error: ...` and a non-zero status, never a traceback;
--debug adds the traceback. Model files that are not model files, and a bad config.json beside
a model, are named."""

from __future__ import annotations

import errno
import json

import numpy as np
import pytest
from PIL import Image

from dlscratch.cli import failures, info_cmd


@pytest.fixture
def model_file(tmp_path):
    from dlscratch.io.serialize import save
    from dlscratch.nets.factory import build_model

    return save(build_model("two-layer", seed=0), tmp_path / "model.npz")


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("dlscratch: error: "), err
    assert "Traceback" not in err
    return err


# -- --debug and the unexpected ----------------------------------------------------------------


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback_above_the_line(cli, tmp_path, where):
    missing = tmp_path / "nope.npz"
    argv = ["--debug", "evaluate", missing] if where == "before" else ["evaluate", missing,
                                                                       "--debug"]
    r = cli(*argv)
    assert r.code == 1
    assert r.err.startswith("Traceback (most recent call last):")
    assert r.err.splitlines()[-1] == f"dlscratch: error: model file not found: {missing}"
    r = cli("evaluate", missing)
    assert one_line(r.err) == f"dlscratch: error: model file not found: {missing}\n"


def test_an_unexpected_error_is_one_line_that_names_its_type(cli, monkeypatch):
    def boom(args):
        raise RuntimeError("something\nbroke")

    monkeypatch.setattr(info_cmd, "run", boom)
    r = cli("info")
    assert r.code == 1
    assert one_line(r.err) == ("dlscratch: error: unexpected RuntimeError: something broke; run "
                               "again with --debug for the traceback\n")
    r = cli("info", "--debug")
    assert "Traceback" in r.err and r.err.endswith("unexpected RuntimeError: something broke\n")


def test_running_out_of_memory_says_what_was_being_done(cli, monkeypatch):
    def hungry(args):
        failures.doing("building the network (--model multi-layer --hidden 60000)")
        raise MemoryError()

    monkeypatch.setattr(info_cmd, "run", hungry)
    r = cli("info")
    assert r.code == 1
    assert one_line(r.err) == ("dlscratch: error: out of memory while building the network "
                               "(--model multi-layer --hidden 60000)\n")


def test_out_of_memory_in_a_real_train_names_the_network(cli, tmp_path, monkeypatch):
    from dlscratch.train import RunConfig

    def no_memory(self):
        raise MemoryError("Unable to allocate 16.0 GiB")

    monkeypatch.setattr(RunConfig, "build_model", no_memory)
    fake_data(tmp_path / "data")
    r = cli("train", "--data-dir", tmp_path / "data", "--hidden", "500", "--iterations", "2",
            "--batch-size", "10", "--quiet", "--out", tmp_path / "run")
    assert r.code == 1
    assert one_line(r.err) == ("dlscratch: error: out of memory while building the network "
                               "(--model two-layer --hidden 500) (Unable to allocate 16.0 GiB)\n")
    assert not (tmp_path / "run").exists()  # made for the run, left empty: removed again


def fake_data(root):
    from dlscratch.data import write_idx

    rng = np.random.default_rng(0)
    for name, n in (("train", 20), ("t10k", 10)):
        write_idx(root / "mnist" / f"{name}-images-idx3-ubyte.gz",
                  rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(root / "mnist" / f"{name}-labels-idx1-ubyte.gz",
                  (np.arange(n) % 10).astype(np.uint8))


@pytest.mark.parametrize("exc, line", [
    (PermissionError(errno.EACCES, "Permission denied", "/srv/x"), "/srv/x: Permission denied"),
    (OSError(errno.ENOSPC, "cannot write a/b: No space left on device"),
     "cannot write a/b: No space left on device"),
    (OSError(errno.EXDEV, "Invalid cross-device link", "a", None, "b"),
     "a -> b: Invalid cross-device link"),
    (ValueError("two\n  lines"), "two lines"),
    (MemoryError(), "out of memory while starting"),
])
def test_one_line_messages(exc, line):
    failures.doing("starting")
    assert failures.one_line(exc) == line


# -- files that are not model files --------------------------------------------------------


def test_evaluate_on_a_png_says_it_is_not_a_model_file(cli, tmp_path):
    png = tmp_path / "digit.png"
    Image.new("L", (28, 28), 0).save(png)
    for argv in (["evaluate", png], ["predict", png, png]):
        r = cli(*argv)
        assert r.code == 1 and r.out == ""
        assert one_line(r.err) == (f"dlscratch: error: {png}: not a dlscratch model file (it is "
                                   "a PNG image; a model file is the .npz that 'dlscratch train' "
                                   "or dlscratch.save writes)\n")
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    assert "(it is empty;" in one_line(cli("evaluate", empty).err)


def test_a_model_file_with_pickled_objects_is_refused_without_numpys_advice(cli, tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(path, W1=np.array([{"a": 1}], dtype=object))
    r = cli("evaluate", path)
    assert r.code == 1 and str(path) in one_line(r.err)
    assert "allow_pickle" not in r.err


# -- the config.json beside a model --------------------------------------------------------------


@pytest.mark.parametrize("content, message", [
    ('{"settings": {"dataset": 3}}', "settings: missing field 'model'"),
    ("[1, 2]", "not a run config: no 'settings' record"),
    ("{oops", "not JSON: "),
])
def test_a_bad_config_json_beside_the_model_is_named(cli, model_file, tmp_path, content,
                                                     message):
    config = model_file.parent / "config.json"
    config.write_text(content)
    png = tmp_path / "x.png"
    Image.new("L", (28, 28), 0).save(png)
    for argv in (["evaluate", model_file], ["predict", model_file, png]):
        r = cli(*argv)
        assert r.code == 1 and r.out == ""
        err = one_line(r.err)
        assert err.startswith(f"dlscratch: error: {config}: {message}")
        assert err.endswith("(the model's run config, read for its dataset; pass --dataset to "
                            "do without it)\n")


def test_a_config_json_with_wrong_types_beside_the_model(cli, model_file, tmp_path):
    from dlscratch.train import RunConfig

    settings = RunConfig().to_dict() | {"model": ["two-layer"], "seed": "0"}
    config = model_file.parent / "config.json"
    config.write_text(json.dumps({"settings": settings}))
    r = cli("evaluate", model_file)
    assert one_line(r.err).startswith(f"dlscratch: error: {config}: model must be one of ")
    # --dataset says what the config.json would have said: it is not read
    png = tmp_path / "x.png"
    image = Image.new("L", (40, 40), 255)
    image.paste(0, (15, 5, 25, 35))
    image.save(png)
    r = cli("predict", model_file, png, "--dataset", "mnist")
    assert r.code == 0 and r.err == "" and r.out.startswith(f"{png}: ")
