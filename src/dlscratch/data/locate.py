"""Find a dataset's four files, downloading them if allowed; explain clearly when impossible."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from dlscratch.data.download import download_dataset
from dlscratch.data.errors import DatasetNotFoundError, DownloadError
from dlscratch.data.paths import ENV_VAR, DatasetStatus, dataset_status, source_label
from dlscratch.data.registry import FILE_NAMES


def missing_message(status: DatasetStatus, reason: str, cli: bool = False) -> str:
    """Say which files are missing, where they were looked for, why not downloaded, and how
    to provide them: with Python's words (`data_dir=`, `download=True`), or with `cli` the
    command line's (`--data-dir`, `dlscratch info`)."""
    lines = [f"{status.title} data not found: missing files"]
    for d in status.searched:
        lines.append(f"  in {d.directory} ({source_label(d.source, cli)}): {', '.join(d.missing)}")
    lines.append(reason)
    files = ", ".join(f"{f}.gz" for f in FILE_NAMES)
    holds = f"where <folder>/{status.name}/ holds those files"
    lines += [
        "To provide the data, do one of:",
        f"  - copy the four files ({files}; gzip or uncompressed) into {status.download_dir}",
        f"  - set {ENV_VAR}=<folder> {holds}",
    ]
    if cli:
        lines += [
            f"  - add --data-dir <folder> to the command, {holds}",
            "  - run the command on a machine with internet access: the files are downloaded",
            "'dlscratch info' shows where data is looked for and which files are there.",
        ]
    else:
        lines += [
            f"  - pass data_dir=<folder> {holds}",
            "  - allow downloading (download=True) on a machine with internet access",
        ]
    return "\n".join(lines)


def _not_found(status: DatasetStatus, error: DownloadError | None = None) -> DatasetNotFoundError:
    """The error for missing files: `error` is why the download failed, None if it was off."""
    if error is None:
        python_reason, cli_reason = "Downloading is off (download=False).", "Downloading is off."
    else:
        python_reason = cli_reason = f"Download into {status.download_dir} failed: {error}"
    return DatasetNotFoundError(
        missing_message(status, python_reason),
        None if error is None else error.path,
        cli_message=missing_message(status, cli_reason, cli=True),
    )


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

    Raises DatasetNotFoundError when files are missing and cannot be downloaded (its
    `cli_message` words the advice for the command line); ChecksumError when a mirror served
    data with the wrong SHA-256.
    """
    status = dataset_status(name, data_dir)
    if status.selected is not None:
        return dict(status.selected.files)
    if not download:
        raise _not_found(status)
    try:
        download_dataset(name, data_dir, mirrors=mirrors, checksums=checksums, progress=progress)
    except DownloadError as e:
        raise _not_found(status, e) from e
    selected = dataset_status(name, data_dir).selected
    if selected is None:  # pragma: no cover - download_dataset fetched every missing file
        raise DatasetNotFoundError(missing_message(status, "Files vanished after download."))
    return dict(selected.files)
