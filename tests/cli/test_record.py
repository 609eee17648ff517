"""The committed record run (docs/results/record/): `dlscratch evaluate` on it prints exactly the
number of errors the README's results table quotes, in both READMEs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RECORD = ROOT / "docs" / "results" / "record"


def quoted_errors(readme: str) -> int:
    """The error count in the results table's `record` row: '(N errors)', in Korean
    '(틀린 이미지 N장)'."""
    rows = [line for line in readme.splitlines() if line.startswith("| record |")]
    assert len(rows) == 1, "the results table has one `record` row"
    found = re.findall(r"\((\d+) errors\)|\(틀린 이미지 (\d+)장\)", rows[0])
    assert len(found) == 1, rows[0]
    return int("".join(found[0]))


def test_evaluate_prints_the_readmes_error_count(cli, mnist_root, tmp_path):
    result = cli("evaluate", RECORD, "--data-dir", mnist_root, "--out", tmp_path)
    assert result.code == 0, result.err
    printed = re.search(r"^errors: (\d+) \(test error [\d.]+%\)$", result.out, re.MULTILINE)
    assert printed, result.out
    members = re.findall(r"^\s+(\d+)\s+[\d.]+\s+[\d.]+$", result.out, re.MULTILINE)
    assert members == [str(k) for k in range(1, len(members) + 1)] and len(members) >= 2
    for name in ("README.md", "README.ko.md"):
        assert quoted_errors((ROOT / name).read_text(encoding="utf-8")) == int(printed[1]), name
    assert (tmp_path / "misclassified.png").is_file() and (tmp_path / "confusion.png").is_file()
