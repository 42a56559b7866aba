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
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Prefetch
from django.utils import timezone

from .. import permissions, text
from ..actor import Actor
from ..models import (
    ActionUpdate,
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
from . import history, joint, tallies
from .errors import ConflictError
from .locking import refused

RECOMMENDATION_FIELDS = ("number", "text", "response_text", "description", "category")
ACTION_FIELDS = ("number", "text", "responsible", "deadline", "status", "comments")
# Records whose changes move the counts behind the figures (tracking.services.tallies).
COUNTED = (Evaluation, Recommendation, KeyAction)


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
    cancellation_reason: str = "",
) -> Evaluation:
    """A new evaluation in the office's plan for the period, with an empty draft response."""
    title = title.strip()
    errors = _check_evaluation(title, start_year, end_year, status, cancellation_reason)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        permissions.require(actor, permissions.MANAGE_EVALUATIONS, office)
        plan, _ = EvaluationPlan.objects.get_or_create(office=office, start_year=start_year, end_year=end_year)
        if plan.closed:
            raise ValidationError({"start_year": [f"The plan {plan.period} of {office} is closed: reopen it first."]})
        if Evaluation.objects.filter(office=office, plan=plan, title=title).exists():
            raise ValidationError({"title": ["This office's plan already has an evaluation with this title."]})
        # Counted on the home page (tracking.services.tallies records).
        with tallies.kept_in_step() as counted:
            evaluation = Evaluation.objects.create(
                plan=plan,
                office=office,
                title=title,
                year=year or end_year,
                type=type,
                status=status,
                completion_date=completion_date,
                cancellation_reason=cancellation_reason.strip() if status == Evaluation.Status.CANCELLED else "",
            )
            response = ManagementResponse.objects.create(evaluation=evaluation, status=ResponseStatus.DRAFT)
            counted.add(evaluation.pk)
        history.write(
            [
                history.change(actor, ChangeRecord.Action.CREATE, evaluation, after=history.snapshot(evaluation), evaluation_id=evaluation.pk),
                history.change(actor, ChangeRecord.Action.CREATE, response, after=history.snapshot(response), evaluation_id=evaluation.pk),
            ]
        )
        return evaluation


def _check_evaluation(title: str, start_year: int, end_year: int, status: str, reason: str) -> dict[str, list[str]]:
    errors = {}
    try:
        text.check_fields(Evaluation, {"title": title, "cancellation_reason": reason})
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not title:
        errors["title"] = ["An evaluation needs a title."]
    if end_year < start_year:
        errors["end_year"] = ["The plan cannot end before it starts."]
    if status not in Evaluation.Status.values:
        errors["status"] = [f"Choose one of: {', '.join(Evaluation.Status.values)}."]
    elif status == Evaluation.Status.CANCELLED and not reason.strip():
        errors["cancellation_reason"] = ["Say why the evaluation was cancelled."]
    return errors


def update_evaluation(
    actor: Actor,
    evaluation: Evaluation,
    *,
    version: int,
    office: Office,
    start_year: int,
    end_year: int,
    title: str,
    year: int | None = None,
    type: str = "",
    status: str = Evaluation.Status.COMPLETED,
    completion_date: dt.date | None = None,
    cancellation_reason: str = "",
) -> Evaluation:
    """Every field the creation form asks for; moving to another office or plan keeps the evaluation and its history.

    The evaluation office must manage both the office it was in and the one it moves to.
    """
    title = title.strip()
    errors = _check_evaluation(title, start_year, end_year, status, cancellation_reason)
    if type and type not in Evaluation.Type.values:
        errors["type"] = [f"Choose one of: {', '.join(Evaluation.Type.values)}."]
    if errors:
        raise ValidationError(errors)
    fields = {
        "title": title,
        "year": year or end_year,
        "type": type,
        "status": status,
        "completion_date": completion_date,
        "cancellation_reason": cancellation_reason.strip() if status == Evaluation.Status.CANCELLED else "",
    }
    try:
        with transaction.atomic():
            current = _locked(Evaluation, evaluation.pk)
            permissions.require(actor, permissions.MANAGE_EVALUATIONS, current)
            permissions.require(actor, permissions.MANAGE_EVALUATIONS, office)
            if current.version != version:
                raise ConflictError(current)
            plan, created = EvaluationPlan.objects.get_or_create(office=office, start_year=start_year, end_year=end_year)
            records = []
            if created:
                records.append(history.change(actor, ChangeRecord.Action.CREATE, plan, after=history.snapshot(plan)))
            elif plan.closed and plan.pk != current.plan_id:
                raise ValidationError({"start_year": [f"The plan {plan.period} of {office} is closed: reopen it first."]})
            if (
                Evaluation.objects.filter(office=office, plan=plan, title=title).exclude(pk=current.pk).exists()
            ):
                raise ValidationError({"title": ["This office's plan already has an evaluation with this title."]})
            before = history.snapshot(current)
            current.office = office
            current.plan = plan
            for name, value in fields.items():
                setattr(current, name, value)
            old, new = history.diff(before, history.snapshot(current))
            if old or new:
                current.version += 1
                # Office and year are counted behind the figures (tracking.services.tallies).
                with tallies.kept_in_step([current.pk]):
                    current.save()
                records.append(
                    history.change(actor, ChangeRecord.Action.UPDATE, current, before=old, after=new, evaluation_id=current.pk)
                )
            history.write(records)
            return current
    except ConflictError as exc:
        _refused_edit(actor, exc, {**fields, "office": office.pk}, version)
        raise


def delete_evaluation(actor: Actor, evaluation: Evaluation, *, version: int) -> None:
    """Only while nothing hangs on it: no recommendations, key actions, progress updates or documents.

    Its empty management response goes with it; both deletions are recorded.
    """
    try:
        with transaction.atomic():
            current = _locked(Evaluation, evaluation.pk)
            permissions.require(actor, permissions.MANAGE_EVALUATIONS, current)
            if current.version != version:
                raise ConflictError(current)
            hanging = [
                (current.recommendations.count(), "recommendation"),
                (current.key_actions.count(), "key action"),
                (ActionUpdate.objects.filter(key_action__evaluation=current).count(), "progress update"),
                (current.documents.count(), "document"),
                (current.joint_partners.count(), "joint partner"),
            ]
            named = [f"{n} {what}{'s' if n != 1 else ''}" for n, what in hanging if n]
            if named:
                raise ValidationError(
                    f"“{current}” cannot be deleted: it has {', '.join(named)}. Delete those first, "
                    "or keep the evaluation (set its status to Cancelled)."
                )
            records = []
            response = ManagementResponse.objects.filter(evaluation=current).first()
            if response is not None:
                records.append(
                    history.change(actor, ChangeRecord.Action.DELETE, response, before=history.snapshot(response), evaluation_id=current.pk)
                )
            records.append(
                history.change(actor, ChangeRecord.Action.DELETE, current, before=history.snapshot(current), evaluation_id=current.pk)
            )
            with tallies.kept_in_step([current.pk]):
                current.delete()
            history.write(records)
    except ConflictError as exc:
        refused(actor, exc.current, {"delete": True, "based_on_version": version}, "deletion refused: the evaluation had changed")
        raise


# --- shared machinery -------------------------------------------------------------------


def _locked(model, pk: int):
    return model.objects.select_for_update(of=("self",)).get(pk=pk)


def _edit(actor: Actor, model, pk: int, version: int, permission: str, fields: dict[str, Any], evaluation_id: int):
    """Change fields of one record if it is still at `version`; history written.

    Raises ConflictError otherwise: the caller records the refusal with
    `_refused_edit` once its own transaction has rolled back (a record written
    inside it would be rolled back with it).
    """
    with transaction.atomic(), tallies.kept_in_step([evaluation_id] if model in COUNTED else []):
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
    text.check_fields(ManagementResponse, {"overall_response": overall_response.strip()})
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
    _check_text(Recommendation, fields, RECOMMENDATION_FIELDS, errors)
    if errors:
        raise ValidationError(errors)


def _check_text(model, fields: dict[str, Any], names: tuple[str, ...], errors: dict[str, list[str]]) -> None:
    """Lengths and unstorable characters of the values as given (some are stored unstripped), see `tracking.text`."""
    values = {k: fields[k] for k in names if isinstance(fields.get(k), str)}
    try:
        text.check_fields(model, values)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, messages)


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
        with tallies.kept_in_step([current.evaluation_id]):  # counted on the home page
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
            current = _locked(Recommendation, recommendation.pk)
            if joint.is_shared(current):
                refusal = joint.shared_edit_refusal(current, changes)
                if refusal:
                    raise ValidationError(refusal)
                # Kept as the shared text is: the form's copy of it (whitespace aside) writes nothing.
                changes = {k: v for k, v in changes.items() if k not in joint.SHARED_EDITED}
            rec = _edit(actor, Recommendation, recommendation.pk, version, permissions.EDIT_RESPONSE, changes, response.evaluation_id)
            if terms is not None:
                with tallies.kept_in_step([response.evaluation_id]):
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
            if joint.is_shared(rec):
                raise ValidationError("This recommendation is shared by a joint evaluation: it stays in every partner's response.")
            records = []
            for action in rec.key_actions.all():
                records.append(_deletion(actor, action, response.evaluation_id))
            records.append(_deletion(actor, rec, response.evaluation_id))
            with tallies.kept_in_step([response.evaluation_id]):
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
    _check_text(KeyAction, fields, ACTION_FIELDS, errors)
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
        tallies.added([action.pk])
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
            with tallies.kept_in_step([response.evaluation_id]):
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


# --- before submitting: what is missing, what may be a mistake ----------------------------------------

# A key action names a concrete deliverable when one can tell, once it is done, that it was: a thing made
# (a plan, a guideline, a training, a system...), a number, or a verb that makes one (develop, publish,
# train...). Without any, and opening with a verb of intent only, or shorter than six words, it is
# flagged (a warning: it may be deliberate).
VAGUE_VERBS = frozenset(
    "continue ensure strengthen enhance improve promote support consider explore encourage foster advocate "
    "increase reinforce pursue maintain prioritize prioritise further seek work".split()
)
DELIVERABLES = frozenset(
    "plan plans strategy strategies guidance guideline guidelines policy policies training trainings workshop workshops "
    "tool toolkit system database framework study assessment review manual procedure procedures sop checklist dashboard "
    "evaluation survey agreement memorandum mou budget template roadmap note brief module course platform mechanism "
    "committee report reports indicator indicators baseline targets protocol handbook curriculum campaign audit "
    "position post recruitment terms methodology website portal app meeting consultation".split()
)
# Verbs that make something one can point to once done.
CONCRETE_VERBS = frozenset(
    "develop publish establish train hire recruit conduct produce adopt issue launch create hold organize organise revise "
    "update design prepare draft finalize finalise set introduce appoint commission complete deliver submit sign install".split()
)
SHORT_ACTION_WORDS = 6


@dataclass(frozen=True)
class Check:
    """One finding about a draft: what it is, and the record to go to (`target` and `pk`)."""

    message: str
    target: str  # "header", "add_recommendation", "add_action" (on a recommendation), "action"
    pk: int | None = None


@dataclass
class SubmissionChecks:
    missing: list[Check] = field(default_factory=list)  # refused until done
    warnings: list[Check] = field(default_factory=list)  # told, not refused

    @property
    def ready(self) -> bool:
        return not self.missing


def vague_action(text: str) -> str:
    """Why this key action names no concrete deliverable ("" when it does)."""
    words = re.findall(r"[\w'-]+", text.lower())
    if not words:
        return "it is empty"
    concrete = (
        words[0] in CONCRETE_VERBS
        or any(w in DELIVERABLES or w.rstrip("s") in DELIVERABLES for w in words)
        or any(ch.isdigit() for ch in text)
    )
    if concrete:
        return ""
    if len(words) < SHORT_ACTION_WORDS:
        return f"it is {len(words)} word{'s' if len(words) != 1 else ''} long and names no deliverable"
    if words[0] in VAGUE_VERBS:
        return f"it opens with “{words[0]}” and names no deliverable (a plan, a guideline, a training, a number…)"
    return ""


def submission_checks(response: ManagementResponse, recommendations: list[Recommendation] | None = None, on: dt.date | None = None) -> SubmissionChecks:
    """What must be done before the response can be submitted, and what may be a mistake.

    `recommendations`: already loaded, in order, with their key actions and units prefetched (or loaded here).
    """
    from ..models.responses import month_start, today

    if recommendations is None:
        recommendations = list(
            response.recommendations.order_by("position").prefetch_related(
                Prefetch("key_actions", queryset=KeyAction.objects.order_by("position").prefetch_related("units"))
            )
        )
    checks = SubmissionChecks()
    if not response.overall_response.strip():
        checks.missing.append(Check("Write the overall management response.", "header"))
    if not recommendations:
        checks.missing.append(Check("Add at least one recommendation.", "add_recommendation"))
    completion = response.evaluation.completion_date
    this_month = month_start(on or today())
    needs_action = (Category.ACCEPTED, Category.PARTIALLY_ACCEPTED)
    for rec in recommendations:
        actions = list(rec.key_actions.all())
        if rec.category in needs_action and not actions:
            checks.missing.append(Check(f"Recommendation {rec.number} is {rec.category.lower()}: add at least one key action.", "add_action", rec.pk))
        for a in actions:
            name = f"Key action {a.code}"
            if not a.units.all():
                checks.missing.append(Check(f"{name}: choose its responsible unit.", "action", a.pk))
            if a.deadline is None:
                checks.missing.append(Check(f"{name}: give its deadline.", "action", a.pk))
            elif completion and a.deadline < month_start(completion):
                checks.warnings.append(
                    Check(f"{name}: its deadline ({a.deadline:%Y/%m}) is before the evaluation was completed ({completion:%Y/%m}).", "action", a.pk)
                )
            elif a.deadline < this_month:
                checks.warnings.append(Check(f"{name}: its deadline ({a.deadline:%Y/%m}) has already passed.", "action", a.pk))
            why = vague_action(a.text)
            if why:
                checks.warnings.append(Check(f"{name} may not say what will be delivered: {why}.", "action", a.pk))
    return checks


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
            with tallies.kept_in_step([current.evaluation_id]):
                current.save()
            tallies.touch()  # approval dates: the timeliness figure
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
    checks = submission_checks(response)
    if not checks.ready:
        # The missing items, each its own message (the drafting page lists them with links).
        raise ValidationError(["The response is not ready to submit:"] + [c.message for c in checks.missing])
    return _transition(
        actor, response, version, permissions.SUBMIT_RESPONSE, ResponseStatus.SUBMITTED, submitted_at=timezone.now(), return_reason=""
    )


def approve_response(actor: Actor, response: ManagementResponse, *, version: int) -> ManagementResponse:
    return _transition(actor, response, version, permissions.REVIEW_RESPONSE, ResponseStatus.APPROVED, approved_at=timezone.now())


def return_response(actor: Actor, response: ManagementResponse, *, version: int, reason: str) -> ManagementResponse:
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the response goes back for revision."]})
    message = text.problem(reason.strip(), label="reason for return")
    if message:
        raise ValidationError({"reason": [message]})
    return _transition(actor, response, version, permissions.REVIEW_RESPONSE, ResponseStatus.RETURNED, return_reason=reason.strip())
