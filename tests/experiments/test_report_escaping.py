"""report.html from hostile records: every record value escaped, only PNGs inside the folder
embedded, and an invalid record stopped with one line naming its file and field."""

from __future__ import annotations

import base64
import json
import os
from html.parser import HTMLParser

import pytest

from dlscratch.cli.main import main
from dlscratch.experiments.records import RecordError, load_record, read_records
from dlscratch.experiments.report import markdown_table, render_report, write_report

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
SCRIPT = "<script>alert(1)</script>"


class Page(HTMLParser):
    """The elements, attributes and text of a page, as a browser's tokenizer sees them."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs, self.text = [], [], []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, name, value) for name, value in attrs]

    def handle_data(self, data):
        self.text.append(data)

    def images(self) -> list[bytes]:
        sources = [v for tag, name, v in self.attrs if tag == "img" and name == "src"]
        assert all(s.startswith("data:image/png;base64,") for s in sources)
        return [base64.b64decode(s.split(",", 1)[1]) for s in sources]


def record(**fields) -> dict:
    base = {"number": 1, "name": "activations", "title": "Activation functions",
            "title_ko": "활성화 함수", "course_result": "", "summary": "ok", "quick": False,
            "seed": 0, "elapsed_s": 0.5, "params": {}, "numbers": {}}
    return {**base, **fields}


def page_for(out_dir, *records) -> Page:
    return Page(render_report(out_dir, list(records)))


def test_script_and_quotes_in_every_text_field_are_escaped(tmp_path):
    rec = record(name=f"x\" onmouseover='alert(1)' {SCRIPT}", title=SCRIPT, title_ko=SCRIPT,
                 summary=SCRIPT, course_result=SCRIPT, params={SCRIPT: SCRIPT},
                 numbers={"a": [SCRIPT, {"<b>": 1}]})
    html_text = render_report(tmp_path, [rec])
    page = Page(html_text)
    assert "script" not in page.tags and "b" in page.tags  # the page's own <b>Result:</b>
    assert not [a for a in page.attrs if a[1].startswith("on")]
    assert ("section", "id", rec["name"]) in page.attrs  # the whole name is one attribute value
    assert sum(SCRIPT in chunk for chunk in page.text) >= 4  # shown as text
    assert SCRIPT not in html_text and "&lt;script&gt;" in html_text


@pytest.mark.parametrize("name", ["../../etc/passwd", "../outside", "sub/../../outside"])
def test_a_name_leading_outside_the_folder_is_not_embedded(tmp_path, name):
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (tmp_path / "outside.png").write_bytes(PNG)
    html_text = render_report(out, [record(name=name)])
    assert Page(html_text).images() == []
    assert f"<code>{name}.png</code> not embedded" in html_text


def test_an_absolute_path_is_not_embedded(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "secret.png").write_bytes(PNG)
    page = page_for(out, record(name=str(tmp_path / "secret")))
    assert page.images() == [] and any("not embedded" in t for t in page.text)


def test_a_symlink_is_followed_before_the_folder_check(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "secret.png").write_bytes(PNG)
    (out / "inside.png").write_bytes(PNG + b"inside")
    os.symlink(tmp_path / "secret.png", out / "outward.png")
    os.symlink(out / "inside.png", out / "inward.png")
    assert page_for(out, record(name="outward")).images() == []
    assert page_for(out, record(name="inward")).images() == [PNG + b"inside"]


def test_only_png_files_inside_the_folder_are_embedded(tmp_path):
    (tmp_path / "activations.png").write_bytes(PNG)
    (tmp_path / "fake.png").write_text("<svg onload='alert(1)'/>")
    (tmp_path / "folder.png").mkdir()
    assert page_for(tmp_path, record()).images() == [PNG]
    for name, why in (("fake", "not a PNG file"), ("folder", "not found"),
                      ("missing", "not found"), ("dir/", "not a .png file"),
                      ("nul\0byte", "not a usable file name"), ("x" * 5000, "usable")):
        html_text = render_report(tmp_path, [record(name=name)])
        assert Page(html_text).images() == [] and why in html_text, name


def test_numbers_are_formatted_and_odd_text_survives(tmp_path):
    rec = record(number=10**50, seed=-3, elapsed_s=float("nan"), title="\ud800 lone",
                 title_ko="\ud800 lone", summary="a\r\nb\0c")
    html_text = render_report(tmp_path, [rec])
    assert f"{10**50}. " in html_text and "seed -3, nan s" in html_text
    assert "\\ud800 lone" in html_text  # a lone surrogate cannot be written as UTF-8
    write_report(tmp_path, [rec])  # and the files are written
    assert "\\ud800" in (tmp_path / "summary.md").read_text(encoding="utf-8")


def test_summary_md_cells_cannot_open_tags_or_cells(tmp_path):
    table = markdown_table([record(summary=f"{SCRIPT} | x\ny", title_ko="<img src=x>")])
    row = table.splitlines()[2]
    assert "<" not in row and "&lt;script>" in row and row.count("|") == 6


@pytest.mark.parametrize(("change", "field", "why"), [
    ({"number": "1"}, "number", "expected an integer, got str '1'"),
    ({"seed": True}, "seed", "expected an integer, got bool True"),
    ({"elapsed_s": "1s"}, "elapsed_s", "expected a number"),
    ({"quick": 1}, "quick", "expected true or false"),
    ({"title": ["a"]}, "title", "expected a string"),
    ({"params": []}, "params", "expected a JSON object"),
    ({"course_result": None}, "course_result", "expected a string"),
    ({"course_value": {"key": [], "value": 1, "source": "", "higher_is_better": True}},
     "course_value.key", "expected a non-empty list of strings"),
    ({"course_value": {"key": ["x"], "value": 1, "source": "", "higher_is_better": True}},
     "course_value.key", "numbers has no 'x'"),
    ({"numbers": {"x": "high"}, "course_value": {"key": ["x"], "value": 1, "source": "",
                                                 "higher_is_better": True}},
     "course_value.key", "numbers 'x' is str 'high', not a number"),
])
def test_a_wrongly_typed_field_is_one_line_naming_file_and_field(tmp_path, change, field, why):
    path = tmp_path / "activations.json"
    path.write_text(json.dumps(record(**change)))
    with pytest.raises(RecordError) as info:
        load_record(path)
    message = str(info.value)
    assert message.startswith(f"{path}: field {field!r}") and why in message
    assert "\n" not in message


def test_a_missing_field_a_non_object_and_broken_json_name_the_file(tmp_path):
    path = tmp_path / "activations.json"
    for text, why in ((json.dumps({k: v for k, v in record().items() if k != "seed"}),
                       "field 'seed' is missing"),
                      ("[1, 2]", "expected a JSON object, got list [1, 2]"),
                      ('{"number": 1,', "not valid JSON (Expecting"),
                      ("[" * 100_000 + "]" * 100_000, "not readable JSON"),
                      ("1" * 5000, "not readable JSON")):
        path.write_text(text)
        with pytest.raises(RecordError, match=f"^{path}: ") as info:
            load_record(path)
        assert why in str(info.value) and "\n" not in str(info.value)
    path.write_bytes(b'{"title": "\xff"}')
    with pytest.raises(RecordError, match="not UTF-8 text"):
        read_records(tmp_path)


def test_report_command_prints_one_error_line_for_a_bad_record(tmp_path, capsys):
    (tmp_path / "activations.json").write_text(json.dumps(record(seed="0")))
    assert main(["experiment", "report", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (f"dlscratch: error: {tmp_path / 'activations.json'}: field 'seed': "
                   "expected an integer, got str '0'")
    assert not (tmp_path / "report.html").exists()


def test_report_command_escapes_a_hostile_record(tmp_path, capsys):
    (tmp_path / "activations.json").write_text(json.dumps(record(name="../x", summary=SCRIPT)))
    assert main(["experiment", "report", "--out", str(tmp_path)]) == 0
    page = Page((tmp_path / "report.html").read_text(encoding="utf-8"))
    assert "script" not in page.tags and page.images() == []


@pytest.mark.parametrize(("lang", "missing", "not_png", "outside"), [
    ("en", "no figure: <code>gone.png</code> not found",
     "figure <code>fake.png</code> not embedded: not a PNG file",
     "figure <code>../outside.png</code> not embedded: it is not a .png file inside the "
     "report's folder"),
    ("ko", "그림 없음: <code>gone.png</code>을 찾을 수 없음",
     "그림 <code>fake.png</code>을 넣지 않음: PNG 파일이 아님",
     "그림 <code>../outside.png</code>을 넣지 않음: 보고서 폴더 안의 .png 파일이 아님"),
])
def test_a_figure_left_out_is_said_in_the_pages_language(tmp_path, lang, missing, not_png,
                                                         outside):
    out = tmp_path / "out"
    out.mkdir()
    (out / "fake.png").write_bytes(b"GIF89a")
    (tmp_path / "outside.png").write_bytes(PNG)
    html_text = render_report(out, [record(name="gone"), record(name="fake", number=2),
                                    record(name="../outside", number=3)], lang=lang)
    for note in (missing, not_png, outside):
        assert f"<p class='note'>{note}</p>" in html_text
    assert Page(html_text).images() == []
