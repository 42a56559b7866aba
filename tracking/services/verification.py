"""Verified completion: the evaluation office accepts a unit's claim of completion, or sends it back.

A unit (or office) focal point marking a key action Completed attaches evidence
and says what was done (tracking/services/progress.py refuses it otherwise);
the action is then "Completed (awaiting verification)". The evaluation office
of the action's office (a role scoped to that office or its region names the
verifier per office) then

- accepts it: the action is "Completed (verified)"; or
- sends it back with a reason: the action is reopened (status Initiated),
  recorded as a progress update on its timeline.

Nobody verifies their own action: a focal point of the action's office or of
one of its units may not (tracking.permissions, VERIFY_ACTION), nor the person
who reported the completion, whatever their roles. Each decision is a
`Verification` row and change records in the history.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from .. import permissions
from ..actor import Actor
from ..models import ActionUpdate, ChangeRecord, KeyAction, Verification
from ..models.accountability import VerificationState
from ..models.responses import ActionStatus, ResponseStatus
from ..permissions import restrict
from . import history, locking, tallies

REOPENED_STATUS = ActionStatus.INITIATED.value


def state_after_progress(state: str, status: str) -> str:
    """The verification state after a progress update to `status`: every claim of completion awaits verification."""
    if status == ActionStatus.COMPLETED:
        return VerificationState.AWAITING.value
    if status == ActionStatus.NO_LONGER_APPLICABLE:
        return VerificationState.NONE.value
    # Open again: a completion sent back stays marked so until completion is claimed again.
    return state if state == VerificationState.SENT_BACK else VerificationState.NONE.value


def completed_on_after_progress(action: KeyAction, status: str, today):
    """The completion date after a progress update: the day it became Completed; none while open."""
    if status != ActionStatus.COMPLETED:
        return None
    return action.completed_on if action.status == ActionStatus.COMPLETED and action.completed_on else today


def claim_of(action: KeyAction) -> ActionUpdate | None:
    """The progress update that claimed the completion awaiting verification (the latest to Completed)."""
    return (
        ActionUpdate.objects.filter(key_action=action, status_after=ActionStatus.COMPLETED)
        .order_by("-created_at", "-id")
        .first()
    )


def verify_completion(actor: Actor, action: KeyAction, *, version: int, accept: bool, reason: str = "") -> Verification:
    """Accept (verified) or send back (reopened, `reason` required) a completion awaiting verification.

    `version` is the key action's version the person saw. Raises
    PermissionDenied, ValidationError or ConflictError and writes nothing then
    (but the record of a refused attempt).
    """
    reason = reason.strip()
    if not accept and not reason:
        raise ValidationError({"reason": ["Give the reason the completion is sent back: the unit reads it."]})
    attempted = {"accept": accept, "reason": reason, "based_on_version": version}
    with locking.refusals_kept(actor, attempted, "verification refused: the key action had changed"), transaction.atomic():
        current = locking.locked(actor, action, permissions.VERIFY_ACTION, version=version)
        claim = claim_of(current)
        if claim is not None and actor.is_authenticated and claim.author_id == actor.user.pk:
            raise PermissionDenied("You reported this completion: someone else verifies it.")
        now = timezone.now()
        if accept:
            state, status = VerificationState.VERIFIED.value, current.status
        else:
            state, status = VerificationState.SENT_BACK.value, REOPENED_STATUS
        # Verified, or sent back and open again: the counts behind the figures follow (tracking.services.tallies).
        with tallies.kept_in_step(actions=[current.pk]):
            locking.bump(
                current, version, status=status, verification=state, completed_on=current.completed_on if accept else None, updated_at=now
            )
        author = actor.user if actor.is_authenticated else None
        decision = Verification.objects.create(
            key_action=current,
            claim=claim,
            decision=Verification.Decision.ACCEPTED if accept else Verification.Decision.SENT_BACK,
            reason=reason,
            created_at=now,
            author=author,
            author_name=actor.name,
        )
        records = [
            history.change(
                actor,
                ChangeRecord.Action.CREATE,
                decision,
                after=history.snapshot(decision),
                evaluation_id=current.evaluation_id,
                message=f"completion of key action {current.code} {'verified' if accept else 'sent back'}",
            )
        ]
        if not accept:
            # Reopened: on the action's timeline like any change of status.
            reopened = ActionUpdate.objects.create(
                key_action=current,
                created_at=now,
                status_before=current.status,
                status_after=status,
                comment=f"Completion sent back by the evaluation office: {reason}",
                author=author,
                author_name=actor.name,
                source=actor.source if actor.source in ActionUpdate.Source.values else ActionUpdate.Source.WEB,
            )
            records.append(
                history.change(
                    actor,
                    ChangeRecord.Action.CREATE,
                    reopened,
                    after=history.snapshot(reopened),
                    evaluation_id=current.evaluation_id,
                    message=f"key action {current.code} reopened",
                )
            )
        old, new = history.diff(
            {"status": current.status, "verification": current.verification}, {"status": status, "verification": state}
        )
        records.append(
            history.change(actor, ChangeRecord.Action.UPDATE, current, before=old, after=new, evaluation_id=current.evaluation_id)
        )
        history.write(records)
        return decision


def verifiable(actor: Actor):
    """The key actions awaiting verification that this person may verify, as a queryset (the rules of VERIFY_ACTION).

    What they read (`restrict`), Completed and awaiting verification on an
    approved response, in an office they review, not of their own office or
    units, and not a completion they reported themselves.
    """
    rows = restrict(actor, KeyAction)
    if not permissions.can(actor, permissions.VERIFY_ACTION):
        return rows.none()
    access = permissions.Access.of(actor.user)
    latest_claim = (
        ActionUpdate.objects.filter(key_action=OuterRef("pk"), status_after=ActionStatus.COMPLETED)
        .order_by("-created_at", "-id")
        .values("author_id")[:1]
    )
    return (
        rows.filter(
            access.review_scope("evaluation__office"),
            status=ActionStatus.COMPLETED,
            verification=VerificationState.AWAITING,
            recommendation__management_response__status=ResponseStatus.APPROVED,
        )
        .exclude(evaluation__office_id__in=access.focal_office_ids)
        .exclude(units__in=access.focal_unit_ids)
        # 0: no claim here (an imported completion), which nobody reported, so anyone in scope verifies it.
        .annotate(claimed_by=Coalesce(Subquery(latest_claim), 0, output_field=IntegerField()))
        .exclude(claimed_by=actor.user.pk)
    )
