"""dlscratch.save / dlscratch.load: bit-identical round trips, no pickle, clear errors on bad
files, atomic writes."""

from __future__ import annotations

import json
import os
import re
import zipfile

import numpy as np
import pytest

import dlscratch
from dlscratch import (
    DeepConvNet,
    ModelFileError,
    MultiLayerNet,
    MultiLayerNetExtend,
    Sequential,
    SimpleConvNet,
    TwoLayerNet,
)
from dlscratch.io.serialize import load_state, read_model_file
from dlscratch.layers import (
    Affine,
    BatchNormalization,
    Convolution,
    Dropout,
    Flatten,
    Pooling,
    Relu,
    Residual,
    Sigmoid,
)
from dlscratch.optim import SGD


def _hand_built(rng, dtype=np.float32):
    return Sequential([
        Convolution.create(1, 3, 3, pad=1, weight_init_std="he", rng=rng, dtype=dtype),
        BatchNormalization.create(3, dtype=dtype),
        Relu(),
        Residual([
            Convolution.create(3, 3, 3, pad=1, weight_init_std="he", rng=rng, dtype=dtype),
            Relu(),
            Convolution.create(3, 3, 3, pad=1, weight_init_std="he", rng=rng, dtype=dtype),
        ]),
        Pooling(3, 3, stride=2, pad=1),
        Flatten(),
        Affine.create(3 * 4 * 4, 6, "he", rng, dtype),
        Sigmoid(),
        Dropout(0.2, inverted=True, seed=1),
        Residual([Affine.create(6, 6, "he", rng, dtype), Relu(),
                  Affine.create(6, 6, "he", rng, dtype)]),
        Affine.create(6, 3, "he", rng, dtype),
    ], weight_decay_lambda=0.01)


NETS = {
    "TwoLayerNet": (lambda: TwoLayerNet(12, 7, 4, seed=1), (12,), 4),
    "TwoLayerNet-sigmoid-f64": (lambda: TwoLayerNet(12, 7, 4, activation="sigmoid",
                                                    weight_init_std="xavier", dtype=np.float64,
                                                    seed=1), (12,), 4),
    "MultiLayerNet": (lambda: MultiLayerNet(12, [7, 6], 4, weight_decay_lambda=0.1, seed=2),
                      (12,), 4),
    "MultiLayerNetExtend": (lambda: MultiLayerNetExtend(12, [7, 6], 4, use_batchnorm=True,
                                                        use_dropout=True, seed=3), (12,), 4),
    "SimpleConvNet": (lambda: SimpleConvNet((1, 8, 8), {"filter_num": 2, "filter_size": 3},
                                            hidden_size=5, output_size=4, seed=4),
                      (1, 8, 8), 4),
    "DeepConvNet": (lambda: DeepConvNet(seed=5), (1, 28, 28), 10),
    "Sequential+Residual": (lambda: _hand_built(np.random.default_rng(6)), (1, 8, 8), 3),
}


def _train_a_little(net, rng, shape, k, steps=3):
    """A few SGD steps: parameters and batch-norm running statistics move off their init."""
    opt = SGD(lr=0.1)
    for _ in range(steps):
        x = rng.normal(size=(8, *shape)).astype(net.dtype)
        t = rng.integers(0, k, size=8)
        opt.update(net.params, net.gradient(x, t))


@pytest.mark.parametrize("name", list(NETS))
def test_round_trip_is_bit_identical(name, tmp_path):
    make, shape, k = NETS[name]
    rng = np.random.default_rng(7)
    net = make()
    _train_a_little(net, rng, shape, k)
    path = dlscratch.save(net, tmp_path / "model.npz")
    assert path == tmp_path / "model.npz" and path.is_file()
    loaded = dlscratch.load(path)
    assert type(loaded) is type(net)
    assert loaded.dtype == net.dtype
    assert list(loaded.params) == list(net.params)
    for key, value in {**net.params, **net.buffers}.items():
        got = {**loaded.params, **loaded.buffers}[key]
        assert got.dtype == value.dtype
        np.testing.assert_array_equal(got, value, err_msg=key)
    x = rng.normal(size=(5, *shape))
    np.testing.assert_array_equal(loaded.predict(x), net.predict(x))
    t = rng.integers(0, k, size=5)
    assert loaded.loss(x, t) == net.loss(x, t)  # weight decay survives too
    assert loaded.weight_decay_lambda == net.weight_decay_lambda


def test_batchnorm_running_statistics_are_saved(tmp_path):
    rng = np.random.default_rng(8)
    net = MultiLayerNetExtend(12, [7, 6], 4, use_batchnorm=True, use_dropout=True, seed=3)
    _train_a_little(net, rng, (12,), 4)
    assert not np.allclose(net.buffers["running_mean1"], 0)
    assert not np.allclose(net.buffers["running_var1"], 1)
    loaded = dlscratch.load(dlscratch.save(net, tmp_path / "bn.npz"))
    for key in net.buffers:
        np.testing.assert_array_equal(loaded.buffers[key], net.buffers[key])
    fresh = MultiLayerNetExtend(12, [7, 6], 4, use_batchnorm=True, use_dropout=True, seed=3)
    x = rng.normal(size=(4, 12))
    # Without the running statistics the predictions would differ.
    assert not np.array_equal(fresh.predict(x), loaded.predict(x))


def test_save_appends_npz_suffix(tmp_path):
    net = TwoLayerNet(3, 4, 2, seed=0)
    path = dlscratch.save(net, tmp_path / "weights")
    assert path.name == "weights.npz" and path.is_file()
    assert dlscratch.load(path).params["W1"].shape == (3, 4)


def test_file_holds_no_object_arrays(tmp_path):
    net = _hand_built(np.random.default_rng(9))
    path = dlscratch.save(net, tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    assert all(a.dtype != object for a in arrays.values())
    arch = json.loads(str(arrays.pop("__architecture__")))
    assert arch["model"] == "Sequential"
    assert set(arrays) == set(net.params) | set(net.buffers)
    # Every member of the zip is a plain .npy file.
    with zipfile.ZipFile(path) as zf:
        assert all(n.endswith(".npy") for n in zf.namelist())


def test_load_never_unpickles(tmp_path, monkeypatch):
    net = TwoLayerNet(3, 4, 2, seed=0)
    path = dlscratch.save(net, tmp_path / "m.npz")
    calls = []
    real_load = np.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("allow_pickle"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(np, "load", spy)
    dlscratch.load(path)
    assert calls == [False]


def test_object_array_file_is_refused(tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(path, W1=np.array([{"evil": 1}], dtype=object),
             __architecture__=np.array("{}"))
    with pytest.raises(ModelFileError, match=re.escape(str(path))):
        dlscratch.load(path)


def test_truncated_file(tmp_path):
    path = dlscratch.save(TwoLayerNet(30, 20, 5, seed=0), tmp_path / "cut.npz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match=re.escape(str(path))) as info:
        dlscratch.load(path)
    assert isinstance(info.value, ValueError)


def test_garbage_file(tmp_path):
    path = tmp_path / "garbage.npz"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ModelFileError, match=re.escape(str(path))):
        dlscratch.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="not found"):
        dlscratch.load(tmp_path / "nope.npz")


def test_npz_without_architecture(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, W1=np.zeros((2, 2)), b1=np.zeros(2))
    with pytest.raises(ModelFileError, match=re.escape(str(path)) + ".*no architecture"):
        dlscratch.load(path)


@pytest.mark.parametrize("arch, text", [
    ("not json", "not valid JSON"),
    (json.dumps({"format": "other"}), "format 'other'"),
    (json.dumps({"format": "dlscratch-model", "version": 99}), "version 99"),
])
def test_bad_architecture_record(tmp_path, arch, text):
    path = tmp_path / "bad.npz"
    np.savez(path, W1=np.zeros(2), __architecture__=np.array(arch))
    with pytest.raises(ModelFileError, match=re.escape(text)):
        dlscratch.load(path)


def test_load_state_into_another_architecture(tmp_path):
    path = dlscratch.save(TwoLayerNet(4, 5, 3, seed=0), tmp_path / "two.npz")
    _, arrays = read_model_file(path)
    other = MultiLayerNetExtend(4, [5], 3, use_batchnorm=True, seed=0)
    pattern = (r"missing \['beta1', 'gamma1', 'running_mean1', 'running_var1'\]"
               r".*unexpected none")
    with pytest.raises(ModelFileError, match=pattern):
        load_state(other, arrays, str(path))
    deeper = MultiLayerNet(4, [5], 3, seed=0)
    arrays["W9"] = np.zeros(1)
    with pytest.raises(ModelFileError, match=r"missing none.*unexpected \['W9'\]"):
        load_state(deeper, arrays)


def test_load_state_shape_mismatch_names_key_and_shapes(tmp_path):
    path = dlscratch.save(TwoLayerNet(4, 5, 3, seed=0), tmp_path / "two.npz")
    _, arrays = read_model_file(path)
    wider = TwoLayerNet(4, 6, 3, seed=0)
    before = {k: v.copy() for k, v in wider.params.items()}
    with pytest.raises(ModelFileError, match=re.escape("W1 has shape (4, 5), the network "
                                                       "expects (4, 6)")):
        load_state(wider, arrays, str(path))
    for k in before:  # nothing was copied
        np.testing.assert_array_equal(wider.params[k], before[k])


def test_load_state_copies_in_place():
    src = TwoLayerNet(4, 5, 3, seed=1)
    dst = TwoLayerNet(4, 5, 3, seed=2)
    w1 = dst.params["W1"]
    load_state(dst, {**src.params, **src.buffers})
    assert dst.params["W1"] is w1
    np.testing.assert_array_equal(w1, src.params["W1"])


def test_layers_recorded_in_the_file_must_match(tmp_path):
    net = TwoLayerNet(4, 5, 3, seed=0)
    path = dlscratch.save(net, tmp_path / "m.npz")
    arch, arrays = read_model_file(path)
    arch["config"]["hidden_size"] = 6  # the config no longer matches the saved layers
    forged = tmp_path / "forged.npz"
    np.savez(forged, **arrays, __architecture__=np.array(json.dumps(arch)))
    with pytest.raises(ModelFileError, match=re.escape(str(forged))):
        dlscratch.load(forged)


def _boom_midway(file, *args, **kwargs):
    file.write(b"PK\x03\x04 half a zip")
    raise OSError("disk full")


def test_atomic_write_keeps_the_old_file(tmp_path, monkeypatch):
    old = TwoLayerNet(4, 5, 3, seed=0)
    path = dlscratch.save(old, tmp_path / "model.npz")
    old_bytes = path.read_bytes()
    monkeypatch.setattr(np, "savez", _boom_midway)
    with pytest.raises(OSError, match="disk full"):
        dlscratch.save(TwoLayerNet(4, 5, 3, seed=1), path)
    assert path.read_bytes() == old_bytes
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]  # no temporary files left
    monkeypatch.undo()
    x = np.random.default_rng(0).normal(size=(2, 4))
    np.testing.assert_array_equal(dlscratch.load(path).predict(x), old.predict(x))


def test_atomic_write_of_a_new_file_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(np, "savez", _boom_midway)
    with pytest.raises(OSError):
        dlscratch.save(TwoLayerNet(4, 5, 3, seed=1), tmp_path / "new.npz")
    assert os.listdir(tmp_path) == []


def test_save_overwrites_atomically(tmp_path):
    path = dlscratch.save(TwoLayerNet(4, 5, 3, seed=0), tmp_path / "m.npz")
    newer = TwoLayerNet(4, 5, 3, seed=1)
    dlscratch.save(newer, path)
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]
    np.testing.assert_array_equal(dlscratch.load(path).params["W1"], newer.params["W1"])


def test_atomic_write_gives_the_usual_file_mode(tmp_path):
    import os
    import stat

    from dlscratch.io.atomic import atomic_write_text

    mask = os.umask(0)
    os.umask(mask)
    atomic_write_text(tmp_path / "a.txt", "x")
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o666 & ~mask
