"""Lock a record, require the permission, check the version: the opening of every versioned change.

Each accountability step (progress, verification, deadline revision, adoption
rating, outcome follow-up) changes a key action or a recommendation that
someone else may be changing at the same moment. `locked` takes the row lock
first (so the permission and the version are checked on the row as it is),
`bump` writes the change only if the version is still the one checked, and
`refusals_kept` keeps a stale attempt in the history once the change itself
has rolled back, so nothing typed is lost without a trace.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction
from django.db.models import F, Model

from .. import permissions
from ..actor import Actor
from ..models import ChangeRecord, KeyAction, Recommendation
from . import history
from .errors import ConflictError

# What the permission rules read of each record (its office, its response), loaded with the lock.
_RELATED: dict[type[Model], tuple[str, ...]] = {
    KeyAction: ("evaluation__office", "recommendation__management_response", "evaluation__management_response"),
    Recommendation: ("evaluation__office", "management_response"),
}


def locked(actor: Actor, row: Model, permission: str, *, version: int | None = None):
    """The row as it is now, locked until the transaction ends; PermissionDenied or ConflictError otherwise.

    `version` is the version the person saw (None: a step that names none, such
    as an outcome question, which has its own row). Call inside transaction.atomic().
    """
    model = type(row)
    current = model.objects.select_for_update(of=("self",)).select_related(*_RELATED[model]).get(pk=row.pk)
    permissions.require(actor, permission, current)
    if version is not None and current.version != version:
        raise ConflictError(current)
    return current


def bump(current: Model, version: int, **fields) -> None:
    """Write `fields` and the next version, only over the version checked (ConflictError if it moved meanwhile)."""
    changed = type(current).objects.filter(pk=current.pk, version=version).update(**fields, version=F("version") + 1)
    if changed != 1:  # lost the race between the read and the write
        raise ConflictError(current)


def refused(actor: Actor, current, attempted: dict, message: str) -> None:
    """Keep a refused attempt in the history (its own transaction: the change itself rolled back)."""
    with transaction.atomic():
        history.write(
            [
                history.change(
                    actor,
                    ChangeRecord.Action.REFUSED,
                    current,
                    after=attempted,
                    evaluation_id=current.pk if current._meta.model_name == "evaluation" else getattr(current, "evaluation_id", None),
                    message=message,
                )
            ]
        )


@contextmanager
def refusals_kept(actor: Actor, attempted: dict, message: str) -> Iterator[None]:
    """Around a change's transaction: a ConflictError leaves the attempt in the history, then goes on up."""
    try:
        yield
    except ConflictError as exc:
        refused(actor, exc.current, attempted, message)
        raise
