"""Checks of values read from a file's JSON record, each failure naming the file and the field.

    fields = Fields(path, ModelFileError, "architecture")
    stride = fields.int(spec["stride"], "layers[2].config.stride", 1, 64)
    # ModelFileError: "m.npz: architecture field layers[2].config.stride must be an integer
    #                  in [1, 64], got 'two'"

A value from a file is data from a stranger: every check looks at the type first (a JSON
`true` is not the integer 1, a list is not an object), and a quoted value is cut short, so a
message stays one short line whatever the file holds.
"""

from __future__ import annotations

import math
import os

SHOW_LIMIT = 60


def show(value, limit: int = SHOW_LIMIT) -> str:
    """repr(value), cut to `limit` characters (one line: repr escapes line breaks)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def clip(text: str, limit: int = 160) -> str:
    """`text` on one line (runs of white space made one space), cut to `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def one_line(exc: BaseException, limit: int = 160) -> str:
    """An exception's message on one line, cut to `limit` characters."""
    return clip(str(exc), limit) or type(exc).__name__


def kind(value) -> str:
    """The JSON name of a value's type, for messages."""
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
             int: "an integer", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def is_int(value) -> bool:
    return type(value) is int  # bool is an int subclass, and a JSON true is not a count


def is_number(value) -> bool:
    return type(value) in (int, float)


def is_finite(value) -> bool:
    """A JSON number a float holds exactly: not NaN/Inf, and not an integer beyond 2**53
    (10**400 is valid JSON, but float(10**400) raises, and numpy cannot take 10**40)."""
    if type(value) is int:
        return abs(value) <= 2**53
    return type(value) is float and math.isfinite(value)


def join(parent: str, key) -> str:
    """The field name of `key` inside `parent` ("layers[2]" + "config" -> "layers[2].config")."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


class Fields:
    """Typed reads of a JSON record; `fail` builds the error (error class, file, field)."""

    def __init__(self, path: str | os.PathLike, error: type, label: str):
        self.path, self.error, self.label = os.fspath(path), error, label

    def refuse(self, field: str, text: str) -> Exception:
        """The error "<file>: <text>" (text must name the field)."""
        return self.error(f"{self.path}: {text}", path=self.path, field=field)

    def fail(self, field: str, text: str) -> Exception:
        """The error "<file>: <label> field <field> <text>" ("the <label> record" for "")."""
        if not field:
            return self.refuse(self.label, f"the {self.label} record {text}")
        return self.refuse(field, f"{self.label} field {field} {text}")

    def obj(self, value, field: str, required=(), optional=()) -> dict:
        """An object with every `required` key and no key outside required + optional (any
        key when optional is None)."""
        if not isinstance(value, dict):
            raise self.fail(field, f"must be an object, got {kind(value)}")
        for key in required:
            if key not in value:
                raise self.fail(join(field, key), "is missing")
        if optional is None:
            return value
        allowed = set(required) | set(optional)
        unknown = [key for key in value if key not in allowed]
        if unknown:
            raise self.fail(field, f"has unknown key {show(unknown[0])} (expected keys: "
                                   f"{', '.join(sorted(allowed)) or 'none'})")
        return value

    def list(self, value, field: str, max_len: int | None = None, length: int | None = None):
        if not isinstance(value, list):
            raise self.fail(field, f"must be a list, got {kind(value)}")
        if length is not None and len(value) != length:
            raise self.fail(field, f"must hold {length} entries, got {len(value)}")
        if max_len is not None and len(value) > max_len:
            raise self.fail(field, f"holds {len(value)} entries, more than {max_len}")
        return value

    def int(self, value, field: str, lo: int, hi: int) -> int:
        if not is_int(value) or not lo <= value <= hi:
            raise self.fail(field, f"must be an integer in [{lo}, {hi}], got {show(value)}")
        return value

    def number(self, value, field: str, lo: float = -math.inf, hi: float = math.inf, *,
               lo_open: bool = False, hi_open: bool = False) -> float:
        """A finite number in the interval (open at an end where asked)."""
        ok = is_finite(value)
        if ok:
            ok = (value > lo if lo_open else value >= lo) and (value < hi if hi_open else
                                                                value <= hi)
        if not ok:
            interval = (f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}")
            raise self.fail(field, f"must be a finite number in {interval}, got {show(value)}")
        return value

    def boolean(self, value, field: str) -> bool:
        if type(value) is not bool:
            raise self.fail(field, f"must be true or false, got {show(value)}")
        return value

    def choice(self, value, field: str, choices) -> str:
        if not isinstance(value, str) or value not in choices:
            raise self.fail(field, f"must be one of {', '.join(map(repr, choices))}, "
                                   f"got {show(value)}")
        return value
