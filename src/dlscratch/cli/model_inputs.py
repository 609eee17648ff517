"""What a saved model expects: its dataset (from the run's config.json) and its input layout;
and reading the model file with a plain message when it is not one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlscratch.errors import ModelFileError, RunError
from dlscratch.layers import Convolution

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # an .npz is a zip archive (the second: empty)
KNOWN_KINDS = {b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image",
               b"\x93NUMPY": "a single NumPy array (.npy)", b"\x1f\x8b": "a gzip file",
               b"\x80": "a Python pickle"}


def load_model(path: str | Path):
    """The model at path: a model file (dlscratch.load, after checking it is a zip archive,
    an .npz, at all: any other file is 'not a dlscratch model file' with what it looks like,
    never NumPy's advice to load it with allow_pickle: a model file is never unpickled), a run
    folder (its model.npz) or an ensemble folder (its ensemble.json: an Ensemble)."""
    from dlscratch.io.ensemble_file import ENSEMBLE_FILE, load_ensemble
    from dlscratch.io.serialize import load

    path = Path(path)
    if path.is_dir():
        if (path / ENSEMBLE_FILE).is_file():
            return load_ensemble(path)
        if not (path / "model.npz").is_file():
            raise ModelFileError(f"{path}: a folder without model.npz or {ENSEMBLE_FILE} (give "
                                 "a model file, a run folder or an ensemble folder)")
        path = path / "model.npz"
    if path.is_file():
        with open(path, "rb") as f:
            head = f.read(8)
        if not head.startswith(ZIP_MAGIC):
            kind = next((name for magic, name in KNOWN_KINDS.items() if head.startswith(magic)),
                        "empty" if not head else "not an .npz archive")
            raise ModelFileError(f"{path}: not a dlscratch model file (it is {kind}; a model "
                                 "file is the .npz that 'dlscratch train' or dlscratch.save "
                                 "writes)")
    try:
        return load(path)
    except ModelFileError as exc:
        if "allow_pickle" in str(exc) or "pickled" in str(exc):
            raise ModelFileError(f"{path}: not a dlscratch model file (it holds pickled Python "
                                 "objects, which dlscratch never loads)") from None
        raise


def dataset_of(model_path: str | Path, explicit: str | None) -> str:
    """--dataset if given, else the dataset recorded beside the model by `train` (its
    config.json, checked like any run config: a bad one is an error naming the file and the
    field), else mnist."""
    from dlscratch.train.run_config import RunConfig

    if explicit:
        return explicit
    model_path = Path(model_path)
    config = (model_path if model_path.is_dir() else model_path.parent) / "config.json"
    if not config.exists():
        return "mnist"
    try:
        return RunConfig.read(config).dataset
    except (ValueError, OSError) as exc:
        raise RunError(f"{_text(exc)} (the model's run config, read for its dataset; pass "
                       "--dataset to do without it)") from None


def _text(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


def wants_images(net) -> bool:
    """True if the network's (an ensemble's: its first member's) first layer is a convolution
    ((N, 1, 28, 28) input)."""
    net = getattr(net, "members", [net])[0]
    return isinstance(net.stack.layers[0], Convolution)


def member_probabilities(net, x, batch_size=None) -> np.ndarray:
    """(M, N, K): softmax of each member's scores on x (a network: M = 1), each network's
    batch split among the threads."""
    from dlscratch.kernels.data_parallel import split_predict
    from dlscratch.nets.ensemble import Ensemble

    ensemble = net if isinstance(net, Ensemble) else Ensemble([net])
    return ensemble.member_probabilities(x, batch_size, run=split_predict)


def predict_scores(net, x, batch_size=None) -> np.ndarray:
    """Scores (N, K) of a network or an ensemble (log of its mean probabilities, so softmax
    gives them back), each network's batch split among the threads."""
    from dlscratch.kernels.data_parallel import split_predict
    from dlscratch.nets.ensemble import Ensemble

    if isinstance(net, Ensemble):
        return net.predict(x, batch_size=batch_size, run=split_predict)
    return split_predict(net, x, batch_size)
