"""The history as a person would write it: field labels, names of rows rather than ids, times to the minute.

ChangeRecord keeps values as JSON (foreign keys as ids, dates as ISO text).
`readable(records)` gives each record `lines`: (label, before, after) in
words, naming the offices, units, plans, people... it points at with one
query per kind of row on the page (never one per record). A row deleted
since is named by its id and "(deleted)".
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import dateformat, timezone
from django.utils.text import capfirst

from tracking.models import Evaluation

# Keys some services write beside the model's own fields.
EXTRA_LABELS = {
    "based_on_version": "Based on version",
    "units": "Units",
    "comment": "Comment",
    "reason": "Reason",
    "evidence_url": "Evidence link",
    "evidence_file": "Evidence file",
}
MONTH_FIELDS = {"deadline", "first_deadline"}


def _field(model, name: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _label(field, name: str) -> str:
    if field is not None and getattr(field, "verbose_name", None):
        return capfirst(str(field.verbose_name))
    return EXTRA_LABELS.get(name) or capfirst(name.replace("_", " "))


def _target(field):
    if field is not None and (field.many_to_one or field.many_to_many or field.one_to_one) and field.related_model:
        return field.related_model
    return None


def _ids(value) -> list[int]:
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool)]


def _name(obj) -> str:
    if isinstance(obj, get_user_model()):
        return obj.get_full_name() or obj.get_username()
    return str(obj)


def _names(wanted: dict[type, set[int]]) -> dict[type, dict[int, str]]:
    names = {}
    for model, ids in wanted.items():
        rows = model._default_manager.filter(pk__in=ids)
        if model is Evaluation:
            rows = rows.select_related("office", "plan__office")  # an untitled one is named by them
        elif any(f.name == "office" and f.many_to_one for f in model._meta.get_fields()):
            rows = rows.select_related("office")
        names[model] = {obj.pk: _name(obj) for obj in rows}
    return names


def _moment(value: str, month: bool) -> str:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if "T" in value or " " in value:
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, dt.UTC)
        return dateformat.format(timezone.localtime(parsed), "j M Y, H:i")
    return dateformat.format(parsed.date(), "F Y" if month else "j M Y")


def _show(value, field, target, names, name: str):
    if value is None or value == "" or value == []:
        return None
    if target is not None:
        known = names.get(target, {})
        shown = [known.get(pk, f"#{pk} (deleted)") for pk in _ids(value)]
        return ", ".join(shown) if shown else str(value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    choices = dict(field.flatchoices) if field is not None and getattr(field, "choices", None) else None
    if choices and value in choices:
        return str(choices[value])
    if isinstance(value, str) and isinstance(field, (models.DateField, models.DateTimeField)):
        return _moment(value, name in MONTH_FIELDS)
    if isinstance(value, (dict, list)):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else ", ".join(map(str, value))
    return str(value)


def readable(records) -> list:
    """The records (a list), each with `lines`: [(label, before, after)] in words."""
    records = list(records)
    wanted: dict[type, set[int]] = defaultdict(set)
    planned = []
    for c in records:
        # The content type cache: no query per record, whether or not the caller joined it.
        model = ContentType.objects.get_for_id(c.content_type_id).model_class()
        fields = []
        for name, old, new in c.changed_fields():
            field = _field(model, name)
            target = _target(field)
            if target is not None:
                wanted[target].update(_ids(old) + _ids(new))
            fields.append((name, field, target, old, new))
        planned.append(fields)
    names = _names(wanted)
    for c, fields in zip(records, planned):
        c.lines = [
            (_label(field, name), _show(old, field, target, names, name), _show(new, field, target, names, name))
            for name, field, target, old, new in fields
        ]
    return records
