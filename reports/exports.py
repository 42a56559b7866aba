"""Exports of stored records: GATE text, JSON and CSV.

Cells a spreadsheet would run as a formula (starting with =, +, -, @, tab or
carriage return) are written as text by prefixing a single quote (OWASP).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import IO, Iterable, Iterator

from django.db.models import QuerySet

import gateformat
from tracking.models import Evaluation, KeyAction
from tracking.services.documents import evaluations_for_export, to_document

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

KEY_ACTION_COLUMNS = [
    "evaluation_id",
    "region",
    "office",
    "office_type",
    "plan",
    "evaluation",
    "response_status",
    "recommendation",
    "recommendation_text",
    "category",
    "key_action",
    "key_action_text",
    "responsible",
    "units",
    "deadline",
    "status",
    "overdue",
    "comments",
]


def escape_formula(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def documents(queryset: QuerySet[Evaluation]) -> Iterator[gateformat.Document]:
    for evaluation in evaluations_for_export(queryset).iterator(chunk_size=200):
        yield to_document(evaluation)


def document_json(evaluation: Evaluation, doc: gateformat.Document) -> dict:
    data = doc.to_dict()
    data.pop("warnings", None)
    data["id"] = evaluation.pk
    return data


def write_json(queryset: QuerySet[Evaluation], out: IO[str]) -> int:
    """A JSON list of documents, in the shape of the GATE samples' JSON."""
    n = 0
    out.write("[")
    for evaluation in evaluations_for_export(queryset).iterator(chunk_size=200):
        out.write(",\n" if n else "\n")
        json.dump(document_json(evaluation, to_document(evaluation)), out, ensure_ascii=False, indent=1)
        n += 1
    out.write("\n]\n")
    return n


def key_action_rows(queryset: QuerySet[KeyAction], today: dt.date | None = None) -> Iterator[list[object]]:
    rows = queryset.select_related(
        "evaluation__office__type",
        "evaluation__office__region",
        "evaluation__plan",
        "evaluation__management_response",
        "recommendation",
    ).prefetch_related("units").order_by("evaluation_id", "recommendation__position", "position")
    for a in rows.iterator(chunk_size=2000):
        ev = a.evaluation
        mr = getattr(ev, "management_response", None)
        yield [
            ev.pk,
            ev.office.region.name if ev.office.region else "",
            ev.office.name,
            ev.office.type.code,
            ev.plan.period,
            ev.title,
            mr.status if mr else "",
            a.recommendation.number,
            a.recommendation.text,
            a.recommendation.category,
            a.number,
            a.text,
            a.responsible,
            "; ".join(u.name for u in a.units.all()),
            a.deadline_label,
            a.status,
            "yes" if a.is_overdue(today) else "no",
            a.comments,
        ]


def write_csv(rows: Iterable[list[object]], columns: list[str], out: IO[str]) -> int:
    writer = csv.writer(out)
    writer.writerow(columns)
    n = 0
    for row in rows:
        writer.writerow([escape_formula(v) for v in row])
        n += 1
    return n


def key_actions_csv(queryset: QuerySet[KeyAction]) -> str:
    buf = io.StringIO()
    write_csv(key_action_rows(queryset), KEY_ACTION_COLUMNS, buf)
    return buf.getvalue()
