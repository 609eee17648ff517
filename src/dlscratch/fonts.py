"""A system font that can draw Hangul, for figures in Korean (`--lang ko`).

matplotlib's default font (DejaVu Sans) has no Hangul: it would draw boxes in place of the
letters. `hangul_font()` looks through the fonts matplotlib knows for one whose character map
holds Hangul (Debian's `fonts-nanum` first: NanumGothic), then through the system's font files
(matplotlib caches its font list on its first run, so a font installed since is not in it);
without one, figures stay in English and the caller prints NO_HANGUL_FONT once.
"""

from __future__ import annotations

import functools
import os

from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

HANGUL_PACKAGE = "fonts-nanum"  # Debian/Ubuntu; `.ci/run` installs it
PREFERRED = ("NanumGothic", "NanumBarunGothic", "Noto Sans CJK KR", "Noto Sans KR",
             "UnDotum", "Baekmuk Gulim")
SAMPLE = "가각한글학습"  # a font that has these has the syllables block, not a few symbols
NO_HANGUL_FONT = (f"warning: no font with Hangul glyphs found; figures are drawn in English "
                  f"(install one: sudo apt-get install {HANGUL_PACKAGE})")


def is_hangul(char: str) -> bool:
    """A Hangul syllable or letter (jamo, compatibility jamo)."""
    code = ord(char)
    return 0xAC00 <= code <= 0xD7A3 or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F


def has_glyphs(path: str, text: str) -> bool:
    """Whether the font file draws every character of `text` with a glyph of its own.

    "Of its own": a fallback font such as Last Resort maps a whole block to one box glyph."""
    try:
        charmap = FT2Font(path).get_charmap()
    except (OSError, RuntimeError, ValueError):  # a font file FreeType cannot read
        return False
    chars = set(text)
    return (all(ord(c) in charmap for c in chars)
            and len({charmap[ord(c)] for c in chars}) == len(chars))


def _rank(name: str) -> tuple[int, str]:
    """PREFERRED families first (by family name or file name), then the rest by name."""
    squeezed = name.replace(" ", "")
    hits = [i for i, p in enumerate(PREFERRED) if squeezed.startswith(p.replace(" ", ""))]
    return (hits[0] if hits else len(PREFERRED), name)


@functools.cache
def hangul_font() -> str | None:
    """The family name of an installed font with Hangul glyphs (PREFERRED first), or None."""
    known = font_manager.fontManager.ttflist
    for entry in sorted(known, key=lambda e: _rank(e.name)):
        if has_glyphs(entry.fname, SAMPLE):
            return entry.name
    listed = {entry.fname for entry in known}
    for path in sorted(font_manager.findSystemFonts(), key=lambda p: _rank(os.path.basename(p))):
        if path not in listed and has_glyphs(path, SAMPLE):
            folder = os.path.dirname(path)  # its bold and other weights too
            for other in font_manager.findSystemFonts(folder):
                if other not in listed:
                    font_manager.fontManager.addfont(other)  # known to findfont from now on
            return font_manager.FontProperties(fname=path).get_name()
    return None
