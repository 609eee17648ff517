"""The errors dlscratch raises for things a user can fix, one class per family.

Each message is one line that names the file (or argument) and what is wrong with it; the
`dlscratch` command prints it and exits non-zero, never with a traceback.
"""

from __future__ import annotations

import os


class DlscratchError(Exception):
    """Base of the families below."""


class DataError(DlscratchError, ValueError):
    """A data file is malformed, inconsistent or unavailable (`path`: the file, when known)."""

    def __init__(self, message: str, path: str | os.PathLike | None = None):
        super().__init__(message)
        self.path = None if path is None else os.fspath(path)


class ModelFileError(DlscratchError, ValueError):
    """A model file that cannot be read, or does not match the network it should fill.

    `path`: the file, when known; `field`: what in it is at fault, when known (an array such as
    "W3", a record field such as "layers[2].config.stride", or "archive" for the zip itself).
    """

    def __init__(self, message: str, path: str | os.PathLike | None = None,
                 field: str | None = None):
        super().__init__(message)
        self.path = None if path is None else os.fspath(path)
        self.field = field


class CheckpointError(ModelFileError):
    """A training checkpoint that cannot be read or does not belong to this run."""


class ImageError(DlscratchError, ValueError):
    """An image that cannot be read or used as a network input."""


class RunError(DlscratchError):
    """A run folder that cannot be used: locked by another run, not writable, ..."""


__all__ = ["CheckpointError", "DataError", "DlscratchError", "ImageError", "ModelFileError",
           "RunError"]
