"""Where dataset files are looked for, and which of them are present.

Search order for a dataset `name` (each root holds a folder `name/`):

    1. `data_dir` argument, if given (then nothing else is searched);
    2. `$DLSCRATCH_DATA`, if set;
    3. the per-user cache `$XDG_CACHE_HOME/dlscratch` (default `~/.cache/dlscratch`).

The first folder holding all four files wins. Downloads go only to `data_dir` or the cache.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dlscratch.data.registry import DATASET_NAMES, FILE_NAMES, get_spec

ENV_VAR = "DLSCRATCH_DATA"
EXPLICIT_SOURCE = "data_dir argument"


def _abs(path: str | os.PathLike) -> Path:
    return Path(os.path.abspath(os.path.expanduser(os.fspath(path))))


def cache_root() -> Path:
    """Per-user cache root: `$XDG_CACHE_HOME/dlscratch`, else `~/.cache/dlscratch`."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    return _abs(xdg) / "dlscratch" if xdg else _abs("~/.cache/dlscratch")


def source_label(source: str, cli: bool = False) -> str:
    """A search root's source as a user of Python (`cli` False) or of the command line sees it."""
    return "--data-dir" if cli and source == EXPLICIT_SOURCE else source


def search_roots(data_dir: str | os.PathLike | None = None) -> list[tuple[Path, str]]:
    """Roots to search, in order, as (root, where-it-came-from) pairs."""
    if data_dir is not None:
        return [(_abs(data_dir), EXPLICIT_SOURCE)]
    roots = []
    env = os.environ.get(ENV_VAR)
    if env:
        roots.append((_abs(env), f"${ENV_VAR}"))
    roots.append((cache_root(), "user cache"))
    return roots


def download_root(data_dir: str | os.PathLike | None = None) -> Path:
    """Root that downloads are written to: `data_dir` if given, else the user cache."""
    return _abs(data_dir) if data_dir is not None else cache_root()


def find_file(directory: Path, name: str) -> Path | None:
    """The file `name` (uncompressed, preferred) or `name.gz` in `directory`, or None."""
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True)
class DirStatus:
    """One folder searched for a dataset: standard file name -> found path (None if missing)."""

    directory: Path
    source: str
    files: Mapping[str, Path | None]

    @property
    def missing(self) -> list[str]:
        return [name for name, path in self.files.items() if path is None]

    @property
    def complete(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class DatasetStatus:
    """Search result for one dataset: every folder looked in, and where downloads would go."""

    name: str
    title: str
    searched: tuple[DirStatus, ...]
    download_dir: Path

    @property
    def selected(self) -> DirStatus | None:
        """The first folder holding all files, or None."""
        return next((d for d in self.searched if d.complete), None)

    def describe(self, cli: bool = False) -> str:
        """Human-readable lines: each folder with its present/missing files (`cli`: the
        explicit folder is called --data-dir, as `dlscratch info` knows it)."""
        lines = [f"{self.title} ({self.name}):"]
        chosen = self.selected
        for d in self.searched:
            mark = "  <- used" if d is chosen else ""
            lines.append(f"  {d.directory}  [{source_label(d.source, cli)}]{mark}")
            for name, path in d.files.items():
                found = f"ok      {path.name}" if path else f"MISSING {name}[.gz]"
                lines.append(f"    {found}")
        if chosen is None:
            lines.append(f"  downloads would go to {self.download_dir}")
        return "\n".join(lines)


def dataset_status(name: str, data_dir: str | os.PathLike | None = None) -> DatasetStatus:
    """Look for dataset `name` in every search root (see module docstring)."""
    spec = get_spec(name)
    searched = tuple(
        DirStatus(root / spec.name, source, {f: find_file(root / spec.name, f) for f in FILE_NAMES})
        for root, source in search_roots(data_dir)
    )
    return DatasetStatus(spec.name, spec.title, searched, download_root(data_dir) / spec.name)


def data_search_info(data_dir: str | os.PathLike | None = None) -> dict[str, DatasetStatus]:
    """Status of every known dataset, keyed by name (used by `dlscratch info`)."""
    return {name: dataset_status(name, data_dir) for name in DATASET_NAMES}
