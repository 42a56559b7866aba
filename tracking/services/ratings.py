"""Ratings beside the status: how far a recommendation was adopted, by management and as validated.

Management (the office focal point of the office) rates each recommendation of
an approved response on the scale of settings.ADOPTION_SCALE (full, substantial,
partial, negligible unless configured otherwise); the evaluation office of that
office validates it with its own rating, kept separately: both are shown side
by side, as the development banks do. Either may be cleared ("") and may carry
a note. Every change is in the history.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from .. import permissions
from ..actor import Actor
from ..models import ChangeRecord, Recommendation
from . import history, locking

MANAGEMENT = "management"
EVALUATION_OFFICE = "evaluation_office"
SIDES = {
    MANAGEMENT: ("adoption_by_management", "adoption_by_management_note", permissions.RATE_ADOPTION),
    EVALUATION_OFFICE: ("adoption_validated", "adoption_validated_note", permissions.VALIDATE_ADOPTION),
}


def scale() -> list[tuple[str, str]]:
    return list(settings.ADOPTION_SCALE)


def label(value: str) -> str:
    """A stored rating as its label ("" stays ""; a value no longer on the scale is shown as stored)."""
    return dict(scale()).get(value, value)


def rate_adoption(actor: Actor, recommendation: Recommendation, *, version: int, side: str, rating: str, note: str = "") -> Recommendation:
    """Set one side's rating (and note) of a recommendation. Raises PermissionDenied, ValidationError, ConflictError."""
    if side not in SIDES:
        raise ValidationError({"side": [f"Rate as management or as the evaluation office, not {side[:40]!r}."]})
    if rating not in ("", *dict(scale())):
        raise ValidationError({"rating": [f"Not a rating: {rating[:40]!r}. One of: {', '.join(name for _, name in scale())}."]})
    note = note.strip()
    if note and not rating:
        raise ValidationError({"note": ["A note goes with a rating: choose the rating too, or clear the note."]})
    rating_field, note_field, permission = SIDES[side]
    attempted = {"side": side, "rating": rating, "note": note, "based_on_version": version}
    with locking.refusals_kept(actor, attempted, "adoption rating refused: the recommendation had changed"), transaction.atomic():
        current = locking.locked(actor, recommendation, permission, version=version)
        before = {rating_field: getattr(current, rating_field), note_field: getattr(current, note_field)}
        after = {rating_field: rating, note_field: note}
        old, new = history.diff(before, after)
        if not new:
            return current
        locking.bump(current, version, **after)
        history.write(
            [
                history.change(
                    actor,
                    ChangeRecord.Action.UPDATE,
                    current,
                    before=old,
                    after=new,
                    evaluation_id=current.evaluation_id,
                    message=f"adoption of recommendation {current.number} rated ({side.replace('_', ' ')})",
                )
            ]
        )
        current.refresh_from_db()
        return current
