"""The NAME.json records the runner writes: reading them back, checking them, and the quick label.

A record is untrusted input to `dlscratch experiment report` (anyone can edit a JSON file), so
every field the report shows is checked for its type before any HTML is written. A record that
fails the check stops the report with one line naming the file and the field
(`RecordError`, which the CLI prints as `dlscratch: error: ...`): a half-correct report that
silently drops an experiment is worse than a clear error you fix in one place.

The quick label: a `--quick` record carries its experiment's `course_value` (see
`base.CourseValue`); where its number is worse than the course's, the report, summary.md and
the printed line say QUICK_LABEL beside it and point to the full run's report.
"""

from __future__ import annotations

import json
import math
import reprlib
from pathlib import Path

from dlscratch.errors import DlscratchError
from dlscratch.experiments.base import FULL_REPORT, QUICK_LABEL

_INT, _NUMBER, _TEXT, _BOOL, _DICT = "an integer", "a number", "a string", "true or false", \
    "a JSON object"
REQUIRED = {"number": _INT, "name": _TEXT, "title": _TEXT, "title_ko": _TEXT, "summary": _TEXT,
            "quick": _BOOL, "seed": _INT, "elapsed_s": _NUMBER, "params": _DICT,
            "numbers": _DICT}
OPTIONAL = {"course_result": _TEXT, "course_value": _DICT}
COURSE_VALUE = {"key": "a non-empty list of strings", "value": _NUMBER, "source": _TEXT,
                "higher_is_better": _BOOL}


class RecordError(DlscratchError, ValueError):
    """An experiment record (NAME.json) that cannot be shown: not JSON, a field missing or of
    the wrong type. The message names the file and the field."""


def _is(value, kind: str) -> bool:
    if kind == _INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == _NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == _TEXT:
        return isinstance(value, str)
    if kind == _BOOL:
        return isinstance(value, bool)
    if kind == _DICT:
        return isinstance(value, dict)
    return (isinstance(value, list) and len(value) > 0  # the course_value key
            and all(isinstance(part, str) for part in value))


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 2, 60, 60


def _shown(value) -> str:
    """A short, one-line description of a bad value for an error message (reprlib: bounded
    however large or deeply nested the value is)."""
    return f"{type(value).__name__} {_REPR.repr(value)}"


def check_record(record, source: str) -> dict:
    """`record` if every field the report uses has its type; else RecordError naming `source`."""
    if not isinstance(record, dict):
        raise RecordError(f"{source}: expected a JSON object, got {_shown(record)}")
    for fields, required in ((REQUIRED, True), (OPTIONAL, False)):
        for field, kind in fields.items():
            if field not in record:
                if required:
                    raise RecordError(f"{source}: field {field!r} is missing")
                continue
            if not _is(record[field], kind):
                raise RecordError(f"{source}: field {field!r}: expected {kind}, got "
                                  f"{_shown(record[field])}")
    if "course_value" in record:
        for field, kind in COURSE_VALUE.items():
            if field not in record["course_value"]:
                raise RecordError(f"{source}: field 'course_value.{field}' is missing")
            value = record["course_value"][field]
            if not _is(value, kind):
                raise RecordError(f"{source}: field 'course_value.{field}': expected {kind}, "
                                  f"got {_shown(value)}")
        measured(record, source)  # the key must lead to a number
    return record


def load_record(path: Path) -> dict:
    """Read and check one NAME.json; RecordError (naming the file) when it cannot be shown."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise RecordError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise RecordError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno} column "
                          f"{exc.colno})") from None
    except (RecursionError, ValueError) as exc:  # nesting too deep; an integer too long
        raise RecordError(f"{path}: not readable JSON ({str(exc).splitlines()[0]})") from None
    return check_record(record, str(path))


def read_records(out_dir: Path) -> list[dict]:
    """The checked NAME.json records of every registered experiment found in out_dir."""
    from dlscratch.experiments.registry import names

    paths = [Path(out_dir) / f"{name}.json" for name in names()]
    return [load_record(p) for p in paths if p.exists()]


def measured(record: dict, source: str = "record") -> float:
    """The number `course_value.key` points at in record["numbers"] (NaN/Inf saved as text by
    `jsonable` are read back as floats)."""
    key = record["course_value"]["key"]
    path = _shown("/".join(key)).removeprefix("str ")
    value = record["numbers"]
    for part in key:
        if not isinstance(value, dict) or part not in value:
            raise RecordError(f"{source}: field 'course_value.key': numbers has no {path}")
        value = value[part]
    if isinstance(value, str) and value.lower() in ("nan", "inf", "-inf"):
        return float(value)
    if not _is(value, _NUMBER):
        raise RecordError(f"{source}: field 'course_value.key': numbers {path} is "
                          f"{_shown(value)}, not a number")
    return _float(value)


def _float(value) -> float:
    try:
        return float(value)
    except OverflowError:  # an integer beyond float's range
        return math.inf if value > 0 else -math.inf


def falls_short(record: dict) -> bool:
    """True for a quick record whose course_value number is worse than the course's (NaN
    counts as worse: a diverged run illustrates nothing)."""
    course = record.get("course_value")
    if not record.get("quick") or not course:
        return False
    value = measured(record)
    if math.isnan(value):
        return True
    target = _float(course["value"])
    return value < target if course["higher_is_better"] else value > target


def quick_note(record: dict) -> str:
    """'' or the one-line label for a quick result below the course's value (plain text)."""
    if not falls_short(record):
        return ""
    course = record["course_value"]
    return (f"{QUICK_LABEL}: {'/'.join(course['key'])} = {_number(measured(record))} here vs "
            f"{_number(course['value'])} ({course['source']}); "
            f"see the full run, {FULL_REPORT}")


def _number(value: float) -> str:
    return f"{_float(value):.4g}"
