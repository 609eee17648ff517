"""Exceptions raised by the data layer. All derive from `DataError` (a `ValueError`)."""

from __future__ import annotations

import os


class DataError(ValueError):
    """A data file is malformed, inconsistent or unavailable.

    `path` (when known) is the offending file; the message always names it.
    """

    def __init__(self, message: str, path: str | os.PathLike | None = None):
        super().__init__(message)
        self.path = None if path is None else os.fspath(path)


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
    """A dataset's files are missing and could not be downloaded."""
