"""Outcome follow-up: "Completed" is not success until the outcome is known.

For a Completed key action the evaluation office schedules a later question
("Did it change what the evaluation found?") from a date of its choosing; from
that date the unit (whoever reports progress on the action) answers it: yes or
no, and what changed. The answer is shown on the recommendation and the
dashboard counts completed actions whose outcome was confirmed. Each step is
in the history.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from .. import permissions
from ..actor import Actor
from ..models import ChangeRecord, KeyAction, OutcomeQuestion
from ..models.accountability import DEFAULT_OUTCOME_QUESTION
from . import history, locking


def schedule_outcome(actor: Actor, action: KeyAction, *, ask_on: dt.date | None, question: str = "") -> OutcomeQuestion:
    """Schedule (or, while unanswered, reschedule) the outcome question of a Completed key action."""
    question = question.strip() or str(DEFAULT_OUTCOME_QUESTION)
    if not isinstance(ask_on, dt.date):
        raise ValidationError({"ask_on": ["Give the date from which the unit is asked (YYYY-MM-DD)."]})
    with transaction.atomic():
        current = locking.locked(actor, action, permissions.SCHEDULE_OUTCOME)
        existing = OutcomeQuestion.objects.select_for_update().filter(key_action=current).first()
        if existing is not None and existing.answered:
            raise ValidationError({"ask_on": ["The unit has answered this question already: it stays as answered."]})
        if current.completed_on and ask_on < current.completed_on:
            raise ValidationError({"ask_on": [f"Ask after the action was completed ({current.completed_on:%d %b %Y})."]})
        user = actor.user if actor.is_authenticated else None
        if existing is None:
            outcome = OutcomeQuestion.objects.create(
                key_action=current, question=question, ask_on=ask_on, asked_by=user, asked_by_name=actor.name
            )
            record = history.change(
                actor, ChangeRecord.Action.CREATE, outcome, after=history.snapshot(outcome), evaluation_id=current.evaluation_id,
                message=f"outcome question scheduled on key action {current.number}",
            )
        else:
            before = history.snapshot(existing)
            existing.question, existing.ask_on, existing.asked_by, existing.asked_by_name = question, ask_on, user, actor.name
            existing.save()
            old, new = history.diff(before, history.snapshot(existing))
            outcome = existing
            record = history.change(actor, ChangeRecord.Action.UPDATE, existing, before=old, after=new, evaluation_id=current.evaluation_id)
        history.write([record])
        return outcome


def answer_outcome(actor: Actor, action: KeyAction, *, confirmed: bool | None, answer: str, on: dt.date | None = None) -> OutcomeQuestion:
    """The unit's answer: was the outcome confirmed (True/False), and what changed (required)."""
    answer = answer.strip()
    errors: dict[str, list[str]] = {}
    if confirmed not in (True, False):
        errors["confirmed"] = ["Say whether it changed what the evaluation found: yes or no."]
    if not answer:
        errors["answer"] = ["Say what changed, or why nothing did."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = locking.locked(actor, action, permissions.ANSWER_OUTCOME)
        outcome = OutcomeQuestion.objects.select_for_update().get(key_action=current)
        day = on or timezone.localdate()
        if outcome.ask_on > day:
            raise PermissionDenied(f"This question is asked from {outcome.ask_on:%d %b %Y}: answer it then.")
        before = history.snapshot(outcome)
        outcome.confirmed, outcome.answer = confirmed, answer
        outcome.answered_at = timezone.now()
        outcome.answered_by = actor.user if actor.is_authenticated else None
        outcome.answered_by_name = actor.name
        outcome.save()
        old, new = history.diff(before, history.snapshot(outcome))
        history.write(
            [
                history.change(
                    actor, ChangeRecord.Action.UPDATE, outcome, before=old, after=new, evaluation_id=current.evaluation_id,
                    message=f"outcome of key action {current.number} {'confirmed' if confirmed else 'not confirmed'}",
                )
            ]
        )
        return outcome
