"""What every experiment shares: its description, the run context and how results are saved.

An experiment is a module with a module-level `INFO = ExperimentInfo(...)` and a function
`run(ctx) -> Result`. The runner times it, writes NAME.png (the figure) and NAME.json (every
number the figure or the report shows, with the parameters and seed).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

QUICK_LABEL = "quick mode: illustration only"
LANGS = ("en", "ko")  # the report's and the figures' language (--lang)
FULL_REPORT = "docs/results/experiments-full/report.html"  # the full run, in the repository


@dataclass(frozen=True)
class CourseValue:
    """The figure a quick run is held against: one number of the record and its course value.

    `key` is the path into the record's `numbers` (("test_acc", "residual") is
    numbers["test_acc"]["residual"]); `value` is what the course states or, where the course
    only describes the result, what our full run at the course's settings measured (`source`
    says which). A quick run whose number is worse than `value` is labelled QUICK_LABEL.
    """

    key: tuple[str, ...]
    value: float
    source: str
    higher_is_better: bool = True

    def as_record(self) -> dict:
        return {"key": list(self.key), "value": self.value, "source": self.source,
                "higher_is_better": self.higher_is_better}


@dataclass(frozen=True)
class ExperimentInfo:
    number: int
    name: str
    title: str
    title_ko: str  # the course's section title (the course is taught in Korean)
    course_result: str = ""  # what the course/book reports, for the README table
    course_value: CourseValue | None = None  # None: quick mode shows the course's result too


@dataclass
class Result:
    figure: object  # a matplotlib Figure
    params: dict  # the settings used (after --quick shrinking)
    numbers: dict  # every number the experiment shows
    summary: str = ""  # one line: our result, for the report and the README table


@dataclass
class Context:
    quick: bool = False
    seed: int = 0
    out_dir: Path = Path("experiments-out")
    cache_dir: Path | None = None  # trained models reused across runs (full mode)
    data_dir: str | None = None
    workers: int | None = None
    reuse_runs: list = field(default_factory=list)  # `dlscratch train` output folders
    log: callable = field(default=print)
    lang: str = "en"  # "ko": the report and the figures in Korean (see experiments/korean.py)
    warned: set = field(default_factory=set)  # warnings already printed in this run

    def rng(self, offset: int = 0) -> np.random.Generator:
        return np.random.default_rng(self.seed + offset)

    def pick(self, quick, full):
        """`quick` in --quick mode, else `full` (the course's setting)."""
        return quick if self.quick else full

    def mnist(self, flatten=True, dataset="mnist"):
        from dlscratch.data import load_dataset

        return load_dataset(dataset, normalize=True, flatten=flatten, data_dir=self.data_dir)

    def cache_path(self, kind: str, settings: dict) -> Path | None:
        """A file path keyed by the exact settings (None when caching is off or in quick mode)."""
        if self.cache_dir is None or self.quick:
            return None
        key = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
        return Path(self.cache_dir) / f"{kind}-{key.hexdigest()[:16]}.npz"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dlscratch" / "experiments"


def jsonable(value):
    """numpy scalars/arrays -> Python numbers/lists, recursively; NaN/Inf -> strings."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    return value
