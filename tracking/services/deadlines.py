"""Deadline revisions: a key action's deadline moves only with a reason, and its first deadline is kept for ever.

Who reports progress on a key action may revise its deadline (tracking.permissions,
REVISE_DEADLINE), on approved responses (a draft's deadline is simply edited).
Each revision is a `DeadlineRevision` (from, to, reason, author, date) shown on
the action's timeline; `KeyAction.first_deadline` keeps the deadline before the
first revision, and every timeliness figure is measured against it
(reports/figures.py), so a moved deadline never hides lateness.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .. import permissions
from ..actor import Actor
from ..models import ChangeRecord, DeadlineRevision, KeyAction
from . import history, locking, tallies


def revise_deadline(actor: Actor, action: KeyAction, *, version: int, deadline: dt.date | None, reason: str) -> DeadlineRevision:
    """Move the deadline (month precision) with a reason. Raises PermissionDenied, ValidationError, ConflictError.

    `version` is the key action's version the person saw; nothing is written
    when refused (but the record of a stale attempt).
    """
    reason = reason.strip()
    errors: dict[str, list[str]] = {}
    if not isinstance(deadline, dt.date):
        errors["deadline"] = ["Give the new deadline as a month (YYYY-MM)."]
    if not reason:
        errors["reason"] = ["Give the reason the deadline moves: it is kept with the revision and shown on the timeline."]
    if errors:
        raise ValidationError(errors)
    deadline = deadline.replace(day=1)
    attempted = {"deadline": deadline.isoformat(), "reason": reason, "based_on_version": version}
    with locking.refusals_kept(actor, attempted, "deadline revision refused: the key action had changed"), transaction.atomic():
        current = locking.locked(actor, action, permissions.REVISE_DEADLINE, version=version)
        if current.deadline == deadline:
            raise ValidationError({"deadline": [f"The deadline is {deadline:%Y/%m} already: choose another month."]})
        first = current.first_deadline or current.deadline or deadline
        now = timezone.now()
        # The deadline month is counted behind the figures (tracking.services.tallies).
        with tallies.kept_in_step(actions=[current.pk]):
            locking.bump(current, version, deadline=deadline, first_deadline=first, updated_at=now)
        revision = DeadlineRevision.objects.create(
            key_action=current,
            previous=current.deadline,
            deadline=deadline,
            reason=reason,
            created_at=now,
            author=actor.user if actor.is_authenticated else None,
            author_name=actor.name,
        )
        old, new = history.diff(
            {"deadline": _iso(current.deadline), "first_deadline": _iso(current.first_deadline)},
            {"deadline": _iso(deadline), "first_deadline": _iso(first)},
        )
        history.write(
            [
                history.change(
                    actor,
                    ChangeRecord.Action.CREATE,
                    revision,
                    after=history.snapshot(revision),
                    evaluation_id=current.evaluation_id,
                    message=f"deadline of key action {current.code} revised",
                ),
                history.change(
                    actor, ChangeRecord.Action.UPDATE, current, before=old, after=new, evaluation_id=current.evaluation_id
                ),
            ]
        )
        return revision


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None
