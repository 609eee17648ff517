"""report.html: one self-contained page, every experiment in course order with its figure.

The records are untrusted (`dlscratch experiment report` reads NAME.json files anyone can
edit), so the page is built on three rules:

- every value taken from a record is checked for its type first (`records.check_record`), then
  escaped: text with `html.escape`, numbers formatted from int/float, attributes double-quoted
  and escaped, params/numbers shown as escaped JSON;
- a figure is embedded only when NAME.png resolves (`Path.resolve`, symbolic links followed)
  to a file inside the report's folder, its name ends in .png and it starts with the PNG
  signature; otherwise the page shows the path as escaped text with a note;
- summary.md (a Markdown table) gets the same text with '<' written as '&lt;', so no cell can
  open an HTML tag where Markdown is rendered.

With lang="ko" a record's summary, course result and quick label are shown in Korean by its
experiment's table (`korean.experiment_table`); a text no phrase fits, or one longer than
MAX_TRANSLATED (the phrases' patterns are not run on arbitrarily long edited text), stays as
written. summary.md is always English.
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

from dlscratch.experiments.base import FULL_REPORT, QUICK_LABEL
from dlscratch.experiments.korean import experiment_table, translate
from dlscratch.experiments.records import check_record, quick_note, read_records
from dlscratch.io.atomic import atomic_write_text

__all__ = ["markdown_table", "read_records", "render_report", "write_report"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TRANSLATED = 400  # characters: more than any experiment's summary, course result or note
STYLE = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
section{border-top:1px solid #ccc;padding:1em 0}h2 small{color:#666;font-weight:normal}
img{max-width:100%}table{border-collapse:collapse;font-size:90%}
td,th{border:1px solid #ddd;padding:2px 8px;text-align:left;vertical-align:top}
code{background:#f4f4f4}.note{color:#8a4b00}
.quick{background:#fff3cd;color:#7a4b00;padding:0 4px;border:1px solid #e0c36a}"""


def _text(value: str) -> str:
    """Escaped text, quotes too (so also safe in a quoted attribute); a lone surrogate (valid
    in JSON, not in UTF-8) becomes a visible \\udXXX, a control character a visible \\xNN."""
    text = value.encode("utf-8", "backslashreplace").decode("utf-8")
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", lambda m: f"\\x{ord(m[0]):02x}", text)
    return html.escape(text)


def _number(value) -> str:
    """An int as written; a float with two decimals (inf and nan as such)."""
    return str(value) if isinstance(value, int) else f"{value:.2f}"


def _json(value) -> str:
    try:
        text = json.dumps(value)  # ASCII only: every non-ASCII character as \\uXXXX
    except (RecursionError, ValueError):
        return "(nested too deeply to show)"
    return text[:300] + " ..." if len(text) > 300 else text


def _numbers_table(numbers: dict) -> str:
    rows = [f"<tr><th>{_text(key)}</th><td><code>{_text(_json(value))}</code></td></tr>"
            for key, value in numbers.items()]
    return "<table>" + "".join(rows) + "</table>"


def figure(out_dir: Path, name: str, lang: str = "en") -> str:
    """The <img> of NAME.png, or an escaped note (in `lang`) saying why it is not embedded."""
    notes = WORDS[lang]["figure"]
    shown = f"<code>{_text(name + '.png')}</code>"
    try:
        root = Path(out_dir).resolve()
        path = (root / f"{name}.png").resolve()
        inside = path.is_relative_to(root) and path.suffix == ".png"
        data = path.read_bytes() if inside and path.is_file() else None
    except (OSError, ValueError):  # a NUL in the name, a name too long for the system
        problem = "unusable"
    else:
        problem = ("outside" if not inside else "missing" if data is None
                   else "not_png" if not data.startswith(PNG_SIGNATURE) else None)
    if problem is not None:
        return f"<p class='note'>{notes[problem].format(shown=shown)}</p>"
    return (f'<img alt="{_text(name)}" '
            f'src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">')


def _in(lang: str, name: str = ""):
    """A function giving a text of experiment `name`'s record in `lang` (the text itself in
    English)."""
    if lang == "en":
        return str
    table = experiment_table(name)
    return lambda text: translate(text, table) if len(text) <= MAX_TRANSLATED else text


def _label(record: dict, say=str) -> str:
    """The quick label as HTML, in say's language ('' when the result is not below the
    course's value)."""
    note = quick_note(record)
    if not note:
        return ""
    said, label = say(note), say(QUICK_LABEL)
    if not said.startswith(label):  # the note stayed as written
        label = QUICK_LABEL
    return f"<br><span class='quick'>{_text(label)}</span>{_text(said.removeprefix(label))}"


# The page's own words, in English and in Korean (--lang ko); the records' texts go through _in
WORDS = {
    "en": {"page": "dlscratch: the course's experiments", "h1": "dlscratch: the course's "
           "experiments <small>(딥러닝 실험)</small>",
           "intro": "Every figure and number below was computed by <code>dlscratch experiment"
                    "</code> ({mode} mode).",
           "quick": "Quick mode trains on little data for few iterations: a result marked "
                    "{label} is below the course's value; the full run's report is {full}.",
           "modes": {"quick": "quick", "full": "full", "quick and full": "quick and full"},
           "result": "Result", "course": "Course", "seed": "seed {seed}, {elapsed} s",
           "parameters": "Parameters", "numbers": "Numbers",
           "figure": {"unusable": "figure {shown} not embedded: not a usable file name",
                      "outside": "figure {shown} not embedded: it is not a .png file inside "
                                 "the report's folder",
                      "missing": "no figure: {shown} not found",
                      "not_png": "figure {shown} not embedded: not a PNG file"}},
    "ko": {"page": "dlscratch: 강의의 실험", "h1": "dlscratch: 강의의 실험 "
           "<small lang='en'>(the course's experiments)</small>",
           "intro": "아래의 모든 그림과 수치는 <code>dlscratch experiment</code>로 계산했습니다 "
                    "({mode} 모드).",
           "quick": "빠른 모드는 적은 데이터로 적은 횟수만 학습합니다: {label} 표시가 붙은 결과는 "
                    "강의의 값보다 낮습니다. 전체 실행의 보고서는 {full}입니다.",
           "modes": {"quick": "빠른", "full": "전체", "quick and full": "빠른 및 전체"},
           "result": "결과", "course": "강의", "seed": "시드 {seed}, {elapsed}초",
           "parameters": "설정", "numbers": "수치",
           "figure": {"unusable": "그림 {shown}을 넣지 않음: 쓸 수 없는 파일 이름",
                      "outside": "그림 {shown}을 넣지 않음: 보고서 폴더 안의 .png 파일이 아님",
                      "missing": "그림 없음: {shown}을 찾을 수 없음",
                      "not_png": "그림 {shown}을 넣지 않음: PNG 파일이 아님"}},
}


def _section(out_dir: Path, rec: dict, lang: str = "en") -> str:
    words, say = WORDS[lang], _in(lang, rec["name"])
    course = (f"<br><b>{words['course']}:</b> {_text(say(rec['course_result']))}"
              if rec.get("course_result") else "")
    first, second, second_lang = ((rec["title"], rec["title_ko"], "ko") if lang == "en"
                                  else (rec["title_ko"], rec["title"], "en"))
    seed = words["seed"].format(seed=_number(rec["seed"]), elapsed=_number(rec["elapsed_s"]))
    return "\n".join([
        f'<section id="{_text(rec["name"])}"><h2>{_number(rec["number"])}. '
        f'{_text(first)} <small lang="{second_lang}">{_text(second)}</small></h2>',
        f"<p><b>{words['result']}:</b> {_text(say(rec['summary']))}{_label(rec, say)}{course}"
        f"<br><small>{seed}</small></p>",
        figure(out_dir, rec["name"], lang),
        f"<h3>{words['parameters']}</h3>" + _numbers_table(rec["params"]),
        f"<h3>{words['numbers']}</h3>" + _numbers_table(rec["numbers"]),
        "</section>"])


def _mode(records: list[dict]) -> str:
    quick = {rec["quick"] for rec in records}
    return "quick" if quick == {True} else "full" if quick <= {False} else "quick and full"


def write_report(out_dir: Path, records: list[dict], lang: str = "en") -> Path:
    """Write report.html (in `lang`: "en" or "ko") and summary.md in out_dir from checked
    records (RecordError if not)."""
    if lang not in WORDS:
        raise ValueError(f"lang must be one of {', '.join(WORDS)}, got {lang!r}")
    out_dir = Path(out_dir)
    for i, rec in enumerate(records):
        check_record(rec, f"records[{i}]")
    path = out_dir / "report.html"
    atomic_write_text(path, render_report(out_dir, records, lang))
    atomic_write_text(out_dir / "summary.md", markdown_table(records))
    return path


def render_report(out_dir: Path, records: list[dict], lang: str = "en") -> str:
    """The text of report.html for checked records; figures are read from out_dir."""
    words = WORDS[lang]
    records = sorted(records, key=lambda r: r["number"])
    mode = _mode(records)
    intro = words["intro"].format(mode=words["modes"][mode])
    if "quick" in mode:
        label = _text(_in(lang)(QUICK_LABEL))
        intro += " " + words["quick"].format(label=f"<span class='quick'>{label}</span>",
                                             full=f"<code>{FULL_REPORT}</code>")
    parts = [f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>",
             f"<title>{words['page']}</title>",
             f"<style>{STYLE}</style></head><body>",
             f"<h1>{words['h1']}</h1>",
             f"<p>{intro}</p>"]
    parts += [_section(out_dir, rec, lang) for rec in records]
    parts.append("</body></html>")
    return "\n".join(parts)


def markdown_table(records: list[dict]) -> str:
    """| # | experiment | the course | dlscratch | s |: the README's table of results."""
    rows = ["| # | experiment | the course | dlscratch (this run) | time (s) |",
            "|---|---|---|---|---|"]
    for rec in sorted(records, key=lambda r: r["number"]):
        note = quick_note(rec)
        elapsed = rec["elapsed_s"]
        cells = [str(rec["number"]), f"`{rec['name']}` ({rec['title_ko']})",
                 rec.get("course_result", ""),
                 rec["summary"] + (f" (**{note}**)" if note else ""),
                 str(elapsed) if isinstance(elapsed, int) else f"{elapsed:.0f}"]
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(rows) + "\n"


def _cell(text: str) -> str:
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text.replace("|", "/").replace("\r", " ").replace("\n", " ").replace("<", "&lt;")
