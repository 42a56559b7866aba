"""Plain builders of domain rows for tests (each call makes what it needs)."""

from __future__ import annotations

import datetime as dt
import itertools

from django.db import transaction

from tracking.models import (
    Evaluation,
    EvaluationPlan,
    KeyAction,
    ManagementResponse,
    Office,
    OfficeType,
    Recommendation,
    Region,
    Unit,
)
from tracking.services import tallies

_seq = itertools.count(1)


def make_office(name: str | None = None, type_code: str = "CO", region: str | None = "Arab States") -> Office:
    office_type, _ = OfficeType.objects.get_or_create(code=type_code, defaults={"name": type_code})
    reg = Region.objects.get_or_create(name=region)[0] if region else None
    return Office.objects.create(name=name or f"Office {next(_seq)}", type=office_type, region=reg)


def make_evaluation(office: Office | None = None, title: str | None = None, status: str = "Approved", year: int = 2024) -> Evaluation:
    office = office or make_office()
    plan, _ = EvaluationPlan.objects.get_or_create(office=office, start_year=year - 1, end_year=year)
    with transaction.atomic(), tallies.kept_in_step() as counted:  # as the services do: the home page's counts
        ev = Evaluation.objects.create(plan=plan, office=office, title=title or f"Evaluation {next(_seq)}", year=year)
        ManagementResponse.objects.create(evaluation=ev, status=status)
        counted.add(ev.pk)
    return ev


def make_recommendation(evaluation: Evaluation | None = None, **fields) -> Recommendation:
    evaluation = evaluation or make_evaluation()
    position = evaluation.recommendations.count() + 1
    defaults = {"number": str(position), "text": f"Recommendation text {position}", "category": "Accepted"}
    defaults.update(fields)
    with transaction.atomic(), tallies.kept_in_step([evaluation.pk]):  # inside a transaction, as the services
        return Recommendation.objects.create(
            management_response=evaluation.management_response, evaluation=evaluation, position=position, **defaults
        )


def make_action(
    recommendation: Recommendation | None = None,
    deadline: dt.date | None = dt.date(2030, 1, 1),
    status: str = "Initiated",
    units: list[Unit] | None = None,
    **fields,
) -> KeyAction:
    recommendation = recommendation or make_recommendation()
    position = recommendation.key_actions.count() + 1
    defaults = {"number": f"{recommendation.number}.{position}", "text": f"Do thing {position}."}
    defaults.update(fields)
    action = KeyAction.objects.create(
        recommendation=recommendation,
        evaluation=recommendation.evaluation,
        position=position,
        deadline=deadline,
        status=status,
        **defaults,
    )
    if units:
        action.units.set(units)
    # As the services do: the counts behind the figures are kept in step (tracking.services.tallies).
    tallies.added([action.pk])
    return action


def change_action(action: KeyAction | int, **fields) -> None:
    """Set a key action's fields as a service would: its counts kept in step (first deadline, completion date...)."""
    pk = getattr(action, "pk", action)
    with transaction.atomic(), tallies.kept_in_step(actions=[pk]):
        KeyAction.objects.filter(pk=pk).update(**fields)


def kept_counts() -> dict:
    """The kept counts behind the figures as they are (but their version row), keyed as `tallies.everything()`."""
    return dict(tallies.kept_counts())


def make_pdf(*paragraphs: str) -> bytes:
    """A real PDF with these paragraphs (made by WeasyPrint, which the PDF exports use)."""
    from html import escape

    from weasyprint import HTML

    return HTML(string="".join(f"<p>{escape(p)}</p>" for p in paragraphs)).write_pdf()


def make_docx(*paragraphs: str, table: list[list[str]] | None = None) -> bytes:
    """A real Word document (python-docx), with an optional table."""
    import io

    import docx

    document = docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    if table:
        t = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
