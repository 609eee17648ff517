"""Find a dataset's four files, downloading them if allowed; explain clearly when impossible."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from dlscratch.data.download import download_dataset
from dlscratch.data.errors import DatasetNotFoundError, DownloadError
from dlscratch.data.paths import ENV_VAR, DatasetStatus, dataset_status
from dlscratch.data.registry import FILE_NAMES


def missing_message(status: DatasetStatus, reason: str) -> str:
    """Say which files are missing, where they were looked for, why not downloaded, and how
    to provide them."""
    lines = [f"{status.title} data not found: missing files"]
    for d in status.searched:
        lines.append(f"  in {d.directory} ({d.source}): {', '.join(d.missing)}")
    lines.append(reason)
    files = ", ".join(f"{f}.gz" for f in FILE_NAMES)
    lines += [
        "To provide the data, do one of:",
        f"  - copy the four files ({files}; gzip or uncompressed) into {status.download_dir}",
        f"  - set {ENV_VAR}=<folder> where <folder>/{status.name}/ holds those files",
        f"  - pass data_dir=<folder> where <folder>/{status.name}/ holds those files",
        "  - allow downloading (download=True) on a machine with internet access",
    ]
    return "\n".join(lines)


def locate_dataset(
    name: str,
    data_dir: str | os.PathLike | None = None,
    *,
    download: bool = True,
    mirrors: Sequence[str] | None = None,
    checksums: Mapping[str, str] | None = None,
    progress: bool = True,
) -> dict[str, Path]:
    """Return {standard file name: path} for dataset `name`, downloading missing files if
    `download` (into `data_dir` or the user cache only).

    Raises DatasetNotFoundError when files are missing and cannot be downloaded;
    ChecksumError when a mirror served data with the wrong SHA-256.
    """
    status = dataset_status(name, data_dir)
    if status.selected is not None:
        return dict(status.selected.files)
    if not download:
        raise DatasetNotFoundError(missing_message(status, "Downloading is off (download=False)."))
    try:
        download_dataset(name, data_dir, mirrors=mirrors, checksums=checksums, progress=progress)
    except DownloadError as e:
        reason = f"Download into {status.download_dir} failed: {e}"
        raise DatasetNotFoundError(missing_message(status, reason), e.path) from e
    selected = dataset_status(name, data_dir).selected
    if selected is None:  # pragma: no cover - download_dataset fetched every missing file
        raise DatasetNotFoundError(missing_message(status, "Files vanished after download."))
    return dict(selected.files)
