"""The evaluation office's rating of an evaluation report's quality ("the best reports")."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from .. import permissions
from ..actor import Actor
from ..models import ChangeRecord, Evaluation
from . import history


def rate_report(actor: Actor, evaluation: Evaluation, quality: str) -> Evaluation:
    """Set (or, with "", clear) the report's quality rating; the evaluation office of its office only."""
    if quality not in ("", *Evaluation.Quality.values):
        raise ValidationError({"quality": [f"Not a quality rating: {quality[:40]!r}. One of: {', '.join(str(label) for label in Evaluation.Quality.labels)}."]})
    with transaction.atomic():
        current = Evaluation.objects.select_for_update(of=("self",)).select_related("office").get(pk=evaluation.pk)
        permissions.require(actor, permissions.MANAGE_EVALUATIONS, current)
        if current.quality == quality:
            return current
        before = history.snapshot(current)
        current.quality = quality
        current.save(update_fields=["quality", "updated_at"])
        old, new = history.diff(before, history.snapshot(current))
        history.write([history.change(actor, ChangeRecord.Action.UPDATE, current, before=old, after=new, evaluation_id=current.pk)])
        return current
