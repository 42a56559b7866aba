"""Evaluation plans: an office's evaluations for a period, made, edited, closed and reopened by the evaluation office.

A plan's evaluations are made (and cancelled, with a reason) through
`tracking.services.drafting`; a closed plan takes no new evaluation. Every
change is checked (`manage_evaluations` on the plan's office) and recorded.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .. import permissions
from ..actor import Actor
from ..models import ChangeRecord, EvaluationPlan, Office
from . import history
from .errors import ConflictError
from .progress import refused


def _check(start_year: int, end_year: int) -> None:
    errors = {}
    for name, year in (("start_year", start_year), ("end_year", end_year)):
        if not 1990 <= year <= 2100:
            errors[name] = ["Give a year between 1990 and 2100."]
    if not errors and end_year < start_year:
        errors["end_year"] = ["The plan cannot end before it starts."]
    if errors:
        raise ValidationError(errors)


def _taken(office: Office, start_year: int, end_year: int, exclude: int | None = None) -> None:
    if EvaluationPlan.objects.filter(office=office, start_year=start_year, end_year=end_year).exclude(pk=exclude).exists():
        raise ValidationError({"start_year": [f"{office} already has a plan for {start_year} - {end_year}."]})


def create_plan(actor: Actor, *, office: Office, start_year: int, end_year: int, notes: str = "") -> EvaluationPlan:
    _check(start_year, end_year)
    with transaction.atomic():
        permissions.require(actor, permissions.MANAGE_EVALUATIONS, office)
        _taken(office, start_year, end_year)
        plan = EvaluationPlan.objects.create(office=office, start_year=start_year, end_year=end_year, notes=notes.strip())
        history.write([history.change(actor, ChangeRecord.Action.CREATE, plan, after=history.snapshot(plan))])
        return plan


def _change(actor: Actor, plan: EvaluationPlan, version: int, apply, what: str) -> EvaluationPlan:
    try:
        with transaction.atomic():
            current = EvaluationPlan.objects.select_for_update(of=("self",)).select_related("office").get(pk=plan.pk)
            permissions.require(actor, permissions.MANAGE_EVALUATIONS, current)
            if current.version != version:
                raise ConflictError(current)
            before = history.snapshot(current)
            apply(current)
            old, new = history.diff(before, history.snapshot(current))
            if old or new:
                current.version += 1
                current.save()
                history.write([history.change(actor, ChangeRecord.Action.UPDATE, current, before=old, after=new, message=what)])
            return current
    except ConflictError as exc:
        refused(actor, exc.current, {"change": what, "based_on_version": version}, f"{what} of {exc.current} refused: it had changed")
        raise


def update_plan(actor: Actor, plan: EvaluationPlan, *, version: int, start_year: int, end_year: int, notes: str = "") -> EvaluationPlan:
    """A new period or notes; the plan's evaluations stay in it."""
    _check(start_year, end_year)

    def apply(current: EvaluationPlan) -> None:
        _taken(current.office, start_year, end_year, exclude=current.pk)
        current.start_year, current.end_year, current.notes = start_year, end_year, notes.strip()

    return _change(actor, plan, version, apply, "plan edited")


def close_plan(actor: Actor, plan: EvaluationPlan, *, version: int) -> EvaluationPlan:
    def apply(current: EvaluationPlan) -> None:
        if current.closed:
            raise ValidationError(f"The plan {current.period} is already closed.")
        current.closed, current.closed_on = True, timezone.localdate()

    return _change(actor, plan, version, apply, "plan closed")


def reopen_plan(actor: Actor, plan: EvaluationPlan, *, version: int) -> EvaluationPlan:
    def apply(current: EvaluationPlan) -> None:
        if not current.closed:
            raise ValidationError(f"The plan {current.period} is open.")
        current.closed, current.closed_on = False, None

    return _change(actor, plan, version, apply, "plan reopened")
