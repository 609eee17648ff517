"""The error `dlscratch search` raises for things a user can fix (one line, no traceback)."""

from __future__ import annotations

from dlscratch.errors import DlscratchError


class SearchError(DlscratchError, ValueError):
    """A search that cannot run as asked: a bad --param, an unreachable --storage, a study
    created with other settings, a folder without a study, ..."""


__all__ = ["SearchError"]
