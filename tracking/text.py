"""Text as stored: the one place where every value written to a tracked record is bounded and checked.

The same input must give the same data on SQLite and PostgreSQL. SQLite
stores any length and a NUL character; PostgreSQL refuses both (a
`varchar(500)` holds 500 characters, a text value no NUL). So the services
and the importer check every text value here before writing it, whichever
database runs:

- a value longer than its field's `max_length` is refused, with a message
  naming the field and both lengths (nothing is cut short silently);
- NUL, and lone UTF-16 surrogates (which no UTF-8 database can hold), cannot
  be stored: a service refuses them with a message; the importer removes
  them from a document and says so in its warnings;
- every other character is kept as typed: tabs, line breaks, ESC and other
  control characters, zero-width and right-to-left marks. They are harmless
  in a database and on a page (escaped), and the exports deal with what
  their formats cannot carry (`reports.tables.xlsx_text`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError

# What no database here can store: NUL, and surrogates without their pair (not encodable as UTF-8).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def problem(value: str, *, label: str, max_length: int | None = None) -> str:
    """Why `value` cannot be stored in a field called `label` ("" when it can)."""
    if UNSTORABLE.search(value):
        if "\x00" in value:
            return f"The {label} contains a NUL character (\\x00), which cannot be stored: remove it."
        return f"The {label} contains an invalid character (a lone surrogate), which cannot be stored: remove it."
    if max_length is not None and len(value) > max_length:
        return f"The {label} is {len(value):,} characters long; at most {max_length:,} fit."
    return ""


def strip_unstorable(value: str) -> tuple[str, int]:
    """`value` without NUL and lone surrogates, and how many were removed."""
    cleaned, n = UNSTORABLE.subn("", value)
    return cleaned, n


def field_label(model, name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)


def max_length(model, name: str) -> int | None:
    return getattr(model._meta.get_field(name), "max_length", None)


def check_fields(model, values: Mapping[str, Any]) -> None:
    """Refuse (ValidationError by field) any text value that `model` could not store the same on every database."""
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if not isinstance(value, str):
            continue
        message = problem(value, label=field_label(model, name), max_length=max_length(model, name))
        if message:
            errors[name] = [message]
    if errors:
        raise ValidationError(errors)


# --- documents read from GATE pages (the importer) ------------------------------------------------


def document_problems(doc) -> tuple[list[str], list[str]]:
    """(refusals, notes) for a `gateformat.Document` before it is imported; cleans it in place.

    NUL and lone surrogates are removed from every text of the document (a
    page extracted from a file may carry a stray one), each removal noted. A
    value longer than the field that stores it refuses the whole document:
    nothing of it is written, on either database, and the refusal names the
    value and where it is.
    """
    from .models import Evaluation, KeyAction, ManagementResponse, Office, OfficeType, Recommendation, Term

    refusals: list[str] = []
    notes: list[str] = []

    def clean(obj, attr: str, where: str, limit: int | None = None) -> None:
        value = getattr(obj, attr)
        if isinstance(value, list):
            items = []
            for i, item in enumerate(value):
                items.append(_clean_one(item, f"{where} ({i + 1})", limit, refusals, notes))
            setattr(obj, attr, items)
        elif isinstance(value, str):
            setattr(obj, attr, _clean_one(value, where, limit, refusals, notes))

    ev = doc.evaluation
    clean(ev, "title", "the evaluation title", max_length(Evaluation, "title"))
    clean(ev, "office", "the office", max_length(Office, "name"))
    clean(ev, "plan_office", "the plan's office", max_length(Office, "name"))
    clean(ev, "office_type", "the office type", max_length(OfficeType, "code"))
    mr = doc.management_response
    clean(mr, "status", "the response status", max_length(ManagementResponse, "status"))
    clean(mr, "units", "the response's units")
    clean(mr, "overall_response", "the overall response")
    term_limit = max_length(Term, "name")
    for rec in doc.recommendations:
        where = f"recommendation {rec.number[:20]}" + (f" (line {rec.line})" if rec.line else "")
        clean(rec, "number", f"the number of {where}", max_length(Recommendation, "number"))
        for attr in ("text", "management_response", "description", "thematic_area"):
            clean(rec, attr, f"the {attr.replace('_', ' ')} of {where}")
        clean(rec, "category", f"the category of {where}", max_length(Recommendation, "category"))
        for attr in ("operating_principles", "organizational_priorities", "uneg_criteria"):
            clean(rec, attr, f"the {attr.replace('_', ' ')} of {where}", term_limit)
        for name in rec.thematic_areas:
            if len(name) > term_limit:
                refusals.append(f"a thematic area of {where} is {len(name):,} characters long; at most {term_limit:,} fit")
        for action in rec.key_actions:
            a_where = f"key action {action.number[:20]}" + (f" (line {action.line})" if action.line else "")
            clean(action, "number", f"the number of {a_where}", max_length(KeyAction, "number"))
            clean(action, "status", f"the status of {a_where}", max_length(KeyAction, "status"))
            for attr in ("text", "responsible", "comments", "deadline"):
                clean(action, attr, f"the {attr} of {a_where}")
    return refusals, notes


def _clean_one(value: str, where: str, limit: int | None, refusals: list[str], notes: list[str]) -> str:
    value, removed = strip_unstorable(value)
    if removed:
        notes.append(f"removed {removed} NUL or invalid character{'s' if removed > 1 else ''} (which cannot be stored) from {where}")
    if limit is not None and len(value) > limit:
        refusals.append(f"{where} is {len(value):,} characters long; at most {limit:,} fit")
    return value
