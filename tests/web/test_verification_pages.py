"""Verified completion through the web, role by role: claim with evidence, the list, send back, accept."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.models import ChangeRecord, KeyAction, Role, RoleAssignment, Unit, Verification

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def world():
    office = make_office("Office W")
    unit = Unit.objects.create(office=office, name="Unit W")
    action = make_action(make_recommendation(make_evaluation(office)), status="Initiated", units=[unit], text="Publish the note.")
    clients = {}
    for name, role, scope in [
        ("unit", Role.UNIT_FOCAL_POINT, {"unit": unit}),
        ("eo", Role.EVALUATION_OFFICE, {}),
        ("office", Role.OFFICE_FOCAL_POINT, {"office": office}),
    ]:
        user = User.objects.create_user(name, password=f"pw-{name}-123456")
        RoleAssignment.objects.create(user=user, role=role, **scope)
        clients[name] = Client()
        clients[name].force_login(user)
    return action, clients


def post_progress(client, action, **extra):
    data = {"version": KeyAction.objects.get(pk=action.pk).version, "status": "Completed", "comment": "The note is out."}
    return client.post(reverse("web:action_update", args=[action.pk]), {**data, **extra})


def post_decision(client, action, decision, reason=""):
    version = KeyAction.objects.get(pk=action.pk).version
    return client.post(reverse("web:action_verify", args=[action.pk]), {"version": version, "decision": decision, "reason": reason})


def test_the_whole_workflow_role_by_role(world):
    action, c = world
    # The unit: Completed without evidence is refused, next to the evidence field.
    refused = post_progress(c["unit"], action)
    assert refused.status_code == 400
    assert "Attach the evidence of completion" in refused.content.decode()
    assert KeyAction.objects.get(pk=action.pk).status == "Initiated"
    # With a link: Completed, awaiting verification.
    assert post_progress(c["unit"], action, evidence_url="example.org/note.pdf").status_code == 302
    page = c["unit"].get(reverse("web:action", args=[action.pk])).content.decode()
    assert "Awaiting verification" in page and "Completed (awaiting verification)" in page
    assert f'action="/actions/{action.pk}/verify/"' not in page  # the unit has no verification form

    # The evaluation office's list names it, with its evidence and a link to decide.
    listing = c["eo"].get(reverse("web:verification")).content.decode()
    assert "Publish the note." in listing and "https://example.org/note.pdf" in listing and ">Verify</a>" in listing
    # The unit's list names it too, without the link: they may not verify their own action.
    mine = c["unit"].get(reverse("web:verification")).content.decode()
    assert "Publish the note." in mine and ">Verify</a>" not in mine

    # The unit and the office focal point may not decide; tampering is refused.
    for who in ("unit", "office"):
        assert post_decision(c[who], action, "accept").status_code == 403
    assert not Verification.objects.exists()

    # Sending back without a reason: refused, the error next to the field.
    page = c["eo"].get(reverse("web:action", args=[action.pk])).content.decode()
    assert f'action="/actions/{action.pk}/verify/"' in page
    no_reason = post_decision(c["eo"], action, "send_back")
    assert no_reason.status_code == 400 and "Give the reason the completion is sent back" in no_reason.content.decode()
    # With a reason: reopened, the reason on the timeline for the unit to read.
    sent = post_decision(c["eo"], action, "send_back", "The link is the home page, not the note.")
    assert sent.status_code == 302 and sent["Location"] == reverse("web:action", args=[action.pk])
    page = c["unit"].get(reverse("web:action", args=[action.pk])).content.decode()
    assert "Completion sent back" in page and "The link is the home page, not the note." in page
    assert (KeyAction.objects.get(pk=action.pk).status, KeyAction.objects.get(pk=action.pk).verification) == ("Initiated", "sent_back")

    # Claimed again, accepted from the list: verified.
    assert post_progress(c["unit"], action, evidence_url="https://example.org/the-note.pdf").status_code == 302
    version = KeyAction.objects.get(pk=action.pk).version
    accepted = c["eo"].post(reverse("web:action_verify", args=[action.pk]), {"version": version, "decision": "accept", "next": "list"})
    assert accepted.status_code == 302 and accepted["Location"] == reverse("web:verification")
    assert KeyAction.objects.get(pk=action.pk).is_verified
    assert "No completion is awaiting verification." in c["eo"].get(reverse("web:verification")).content.decode()
    public = Client().get(reverse("web:action", args=[action.pk])).content.decode()
    assert "Completed (verified)" in public and ">eo<" not in public  # who verified: for people with a role

    # The history holds every step, each attributed.
    models = list(ChangeRecord.objects.order_by("pk").values_list("content_type__model", "user__username"))
    assert models.count(("verification", "eo")) == 2
    assert [u for m, u in models if m == "actionupdate"] == ["unit", "eo", "unit"]


def test_a_stale_decision_comes_back_with_the_current_state(world):
    action, c = world
    post_progress(c["unit"], action, evidence_url="https://example.org/n.pdf")
    version = KeyAction.objects.get(pk=action.pk).version
    assert post_decision(c["eo"], action, "accept").status_code == 302
    stale = c["eo"].post(reverse("web:action_verify", args=[action.pk]), {"version": version, "decision": "send_back", "reason": "Late."})
    # Verified meanwhile: nothing to decide any more.
    assert stale.status_code == 403
    assert KeyAction.objects.get(pk=action.pk).is_verified


def test_a_decision_on_an_older_version_is_a_conflict(world):
    action, c = world
    post_progress(c["unit"], action, evidence_url="https://example.org/n.pdf")
    version = KeyAction.objects.get(pk=action.pk).version
    post_progress(c["unit"], action, evidence_url="https://example.org/n2.pdf", comment="With the annex.")
    stale = c["eo"].post(reverse("web:action_verify", args=[action.pk]), {"version": version, "decision": "accept"})
    assert stale.status_code == 409 and "Nothing was saved" in stale.content.decode()
    assert KeyAction.objects.get(pk=action.pk).verification == "awaiting"
    assert ChangeRecord.objects.filter(action="refused", user__username="eo").count() == 1


def test_moving_a_completed_action_back_asks_for_the_reason_on_the_form(world):
    action, c = world
    update_url = reverse("web:action_update", args=[action.pk])
    # Not Completed: no reason asked.
    assert 'name="reopen_reason"' not in c["unit"].get(update_url).content.decode()
    assert post_progress(c["unit"], action, evidence_url="example.org/note.pdf").status_code == 302
    form = c["unit"].get(update_url).content.decode()
    assert 'name="reopen_reason"' in form and "data-reopen-reason" in form  # site.js hides it while Completed stays chosen
    # The server refuses without it, whatever the page showed, and keeps the action Completed.
    refused = post_progress(c["unit"], action, status="Initiated", comment="More to do.")
    assert refused.status_code == 400 and "Give the reason this Completed action is opened again" in refused.content.decode()
    assert KeyAction.objects.get(pk=action.pk).status == "Completed"
    assert post_progress(c["unit"], action, status="Initiated", reopen_reason="The note missed two offices.").status_code == 302
    page = c["unit"].get(reverse("web:action", args=[action.pk])).content.decode()
    assert "Reason for reopening:</strong> The note missed two offices." in page
    record = ChangeRecord.objects.filter(content_type__model="actionupdate", action="create").order_by("-id").first()
    assert record.after["reopen_reason"] == "The note missed two offices."
