"""The import of one document: where it belongs, and the values its page gives."""

from __future__ import annotations

from typing import Any

import gateformat
from gateformat.months import month_date
from gateformat.vocab import RESPONSE_STATUSES, canonical

from ...models import Office, Term, Unit
from ...models.responses import ResponseStatus
from .matching import resolve_units
from .results import UNCHANGED, ImportResult
from .update import Updating

KIND_FIELDS = (
    (Term.Kind.THEMATIC_AREA, "thematic_areas"),
    (Term.Kind.OPERATING_PRINCIPLE, "operating_principles"),
    (Term.Kind.ORGANIZATIONAL_PRIORITY, "organizational_priorities"),
    (Term.Kind.UNEG_CRITERION, "uneg_criteria"),
)


def parse_deadline(value: str):
    """A page's deadline ("2018-12") as stored (the first of the month), or None."""
    return month_date(value)


class DocumentImport(Updating):
    """The import of one document (inside its transaction)."""

    def __init__(self, importer, doc: gateformat.Document):
        self.importer = importer
        self.actor = importer.actor
        self.doc = doc
        self.warnings = [str(w) for w in doc.warnings]
        self.truncated = [w for w in doc.warnings if w.kind == "truncated"]
        self.records: list = []
        self.updates: list = []
        self.preferred: list[str] = []  # fields of the record being saved whose page value was preferred
        self.evaluation_id: int | None = None
        # A new evaluation's response as the counts see it (set by create_all; tallies.count_responses).
        self.counted: tuple | None = None
        self.result = ImportResult(source=doc.source, outcome=UNCHANGED)

    def locate_offices(self) -> tuple[int, int, int]:
        """Find or make the offices; the key of the plan (see `locate`)."""
        ev_doc = self.doc.evaluation
        self.office = self.importer.office(ev_doc.office, ev_doc.office_type, self.warnings)
        plan_office = (
            self.office
            if ev_doc.plan_office.casefold() == ev_doc.office.casefold()
            else self.importer.office(ev_doc.plan_office, ev_doc.office_type, self.warnings)
        )
        self.plan_key = (plan_office.pk, ev_doc.plan_start_year, ev_doc.plan_end_year)
        return self.plan_key

    def locate(self) -> tuple:
        """The plan (found by `Importer.find_plans`); the key the evaluation is known by."""
        self.plan = self.importer.plans.rows[self.plan_key]
        if not self.doc.evaluation.title:
            self.warnings.append("the evaluation has no title; it is identified by its office and plan only")
        return (self.office.pk, self.plan.pk, self.doc.evaluation.title)

    def finish(self) -> ImportResult:
        self.result.warnings = self.warnings
        self.result.recommendations = len(self.doc.recommendations)
        self.result.key_actions = len(self.doc.key_actions)
        return self.result

    # --- what the page gives ------------------------------------------------
    #
    # Values as history records them (dates as ISO text, tags as term ids): what a
    # re-import compares with the stored record and with the page's last import.

    def response_status(self) -> str:
        status = self.doc.management_response.status
        if not status:
            self.warnings.append("no approval status: the response is recorded as Draft")
            return ResponseStatus.DRAFT
        return canonical(status, RESPONSE_STATUSES) or status

    def response_values(self, status: str) -> dict[str, Any]:
        mr = self.doc.management_response
        return {"status": status, "units_as_written": list(mr.units), "overall_response": mr.overall_response}

    def recommendation_values(self, rec: gateformat.Recommendation, tags: list[Term]) -> dict[str, Any]:
        return {
            "number": rec.number,
            "text": rec.text,
            "response_text": rec.management_response,
            "description": rec.description,
            "category": rec.category,
            "thematic_area_as_written": rec.thematic_area,
            "tags": [t.pk for t in tags],
        }

    def action_values(self, action: gateformat.KeyAction) -> dict[str, Any]:
        deadline = parse_deadline(action.deadline)
        return {
            "number": action.number,
            "text": action.text,
            "responsible": action.responsible,
            "deadline": deadline.isoformat() if deadline else None,
            "status": action.status,
            "comments": action.comments,
        }

    # --- helpers ----------------------------------------------------------

    def units(self, responsible: str, office: Office, save: bool = True) -> list[Unit]:
        return resolve_units(self, responsible, office, save=save)

    def tags(self, rec: gateformat.Recommendation) -> list[Term]:
        terms: dict[int, Term] = {}
        for kind, attr in KIND_FIELDS:
            for name in getattr(rec, attr):
                term = self.importer.term(kind, name, self.warnings)
                terms.setdefault(term.pk, term)
        return list(terms.values())
