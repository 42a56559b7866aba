"""Evaluations and management responses made by hand, and their review.

The evaluation office creates evaluations; the office's focal point drafts the
response (its recommendations and key actions, in order) and submits it; the
evaluation office approves it or returns it with a reason. An approved
response is locked: only progress updates change it after that.

Every edit names the version of the record it was based on and is refused
(ConflictError, the attempt kept in the history) when the record changed
since; every change writes its history record.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .. import permissions
from ..actor import Actor
from ..models import (
    ChangeRecord,
    Evaluation,
    EvaluationPlan,
    KeyAction,
    ManagementResponse,
    Office,
    Recommendation,
    RecommendationTerm,
    Term,
    Unit,
)
from ..models.responses import ActionStatus, Category, ResponseStatus
from . import history
from .errors import ConflictError
from .progress import refused

RECOMMENDATION_FIELDS = ("number", "text", "response_text", "description", "category")
ACTION_FIELDS = ("number", "text", "responsible", "deadline", "status", "comments")


# --- evaluations ------------------------------------------------------------------


def create_evaluation(
    actor: Actor,
    *,
    office: Office,
    start_year: int,
    end_year: int,
    title: str,
    year: int | None = None,
    type: str = "",
    status: str = Evaluation.Status.COMPLETED,
    completion_date: dt.date | None = None,
) -> Evaluation:
    """A new evaluation in the office's plan for the period, with an empty draft response."""
    title = title.strip()
    errors = {}
    if not title:
        errors["title"] = ["An evaluation needs a title."]
    if end_year < start_year:
        errors["end_year"] = ["The plan cannot end before it starts."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        permissions.require(actor, permissions.MANAGE_EVALUATIONS, office)
        plan, _ = EvaluationPlan.objects.get_or_create(office=office, start_year=start_year, end_year=end_year)
        if Evaluation.objects.filter(office=office, plan=plan, title=title).exists():
            raise ValidationError({"title": ["This office's plan already has an evaluation with this title."]})
        evaluation = Evaluation.objects.create(
            plan=plan,
            office=office,
            title=title,
            year=year or end_year,
            type=type,
            status=status,
            completion_date=completion_date,
        )
        response = ManagementResponse.objects.create(evaluation=evaluation, status=ResponseStatus.DRAFT)
        history.write(
            [
                history.change(actor, ChangeRecord.Action.CREATE, evaluation, after=history.snapshot(evaluation), evaluation_id=evaluation.pk),
                history.change(actor, ChangeRecord.Action.CREATE, response, after=history.snapshot(response), evaluation_id=evaluation.pk),
            ]
        )
        return evaluation


# --- shared machinery -------------------------------------------------------------------


def _locked(model, pk: int):
    return model.objects.select_for_update(of=("self",)).get(pk=pk)


def _edit(actor: Actor, model, pk: int, version: int, permission: str, fields: dict[str, Any], evaluation_id: int):
    """Change fields of one record if it is still at `version`; history written.

    Raises ConflictError otherwise: the caller records the refusal with
    `_refused_edit` once its own transaction has rolled back (a record written
    inside it would be rolled back with it).
    """
    with transaction.atomic():
        current = _locked(model, pk)
        permissions.require(actor, permission, current)
        if current.version != version:
            raise ConflictError(current)
        before = history.snapshot(current)
        for name, value in fields.items():
            setattr(current, name, value)
        old, new = history.diff(before, history.snapshot(current))
        if old or new:
            current.version += 1
            current.save()
            history.write(
                [history.change(actor, ChangeRecord.Action.UPDATE, current, before=old, after=new, evaluation_id=evaluation_id)]
            )
        return current


def _refused_edit(actor: Actor, exc: ConflictError, fields: dict[str, Any], version: int) -> None:
    refused(actor, exc.current, {**_jsonable(fields), "based_on_version": version}, f"edit of {exc.current} refused: it had changed")


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v) for k, v in fields.items()}


def _response_for_edit(actor: Actor, response_id: int) -> ManagementResponse:
    response = _locked(ManagementResponse, response_id)
    permissions.require(actor, permissions.EDIT_RESPONSE, response)
    return response


def _touch(response: ManagementResponse) -> None:
    # Any change inside a response moves its version, so a review sees what it approves.
    ManagementResponse.objects.filter(pk=response.pk).update(version=response.version + 1, updated_at=timezone.now())
    response.version += 1


# --- the response header --------------------------------------------------------


def update_response(
    actor: Actor, response: ManagementResponse, *, version: int, overall_response: str, units: list[Unit]
) -> ManagementResponse:
    try:
        with transaction.atomic():
            current = _response_for_edit(actor, response.pk)
            if current.version != version:
                raise ConflictError(current)
            before = {**history.snapshot(current), "units": sorted(current.units.values_list("pk", flat=True))}
            current.overall_response = overall_response.strip()
            current.units_as_written = [u.name for u in units]
            current.version += 1
            current.save()
            current.units.set(units)
            after = {**history.snapshot(current), "units": sorted(u.pk for u in units)}
            old, new = history.diff(before, after)
            if old or new:
                history.write(
                    [history.change(actor, ChangeRecord.Action.UPDATE, current, before=old, after=new, evaluation_id=current.evaluation_id)]
                )
            return current
    except ConflictError as exc:
        refused(actor, exc.current, {"overall_response": overall_response, "based_on_version": version}, "edit of the response refused: it had changed")
        raise


# --- recommendations ---------------------------------------------------------------


def _check_recommendation(fields: dict[str, Any]) -> None:
    errors = {}
    if not str(fields.get("text", "")).strip():
        errors["text"] = ["Write the recommendation."]
    if not str(fields.get("number", "")).strip():
        errors["number"] = ["Give the recommendation a number."]
    category = fields.get("category", "")
    if category and category not in Category.values:
        errors["category"] = [f"Choose one of: {', '.join(Category.values)}."]
    if errors:
        raise ValidationError(errors)


def _set_tags(recommendation: Recommendation, terms: list[Term]) -> tuple[list[int], list[int]]:
    old = list(recommendation.tags.order_by("position").values_list("term_id", flat=True))
    new = list(dict.fromkeys(t.pk for t in terms))
    if old != new:
        RecommendationTerm.objects.filter(recommendation=recommendation).delete()
        RecommendationTerm.objects.bulk_create(
            [RecommendationTerm(recommendation=recommendation, term_id=pk, position=i) for i, pk in enumerate(new)]
        )
    return old, new


def add_recommendation(
    actor: Actor, response: ManagementResponse, *, fields: dict[str, Any], terms: list[Term] = ()
) -> Recommendation:
    _check_recommendation(fields)
    with transaction.atomic():
        current = _response_for_edit(actor, response.pk)
        position = (current.recommendations.aggregate(m=Max("position"))["m"] or 0) + 1
        rec = Recommendation.objects.create(
            management_response=current,
            evaluation_id=current.evaluation_id,
            position=position,
            **{k: fields.get(k, "") for k in RECOMMENDATION_FIELDS},
        )
        _set_tags(rec, list(terms))
        _touch(current)
        history.write(
            [history.change(actor, ChangeRecord.Action.CREATE, rec, after={**history.snapshot(rec), "tags": [t.pk for t in terms]}, evaluation_id=current.evaluation_id)]
        )
        return rec


def update_recommendation(
    actor: Actor, recommendation: Recommendation, *, version: int, fields: dict[str, Any], terms: list[Term] | None = None
) -> Recommendation:
    _check_recommendation(fields)
    changes = {k: fields[k] for k in RECOMMENDATION_FIELDS if k in fields}
    try:
        with transaction.atomic():
            response = _response_for_edit(actor, recommendation.management_response_id)
            rec = _edit(actor, Recommendation, recommendation.pk, version, permissions.EDIT_RESPONSE, changes, response.evaluation_id)
            if terms is not None:
                old, new = _set_tags(rec, terms)
                if old != new:
                    history.write(
                        [history.change(actor, ChangeRecord.Action.UPDATE, rec, before={"tags": old}, after={"tags": new}, evaluation_id=response.evaluation_id)]
                    )
            _touch(response)
            return rec
    except ConflictError as exc:
        _refused_edit(actor, exc, changes, version)
        raise


def delete_recommendation(actor: Actor, recommendation: Recommendation, *, version: int) -> None:
    try:
        with transaction.atomic():
            response = _response_for_edit(actor, recommendation.management_response_id)
            rec = _locked(Recommendation, recommendation.pk)
            if rec.version != version:
                raise ConflictError(rec)
            records = []
            for action in rec.key_actions.all():
                records.append(_deletion(actor, action, response.evaluation_id))
            records.append(_deletion(actor, rec, response.evaluation_id))
            rec.delete()
            records += _renumber(actor, Recommendation, response.recommendations.order_by("position"), response.evaluation_id)
            _touch(response)
            history.write(records)
    except ConflictError as exc:
        refused(actor, exc.current, {"delete": True, "based_on_version": version}, "deletion refused: the recommendation had changed")
        raise


def _deletion(actor: Actor, obj, evaluation_id: int) -> ChangeRecord:
    before = history.snapshot(obj)
    if isinstance(obj, KeyAction):
        before["updates"] = [history.snapshot(u) for u in obj.updates.all()]
    return history.change(actor, ChangeRecord.Action.DELETE, obj, before=before, evaluation_id=evaluation_id)


def _renumber(actor: Actor, model, rows, evaluation_id: int) -> list[ChangeRecord]:
    """Positions 1..n in the current order (two passes: positions are unique); a history record for each row moved.

    Every position change is in the history, so a copy kept in step by the
    changes feed (/api/v1/changes) orders rows as the record does.
    """
    rows = list(rows)
    before = {row.pk: row.position for row in rows}
    for row in rows:
        row.position += 1_000_000
    model.objects.bulk_update(rows, ["position"])
    for i, row in enumerate(rows, start=1):
        row.position = i
    model.objects.bulk_update(rows, ["position"])
    return [
        history.change(actor, ChangeRecord.Action.UPDATE, row, before={"position": before[row.pk]},
                       after={"position": row.position}, evaluation_id=evaluation_id)
        for row in rows
        if before[row.pk] != row.position
    ]


def move_recommendation(actor: Actor, recommendation: Recommendation, direction: int) -> None:
    """Move one place up (-1) or down (+1)."""
    with transaction.atomic():
        response = _response_for_edit(actor, recommendation.management_response_id)
        rows = list(response.recommendations.order_by("position"))
        _move(actor, Recommendation, rows, recommendation.pk, direction, response)


def _move(actor: Actor, model, rows: list, pk: int, direction: int, response: ManagementResponse) -> None:
    index = next((i for i, r in enumerate(rows) if r.pk == pk), None)
    if index is None:
        raise ValidationError("That item is not in this list any more.")
    target = index + (1 if direction > 0 else -1)
    if not 0 <= target < len(rows):
        return
    rows[index], rows[target] = rows[target], rows[index]
    moved = rows[target]
    records = _renumber(actor, model, rows, response.evaluation_id)
    _touch(response)
    # The row moved first, then the one it changed places with.
    records.sort(key=lambda r: r.object_id != moved.pk)
    history.write(records)


# --- key actions -----------------------------------------------------------------------


def _check_action(fields: dict[str, Any]) -> None:
    errors = {}
    if not str(fields.get("text", "")).strip():
        errors["text"] = ["Write the key action."]
    if not str(fields.get("number", "")).strip():
        errors["number"] = ["Give the key action a number."]
    status = fields.get("status") or ActionStatus.NOT_INITIATED
    if status not in ActionStatus.values:
        errors["status"] = [f"Choose one of: {', '.join(ActionStatus.values)}."]
    deadline = fields.get("deadline")
    if deadline is not None and not isinstance(deadline, dt.date):
        errors["deadline"] = ["Give the deadline as a month (YYYY-MM)."]
    if errors:
        raise ValidationError(errors)


def add_action(
    actor: Actor, recommendation: Recommendation, *, fields: dict[str, Any], units: list[Unit] = ()
) -> KeyAction:
    _check_action(fields)
    with transaction.atomic():
        response = _response_for_edit(actor, recommendation.management_response_id)
        position = (recommendation.key_actions.aggregate(m=Max("position"))["m"] or 0) + 1
        deadline = fields.get("deadline")
        action = KeyAction.objects.create(
            recommendation=recommendation,
            evaluation_id=response.evaluation_id,
            position=position,
            number=fields["number"].strip(),
            text=fields["text"].strip(),
            responsible=fields.get("responsible", "").strip() or "; ".join(u.name for u in units),
            deadline=deadline.replace(day=1) if deadline else None,
            status=fields.get("status") or ActionStatus.NOT_INITIATED,
            comments=fields.get("comments", "").strip(),
        )
        action.units.set(units)
        _touch(response)
        history.write(
            [history.change(actor, ChangeRecord.Action.CREATE, action, after={**history.snapshot(action), "units": [u.pk for u in units]}, evaluation_id=response.evaluation_id)]
        )
        return action


def update_action(
    actor: Actor, action: KeyAction, *, version: int, fields: dict[str, Any], units: list[Unit] | None = None
) -> KeyAction:
    """Edit a key action while its response is being drafted (progress is `record_progress`)."""
    _check_action(fields)
    if fields.get("deadline"):
        fields = {**fields, "deadline": fields["deadline"].replace(day=1)}
    changes = {k: fields[k] for k in ACTION_FIELDS if k in fields}
    try:
        with transaction.atomic():
            response = _response_for_edit(actor, action.recommendation.management_response_id)
            current = _edit(actor, KeyAction, action.pk, version, permissions.EDIT_RESPONSE, changes, response.evaluation_id)
            if units is not None:
                old = sorted(current.units.values_list("pk", flat=True))
                new = sorted(u.pk for u in units)
                if old != new:
                    current.units.set(units)
                    history.write(
                        [history.change(actor, ChangeRecord.Action.UPDATE, current, before={"units": old}, after={"units": new}, evaluation_id=response.evaluation_id)]
                    )
            _touch(response)
            return current
    except ConflictError as exc:
        _refused_edit(actor, exc, changes, version)
        raise


def delete_action(actor: Actor, action: KeyAction, *, version: int) -> None:
    try:
        with transaction.atomic():
            response = _response_for_edit(actor, action.recommendation.management_response_id)
            current = _locked(KeyAction, action.pk)
            if current.version != version:
                raise ConflictError(current)
            record = _deletion(actor, current, response.evaluation_id)
            rec = current.recommendation
            current.delete()
            renumbered = _renumber(actor, KeyAction, rec.key_actions.order_by("position"), response.evaluation_id)
            _touch(response)
            history.write([record, *renumbered])
    except ConflictError as exc:
        refused(actor, exc.current, {"delete": True, "based_on_version": version}, "deletion refused: the key action had changed")
        raise


def move_action(actor: Actor, action: KeyAction, direction: int) -> None:
    with transaction.atomic():
        response = _response_for_edit(actor, action.recommendation.management_response_id)
        rows = list(action.recommendation.key_actions.order_by("position"))
        _move(actor, KeyAction, rows, action.pk, direction, response)


# --- the workflow: submit, approve, return ---------------------------------------------------


def _transition(actor: Actor, response: ManagementResponse, version: int, permission: str, to: str, **extra) -> ManagementResponse:
    try:
        with transaction.atomic():
            current = _locked(ManagementResponse, response.pk)
            permissions.require(actor, permission, current)
            if current.version != version:
                raise ConflictError(current)
            before = history.snapshot(current)
            current.status = to
            for name, value in extra.items():
                setattr(current, name, value)
            current.version += 1
            current.save()
            old, new = history.diff(before, history.snapshot(current))
            history.write(
                [
                    history.change(
                        actor,
                        ChangeRecord.Action.UPDATE,
                        current,
                        before=old,
                        after=new,
                        evaluation_id=current.evaluation_id,
                        message=f"response {to.lower()}",
                    )
                ]
            )
            return current
    except ConflictError as exc:
        refused(actor, exc.current, {"status": to, "based_on_version": version}, f"{to.lower()} refused: the response had changed")
        raise


def submit_response(actor: Actor, response: ManagementResponse, *, version: int) -> ManagementResponse:
    # Permission first: someone who may not submit learns nothing about the draft.
    permissions.require(actor, permissions.SUBMIT_RESPONSE, response)
    if not response.recommendations.exists():
        raise ValidationError("A response needs at least one recommendation before it is submitted.")
    return _transition(
        actor, response, version, permissions.SUBMIT_RESPONSE, ResponseStatus.SUBMITTED, submitted_at=timezone.now(), return_reason=""
    )


def approve_response(actor: Actor, response: ManagementResponse, *, version: int) -> ManagementResponse:
    return _transition(actor, response, version, permissions.REVIEW_RESPONSE, ResponseStatus.APPROVED, approved_at=timezone.now())


def return_response(actor: Actor, response: ManagementResponse, *, version: int, reason: str) -> ManagementResponse:
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the response goes back for revision."]})
    return _transition(actor, response, version, permissions.REVIEW_RESPONSE, ResponseStatus.RETURNED, return_reason=reason.strip())
