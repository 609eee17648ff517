"""Run experiments: each writes NAME.png and NAME.json; `run_all` also writes report.html."""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from dlscratch.experiments.base import LANGS, Context, jsonable  # noqa: E402
from dlscratch.experiments.korean import experiment_table, koreanize  # noqa: E402
from dlscratch.experiments.records import quick_note  # noqa: E402
from dlscratch.experiments.registry import EXPERIMENTS, get_experiment  # noqa: E402
from dlscratch.fonts import NO_HANGUL_FONT, hangul_font  # noqa: E402
from dlscratch.io.atomic import atomic_write, atomic_write_text  # noqa: E402


def figure_font(ctx: Context) -> str | None:
    """The Hangul font for ctx's figures; None: English figures (in Korean runs without such a
    font, NO_HANGUL_FONT is printed once per run)."""
    if ctx.lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, got {ctx.lang!r}")
    if ctx.lang == "en":
        return None
    font = hangul_font()
    if font is None and NO_HANGUL_FONT not in ctx.warned:
        ctx.warned.add(NO_HANGUL_FONT)
        print(NO_HANGUL_FONT, file=sys.stderr)
    return font


def run_experiment(name: str, ctx: Context) -> dict:
    """Run one experiment; return the record written to NAME.json."""
    module = get_experiment(name)
    info = module.INFO
    font = figure_font(ctx)
    ctx.out_dir = Path(ctx.out_dir)
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    ctx.log(f"[{info.number:2d}] {info.name}: {info.title}")
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # matplotlib layout chatter
        result = module.run(ctx)
    elapsed = time.perf_counter() - start
    if font is not None:
        koreanize(result.figure, experiment_table(info.name), font)
    record = {"number": info.number, "name": info.name, "title": info.title,
              "title_ko": info.title_ko, "course_result": info.course_result,
              "summary": result.summary, "quick": ctx.quick, "seed": ctx.seed,
              "figure_lang": "en" if font is None else "ko",
              "elapsed_s": round(elapsed, 2), "params": jsonable(result.params),
              "numbers": jsonable(result.numbers)}
    if info.course_value is not None:
        record["course_value"] = info.course_value.as_record()
    with atomic_write(ctx.out_dir / f"{info.name}.png") as f:
        result.figure.savefig(f, format="png", dpi=90, bbox_inches="tight")
    plt.close(result.figure)
    atomic_write_text(ctx.out_dir / f"{info.name}.json", json.dumps(record, indent=1))
    ctx.log(f"     {result.summary} ({elapsed:.1f} s)")
    if note := quick_note(record):
        ctx.log(f"     [{note}]")
    return record


def run_all(ctx: Context, names: list[str] | None = None) -> list[dict]:
    """Run experiments in course order, then write report.html from their outputs."""
    from dlscratch.experiments.report import write_report

    records = [run_experiment(m.INFO.name, ctx) for m in EXPERIMENTS
               if names is None or m.INFO.name in names]
    write_report(ctx.out_dir, records, ctx.lang)
    return records
