"""--lang ko: figures and report.html in Korean, drawn with a font that has the Hangul glyphs.

report.html's texts from the records (summary, course result, quick label) must read in Korean
(tests/experiments/korean_text.py says what that means): the summary of every quick run that
`run_quick` makes is checked there (conftest.py), the rest here.

Where CI is set, a missing Hangul font fails the font test (`.ci/run` installs fonts-nanum);
elsewhere it is skipped. The fallback (no such font: English figures, one warning) is tested
everywhere by hiding every font from the lookup.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import matplotlib
import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text
from tests.components import missing
from tests.experiments.korean_text import assert_korean, english_words

from dlscratch import fonts
from dlscratch.cli.main import main
from dlscratch.experiments import runner
from dlscratch.experiments.base import FULL_REPORT, QUICK_LABEL, Context
from dlscratch.experiments.korean import (
    COMMON,
    QUICK_LABEL_KO,
    experiment_table,
    koreanize,
    translate,
)
from dlscratch.experiments.records import quick_note
from dlscratch.experiments.registry import EXPERIMENTS, get_experiment, names
from dlscratch.experiments.report import MAX_TRANSLATED, render_report

NO_MNIST = ["activations", "shopping-graph", "vgg"]  # cheap figures that need no data files


@pytest.fixture
def saved_figures(monkeypatch):
    """The figures the runner saved, kept open (the runner closes each after saving it)."""
    figures, close = [], matplotlib.pyplot.close
    monkeypatch.setattr(runner.plt, "close", figures.append)
    yield figures
    for fig in figures:
        close(fig)


def _texts(fig) -> list[Text]:
    cells = [cell.get_text() for ax in fig.axes for table in ax.tables
             for cell in table.get_celld().values()]
    return [t for t in fig.findobj(Text) + cells if t.get_visible() and t.get_text()]


def _hangul(text: str) -> set[str]:
    return {c for c in text if fonts.is_hangul(c)}


def _ctx(tmp_path, lang="ko"):
    return Context(quick=True, out_dir=tmp_path, lang=lang, log=lambda *_: None)


def test_korean_figures_use_a_font_that_has_every_hangul_glyph_they_draw(tmp_path,
                                                                        saved_figures):
    if fonts.hangul_font() is None:
        missing(f"no font with Hangul glyphs: install {fonts.HANGUL_PACKAGE}")
    records = runner.run_all(_ctx(tmp_path), names=NO_MNIST)
    assert [r["figure_lang"] for r in records] == ["ko"] * len(NO_MNIST)
    assert len(saved_figures) == len(NO_MNIST)
    for fig, record in zip(saved_figures, records, strict=True):
        drawn = [t for t in _texts(fig) if _hangul(t.get_text())]
        titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
        assert titles and all(_hangul(title) for title in titles), (record["name"], titles)
        assert len(drawn) >= len(titles)
        for text in drawn:
            path = font_manager.findfont(text.get_fontproperties(), fallback_to_default=False)
            charmap = FT2Font(path).get_charmap()
            absent = sorted(c for c in _hangul(text.get_text()) if ord(c) not in charmap)
            assert not absent, f"{record['name']}: {path} has no glyph for {absent}"
            # a glyph of its own per letter, not one "missing" box for the whole block
            letters = _hangul(text.get_text())
            assert len({charmap[ord(c)] for c in letters}) == len(letters)
    assert "<html lang='ko'>" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_tick_labels_and_table_cells_are_translated_as_drawn(tmp_path, saved_figures):
    if fonts.hangul_font() is None:
        missing(f"no font with Hangul glyphs: install {fonts.HANGUL_PACKAGE}")
    runner.run_experiment("vgg", _ctx(tmp_path))
    fig = saved_figures[0]
    table_ax, bars_ax = fig.axes
    cells = [cell.get_text().get_text() for cell in table_ax.tables[0].get_celld().values()]
    assert "블록 1" in cells and "block 1" not in cells
    labels = [label.get_text() for label in bars_ax.get_yticklabels()]
    assert "Convolution1 (블록 1)" in labels and "Affine2 (완전연결)" in labels


def test_without_a_hangul_font_figures_stay_english_with_one_warning(tmp_path, saved_figures,
                                                                     monkeypatch, capsys):
    monkeypatch.setattr(font_manager.fontManager, "ttflist",
                        [e for e in font_manager.fontManager.ttflist
                         if not fonts.has_glyphs(e.fname, fonts.SAMPLE)])
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *args, **kwargs: [])
    fonts.hangul_font.cache_clear()
    try:
        assert fonts.hangul_font() is None
        records = runner.run_all(_ctx(tmp_path), names=NO_MNIST)
    finally:
        fonts.hangul_font.cache_clear()
    err = capsys.readouterr().err
    assert err.count(fonts.HANGUL_PACKAGE) == 1 and err.count("\n") == 1, err
    assert [r["figure_lang"] for r in records] == ["en"] * len(NO_MNIST)
    for fig in saved_figures:
        assert not any(_hangul(t.get_text()) for t in _texts(fig))
        assert all(t.get_fontfamily()[0] != "NanumGothic" for t in _texts(fig))
    assert fig.axes[1].get_title() == "per layer (log scale)"  # vgg's, as in English


def test_english_is_the_default_and_draws_no_hangul(tmp_path, saved_figures, capsys):
    records = runner.run_all(_ctx(tmp_path, lang="en"), names=["activations"])
    assert records[0]["figure_lang"] == "en"
    assert not any(_hangul(t.get_text()) for t in _texts(saved_figures[0]))
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<html lang='en'>" in page and "<h3>Parameters</h3>" in page
    assert fonts.HANGUL_PACKAGE not in capsys.readouterr().err


def test_korean_report_headings(tmp_path):
    runner.run_all(_ctx(tmp_path), names=["activations"])
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html><html lang='ko'>")
    assert "<h1>dlscratch: 강의의 실험" in page and "<h3>설정</h3>" in page
    assert "<b>결과:</b>" in page and '1. 활성화 함수 <small lang="en">Activation functions' in page
    assert main(["experiment", "report", "--out", str(tmp_path)]) == 0  # rebuilt in English
    assert "<html lang='en'>" in (tmp_path / "report.html").read_text(encoding="utf-8")
    assert main(["experiment", "report", "--out", str(tmp_path), "--lang", "ko"]) == 0
    assert "<html lang='ko'>" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_cli_lang_ko_and_bad_languages(tmp_path, capsys):
    assert main(["experiment", "activations", "--quick", "--out", str(tmp_path),
                 "--lang", "ko"]) == 0
    assert (tmp_path / "activations.png").is_file()
    assert main(["experiment", "activations", "--lang", "fr"]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--lang: invalid choice: 'fr'" in err
    with pytest.raises(ValueError, match="lang must be one of en, ko, got 'fr'"):
        runner.run_experiment("activations", _ctx(tmp_path, lang="fr"))
    with pytest.raises(ValueError, match="lang must be one of en, ko, got 'fr'"):
        from dlscratch.experiments.report import write_report
        write_report(tmp_path, [], "fr")


def test_translate_phrases_templates_and_lines():
    table = {**COMMON, "loss, the first {} iterations": "손실, 처음 {}회 반복",
             "{} (lr {})": "{} (학습률 {})"}
    assert translate("test accuracy", table) == "시험 정확도"
    assert translate("loss, the first 600 iterations", table) == "손실, 처음 600회 반복"
    assert translate("train (lr 0.1)", table) == "훈련 (학습률 0.1)"  # {} looked up again
    assert translate("accuracy\nloss", table) == "정확도\n손실"
    assert translate("SGD", table) == "SGD" and translate("0.5", table) == "0.5"


def test_every_experiment_table_fills_its_placeholders():
    for module in EXPERIMENTS:
        for key, value in {**COMMON, **getattr(module, "KO", {})}.items():
            words = [f"<{i}>" for i in range(key.count("{}"))]
            filled = value.format(*words)
            assert all(w in filled for w in words), (module.INFO.name, key)


def test_koreanize_sets_the_font_only_on_korean_texts():
    fig, ax = matplotlib.pyplot.subplots()
    try:
        ax.set(title="accuracy", xlabel="SGD")
        assert koreanize(fig, COMMON, "DejaVu Sans") == 1
        assert ax.get_title() == "정확도" and ax.title.get_fontfamily()[0] == "DejaVu Sans"
        assert ax.xaxis.label.get_text() == "SGD"
    finally:
        matplotlib.pyplot.close(fig)


def test_has_glyphs_refuses_fonts_without_hangul_or_with_one_box_for_all():
    dejavu = font_manager.findfont("DejaVu Sans", fallback_to_default=False)
    assert fonts.has_glyphs(dejavu, "abc") and not fonts.has_glyphs(dejavu, "가")
    assert not fonts.has_glyphs(os.devnull, "a")
    assert fonts.is_hangul("한") and fonts.is_hangul("ㄱ") and not fonts.is_hangul("a")


def _record(module, **fields) -> dict:
    info = module.INFO
    return {"number": info.number, "name": info.name, "title": info.title,
            "title_ko": info.title_ko, "course_result": info.course_result, "summary": "s",
            "quick": True, "seed": 0, "elapsed_s": 1.0, "params": {}, "numbers": {}, **fields}


def _short_of_the_course(module) -> dict:
    """A quick record of `module` whose course_value number is worse than the course's."""
    course = module.INFO.course_value
    numbers = course.value - 0.5 if course.higher_is_better else course.value + 0.5
    for part in reversed(course.key):
        numbers = {part: numbers}
    return _record(module, numbers=numbers, course_value=course.as_record())


def test_korean_report_shows_the_result_and_the_course_in_korean(tmp_path):
    record = runner.run_all(_ctx(tmp_path), names=["activations"])[0]
    table = experiment_table("activations")
    summary, course = (translate(record[key], table) for key in ("summary", "course_result"))
    assert_korean(summary, "activations' summary")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert f"<b>결과:</b> {html.escape(summary)}<br>" in page
    assert f"<b>강의:</b> {html.escape(course)}<br>" in page
    assert f"<b>결과:</b> {html.escape(record['summary'])}" not in page
    assert record["summary"] in (tmp_path / "summary.md").read_text(encoding="utf-8")


def test_every_quick_summary_is_checked_in_korean():
    checked = {"activations"}  # the test above
    for path in Path(__file__).parent.glob("test_e*.py"):
        text = path.read_text(encoding="utf-8")
        checked |= set(re.findall(r'run_quick\("([^"]+)"\)', text))  # run_quick checks it
        if "assert_summary_korean(" in text:
            checked |= set(re.findall(r'run_experiment\("([^"]+)"', text))
    assert checked == set(names())


def test_every_course_result_reads_in_korean():
    for module in EXPERIMENTS:
        name = module.INFO.name
        assert_korean(translate(module.INFO.course_result, experiment_table(name)),
                      f"{name}'s course result")


def test_every_quick_label_reads_in_korean(tmp_path):
    records = [_short_of_the_course(m) for m in EXPERIMENTS if m.INFO.course_value]
    page = render_report(tmp_path, records, "ko")
    assert page.count(f"<span class='quick'>{QUICK_LABEL_KO}</span>") == 1 + len(records)
    assert QUICK_LABEL not in page  # the intro's label too
    for record in records:
        note = translate(quick_note(record), experiment_table(record["name"]))
        key = "/".join(record["course_value"]["key"])
        assert_korean(note, f"{record['name']}'s quick label", code=(key, FULL_REPORT))
        assert html.escape(note.removeprefix(QUICK_LABEL_KO)) in page
    assert QUICK_LABEL in render_report(tmp_path, records)  # English as before


def test_korean_report_shows_long_or_unknown_texts_as_written(tmp_path):
    long = "sigmoid(0) = " + "5" * MAX_TRANSLATED + ", step(0) = 0, ReLU(-1) = 0"
    records = [_record(get_experiment("activations"), summary=long),
               _record(get_experiment("activations"), number=99, name="edited", summary="odd")]
    page = render_report(tmp_path, records, "ko")
    assert f"<b>결과:</b> {long}<br>" in page and "<b>결과:</b> odd<br>" in page
    # a quick label too long to translate: the English label once, no Korean one before it
    short = _short_of_the_course(get_experiment("residual"))
    short["course_value"]["source"] = "x" * MAX_TRANSLATED
    page = render_report(tmp_path, [short], "ko")
    section = page[page.index("<section"):]
    assert f"<span class='quick'>{QUICK_LABEL}</span>: " in section
    assert section.count(QUICK_LABEL) == 1 and QUICK_LABEL_KO not in section


def test_the_korean_check_lets_through_only_names_and_code():
    assert english_words("SGD 0.1, sigmoid(0) = 0.5, x_train float16 W1; 정확도 nan") == []
    assert english_words("시험 accuracy 0.9 (train 0.8), lr 0.1") == ["accuracy", "train"]
