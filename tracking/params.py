"""Values from query strings: the one parser every list, figure, report and export reads its filters with.

A filter that is absent or empty is no filter. A filter whose value cannot
be what it names (`?region=²`, `?office=99999999999999999999`, `?year=abc`,
`?weeks=-1`) is refused: `BadParameter` is a `BadRequest`, so the answer is a
400 page saying which filter and why, never a 500 and never a list (or an
export) silently emptied by a value nobody meant. Text filters are kept as
text, bounded in length and cleaned of what no database could compare
(NUL, lone surrogates): they may match nothing, which is an honest answer.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import BadRequest

from .text import UNSTORABLE

# Ids are BigAutoField; anything past PostgreSQL's bigint cannot name a row (and overflows SQLite's integer).
MAX_ID = 2**63 - 1
YEARS = (1900, 2200)
TRUE = ("1", "yes", "on", "true")
MAX_TEXT = 200


class BadParameter(BadRequest):
    """A query-string value that cannot be what its name says: answered with 400 and this message."""

    def __init__(self, name: str, value: str, expected: str):
        self.name, self.value, self.expected = name, value, expected
        shown = value if len(value) <= 40 else value[:40] + "…"
        super().__init__(f"The filter “{name}” must be {expected}; “{shown}” is not.")


def _raw(params: Mapping, name: str) -> str:
    value = params.get(name, "")
    return value.strip() if isinstance(value, str) else str(value).strip()


def integer(params: Mapping, name: str, *, low: int = 1, high: int = MAX_ID, expected: str = "") -> int | None:
    """A whole number in [low, high] written with the digits 0-9 (not "²", not "٣"), or None when absent."""
    raw = _raw(params, name)
    if not raw:
        return None
    # isdecimal() alone accepts other scripts' digits; isdigit() even "²", which int() refuses.
    if raw.isascii() and raw.isdecimal() and len(raw) <= len(str(high)):
        value = int(raw)
        if low <= value <= high:
            return value
    raise BadParameter(name, raw, expected or f"a whole number from {low} to {high:,}")


def identifier(params: Mapping, name: str) -> int | None:
    """The id of a row: a positive whole number that fits the database's ids."""
    return integer(params, name, expected="an id (a whole number)")


def year(params: Mapping, name: str = "year") -> int | None:
    return integer(params, name, low=YEARS[0], high=YEARS[1], expected=f"a year from {YEARS[0]} to {YEARS[1]}")


def date(params: Mapping, name: str):
    """A day written YYYY-MM-DD (what <input type=date> sends), or None when absent."""
    import datetime as dt

    raw = _raw(params, name)
    if not raw:
        return None
    if raw.isascii() and len(raw) == 10:
        try:
            value = dt.date.fromisoformat(raw)
        except ValueError:
            pass
        else:
            if YEARS[0] <= value.year <= YEARS[1]:
                return value
    raise BadParameter(name, raw, "a day written YYYY-MM-DD")


def text(params: Mapping, name: str, max_length: int = MAX_TEXT) -> str:
    """Free text (a search, a status, a code): stripped, cut to `max_length`, without NUL or lone surrogates."""
    return UNSTORABLE.sub("", _raw(params, name))[:max_length]


def choice(params: Mapping, name: str, values) -> str:
    """One of `values`, or "" when absent; anything else is refused."""
    raw = _raw(params, name)
    if not raw:
        return ""
    if raw in values:
        return raw
    raise BadParameter(name, raw, "one of: " + ", ".join(values))


def flag(params: Mapping, name: str) -> bool:
    return _raw(params, name).lower() in TRUE


def page(params: Mapping, name: str = "page", *, last: int) -> int:
    """A page number, as Django's paginator reads one: past the end is the last page, anything else the first."""
    raw = _raw(params, name)
    if raw.isascii() and raw.isdecimal() and 0 < len(raw) <= 12:
        return min(max(int(raw), 1), last)
    return 1
