"""Writing the audit trail: snapshots of records and the change between two."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.fields.files import FieldFile

from ..actor import Actor
from ..models import ChangeRecord


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def snapshot(
    obj: models.Model, exclude: Iterable[str] = ("created_at", "updated_at", "version", "split_confidence", "imported")
) -> dict[str, Any]:
    """The record's own fields as JSON-able values (foreign keys as ids)."""
    skip = set(exclude)
    data = {}
    for f in obj._meta.concrete_fields:
        if f.name in skip or f.primary_key:
            continue
        data[f.name] = _jsonable(getattr(obj, f.attname))
    return data


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only what changed: (old values, new values)."""
    keys = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def change(
    actor: Actor,
    action: str,
    obj: models.Model,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    evaluation_id: int | None = None,
    message: str = "",
) -> ChangeRecord:
    """An unsaved change record (save it, or pass many to `write`)."""
    user = actor.user if actor.is_authenticated else None
    return ChangeRecord(
        user=user,
        user_name=actor.name,
        request_id=actor.request_id,
        source=actor.source,
        action=action,
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=obj.pk,
        object_repr=str(obj)[:300],
        evaluation_id=evaluation_id,
        before=before,
        after=after,
        message=message[:300],
    )


def write(records: list[ChangeRecord]) -> None:
    if records:
        ChangeRecord.objects.bulk_create(records)
