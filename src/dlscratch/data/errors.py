"""Exceptions raised by the data layer. All derive from `DataError` (a `ValueError`, defined
with the other families in `dlscratch.errors`)."""

from __future__ import annotations

import os

from dlscratch.errors import DataError


class ChecksumError(DataError):
    """The SHA-256 of a (decompressed) file differs from the expected value."""

    def __init__(self, path: str | os.PathLike, expected: str, actual: str, note: str = ""):
        msg = f"{os.fspath(path)}: SHA-256 mismatch: expected {expected}, got {actual}"
        super().__init__(msg + (f" ({note})" if note else ""), path)
        self.expected = expected
        self.actual = actual


class DownloadError(DataError):
    """Every mirror failed to deliver a file (network error, HTTP error, truncated body)."""


class DatasetNotFoundError(DataError):
    """A dataset's files are missing and could not be downloaded.

    `str(error)` tells a Python user what to do (`data_dir=`); `cli_message` says the same for
    the command line (`--data-dir`, `dlscratch info`), which the `dlscratch` command prints.
    """

    def __init__(
        self, message: str, path: str | os.PathLike | None = None, cli_message: str | None = None
    ):
        super().__init__(message, path)
        self.cli_message = message if cli_message is None else cli_message
