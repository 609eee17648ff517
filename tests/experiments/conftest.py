"""Shared fixtures for the experiment tests: a quick-mode Context and the output checks."""

from __future__ import annotations

import json
import os

import pytest
from tests.experiments.korean_text import assert_summary_korean

from dlscratch.experiments.base import Context
from dlscratch.experiments.runner import run_experiment

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def make_ctx(tmp_path) -> Context:
    """Quick mode, seed 0, outputs in tmp_path, no log lines."""
    return Context(quick=True, seed=0, out_dir=tmp_path, log=lambda *args: None)


@pytest.fixture(scope="session")
def quick_ctx():
    """A factory: quick_ctx(tmp_path) -> Context(quick=True, seed=0, out_dir=tmp_path)."""
    return make_ctx


@pytest.fixture
def needs_mnist():
    """Skip a test that reads the real MNIST files when $DLSCRATCH_DATA is not set."""
    if not os.environ.get("DLSCRATCH_DATA"):
        pytest.skip("DLSCRATCH_DATA is not set: this experiment needs the MNIST files")


@pytest.fixture
def run_quick(tmp_path, quick_ctx):
    """run_quick(name) -> the NAME.json record, after checking NAME.png and NAME.json exist and
    that the summary reads in Korean (report.html with --lang ko)."""

    def run(name: str) -> dict:
        run_experiment(name, quick_ctx(tmp_path))
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == PNG_SIGNATURE
        record = json.loads((tmp_path / f"{name}.json").read_text())
        assert {"params", "numbers", "seed"} <= record.keys()
        assert record["quick"] is True and record["seed"] == 0
        assert_summary_korean(record)
        return record

    return run
