"""A joint evaluation's roll-up: the shared recommendations with each partner's response side by side.

Read through `restrict`: a partner's response the reader may not read (a draft, for the public) is
not shown, nor counted. A fixed number of queries whatever the number of partners: the evaluations,
their recommendations, their key actions, the figures of each partner (one GROUP BY) and combined.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Case, IntegerField, Q, Value, When

from tracking.models import Evaluation, KeyAction, Recommendation
from tracking.permissions import restrict

from . import figures


@dataclass
class Cell:
    """One partner's answer to one shared recommendation."""

    recommendation: Recommendation
    actions: list[KeyAction] = field(default_factory=list)


@dataclass
class Row:
    number: str
    text: str
    shared: bool  # one of the shared set (else a partner's own recommendation)
    cells: list[Cell | None] = field(default_factory=list)  # one per partner, in the order of `partners`


@dataclass
class Rollup:
    lead: Evaluation | None  # None: the reader does not read the lead's record
    partners: list[Evaluation]  # the lead first, then the partners by office name
    rows: list[Row]
    per_partner: list[figures.Figures]  # in the order of `partners`
    combined: figures.Figures
    lateness: figures.Lateness

    @property
    def shared_count(self) -> int:
        """Shared recommendations, each counted once (not once per partner)."""
        return sum(1 for r in self.rows if r.shared)


def group_ids(evaluation: Evaluation) -> Q:
    lead_id = evaluation.joint_lead_id or evaluation.pk
    return Q(pk=lead_id) | Q(joint_lead_id=lead_id)


def rollup(who, evaluation: Evaluation, on: dt.date) -> Rollup | None:
    """The roll-up of the joint evaluation `evaluation` belongs to; None when the reader reads only one of its records."""
    lead_id = evaluation.joint_lead_id or evaluation.pk
    partners = list(
        restrict(who, Evaluation)
        .filter(group_ids(evaluation))
        .select_related("office", "management_response")
        .annotate(is_lead=Case(When(pk=lead_id, then=Value(0)), default=Value(1), output_field=IntegerField()))
        .order_by("is_lead", "office__name")
    )
    if len(partners) < 2:
        return None
    ids = [e.pk for e in partners]
    column = {pk: i for i, pk in enumerate(ids)}
    recs = list(
        restrict(who, Recommendation).filter(evaluation_id__in=ids, archived_at__isnull=True).order_by("position", "pk")
    )
    actions = restrict(who, KeyAction).filter(evaluation_id__in=ids)
    by_rec: dict[int, list[KeyAction]] = {}
    for a in actions.filter(archived_at__isnull=True).order_by("position").only(
        "pk", "recommendation_id", "evaluation_id", "number", "text", "status", "deadline", "first_deadline", "verification"
    ):
        by_rec.setdefault(a.recommendation_id, []).append(a)
    rows: dict[tuple, Row] = {}
    for rec in recs:
        shared_key = rec.shared_from_id or rec.pk
        shared = bool(rec.shared_from_id) or any(r.shared_from_id == rec.pk for r in recs)
        key = ("shared", shared_key) if shared else ("own", rec.pk)
        row = rows.get(key)
        if row is None:
            row = rows[key] = Row(number=rec.number, text=rec.text, shared=shared, cells=[None] * len(ids))
        row.cells[column[rec.evaluation_id]] = Cell(rec, by_rec.get(rec.pk, []))
    per = figures.by_evaluation(actions, on)
    per_partner = []
    for e in partners:
        f = per.get(e.pk) or figures.Figures()
        f.label = str(e.office)
        per_partner.append(f)
    combined = figures.totals(actions, on)
    combined.label = "All partners"
    return Rollup(
        lead=partners[0] if partners[0].pk == lead_id else None,
        partners=partners,
        rows=sorted(rows.values(), key=lambda r: (not r.shared,)),
        per_partner=per_partner,
        combined=combined,
        lateness=figures.days_late(actions),
    )
