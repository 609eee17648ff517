"""The components some tests use for real (a PostgreSQL server, a browser, Jupyter's kernel, a
Hangul font, the MNIST files): where one is missing, its tests fail in CI, which must install it
(.ci/run), and are skipped elsewhere."""

from __future__ import annotations

import os

import pytest

IN_CI = bool(os.environ.get("CI"))


def missing(what: str):
    """Fail in CI (the component must be installed there), skip elsewhere."""
    if IN_CI:
        pytest.fail(f"{what} (CI must install it: see .ci/run)")
    pytest.skip(what)
