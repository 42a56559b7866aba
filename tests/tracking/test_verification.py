"""Verified completion: a claimed completion is accepted or sent back by the evaluation office, never by its own unit."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking import permissions
from tracking.actor import Actor
from tracking.models import ActionUpdate, ChangeRecord, KeyAction, Role, RoleAssignment, Unit, Verification
from tracking.services.errors import ConflictError
from tracking.services.progress import record_progress
from tracking.services.verification import verify_completion

pytestmark = pytest.mark.django_db
User = get_user_model()
PROOF = "https://example.org/proof.pdf"


def person(name: str, role: str | None = None, **scope) -> Actor:
    user = User.objects.create(username=name)
    if role:
        RoleAssignment.objects.create(user=user, role=role, **scope)
    return Actor(user=user)


@pytest.fixture
def world():
    office = make_office("Office V", region="Region V")
    unit = Unit.objects.create(office=office, name="Unit V")
    action = make_action(make_recommendation(make_evaluation(office)), status="Initiated", units=[unit])
    people = {
        "unit": person("unit.fp", Role.UNIT_FOCAL_POINT, unit=unit),
        "office": person("office.fp", Role.OFFICE_FOCAL_POINT, office=office),
        "eo": person("eo", Role.EVALUATION_OFFICE),
        "eo_office": person("eo.office", Role.EVALUATION_OFFICE, office=office),
        "eo_region": person("eo.region", Role.EVALUATION_OFFICE, region=office.region),
        "eo_elsewhere": person("eo.elsewhere", Role.EVALUATION_OFFICE, office=make_office("Office W")),
        "viewer": person("viewer", Role.VIEWER),
        "admin": person("admin", Role.ADMINISTRATOR),
    }
    # An evaluation office member who is also the unit's focal point: their own action.
    both = person("both", Role.EVALUATION_OFFICE)
    RoleAssignment.objects.create(user=both.user, role=Role.UNIT_FOCAL_POINT, unit=unit)
    people["eo_and_unit"] = both
    return action, people


def claim(action: KeyAction, actor: Actor) -> KeyAction:
    record_progress(actor, action, version=action.version, status="Completed", comment="Guidance issued.", evidence_url=PROOF)
    return KeyAction.objects.get(pk=action.pk)


def test_a_completion_awaits_verification_then_is_verified_with_its_history(world):
    action, p = world
    action = claim(action, p["unit"])
    assert (action.status, action.verification) == ("Completed", "awaiting") and action.awaits_verification
    the_claim = action.updates.get()
    records_before = set(ChangeRecord.objects.values_list("pk", flat=True))

    decision = verify_completion(p["eo"], action, version=action.version, accept=True)
    action.refresh_from_db()
    assert (action.status, action.verification, action.version) == ("Completed", "verified", 3) and action.is_verified
    assert (decision.decision, decision.claim, decision.author, decision.author_name) == ("accepted", the_claim, p["eo"].user, "eo")
    new = ChangeRecord.objects.exclude(pk__in=records_before).order_by("pk")
    assert [(r.action, r.content_type.model) for r in new] == [("create", "verification"), ("update", "keyaction")]
    assert new[1].before == {"verification": "awaiting"} and new[1].after == {"verification": "verified"}
    assert {r.user_id for r in new} == {p["eo"].user.pk} and {r.evaluation_id for r in new} == {action.evaluation_id}
    assert action.updates.count() == 1  # accepting changes no status: no progress update


def test_sent_back_with_a_reason_reopens_the_action_on_its_timeline(world):
    action, p = world
    action = claim(action, p["unit"])
    records_before = set(ChangeRecord.objects.values_list("pk", flat=True))
    verify_completion(p["eo_office"], action, version=action.version, accept=False, reason="  The link is not the report. ")
    action.refresh_from_db()
    assert (action.status, action.verification) == ("Initiated", "sent_back")
    reopened = action.updates.order_by("-pk").first()
    assert (reopened.status_before, reopened.status_after, reopened.author_name) == ("Completed", "Initiated", "eo.office")
    assert reopened.comment == "Completion sent back by the evaluation office: The link is not the report."
    decision = Verification.objects.get()
    assert (decision.decision, decision.reason) == ("sent_back", "The link is not the report.")
    new = ChangeRecord.objects.exclude(pk__in=records_before).order_by("pk")
    assert [(r.action, r.content_type.model) for r in new] == [
        ("create", "verification"), ("create", "actionupdate"), ("update", "keyaction")
    ]
    assert new[2].before == {"status": "Completed", "verification": "awaiting"}
    assert new[2].after == {"status": "Initiated", "verification": "sent_back"}

    # The unit reports again; it awaits verification again, and is verified this time.
    action = claim(action, p["unit"])
    assert action.verification == "awaiting"
    verify_completion(p["eo_region"], action, version=action.version, accept=True)
    assert KeyAction.objects.get(pk=action.pk).is_verified
    assert list(Verification.objects.values_list("decision", flat=True)) == ["sent_back", "accepted"]


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_sending_back_without_a_reason_is_refused_and_writes_nothing(world, reason):
    action, p = world
    action = claim(action, p["unit"])
    records = ChangeRecord.objects.count()
    with pytest.raises(ValidationError) as exc:
        verify_completion(p["eo"], action, version=action.version, accept=False, reason=reason)
    assert "reason" in exc.value.message_dict
    action.refresh_from_db()
    assert (action.status, action.verification) == ("Completed", "awaiting")
    assert ChangeRecord.objects.count() == records and not Verification.objects.exists()


@pytest.mark.parametrize("who", ["unit", "office", "eo_and_unit", "eo_elsewhere", "viewer", "admin"])
def test_nobody_verifies_their_own_action_nor_outside_their_scope(world, who):
    action, p = world
    action = claim(action, p["unit"])
    records = ChangeRecord.objects.count()
    assert not permissions.can(p[who], permissions.VERIFY_ACTION, action)
    for accept in (True, False):
        with pytest.raises(PermissionDenied):
            verify_completion(p[who], action, version=action.version, accept=accept, reason="Not good enough.")
    action.refresh_from_db()
    assert (action.status, action.verification) == ("Completed", "awaiting")
    assert ChangeRecord.objects.count() == records and not Verification.objects.exists()


def test_a_superuser_verifies_but_never_a_completion_they_reported(world):
    action, p = world
    su = Actor(user=User.objects.create(username="su", is_superuser=True))
    action = claim(action, su)
    assert permissions.can(su, permissions.VERIFY_ACTION, action)  # the role allows it ...
    with pytest.raises(PermissionDenied, match="You reported this completion"):  # ... not for their own claim
        verify_completion(su, action, version=action.version, accept=True)
    assert not Verification.objects.exists()
    other = Actor(user=User.objects.create(username="su2", is_superuser=True))
    verify_completion(other, action, version=action.version, accept=True)
    assert KeyAction.objects.get(pk=action.pk).is_verified


def test_only_a_completion_awaiting_verification_is_verified(world):
    action, p = world
    with pytest.raises(PermissionDenied):  # Initiated: nothing to verify
        verify_completion(p["eo"], action, version=action.version, accept=True)
    action = claim(action, p["unit"])
    verify_completion(p["eo"], action, version=action.version, accept=True)
    action.refresh_from_db()
    with pytest.raises(PermissionDenied):  # verified already
        verify_completion(p["eo"], action, version=action.version, accept=False, reason="Changed my mind.")
    draft = make_action(make_recommendation(make_evaluation(action.evaluation.office, status="Draft")), status="Completed")
    KeyAction.objects.filter(pk=draft.pk).update(verification="awaiting")
    with pytest.raises(PermissionDenied):  # a draft's action is not reported on
        verify_completion(p["eo"], KeyAction.objects.get(pk=draft.pk), version=1, accept=True)


def test_a_stale_decision_is_refused_and_the_attempt_kept(world):
    action, p = world
    action = claim(action, p["unit"])
    stale = action.version - 1
    with pytest.raises(ConflictError):
        verify_completion(p["eo"], action, version=stale, accept=False, reason="Too late.")
    refused = ChangeRecord.objects.get(action=ChangeRecord.Action.REFUSED)
    assert refused.after == {"accept": False, "reason": "Too late.", "based_on_version": stale}
    assert refused.user == p["eo"].user and refused.object_id == action.pk
    assert KeyAction.objects.get(pk=action.pk).verification == "awaiting"


def test_progress_after_a_claim_moves_the_verification_state(world):
    action, p = world
    action = claim(action, p["unit"])
    record_progress(p["unit"], action, version=action.version, status="Initiated", comment="Not finished after all.",
                    reopen_reason="The annex is missing.")
    assert KeyAction.objects.get(pk=action.pk).verification == ""
    action = claim(KeyAction.objects.get(pk=action.pk), p["unit"])
    verify_completion(p["eo"], action, version=action.version, accept=False, reason="Missing the annex.")
    action.refresh_from_db()
    record_progress(p["unit"], action, version=action.version, status="Initiated", comment="Working on the annex.")
    assert KeyAction.objects.get(pk=action.pk).verification == "sent_back"  # kept until completion is claimed again
    action.refresh_from_db()
    record_progress(p["unit"], action, version=action.version, status="No Longer Applicable", comment="Programme closed.")
    assert KeyAction.objects.get(pk=action.pk).verification == ""


def test_the_system_verifies_in_its_own_name(world):
    action, p = world
    action = claim(action, p["unit"])
    decision = verify_completion(Actor.system(), action, version=action.version, accept=True)
    assert (decision.author, decision.author_name) == (None, "system (command)")
    assert ActionUpdate.objects.filter(key_action=action).count() == 1
