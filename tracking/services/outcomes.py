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
from .errors import ConflictError


def _check_version(outcome: OutcomeQuestion, current: KeyAction, version: int | None) -> None:
    """A change based on another version of the question is refused (`version` None: not checked, as on the web)."""
    if version is not None and outcome.version != version:
        outcome.evaluation_id = current.evaluation_id  # so the refused attempt is in the evaluation's history
        raise ConflictError(outcome)


def schedule_outcome(
    actor: Actor, action: KeyAction, *, ask_on: dt.date | None, question: str = "", version: int | None = None
) -> OutcomeQuestion:
    """Schedule (or, while unanswered, reschedule) the outcome question of a Completed key action.

    `version`: the question's version the person saw, when rescheduling one (None: not checked).
    """
    question = question.strip() or str(DEFAULT_OUTCOME_QUESTION)
    if not isinstance(ask_on, dt.date):
        raise ValidationError({"ask_on": ["Give the date from which the unit is asked (YYYY-MM-DD)."]})
    attempted = {"ask_on": ask_on.isoformat(), "question": question, "based_on_version": version}
    with locking.refusals_kept(actor, attempted, "outcome question refused: it had changed"), transaction.atomic():
        current = locking.locked(actor, action, permissions.SCHEDULE_OUTCOME)
        existing = OutcomeQuestion.objects.select_for_update().filter(key_action=current).first()
        if existing is not None:
            _check_version(existing, current, version)
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
                message=f"outcome question scheduled on key action {current.code}",
            )
        else:
            before = history.snapshot(existing)
            existing.question, existing.ask_on, existing.asked_by, existing.asked_by_name = question, ask_on, user, actor.name
            existing.version += 1
            existing.save()
            old, new = history.diff(before, history.snapshot(existing))
            outcome = existing
            record = history.change(actor, ChangeRecord.Action.UPDATE, existing, before=old, after=new, evaluation_id=current.evaluation_id)
        history.write([record])
        return outcome


def answer_outcome(
    actor: Actor, action: KeyAction, *, confirmed: bool | None, answer: str, on: dt.date | None = None, version: int | None = None
) -> OutcomeQuestion:
    """The unit's answer: was the outcome confirmed (True/False), and what changed (required).

    `version`: the question's version the person saw (None: not checked).
    """
    answer = answer.strip()
    errors: dict[str, list[str]] = {}
    if confirmed not in (True, False):
        errors["confirmed"] = ["Say whether it changed what the evaluation found: yes or no."]
    if not answer:
        errors["answer"] = ["Say what changed, or why nothing did."]
    if errors:
        raise ValidationError(errors)
    attempted = {"confirmed": confirmed, "answer": answer, "based_on_version": version}
    with locking.refusals_kept(actor, attempted, "outcome answer refused: the question had changed"), transaction.atomic():
        current = locking.locked(actor, action, permissions.ANSWER_OUTCOME)
        outcome = OutcomeQuestion.objects.select_for_update().get(key_action=current)
        _check_version(outcome, current, version)
        day = on or timezone.localdate()
        if outcome.ask_on > day:
            raise PermissionDenied(f"This question is asked from {outcome.ask_on:%d %b %Y}: answer it then.")
        before = history.snapshot(outcome)
        outcome.confirmed, outcome.answer = confirmed, answer
        outcome.answered_at = timezone.now()
        outcome.answered_by = actor.user if actor.is_authenticated else None
        outcome.answered_by_name = actor.name
        outcome.version += 1
        outcome.save()
        old, new = history.diff(before, history.snapshot(outcome))
        history.write(
            [
                history.change(
                    actor, ChangeRecord.Action.UPDATE, outcome, before=old, after=new, evaluation_id=current.evaluation_id,
                    message=f"outcome of key action {current.code} {'confirmed' if confirmed else 'not confirmed'}",
                )
            ]
        )
        return outcome
