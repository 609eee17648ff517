"""The book's weight files: the restricted unpickler, `dlscratch convert-weights`, and
`save_params` / `load_params` on .npz."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from dlscratch.book import weights
from dlscratch.book.ch07.simple_convnet import SimpleConvNet

from ._helpers import dlscratch
from .pickles import book_pickle, globals_named, malicious_pickle, sample_arrays

SMALL = dict(input_dim=(1, 10, 10), conv_param={"filter_num": 4, "filter_size": 3, "pad": 0,
                                                "stride": 1}, hidden_size=6, output_size=3)

FORMATS = [
    (3, "numpy.core", ["numpy.core.multiarray _reconstruct", "numpy ndarray", "numpy dtype"]),
    (4, "numpy.core", ["numpy.core.multiarray _reconstruct", "numpy ndarray", "numpy dtype"]),
    (2, "numpy.core", ["numpy.core.multiarray _reconstruct", "numpy ndarray", "_codecs encode",
                       "numpy dtype"]),
    (4, "numpy._core", ["numpy._core.multiarray _reconstruct", "numpy ndarray", "numpy dtype"]),
    (3, "numpy._core", ["numpy._core.multiarray _reconstruct", "numpy ndarray", "numpy dtype"]),
]


@pytest.mark.parametrize(("protocol", "core", "named"), FORMATS)
def test_the_books_pickle_formats_are_read(tmp_path, protocol, core, named):
    arrays = sample_arrays()
    data = book_pickle(arrays, protocol, core)
    assert globals_named(data)[:len(named)] == named  # the file is in the format under test
    path = tmp_path / "sample_weight.pkl"
    path.write_bytes(data)
    got = weights.read_pickle_weights(path)
    assert list(got) == list(arrays)
    for key, arr in arrays.items():
        assert got[key].dtype == arr.dtype and got[key].shape == arr.shape
        np.testing.assert_array_equal(got[key], arr)
        assert got[key].flags.writeable
    assert got["W1"].flags.f_contiguous  # Fortran order kept, as in sample_weight.pkl


def test_numpy_s_own_pickle_is_read_too(tmp_path):
    arrays = sample_arrays(1)
    path = tmp_path / "params.pkl"
    path.write_bytes(pickle.dumps(arrays))  # NumPy 2: protocol 5 / numpy._core names
    got = weights.read_pickle_weights(path)
    for key, arr in arrays.items():
        np.testing.assert_array_equal(got[key], arr)


def test_convert_weights_writes_an_npz_without_pickle(tmp_path):
    arrays = sample_arrays(2)
    (tmp_path / "params.pkl").write_bytes(book_pickle(arrays, 3, "numpy.core"))
    proc = dlscratch("convert-weights", "params.pkl", "params.npz", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("params.npz: 4 arrays from params.pkl: b2 (4,) float32, ")
    with np.load(tmp_path / "params.npz", allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(arrays)
        for key, arr in arrays.items():
            np.testing.assert_array_equal(npz[key], arr)


@pytest.mark.parametrize("protocol", [2, 3, 4])
def test_a_pickle_that_runs_a_command_is_refused_naming_the_global(tmp_path, protocol):
    marker = tmp_path / "PWNED"
    (tmp_path / "evil.pkl").write_bytes(malicious_pickle(marker, protocol))
    proc = dlscratch("convert-weights", "evil.pkl", "out.npz", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("dlscratch: error: evil.pkl: refused to unpickle: it names "
                                  "the global 'posix.system'")
    assert not marker.exists()
    assert not (tmp_path / "out.npz").exists()


@pytest.mark.parametrize(("data", "named"), [
    (b"cbuiltins\neval\n(S'1+1'\ntR.", "builtins.eval"),
    (b"cnumpy.testing._private.utils\nrunstring\n(S'x=1'\n(dtR.",
     "numpy.testing._private.utils.runstring"),
    (b"cnumpy\nload\n(S'x.npy'\ntR.", "numpy.load"),
    (b"\x80\x04\x95\x1d\x00\x00\x00\x00\x00\x00\x00\x8c\nsubprocess\x94\x8c\x05Popen\x94\x93"
     b"\x94\x8c\x02ls\x94\x85\x94R\x94.", "subprocess.Popen"),
])
def test_every_other_global_is_refused(tmp_path, data, named):
    path = tmp_path / "w.pkl"
    path.write_bytes(data)
    with pytest.raises(weights.WeightFileError, match=f"names the global '{named}'"):
        weights.read_pickle_weights(path)


@pytest.mark.parametrize(("value", "message"), [
    ([np.zeros(2)], "expected a dict of name -> array, got a list"),
    ({"W1": [1.0, 2.0]}, "W1 is not an array of numbers (list)"),
    ({"W1": np.array([1, "a"], dtype=object)}, "W1 is not an array of numbers (object)"),
    ({3: np.zeros(2)}, "the key 3 is not a parameter name"),
])
def test_pickles_that_are_not_weights_are_refused(tmp_path, value, message):
    path = tmp_path / "w.pkl"
    path.write_bytes(pickle.dumps(value, protocol=3))
    with pytest.raises(weights.WeightFileError, match=message.replace("(", r"\(").replace(
            ")", r"\)")):
        weights.read_pickle_weights(path)


def test_a_truncated_pickle_is_one_clear_line(tmp_path):
    (tmp_path / "cut.pkl").write_bytes(book_pickle(sample_arrays())[:300])
    proc = dlscratch("convert-weights", "cut.pkl", "out.npz", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1
    assert "dlscratch: error: cut.pkl: not a readable weight pickle" in proc.stderr


def test_save_and_load_params_round_trip_through_npz(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.random.seed(0)
    net = SimpleConvNet(**SMALL)
    net.save_params("params.pkl")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.npz"]  # no pickle written
    np.random.seed(1)
    other = SimpleConvNet(**SMALL)
    x = np.random.rand(2, 1, 10, 10)
    assert not np.allclose(other.predict(x), net.predict(x))
    other.load_params("params.pkl")
    for key, arr in net.params.items():
        np.testing.assert_array_equal(other.params[key], arr)
    for name, (w, b) in {"Conv1": ("W1", "b1"), "Affine1": ("W2", "b2"),
                         "Affine2": ("W3", "b3")}.items():
        assert other.layers[name].W is other.params[w]
        assert other.layers[name].b is other.params[b]
    np.testing.assert_array_equal(other.predict(x), net.predict(x))


def test_load_params_refuses_a_pickle_outside_the_book_runner(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.pkl").write_bytes(book_pickle(sample_arrays()))
    with pytest.raises(weights.WeightFileError,
                       match="params.pkl is a pickle, which dlscratch does not load directly: "
                             "convert it once with 'dlscratch convert-weights"):
        SimpleConvNet(**SMALL).load_params("params.pkl")


def test_load_params_names_the_file_it_could_not_find(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(weights.WeightFileError, match="weights file not found: .*params.npz"):
        SimpleConvNet(**SMALL).load_params()
