"""An ensemble folder: `ensemble.json` naming its members' model files, in training order.

    {"format": "dlscratch-ensemble", "version": 1,
     "members": ["member-1/model.npz", "member-2/model.npz"],
     "training": [{"seed": 0, "train_s": 812.4, "cpu": "..."}, ...]}      (optional)

Checked like every model file: a bounded size, exactly these keys, member paths relative to the
folder, inside it, each an .npz listed once; every member loaded with `io.serialize.load`
(allow_pickle=False) and all of them with the same input and the same number of classes. A bad
file is a ModelFileError naming the file and the field.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path, PurePosixPath

from dlscratch.errors import ModelFileError
from dlscratch.io.atomic import atomic_write_text

ENSEMBLE_FILE = "ensemble.json"
FORMAT, VERSION = "dlscratch-ensemble", 1
MAX_BYTES = 1_000_000
MAX_MEMBERS = 100
TRAINING_KEYS = {  # the optional record of each member's training: key -> (check, rule)
    "seed": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
             "an integer >= 0"),
    "train_s": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
                and math.isfinite(v) and v >= 0, "a number >= 0"),
    "cpu": (lambda v: isinstance(v, str), "a string"),
}


def write_ensemble(folder: str | os.PathLike, members: list[str],
                   training: list[dict] | None = None) -> Path:
    """Write folder/ensemble.json atomically (checked as `read_ensemble` reads it)."""
    record = {"format": FORMAT, "version": VERSION, "members": list(members)}
    if training is not None:
        record["training"] = list(training)
    path = Path(folder) / ENSEMBLE_FILE
    _check(record, path)
    atomic_write_text(path, json.dumps(record, indent=1) + "\n")
    return path


def read_ensemble(folder: str | os.PathLike) -> dict:
    """The checked record of folder/ensemble.json; member paths made absolute under folder."""
    path = Path(folder) / ENSEMBLE_FILE
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ModelFileError(f"{path}: {size:,} bytes is far too large for an ensemble file",
                                 path)
        record = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelFileError(f"{path}: {exc.strerror}", path) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: not JSON ({exc})", path) from None
    _check(record, path)
    root = path.parent.resolve()
    members = [path.parent / name for name in record["members"]]
    for i, member in enumerate(members):
        if not member.resolve().is_relative_to(root):  # a link out of the folder
            raise ModelFileError(f"{path}: members[{i}] leads out of the ensemble folder",
                                 path, f"members[{i}]")
    return {**record, "members": members}


def load_ensemble(folder: str | os.PathLike):
    """The Ensemble of folder/ensemble.json's members, each loaded as a model file."""
    from dlscratch.io.serialize import load
    from dlscratch.nets.ensemble import Ensemble

    record = read_ensemble(folder)
    members = [load(member) for member in record["members"]]
    first = members[0].stack.layers[0]
    for name, net in zip(record["members"][1:], members[1:], strict=True):
        if type(net.stack.layers[0]) is not type(first) or \
                _outputs(net) != _outputs(members[0]):
            raise ModelFileError(f"{Path(folder) / ENSEMBLE_FILE}: member {name} does not take "
                                 f"the same input or give the same classes as the first",
                                 name, "members")
    return Ensemble(members)


def _outputs(net):
    """The number of classes: the size of the last layer's bias."""
    bias = getattr(net.stack.layers[-1], "b", None)
    return None if bias is None else bias.shape


def _check(record, path: Path) -> None:
    def bad(field, what):
        raise ModelFileError(f"{path}: {field} {what}", path, field)

    if not isinstance(record, dict):
        bad("the file", f"must hold a JSON object, got {type(record).__name__}")
    keys = set(record)
    for key in sorted(keys - {"format", "version", "members", "training"}):
        bad(key, "is not a field of an ensemble file")
    for key in ("format", "version", "members"):
        if key not in keys:
            bad(key, "is missing")
    if record["format"] != FORMAT or record["version"] != VERSION:
        bad("format", f"must be {FORMAT!r} version {VERSION}, got {record['format']!r} "
                      f"version {record['version']!r}")
    members = record["members"]
    if not isinstance(members, list) or not members or len(members) > MAX_MEMBERS:
        bad("members", f"must be a list of 1 to {MAX_MEMBERS} model files, got {members!r:.80}")
    for i, name in enumerate(members):
        where = f"members[{i}]"
        if not isinstance(name, str):
            bad(where, f"must be a file name, got {name!r:.80}")
        parts = PurePosixPath(name).parts
        if not name.endswith(".npz") or PurePosixPath(name).is_absolute() or ".." in parts \
                or "\\" in name or "\x00" in name:
            bad(where, f"must be an .npz path inside the ensemble folder, got {name!r:.80}")
    if len(set(members)) != len(members):
        bad("members", "lists a model file twice")
    training = record.get("training")
    if training is None:
        return
    if not isinstance(training, list) or len(training) != len(members):
        bad("training", f"must be a list with one record per member ({len(members)})")
    for i, entry in enumerate(training):
        if not isinstance(entry, dict) or set(entry) - set(TRAINING_KEYS):
            bad(f"training[{i}]", f"must be an object with keys among {sorted(TRAINING_KEYS)}")
        for key, (test, rule) in TRAINING_KEYS.items():
            if key in entry and not test(entry[key]):
                bad(f"training[{i}].{key}", f"must be {rule}, got {entry[key]!r:.80}")
