"""README.ko.md is README.md in Korean: the same code blocks, in the same order, and the same
outline (the sequence of heading levels), so the translation cannot drift from the original
unnoticed. Each file links to the other at its top."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
README_KO = ROOT / "README.ko.md"


def fenced_blocks(text: str) -> list[str]:
    """Every fenced code block (``` ... ```), its opening line (with the language) included."""
    blocks, current = [], None
    for line in text.splitlines():
        if current is None:
            if line.lstrip().startswith("```"):
                current = [line.strip()]
        elif line.strip() == "```":
            blocks.append("\n".join(current))
            current = None
        else:
            current.append(line)
    assert current is None, f"an unclosed code block: {current[0]!r}"
    return blocks


def heading_levels(text: str) -> list[int]:
    """The level of every Markdown heading outside code blocks (## -> 2)."""
    levels, in_code = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            levels.append(len(line) - len(line.lstrip("#")))
    return levels


def test_parser_reads_blocks_and_headings():
    text = "# A\n\n```bash\nmake run\n# not a heading\n```\n\n## B\n```\nx\n```\n"
    assert fenced_blocks(text) == ["```bash\nmake run\n# not a heading", "```\nx"]
    assert heading_levels(text) == [1, 2]


def test_korean_readme_has_the_same_code_blocks():
    english = fenced_blocks(README.read_text(encoding="utf-8"))
    korean = fenced_blocks(README_KO.read_text(encoding="utf-8"))
    assert english, "README.md has no code block"
    for i, (en, ko) in enumerate(zip(english, korean, strict=False)):  # the first difference
        assert en == ko, f"code block {i + 1} differs:\nREADME.md:\n{en}\nREADME.ko.md:\n{ko}"
    assert len(english) == len(korean), \
        f"README.md has {len(english)} code blocks, README.ko.md {len(korean)}"


def test_korean_readme_has_the_same_outline():
    assert heading_levels(README_KO.read_text(encoding="utf-8")) == \
        heading_levels(README.read_text(encoding="utf-8"))


def test_each_readme_links_to_the_other_at_its_top():
    assert "(README.ko.md)" in "\n".join(README.read_text(encoding="utf-8").splitlines()[:3])
    assert "(README.md)" in "\n".join(README_KO.read_text(encoding="utf-8").splitlines()[:3])
