"""Revising a deadline through the web: the form on the key action's page, refusals, the timeline."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.models import ChangeRecord, KeyAction, Role, RoleAssignment, Unit

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def world():
    office = make_office("Office R")
    unit = Unit.objects.create(office=office, name="Unit R")
    action = make_action(make_recommendation(make_evaluation(office)), deadline=dt.date(2025, 6, 1), units=[unit])
    clients = {}
    for name, role, scope in [("unit", Role.UNIT_FOCAL_POINT, {"unit": unit}), ("eo", Role.EVALUATION_OFFICE, {})]:
        user = User.objects.create_user(name, password=f"pw-{name}-123456")
        RoleAssignment.objects.create(user=user, role=role, **scope)
        clients[name] = Client()
        clients[name].force_login(user)
    return action, clients


def post(client, action, deadline, reason, version=None):
    version = version or KeyAction.objects.get(pk=action.pk).version
    return client.post(reverse("web:action_deadline", args=[action.pk]), {"version": version, "deadline": deadline, "reason": reason})


def test_the_unit_revises_with_a_reason_and_the_timeline_shows_it(world):
    action, c = world
    url = reverse("web:action", args=[action.pk])
    page = c["unit"].get(url).content.decode()
    assert 'action="{}"'.format(reverse("web:action_deadline", args=[action.pk])) in page
    assert 'value="2025-06"' in page  # the form starts from the current deadline

    refused = post(c["unit"], action, "2026-01", "")
    assert refused.status_code == 400 and "Give the reason the deadline moves" in refused.content.decode()
    bad_month = post(c["unit"], action, "2026-13", "A reason.")
    assert bad_month.status_code == 400 and "Give the month as YYYY-MM." in bad_month.content.decode()
    assert KeyAction.objects.get(pk=action.pk).deadline == dt.date(2025, 6, 1)

    done = post(c["unit"], action, "2026-01", "The partner's budget was cut.")
    assert done.status_code == 302 and done["Location"] == url
    page = c["unit"].get(url).content.decode()
    assert "(first deadline 2025/06; revised 1 time)" in page
    assert "Deadline 2025/06 → <strong>2026/01</strong>" in page and "The partner&#x27;s budget was cut." in page
    public = Client().get(url).content.decode()
    assert "The partner&#x27;s budget was cut." in public and "unit</span>" not in public  # who: for people with a role
    assert ChangeRecord.objects.filter(content_type__model="deadlinerevision", user__username="unit").count() == 1


def test_the_evaluation_office_has_no_form_and_is_refused(world):
    action, c = world
    page = c["eo"].get(reverse("web:action", args=[action.pk])).content.decode()
    assert reverse("web:action_deadline", args=[action.pk]) not in page
    assert post(c["eo"], action, "2026-01", "Not theirs.").status_code == 403
    assert not ChangeRecord.objects.exists()


def test_a_stale_revision_is_a_conflict_with_the_current_state(world):
    action, c = world
    post(c["unit"], action, "2026-01", "First.")
    stale = post(c["unit"], action, "2026-03", "Second, from an old tab.", version=1)
    assert stale.status_code == 409 and "Nothing was saved" in stale.content.decode()
    assert KeyAction.objects.get(pk=action.pk).deadline == dt.date(2026, 1, 1)
