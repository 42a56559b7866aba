"""Joint evaluations: one evaluation done with other offices or agencies.

The evaluation office's own record is the lead; each partner office gets an
ordinary evaluation of its own (its own draft response, key actions, figures
and permissions: a partner office drafts only its own response), pointing at
the lead (`Evaluation.joint_lead`). The recommendations are shared: each
partner's copy points at the lead's (`Recommendation.shared_from`) and keeps
the same number and text; category, management response text and key actions
are the partner's own.

Only the evaluation office (MANAGE_EVALUATIONS on the lead and on the partner
office) adds or removes partners and changes a shared recommendation's text,
which changes it for every partner at once. Every step writes history, on the
lead and on the partner's evaluation. Removing a partner keeps its evaluation
as an ordinary one of its office (nothing is lost; it may be deleted apart).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .. import permissions, text
from ..actor import Actor
from ..models import ChangeRecord, Evaluation, EvaluationPlan, ManagementResponse, Office, Recommendation
from ..models.responses import ResponseStatus
from . import history, tallies
from .errors import ConflictError
from .progress import refused

SHARED_FIELDS = ("number", "text", "description", "label")  # copied to a partner's copy
SHARED_EDITED = ("number", "text")  # kept in step by `update_shared`; a partner's draft does not change them
OPEN_STATUSES = (ResponseStatus.DRAFT, ResponseStatus.RETURNED)


def members(lead: Evaluation):
    """The lead and its partners' evaluations (unrestricted: callers restrict what they show)."""
    return Evaluation.objects.filter(Q(pk=lead.pk) | Q(joint_lead_id=lead.pk))


def _locked_lead(actor: Actor, lead_id: int) -> Evaluation:
    lead = Evaluation.objects.select_for_update(of=("self",)).select_related("office", "plan").get(pk=lead_id)
    if lead.joint_lead_id is not None:
        raise ValidationError({"evaluation": [f"“{lead}” is a partner's record of a joint evaluation: manage the partners from the lead evaluation."]})
    permissions.require(actor, permissions.MANAGE_EVALUATIONS, lead)
    return lead


def _copy(source: Recommendation, response: ManagementResponse) -> Recommendation:
    return Recommendation(
        management_response=response,
        evaluation_id=response.evaluation_id,
        position=source.position,
        shared_from=source,
        **{k: getattr(source, k) for k in SHARED_FIELDS},
    )


def add_partner(actor: Actor, lead: Evaluation, *, office: Office) -> Evaluation:
    """Make `lead` joint with `office`: a new evaluation of that office, a draft response, the shared recommendations."""
    with transaction.atomic(), tallies.kept_in_step() as changed:
        lead = _locked_lead(actor, lead.pk)
        permissions.require(actor, permissions.MANAGE_EVALUATIONS, office)
        if office.pk == lead.office_id:
            raise ValidationError({"office": [f"{office} is the lead office of “{lead}”: choose another office."]})
        if Evaluation.objects.filter(joint_lead=lead, office=office).exists():
            raise ValidationError({"office": [f"{office} is already a partner of “{lead}”."]})
        plan, _ = EvaluationPlan.objects.get_or_create(office=office, start_year=lead.plan.start_year, end_year=lead.plan.end_year)
        if plan.closed:
            raise ValidationError({"office": [f"The plan {plan.period} of {office} is closed: reopen it first."]})
        if Evaluation.objects.filter(office=office, plan=plan, title=lead.title).exists():
            raise ValidationError({"office": [f"{office}'s plan {plan.period} already has an evaluation titled “{lead.title}”."]})
        partner = Evaluation.objects.create(
            plan=plan,
            office=office,
            title=lead.title,
            type=lead.type,
            year=lead.year,
            status=lead.status,
            completion_date=lead.completion_date,
            joint_lead=lead,
        )
        changed.add(partner.pk)
        response = ManagementResponse.objects.create(evaluation=partner, status=ResponseStatus.DRAFT)
        records = [
            history.change(actor, ChangeRecord.Action.CREATE, partner, after=history.snapshot(partner), evaluation_id=partner.pk,
                           message=f"partner of the joint evaluation led by {lead.office}"),
            history.change(actor, ChangeRecord.Action.CREATE, response, after=history.snapshot(response), evaluation_id=partner.pk),
            history.change(actor, ChangeRecord.Action.UPDATE, lead, before={"joint_partners": None},
                           after={"joint_partners": {"added": partner.pk, "office": office.pk}}, evaluation_id=lead.pk,
                           message=f"partner added: {office}"),
        ]
        records += _share(actor, lead, [response])
        history.write(records)
        return partner


def _share(actor: Actor, lead: Evaluation, responses: list[ManagementResponse]) -> list[ChangeRecord]:
    """Copies of the lead's recommendations each response lacks (one query for the lead's, one for the copies)."""
    sources = list(Recommendation.objects.filter(evaluation_id=lead.pk, archived_at__isnull=True).order_by("position"))
    have = set(
        Recommendation.objects.filter(management_response__in=responses, shared_from__isnull=False)
        .values_list("management_response_id", "shared_from_id")
    )
    positions: dict[int, set[int]] = {}
    for response_id, position in Recommendation.objects.filter(management_response__in=responses).values_list("management_response_id", "position"):
        positions.setdefault(response_id, set()).add(position)
    records, new = [], []
    for response in responses:
        taken = positions.get(response.pk, set())
        next_free = max(taken, default=0) + 1
        for source in sources:
            if (response.pk, source.pk) in have:
                continue
            copy = _copy(source, response)
            if copy.position in taken:  # the partner has its own recommendation there: the copy goes last
                copy.position = next_free
                next_free += 1
            taken.add(copy.position)
            new.append(copy)
    for copy in Recommendation.objects.bulk_create(new):
        records.append(history.change(actor, ChangeRecord.Action.CREATE, copy, after=history.snapshot(copy),
                                      evaluation_id=copy.evaluation_id, message="shared recommendation of a joint evaluation"))
    return records


def share_recommendations(actor: Actor, lead: Evaluation) -> int:
    """Copy the lead's recommendations added since to every partner whose response is still open. Returns how many copies."""
    with transaction.atomic():
        lead = _locked_lead(actor, lead.pk)
        responses = list(ManagementResponse.objects.filter(evaluation__joint_lead=lead, status__in=OPEN_STATUSES))
        with tallies.kept_in_step([r.evaluation_id for r in responses]):
            records = _share(actor, lead, responses)
        history.write(records)
        return len(records)


def remove_partner(actor: Actor, partner: Evaluation) -> Evaluation:
    """The partner's evaluation leaves the joint evaluation: it stays an ordinary evaluation of its office."""
    with transaction.atomic():
        partner = Evaluation.objects.select_for_update(of=("self",)).select_related("office").get(pk=partner.pk)
        if partner.joint_lead_id is None:
            raise ValidationError({"evaluation": [f"“{partner}” is not a partner of a joint evaluation."]})
        lead = _locked_lead(actor, partner.joint_lead_id)
        copies = list(Recommendation.objects.filter(evaluation=partner, shared_from__isnull=False))
        records = [
            history.change(actor, ChangeRecord.Action.UPDATE, partner, before={"joint_lead": lead.pk}, after={"joint_lead": None},
                           evaluation_id=partner.pk, message=f"no longer a partner of the joint evaluation led by {lead.office}"),
            history.change(actor, ChangeRecord.Action.UPDATE, lead, before={"joint_partners": {"removed": partner.pk, "office": partner.office_id}},
                           after={"joint_partners": None}, evaluation_id=lead.pk, message=f"partner removed: {partner.office}"),
        ]
        records += [
            history.change(actor, ChangeRecord.Action.UPDATE, c, before={"shared_from": c.shared_from_id}, after={"shared_from": None},
                           evaluation_id=partner.pk)
            for c in copies
        ]
        # The home page's counts follow: the evaluation and its recommendations are counted as its own now.
        with tallies.kept_in_step([partner.pk]):
            Recommendation.objects.filter(pk__in=[c.pk for c in copies]).update(shared_from=None, version=F("version") + 1, updated_at=timezone.now())
            partner.joint_lead = None
            partner.version += 1
            partner.save(update_fields=["joint_lead", "version", "updated_at"])
        history.write(records)
        return partner


def source_of(recommendation: Recommendation) -> Recommendation:
    return recommendation.shared_from if recommendation.shared_from_id else recommendation


def update_shared(actor: Actor, recommendation: Recommendation, *, version: int, fields: dict[str, Any]) -> Recommendation:
    """Change a shared recommendation's number or text for the lead and every partner at once (history on each).

    Refused once any response of the joint evaluation is submitted or approved: the lock of the
    workflow holds for every partner (a reviewed text does not change under its reviewer).
    """
    changes = {k: (fields[k].strip() if isinstance(fields[k], str) else fields[k]) for k in ("number", "text") if k in fields}
    errors = {}
    if "text" in changes and not changes["text"]:
        errors["text"] = ["Write the recommendation."]
    if "number" in changes and not changes["number"]:
        errors["number"] = ["Give the recommendation a number."]
    if errors:
        raise ValidationError(errors)
    text.check_fields(Recommendation, changes)
    try:
        with transaction.atomic():
            source = source_of(Recommendation.objects.select_related("shared_from").get(pk=recommendation.pk))
            lead = _locked_lead(actor, source.evaluation_id)
            rows = list(
                Recommendation.objects.select_for_update(of=("self",))
                .filter(Q(pk=source.pk) | Q(shared_from_id=source.pk))
                .select_related("management_response", "evaluation__office")
                .order_by("pk")
            )
            source = next(r for r in rows if r.pk == source.pk)
            if len(rows) < 2:
                raise ValidationError({"text": [f"Recommendation {source.number} is not shared with a partner: edit it in the response's draft."]})
            if source.version != version:
                raise ConflictError(source)
            locked = sorted({str(r.evaluation.office) for r in rows if r.management_response.status not in OPEN_STATUSES})
            if locked:
                raise ValidationError({"text": [f"The response of {', '.join(locked)} is submitted or approved: "
                                                "a shared recommendation changes only while every partner's response is a draft."]})
            records = []
            for row in rows:
                before = history.snapshot(row)
                for k, v in changes.items():
                    setattr(row, k, v)
                old, new = history.diff(before, history.snapshot(row))
                if not (old or new):
                    continue
                row.version += 1
                row.save()
                records.append(history.change(actor, ChangeRecord.Action.UPDATE, row, before=old, after=new, evaluation_id=row.evaluation_id,
                                              message=f"shared recommendation of the joint evaluation led by {lead.office}"))
                response = row.management_response
                ManagementResponse.objects.filter(pk=response.pk).update(version=response.version + 1, updated_at=timezone.now())
            history.write(records)
            return source
    except ConflictError as exc:
        refused(actor, exc.current, {**changes, "based_on_version": version}, f"edit of shared {exc.current} refused: it had changed")
        raise


def is_shared(recommendation: Recommendation) -> bool:
    """A copy of a shared recommendation, or the lead's recommendation that partners share (one query for the latter)."""
    return bool(recommendation.shared_from_id) or recommendation.shared_copies.exists()


def _same(a: Any, b: Any) -> bool:
    # Whitespace aside (a form strips and sends CRLF): a partner saving its own fields is not changing the shared text.
    return " ".join(str(a).split()) == " ".join(str(b).split())


def shared_edit_refusal(recommendation: Recommendation, fields: dict[str, Any]) -> dict[str, list[str]]:
    """Errors when a response's draft would change a shared recommendation's number or text alone (drafting calls this)."""
    return {
        k: ["This recommendation is shared by a joint evaluation: the evaluation office changes it for every partner at once."]
        for k in SHARED_EDITED
        if k in fields and not _same(fields[k], getattr(recommendation, k))
    }
