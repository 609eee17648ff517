"""Fixtures for the book tests (see `_helpers.py`)."""

from __future__ import annotations

import pytest

from ._helpers import Book


@pytest.fixture
def book(tmp_path) -> Book:
    return Book(tmp_path / "deep-learning-from-scratch")
