"""What an import changes of the accountability fields, by the same rules as the services.

The importer brings a stored key action in line with its GATE document (status,
deadline, ...) without going through tracking/services/progress.py or
deadlines.py; `follow_import` keeps the verification state, the completion date
and the first deadline right then, and returns the deadline revision the
document made (the importer saves it, with its history), so a deadline moved
by a re-import is a recorded revision too, never a quiet one.
"""

from __future__ import annotations

import datetime as dt

from ..actor import Actor
from ..models import DeadlineRevision, KeyAction
from ..models.accountability import VerificationState
from ..models.responses import ActionStatus
from .verification import completed_on_after_progress, state_after_progress


def follow_import(
    actor: Actor, row: KeyAction, old_status: str, old_deadline: dt.date | None, source: str, on: dt.date
) -> DeadlineRevision | None:
    """Adjust `row` (not saved) after the import set its fields; an unsaved revision when its deadline moved."""
    if row.status != old_status:
        # A completion the document reports is self-reported: nothing was claimed here with evidence to verify.
        completed = row.status == ActionStatus.COMPLETED
        row.verification = VerificationState.NONE.value if completed else state_after_progress(row.verification, row.status)
        before = KeyAction(status=old_status, completed_on=row.completed_on)
        row.completed_on = completed_on_after_progress(before, row.status, on)
    if row.deadline == old_deadline or old_deadline is None:
        return None
    row.first_deadline = row.first_deadline or old_deadline
    return DeadlineRevision(
        key_action=row,
        previous=old_deadline,
        deadline=row.deadline,
        reason=f"Deadline changed by the import of {source or 'a GATE document'}.",
        author=actor.user if actor.is_authenticated else None,
        author_name=actor.name,
    )
