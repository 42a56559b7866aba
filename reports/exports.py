"""Whole evaluations as documents: GATE text and JSON (and PDF, in `reports.pdf`).

Lists (evaluations, recommendations, key actions, updates) are in `reports.tables`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO

from django.db.models import QuerySet

import gateformat
from tracking.models import Evaluation

from .documents import evaluations_for_export, to_document
from .tables import escape_formula  # noqa: F401  (kept where history exports import it)


def documents(queryset: QuerySet[Evaluation]) -> Iterator[gateformat.Document]:
    for evaluation in evaluations_for_export(queryset).iterator(chunk_size=200):
        yield to_document(evaluation)


def document_json(evaluation: Evaluation, doc: gateformat.Document) -> dict:
    """The JSON form of the GATE samples' `*.expected.json`, plus the evaluation's id."""
    data = doc.to_dict()
    data.pop("warnings", None)
    for rec in data["recommendations"]:
        for action in rec["key_actions"]:
            action.pop("split_confidence", None)
    data["id"] = evaluation.pk
    return data


def write_json(queryset: QuerySet[Evaluation], out: IO[str]) -> int:
    """A JSON list of documents."""
    n = 0
    out.write("[")
    for evaluation in evaluations_for_export(queryset).iterator(chunk_size=200):
        out.write(",\n" if n else "\n")
        json.dump(document_json(evaluation, to_document(evaluation)), out, ensure_ascii=False, indent=1)
        n += 1
    out.write("\n]\n")
    return n


def gate_text(evaluation: Evaluation) -> str:
    return gateformat.render(to_document(evaluation))
