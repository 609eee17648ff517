"""Property: any NAME.json ends either in a safe report page or in one clear error line.

1,000 records (random and hostile strings, nested junk, wrong types, missing fields, not JSON
at all) are each written to a report folder, read back as `dlscratch experiment report` reads
them, and rendered. Every one must end in either
  - RecordError: one line that starts with the file's path and, for a record that is a JSON
    object, names a field that is actually wrong; or
  - a page whose HTML, as parsed by html.parser, has only the report's own elements and
    attributes (no <script>, no event handlers), embeds only the PNG files inside the folder,
    and shows every text field of the record as text (so it was escaped, not read as markup).
All 1,000 run in one child process under a 1 GiB address-space cap (`_memcap`), like the
other fuzz families; a record is a few KB, so the cap only guards against a runaway.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlscratch.experiments.records import RecordError, load_record
from dlscratch.experiments.report import render_report

from ._memcap import result_of, run_capped

CASES = 1000
CAP_MIB = 1024
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "' onload='x",
           "</section><script>", "<!--", "&amp;", "&#60;", "\ud800", "\0", "\r\n", "|"]
NAMES = ["activations", "inward", "outward", "fake", "../outside", "../../etc/passwd",
         "ABSOLUTE", "sub/../activations", "dir/", ""]
ELEMENTS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "small", "p",
            "b", "br", "section", "span", "code", "table", "tr", "th", "td", "img"}
ATTRIBUTES = {("html", "lang"), ("meta", "charset"), ("section", "id"), ("small", "lang"),
              ("span", "class"), ("p", "class"), ("img", "alt"), ("img", "src")}

TEXT = st.one_of(st.text(max_size=30), st.sampled_from(HOSTILE),
                 st.lists(st.sampled_from(HOSTILE) | st.text(max_size=5), max_size=4).map(
                     "".join))
LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT)
JUNK = st.recursive(LEAF, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(TEXT, inner, max_size=3), max_leaves=10)
NUMBER = st.integers() | st.floats()
FIELDS = {"number": st.integers(), "name": st.sampled_from(NAMES) | TEXT, "title": TEXT,
          "title_ko": TEXT, "summary": TEXT, "quick": st.booleans(), "seed": st.integers(),
          "elapsed_s": NUMBER, "params": st.dictionaries(TEXT, JUNK, max_size=3),
          "numbers": st.dictionaries(TEXT, JUNK, max_size=3), "course_result": TEXT}
COURSE_VALUE = {"key": st.just(["score"]), "value": NUMBER, "source": TEXT,
                "higher_is_better": st.booleans()}


def fits(field: str, value) -> bool:
    """The record format, written out independently of records.py."""
    if field in ("number", "seed"):
        return type(value) is int
    if field in ("elapsed_s", "value"):
        return type(value) in (int, float)
    if field in ("quick", "higher_is_better"):
        return type(value) is bool
    if field in ("params", "numbers"):
        return type(value) is dict
    if field == "key":
        return type(value) is list and bool(value) and all(type(k) is str for k in value)
    return type(value) is str


@st.composite
def record_files(draw):
    """(file text, the fields that make it invalid: None = valid, () = not a JSON object)."""
    kind = draw(st.sampled_from(["valid", "valid", "wrong", "wrong", "missing", "course",
                                 "not an object", "not JSON"]))
    if kind == "not JSON":
        return draw(st.text(max_size=20).map(lambda t: "{" + t) | st.just("[" * 5000)), ()
    if kind == "not an object":
        return json.dumps(draw(JUNK.filter(lambda v: not isinstance(v, dict)))), ()
    rec = {field: draw(strategy) for field, strategy in FIELDS.items()}
    if draw(st.booleans()):
        rec["numbers"]["score"] = draw(NUMBER)
        rec["course_value"] = {k: draw(s) for k, s in COURSE_VALUE.items()}
    bad = None
    if kind == "wrong":
        field = draw(st.sampled_from(sorted(set(rec) - {"course_value"})))  # see "course"
        rec[field] = draw(JUNK.filter(lambda v: not fits(field, v)))
        bad = (field,)
    elif kind == "missing":
        field = draw(st.sampled_from(sorted(set(FIELDS) - {"course_result"})))
        del rec[field]
        bad = (field,)
    elif kind == "course":
        field = draw(st.sampled_from(sorted(COURSE_VALUE)))
        value = draw(JUNK | st.just([]) | st.just(["nowhere"]))
        rec["numbers"]["score"] = draw(NUMBER)
        rec["course_value"] = {**{k: draw(s) for k, s in COURSE_VALUE.items()}, field: value}
        ok = fits(field, value) and (field != "key" or value == ["score"])
        bad = None if ok else (f"course_value.{field}",)
    return json.dumps(rec), bad


class Page(HTMLParser):
    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs, self.text = set(), [], []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs += [(tag, name, value) for name, value in attrs]

    def handle_data(self, data):
        self.text.append(data)


def shown(text: str) -> str:
    """How the page shows a string: a lone surrogate becomes its \\udXXX escape, a control
    character (other than tab, newline, carriage return) its \\xNN escape."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join(f"\\x{ord(c):02x}" if (ord(c) < 32 and c not in "\t\n\r") or c == "\x7f"
                   else c for c in text)


def make_folder(base: Path) -> Path:
    """base/out: a PNG, a fake PNG and links to a PNG inside and outside; base/outside.png."""
    out = base / "out"
    out.mkdir()
    (out / "activations.png").write_bytes(PNG)
    (out / "fake.png").write_text("<svg onload='alert(1)'/>")
    (base / "outside.png").write_bytes(PNG + b"outside")
    os.symlink(out / "activations.png", out / "inward.png")
    os.symlink(base / "outside.png", out / "outward.png")
    return out


def check_page(out: Path, rec: dict) -> None:
    page = Page(render_report(out, [rec]))
    assert page.tags <= ELEMENTS, page.tags - ELEMENTS
    assert {(tag, name) for tag, name, _ in page.attrs} <= ATTRIBUTES
    images = [value for tag, name, value in page.attrs if tag == "img" and name == "src"]
    for src in images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]) == PNG  # only the PNG inside the folder
    assert bool(images) == (rec["name"] in ("activations", "inward", "sub/../activations"))
    assert ("section", "id", shown(rec["name"])) in page.attrs
    text = "".join(page.text)
    for field in ("title", "title_ko", "summary", "course_result"):
        assert shown(rec[field]) in text, field


def check_case(base: Path, text: str, bad, outcomes: Counter) -> None:
    out = base / "out"
    path = out / "activations.json"
    path.write_text(text.replace('"ABSOLUTE"', json.dumps(str(base / "outside"))),
                    encoding="utf-8")
    try:
        rec = load_record(path)
    except RecordError as exc:
        message = str(exc)
        assert message.startswith(f"{path}: ") and "\n" not in message, message
        assert bad is not None, f"a valid record was refused: {message}"
        if bad:
            assert f"field {bad[0]!r}" in message, (bad, message)
        outcomes["error"] += 1
        return
    assert bad is None, f"an invalid record was accepted ({bad})"
    check_page(out, rec)
    outcomes["page"] += 1


def fuzz_main(cases: str) -> dict:
    """Run in the capped child: `cases` records through load_record and render_report."""
    outcomes: Counter = Counter()
    with tempfile.TemporaryDirectory() as folder:
        make_folder(Path(folder))

        @settings(max_examples=int(cases), derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(record_files())
        def run(case):
            check_case(Path(folder), *case, outcomes)

        run()
    return dict(outcomes)


def test_any_record_gives_a_safe_page_or_one_error_line():
    proc = run_capped(f"{__file__}:fuzz_main", cap_mib=CAP_MIB, timeout_s=120, args=[CASES])
    result = result_of(proc)
    print(result)  # shown with -s
    assert sum(result.values()) >= CASES and min(result.values()) >= CASES // 5, result
