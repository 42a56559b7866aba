"""Administrators tidy the unit list: merge a junk unit into the right one, rename, mark as reviewed.

Imports make units from responsible texts nobody typed for us ("DM A",
"Intergovernm ental Support Division"). Merging moves everything that names
the junk unit (key actions, coordinating units of responses, role
assignments, aliases) to the right unit, keeps the junk name as an alias of
it so the importer matches it next time (tracking/services/units.py reads
aliases first), and deletes the junk unit; a rename keeps the old name as an
alias. Every change is a ChangeRecord.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from gateformat.split import normalize_unit

from .. import permissions
from ..actor import Actor
from ..models import ChangeRecord, KeyAction, ManagementResponse, RoleAssignment, Unit, UnitAlias
from . import history


def _alias(actor: Actor, unit: Unit, name: str, note: str) -> list[ChangeRecord]:
    """`name` as an alias of `unit`, unless the unit already answers to it."""
    name = name.strip()[:200]
    if not name or normalize_unit(name) in {normalize_unit(n) for n in unit.names()}:
        return []
    alias = UnitAlias.objects.create(unit=unit, name=name)
    return [history.change(actor, ChangeRecord.Action.CREATE, alias, after={"unit": unit.pk, "name": name}, message=note)]


def merge_units(actor: Actor, source: Unit, target: Unit) -> Unit:
    """Move everything of `source` to `target`, keep its names as aliases of `target`, delete `source`."""
    permissions.require(actor, permissions.MANAGE_REFERENCE)
    if source.pk == target.pk:
        raise ValidationError({"target": ["Choose another unit to merge into: a unit cannot be merged into itself."]})
    note = f"unit “{source}” merged into “{target}”"
    with transaction.atomic():
        source = Unit.objects.select_for_update().prefetch_related("aliases").get(pk=source.pk)
        target = Unit.objects.select_for_update().prefetch_related("aliases").get(pk=target.pk)
        records: list[ChangeRecord] = []
        for model in (KeyAction, ManagementResponse):
            rows = model.objects.filter(units=source).prefetch_related("units").order_by("pk")
            for row in rows:
                before = sorted(u.pk for u in row.units.all())
                after = sorted({*before, target.pk} - {source.pk})
                row.units.remove(source)
                row.units.add(target)
                records.append(history.change(
                    actor, ChangeRecord.Action.UPDATE, row, before={"units": before}, after={"units": after},
                    evaluation_id=row.evaluation_id, message=note,
                ))
        for assignment in RoleAssignment.objects.filter(unit=source).select_related("user"):
            duplicate = RoleAssignment.objects.filter(user=assignment.user, role=assignment.role, unit=target).exists()
            if duplicate:
                # The person already holds the role on the right unit: the junk one goes.
                snap = history.snapshot(assignment)
                pk = assignment.pk
                assignment.delete()
                assignment.pk = pk
                records.append(history.change(actor, ChangeRecord.Action.DELETE, assignment, before=snap, message=note))
            else:
                assignment.unit = target
                assignment.save(update_fields=["unit"])
                records.append(history.change(
                    actor, ChangeRecord.Action.UPDATE, assignment, before={"unit": source.pk}, after={"unit": target.pk}, message=note
                ))
        names = [source.name, source.acronym, *[a.name for a in source.aliases.all()]]
        before = history.snapshot(source)
        source_pk = source.pk
        source.delete()  # its own aliases go with it (cascade); kept below on the target
        source.pk = source_pk
        target = Unit.objects.prefetch_related("aliases").get(pk=target.pk)
        for name in names:
            records += _alias(actor, target, name, note)
            target = Unit.objects.prefetch_related("aliases").get(pk=target.pk)
        records.append(history.change(actor, ChangeRecord.Action.DELETE, source, before=before, message=note))
        history.write(records)
    return target


def rename_unit(actor: Actor, unit: Unit, *, name: str, acronym: str | None = None) -> Unit:
    """A new name (and acronym); the old ones stay as aliases, so imports still find the unit. Marks it reviewed."""
    permissions.require(actor, permissions.MANAGE_REFERENCE)
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": ["Give the unit a name."]})
    if len(name) > 200:
        raise ValidationError({"name": ["A unit's name has at most 200 characters."]})
    acronym = unit.acronym if acronym is None else " ".join(acronym.split())
    if len(acronym) > 30:
        raise ValidationError({"acronym": ["An acronym has at most 30 characters."]})
    with transaction.atomic():
        current = Unit.objects.select_for_update().prefetch_related("aliases").get(pk=unit.pk)
        clash = Unit.objects.filter(office_id=current.office_id, name=name).exclude(pk=current.pk).first()
        if clash:
            raise ValidationError({"name": [f"{current.office} already has a unit named “{name}”: merge into it instead."]})
        before = history.snapshot(current)
        old_names = [current.name, current.acronym]
        current.name, current.acronym, current.auto_created = name, acronym, False
        current.save(update_fields=["name", "acronym", "auto_created"])
        old, new = history.diff(before, history.snapshot(current))
        records = []
        if old or new:
            records.append(history.change(actor, ChangeRecord.Action.UPDATE, current, before=old, after=new, message="unit renamed"))
        for old_name in old_names:
            current = Unit.objects.prefetch_related("aliases").get(pk=current.pk)
            records += _alias(actor, current, old_name, "unit renamed: the old name kept as an alias")
        history.write(records)
    return current


def mark_reviewed(actor: Actor, unit: Unit) -> Unit:
    """An import's unit is right as it is: it leaves the list to review."""
    permissions.require(actor, permissions.MANAGE_REFERENCE)
    with transaction.atomic():
        current = Unit.objects.select_for_update().get(pk=unit.pk)
        if current.auto_created:
            current.auto_created = False
            current.save(update_fields=["auto_created"])
            history.write([history.change(
                actor, ChangeRecord.Action.UPDATE, current, before={"auto_created": True}, after={"auto_created": False},
                message="unit reviewed",
            )])
    return current
