"""report.html: one self-contained page, every experiment in course order with its figure."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from dlscratch.io.atomic import atomic_write_text

STYLE = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
section{border-top:1px solid #ccc;padding:1em 0}h2 small{color:#666;font-weight:normal}
img{max-width:100%}table{border-collapse:collapse;font-size:90%}
td,th{border:1px solid #ddd;padding:2px 8px;text-align:left;vertical-align:top}
code{background:#f4f4f4}"""


def _numbers_table(numbers: dict) -> str:
    rows = []
    for key, value in numbers.items():
        text = json.dumps(value)
        if len(text) > 300:
            text = text[:300] + " ..."
        rows.append(f"<tr><th>{html.escape(key)}</th><td><code>{html.escape(text)}</code></td></tr>")
    return "<table>" + "".join(rows) + "</table>"


def read_records(out_dir: Path) -> list[dict]:
    """The NAME.json records of every registered experiment found in out_dir."""
    from dlscratch.experiments.registry import names

    paths = [Path(out_dir) / f"{name}.json" for name in names()]
    return [json.loads(p.read_text(encoding="utf-8")) for p in paths if p.exists()]


def write_report(out_dir: Path, records: list[dict]) -> Path:
    out_dir = Path(out_dir)
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
             "<title>dlscratch: the course's experiments</title>",
             f"<style>{STYLE}</style></head><body>",
             "<h1>dlscratch: the course's experiments <small>(딥러닝 실험)</small></h1>",
             "<p>Every figure and number below was computed by <code>dlscratch experiment</code>"
             f" ({'quick' if records and records[0]['quick'] else 'full'} mode).</p>"]
    for rec in sorted(records, key=lambda r: r["number"]):
        png = out_dir / f"{rec['name']}.png"
        img = base64.b64encode(png.read_bytes()).decode() if png.exists() else ""
        parts += [
            f"<section id='{rec['name']}'><h2>{rec['number']}. {html.escape(rec['title'])} "
            f"<small lang='ko'>{html.escape(rec['title_ko'])}</small></h2>",
            f"<p><b>Result:</b> {html.escape(rec['summary'])}"
            + (f"<br><b>Course:</b> {html.escape(rec['course_result'])}"
               if rec.get("course_result") else "")
            + f"<br><small>seed {rec['seed']}, {rec['elapsed_s']} s</small></p>",
            f"<img alt='{rec['name']}' src='data:image/png;base64,{img}'>" if img else "",
            "<h3>Parameters</h3>" + _numbers_table(rec["params"]),
            "<h3>Numbers</h3>" + _numbers_table(rec["numbers"]),
            "</section>"]
    parts.append("</body></html>")
    path = out_dir / "report.html"
    atomic_write_text(path, "\n".join(parts))
    atomic_write_text(out_dir / "summary.md", markdown_table(records))
    return path


def markdown_table(records: list[dict]) -> str:
    """| # | experiment | the course | dlscratch | s |: the README's table of results."""
    rows = ["| # | experiment | the course | dlscratch (this run) | time (s) |",
            "|---|---|---|---|---|"]
    for rec in sorted(records, key=lambda r: r["number"]):
        cells = [str(rec["number"]), f"`{rec['name']}` ({rec['title_ko']})",
                 rec.get("course_result", ""), rec["summary"], f"{rec['elapsed_s']:.0f}"]
        rows.append("| " + " | ".join(c.replace("|", "/").replace("\n", " ") for c in cells)
                    + " |")
    return "\n".join(rows) + "\n"
