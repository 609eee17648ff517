"""The models `dlscratch serve` offers, by id: the start model and every run in the runs folder.

A run is a folder `RUNS/<name>/` holding the `model.npz` that `dlscratch train` writes, or the
`ensemble.json` of an ensemble run (`--members`: served as one model, its members' mean
probabilities); its id is `<name>`, and its `config.json` says the model kind and the dataset
(hence the class names).
A request names a model only by one of these ids, never by a path. The folder is looked at
again when the list is asked for, so a run trained while the server runs shows up.

Each model is loaded once, when first used, and kept. Layers keep their forward state
(`Affine.x`, `Relu.mask`, a convolution's columns), so two requests must not run through one
network at the same time: each model has a lock, held for the forward pass (a few ms). One
copy of the network per request thread would let two requests on one model run side by side,
but at the price of a network per thread (the server starts a thread per connection) for a
wait that is shorter than the request's own parsing; requests on different models do run
side by side.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dlscratch.data import class_names
from dlscratch.io.ensemble_file import ENSEMBLE_FILE
from dlscratch.serve.labels import korean_class_names

MODEL_FILE = "model.npz"


class ModelNotFound(LookupError):
    """No model has this id."""


@dataclass
class Entry:
    """One model on offer: `id` (what requests say), its model file (or ensemble folder),
    kind, dataset and number of networks (an ensemble's members; else 1)."""

    id: str
    path: Path
    kind: str
    dataset: str
    members: int = 1

    def describe(self) -> dict:
        names = list(class_names(self.dataset))
        return {"id": self.id, "kind": self.kind, "dataset": self.dataset,
                "members": self.members,
                "classes": {"en": names, "ko": korean_class_names(self.dataset, names)}}


@dataclass
class LoadedModel:
    """A loaded network with what inference needs; `lock` guards its layers' forward state."""

    entry: Entry
    net: object
    images: bool  # True: (N, 1, 28, 28) input (a CNN), else flat (N, 784)
    labels: list[str]
    lock: threading.Lock = field(default_factory=threading.Lock)


def read_run(path: Path, run_id: str, dataset: str | None = None) -> Entry:
    """The Entry of a model file or an ensemble folder (its run's config.json gives kind and
    dataset; without one, an MNIST model of unknown kind). RunError / ModelFileError for an
    unreadable config.json or ensemble.json."""
    from dlscratch.cli.model_inputs import dataset_of
    from dlscratch.io.ensemble_file import read_ensemble
    from dlscratch.train.run_config import RunConfig

    folder = path if path.is_dir() else path.parent
    config = folder / "config.json"
    kind = RunConfig.read(config).model if config.is_file() else "model"
    members = len(read_ensemble(path)["members"]) if path.is_dir() else 1
    return Entry(run_id, path, kind, dataset_of(path, dataset), members)


def newest_run(runs: Path) -> Path | None:
    """The most recently written RUNS/*/model.npz or ensemble folder, or None."""
    found = _run_models(runs)
    return found[0] if found else None


def _run_models(runs: Path) -> list[Path]:
    """RUNS/*/model.npz and the ensemble folders RUNS/*/ (with ensemble.json), newest first."""
    if not runs.is_dir():
        return []
    models = [p for p in runs.glob(f"*/{MODEL_FILE}") if p.is_file()
              and not (p.parent / ENSEMBLE_FILE).is_file()]
    models += [p.parent for p in runs.glob(f"*/{ENSEMBLE_FILE}") if p.is_file()]
    return sorted(models, key=lambda p: (-_mtime(p), str(p)))


class Catalogue:
    """The models on offer: `start` first (the default), then RUNS/*/model.npz, newest first.

    `start` is read at once (RunError / ModelFileError for a bad one: the command fails);
    a run of the folder that cannot be read is left out, with a one-line warning.
    """

    def __init__(self, runs: Path, start: Path, dataset: str | None = None):
        self.runs = Path(runs)
        self._lock = threading.Lock()  # the lists and the cache
        self._ids: dict[Path, str] = {}  # resolved path -> id, kept for the server's life
        self._entries: dict[str, Entry] = {}
        self._loaded: dict[str, LoadedModel] = {}
        self._warned: set[Path] = set()
        start = Path(start)
        self.default = self._id_for(start, start.name if start.is_dir() else
                                    start.parent.name if start.name == MODEL_FILE else start.stem)
        self._entries[self.default] = read_run(start, self.default, dataset)
        self.get(self.default)  # a start model that cannot be used fails the command now
        self.refresh()

    def _id_for(self, path: Path, wanted: str) -> str:
        key = path.resolve()
        if key not in self._ids:
            taken = set(self._ids.values())
            name, n = wanted or "model", 1
            while name in taken:
                n += 1
                name = f"{wanted}-{n}"
            self._ids[key] = name
        return self._ids[key]

    def refresh(self) -> list[Entry]:
        """Look at the runs folder again; the entries, the default first."""
        with self._lock:
            found = _run_models(self.runs)
            for path in found:
                run_id = self._id_for(path, path.name if path.is_dir() else path.parent.name)
                if run_id in self._entries:
                    continue
                try:
                    self._entries[run_id] = read_run(path, run_id)
                except (ValueError, OSError) as exc:  # RunError is a ValueError
                    self._warn(path, f"left out: {exc}")
            present = {self.default} | {self._ids[p.resolve()] for p in found}
            for gone in set(self._entries) - present:  # a run folder deleted meanwhile
                del self._entries[gone]
                self._loaded.pop(gone, None)
            rest = sorted((e for e in self._entries.values() if e.id != self.default),
                          key=lambda e: (-_mtime(e.path), e.id))
            return [self._entries[self.default], *rest]

    def get(self, model_id: str | None) -> LoadedModel:
        """The loaded model with this id (the default for None); ModelNotFound if none has it."""
        model_id = self.default if model_id is None else model_id
        with self._lock:
            if model_id in self._loaded:
                return self._loaded[model_id]
            entry = self._entries.get(model_id)
        if entry is None:
            ids = [e.id for e in self.refresh()]
            if model_id not in ids:
                raise ModelNotFound(f"no model has the id {model_id!r}; the ids are: "
                                    f"{', '.join(ids)} (GET /api/models)")
            entry = self._entries[model_id]
        with self._lock:  # loading under the lock: two requests never load one model twice
            if model_id not in self._loaded:
                self._loaded[model_id] = load(entry)
            return self._loaded[model_id]

    def _warn(self, path: Path, message: str) -> None:
        if path not in self._warned:
            self._warned.add(path)
            print(f"dlscratch: warning: {path}: {message}", file=sys.stderr, flush=True)


def _mtime(path: Path) -> int:
    """When the model was written (an ensemble folder: its ensemble.json)."""
    try:
        return (path / ENSEMBLE_FILE if path.is_dir() else path).stat().st_mtime_ns
    except OSError:
        return 0


def load(entry: Entry) -> LoadedModel:
    """Read the model file (or the ensemble folder's members) and check that it takes a
    28x28 image (ModelFileError, ValueError naming the file otherwise)."""
    from dlscratch.cli.model_inputs import load_model, wants_images

    net = load_model(entry.path)
    images = wants_images(net)
    blank = np.zeros((1, 1, 28, 28) if images else (1, 784), dtype=np.float32)
    try:
        classes = net.predict(blank).shape[-1]
    except ValueError as exc:
        raise ValueError(f"{entry.path}: the network does not take 28x28 images ({exc})") \
            from None
    names = list(class_names(entry.dataset))
    labels = names if classes == len(names) else [str(k) for k in range(classes)]
    return LoadedModel(entry, net, images, labels)
