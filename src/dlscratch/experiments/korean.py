"""Figures and report.html in Korean (`dlscratch experiment ... --lang ko`): English phrases
and their Korean.

An experiment draws its figure and writes its summary in English, as always. With --lang ko
the runner then looks up every text of the figure (titles, axis labels, legends, tick labels,
notes), and report.html each record's summary, course result and quick label, in a table of
en -> ko pairs (`experiment_table`): COMMON below, which every experiment shares, and the
experiment's own `KO` table beside its code. A phrase with numbers in it is written with {}
where they go (a summary is one such phrase, its numbers in {}):

    KO = {"loss (smoothed)": "손실 (평활화)",
          "test accuracy (first {} images)": "시험 정확도 (처음 {}개 이미지)"}

What a {} stands for is looked up again ("{} (lr {})" turns "train (lr 0.1)" into
"훈련 (lr 0.1)"); a text with several lines is looked up line by line; a text found nowhere
stays English (a number, a formula, an optimizer's name). Phrases with {} are tried in table
order, the experiment's own before COMMON's, and the first that fits wins: a whole summary
therefore comes first in its KO table, before the figure's shorter phrases ("accuracy {} vs {}"
fits a summary too) and COMMON's ("{} s").
A figure's translated text is drawn in the Hangul font (`dlscratch.fonts.hangul_font`), with
DejaVu Sans for any glyph it lacks.
"""

from __future__ import annotations

import functools
import re

from matplotlib.category import StrCategoryFormatter
from matplotlib.text import Text
from matplotlib.ticker import FixedFormatter, Formatter, FuncFormatter

from dlscratch.experiments.base import FULL_REPORT, QUICK_LABEL
from dlscratch.fonts import is_hangul

QUICK_LABEL_KO = "빠른 모드: 예시용"

# Words and phrases that many figures use
COMMON = {
    "train": "훈련", "test": "시험", "validation": "검증", "loss": "손실",
    "accuracy": "정확도", "iteration": "반복", "iterations": "반복", "epoch": "에폭",
    "epochs": "에폭", "step": "단계", "seconds": "초",
    "training loss": "훈련 손실", "test accuracy": "시험 정확도", "train accuracy": "훈련 정확도",
    "loss (smoothed)": "손실 (평활화)", "accuracy per epoch": "에폭별 정확도",
    "test accuracy (first {} images)": "시험 정확도 (처음 {}개 이미지)",
    "parameters": "매개변수", "multiply-adds": "곱셈-덧셈",
    "time (s)": "시간 (초)", "training time (s)": "훈련 시간 (초)", "{} s": "{}초",
    "receptive field": "수용 영역",
    # the quick label (records.quick_note) in report.html
    QUICK_LABEL: QUICK_LABEL_KO,
    f"{QUICK_LABEL}: {{}} = {{}} here vs {{}} ({{}}); see the full run, {FULL_REPORT}":
        f"{QUICK_LABEL_KO}: {{}} = 이번 실행 {{}}, 기준값 {{}} ({{}}); 전체 실행의 결과는 "
        f"{FULL_REPORT} 참고",
}


def experiment_table(name: str) -> dict[str, str]:
    """The `KO` table of the experiment called `name`, then COMMON's phrases it does not have
    (COMMON alone for a name that is not registered, e.g. in an edited record)."""
    from dlscratch.experiments.registry import get_experiment

    try:
        own = getattr(get_experiment(name), "KO", {})
    except ValueError:
        own = {}
    return {**own, **{key: value for key, value in COMMON.items() if key not in own}}


@functools.cache
def _pattern(key: str) -> re.Pattern:
    """'a {} b' -> ^a (.+?) b$ (each {} matches some text)."""
    return re.compile("^" + "(.+?)".join(re.escape(part) for part in key.split("{}")) + "$",
                      re.DOTALL)


def translate(text: str, table: dict[str, str]) -> str:
    """`text` in Korean by `table` (exact phrase, then phrases with {}), else unchanged."""
    if text in table:
        return table[text]
    if "\n" in text:
        return "\n".join(translate(line, table) for line in text.split("\n"))
    for key, value in table.items():
        if "{}" in key and (match := _pattern(key).match(text)):
            return value.format(*(translate(part, table) for part in match.groups()))
    return text


def koreanize(fig, table: dict[str, str], font: str) -> int:
    """Translate every text of `fig` by `table` (`experiment_table`); draw the Korean ones in
    `font`. Returns how many texts were translated (tick labels of words are translated as
    drawn)."""
    for ax in fig.axes:
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            _translate_word_ticks(ax, name, axis, table, font)
    cells = [cell.get_text() for ax in fig.axes for table in ax.tables
             for cell in table.get_celld().values()]  # a table's texts are not its children
    changed = 0
    for artist in fig.findobj(Text) + cells:
        old = artist.get_text()
        new = translate(old, table)
        if new != old:
            artist.set_text(new)
            changed += 1
        if any(is_hangul(c) for c in new):
            artist.set_fontfamily([font, "DejaVu Sans"])
    return changed


def _translate_word_ticks(ax, name: str, axis, table: dict[str, str], font: str) -> None:
    """Words as tick labels (a bar chart's categories, set_xticklabels) are made when the
    figure is drawn: translate them there, through the axis' formatter."""
    english = axis.get_major_formatter()
    if isinstance(english, StrCategoryFormatter | FixedFormatter | FuncFormatter):
        axis.set_major_formatter(_Translated(english, table))
        ax.tick_params(axis=name, labelfontfamily=[font, "DejaVu Sans"])


class _Translated(Formatter):
    """The labels of another formatter, translated."""

    def __init__(self, english: Formatter, table: dict[str, str]):
        self.english, self.table = english, table

    def __call__(self, x, pos=None):
        return translate(self.english(x, pos), self.table)

    def format_ticks(self, values):
        return [translate(label, self.table) for label in self.english.format_ticks(values)]

    def get_offset(self):
        return self.english.get_offset()
